-- Users, refresh tokens and the rate-limit counters of the auth routes.
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 120),
    phone text NOT NULL CHECK (phone ~ '^254[17][0-9]{8}$'),
    role text NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'merchant', 'hub_staff', 'admin')),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_created_at_idx ON users (created_at DESC, id DESC);

-- Opaque refresh tokens, stored as SHA-256 of the token. Each login starts a family; every
-- refresh uses one token (used_at) and issues the next in the same family. Presenting a used
-- token again means it leaked: the whole family is revoked.
CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- Fixed-window counters, one row per key (e.g. 'login:ip:127.0.0.1'). In the database so the
-- limit holds across several service instances.
CREATE TABLE rate_limits (
    key text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL
);
