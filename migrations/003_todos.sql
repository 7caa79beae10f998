-- Todos (seed 002 "Todos"), owned by a user or an administrator.
CREATE TABLE IF NOT EXISTS todos (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_type text NOT NULL CHECK (owner_type IN ('user', 'admin')),
    owner_id uuid NOT NULL,
    title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
    description text CHECK (description IS NULL OR char_length(description) <= 2000),
    is_completed boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX IF NOT EXISTS todos_owner_idx ON todos (owner_type, owner_id, created_at DESC);

-- todo_app_todo_status_history
CREATE TABLE IF NOT EXISTS todo_status_history (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    todo_id uuid NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    previous_status boolean NOT NULL,
    new_status boolean NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS todo_status_history_todo_idx ON todo_status_history (todo_id, changed_at);

-- todo_app_todo_snapshots: the todo as it was before each update.
CREATE TABLE IF NOT EXISTS todo_snapshots (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    todo_id uuid NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    title text NOT NULL,
    description text,
    is_completed boolean NOT NULL,
    snapshot_created_at timestamptz NOT NULL DEFAULT now(),
    original_created_at timestamptz NOT NULL,
    original_updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS todo_snapshots_todo_idx ON todo_snapshots (todo_id, snapshot_created_at);
