-- todo_app_system_settings. Values of is_encrypted settings are stored
-- encrypted (AES-256-GCM, key from config), never in the clear.
CREATE TABLE IF NOT EXISTS system_settings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    setting_key text NOT NULL UNIQUE CHECK (setting_key ~ '^[a-z][a-z0-9_.]{0,99}$'),
    setting_value text NOT NULL,
    setting_type text NOT NULL CHECK (setting_type IN ('string', 'integer', 'boolean', 'json', 'float')),
    description text,
    is_mutable boolean NOT NULL DEFAULT true,
    is_encrypted boolean NOT NULL DEFAULT false,
    modified_by_admin_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO system_settings (setting_key, setting_value, setting_type, description) VALUES
    ('lockout.threshold', '5', 'integer', 'Failed logins within the window that lock an account'),
    ('lockout.window_minutes', '15', 'integer', 'Window in which failed logins are counted'),
    ('lockout.duration_minutes', '15', 'integer', 'How long a lock lasts'),
    ('session.idle_timeout_minutes', '30', 'integer', 'Idle time after which a session expires'),
    ('session.absolute_timeout_minutes', '720', 'integer', 'Lifetime of a session, however active'),
    ('account.restore_window_days', '30', 'integer', 'Days during which a deleted account or todo can be restored'),
    ('guest.session_hours', '24', 'integer', 'Lifetime of a guest session after its last activity')
ON CONFLICT (setting_key) DO NOTHING;
