-- Hubs and the zones they serve (SPEC section 3).
CREATE TABLE hubs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code text NOT NULL CHECK (code ~ '^[A-Z0-9]+(-[A-Z0-9]+)*$' AND length(code) <= 20),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    city text NOT NULL CHECK (length(city) BETWEEN 1 AND 80),
    address text NOT NULL CHECK (length(address) BETWEEN 1 AND 300),
    phone text NOT NULL CHECK (phone ~ '^254[17][0-9]{8}$'),
    opening_hours text NOT NULL DEFAULT '',
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX hubs_code_key ON hubs (code);

CREATE TABLE zones (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    hub_id uuid NOT NULL REFERENCES hubs (id),
    delivery_fee_cents bigint NOT NULL CHECK (delivery_fee_cents >= 0 AND delivery_fee_cents % 100 = 0),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX zones_name_key ON zones (lower(name));
CREATE INDEX zones_hub_idx ON zones (hub_id);
