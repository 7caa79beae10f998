-- Todos (seed 002 "Todos"), owned by a user or an administrator. owner_id has
-- no foreign key because it points into users or administrators, by owner_type.
--
-- Timestamps are kept to the millisecond: the value a client sees (and a
-- JavaScript Date holds) is then exactly the stored value, so a keyset
-- cursor built from it lands exactly between two rows.
CREATE TABLE IF NOT EXISTS todos (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_type text NOT NULL CHECK (owner_type IN ('user', 'admin')),
    owner_id uuid NOT NULL,
    -- Stored exactly as entered; the API rejects blank titles.
    title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
    description text CHECK (description IS NULL OR char_length(description) <= 2000),
    is_completed boolean NOT NULL DEFAULT false,
    created_at timestamptz(3) NOT NULL DEFAULT now(),
    updated_at timestamptz(3) NOT NULL DEFAULT now(),
    deleted_at timestamptz(3)
);
-- Keyset pagination of an owner's live todos, by either sort column.
CREATE INDEX IF NOT EXISTS todos_owner_created_idx ON todos (owner_type, owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS todos_owner_updated_idx ON todos (owner_type, owner_id, updated_at, id) WHERE deleted_at IS NULL;
-- The owner's bin: soft-deleted todos that may still be restored.
CREATE INDEX IF NOT EXISTS todos_owner_deleted_idx ON todos (owner_type, owner_id, deleted_at) WHERE deleted_at IS NOT NULL;

-- todo_app_todo_status_history: one row per change of is_completed.
-- clock_timestamp(), not now(): changes to one todo are serialised by a row
-- lock, and the time must be when the change was made, not when its
-- transaction began, or concurrent toggles would be ordered wrongly.
CREATE TABLE IF NOT EXISTS todo_status_history (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    todo_id uuid NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    previous_status boolean NOT NULL,
    new_status boolean NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS todo_status_history_todo_idx ON todo_status_history (todo_id, changed_at);

-- todo_app_todo_snapshots: the todo as it was before each update.
CREATE TABLE IF NOT EXISTS todo_snapshots (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    todo_id uuid NOT NULL REFERENCES todos (id) ON DELETE CASCADE,
    title text NOT NULL,
    description text,
    is_completed boolean NOT NULL,
    snapshot_created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    original_created_at timestamptz NOT NULL,
    original_updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS todo_snapshots_todo_idx ON todo_snapshots (todo_id, snapshot_created_at);
