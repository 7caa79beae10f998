-- The dashboard lists users under a login lock; this keeps that list an
-- index scan however many users there are (locked users are few).
CREATE INDEX IF NOT EXISTS users_locked_idx ON users (locked_until DESC NULLS FIRST, id)
    WHERE locked_until IS NOT NULL OR status = 'locked';
