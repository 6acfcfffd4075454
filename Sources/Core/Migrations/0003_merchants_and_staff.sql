-- Hub staff membership, merchants and merchant applications (SPEC section 1).

-- A staff member belongs to one hub at a time: the user id is the key.
CREATE TABLE hub_staff (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    hub_id uuid NOT NULL REFERENCES hubs (id),
    assigned_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hub_staff_hub_idx ON hub_staff (hub_id);

CREATE TABLE merchants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    business_name text NOT NULL CHECK (length(business_name) BETWEEN 1 AND 120),
    phone text NOT NULL CHECK (phone ~ '^254[17][0-9]{8}$'),
    home_hub_id uuid NOT NULL REFERENCES hubs (id),
    commission_bps integer NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX merchants_user_key ON merchants (user_id);

CREATE TABLE merchant_applications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    business_name text NOT NULL CHECK (length(business_name) BETWEEN 1 AND 120),
    phone text NOT NULL CHECK (phone ~ '^254[17][0-9]{8}$'),
    zone_id uuid NOT NULL REFERENCES zones (id),
    description text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decision_note text,
    decided_by uuid REFERENCES users (id),
    decided_at timestamptz,
    merchant_id uuid REFERENCES merchants (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status = 'approved') = (merchant_id IS NOT NULL))
);
-- One open application per user.
CREATE UNIQUE INDEX merchant_applications_pending_key ON merchant_applications (user_id) WHERE status = 'pending';
CREATE INDEX merchant_applications_status_idx ON merchant_applications (status, created_at DESC, id DESC);
