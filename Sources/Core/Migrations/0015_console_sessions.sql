-- Sessions of the web console (/console), one row per sign-in. The browser holds a random
-- token in a cookie; only its SHA-256 is stored, so a copy of this table opens no session.
-- Signing out sets revoked_at; a session unused for its idle time or past its absolute end
-- (expires_at) is over. Role and active flag are read from users on every request, so a
-- deactivation or a role change ends the session at once without touching this table.
CREATE TABLE console_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Every form of the session carries it; a POST without it is refused.
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    -- A one-time message for the next page (post, redirect, get).
    flash text
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id) WHERE revoked_at IS NULL;
