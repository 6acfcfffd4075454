-- Hub operations (SPEC section 5): riders, proof-of-delivery lockout, delivery attempts, cash on
-- delivery and its remittance, customers' notifications, and the automatic refund records the
-- refunds issue pays out.

ALTER TABLE sub_orders
    ADD COLUMN rider_name text,
    ADD COLUMN rider_phone text,
    -- Wrong handover codes in a row; at 5 the parcel's delivery is locked for 15 minutes.
    ADD COLUMN failed_handover_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN handover_locked_until timestamptz,
    -- When the destination hub sent a returning parcel back to its origin.
    ADD COLUMN return_dispatched_at timestamptz;

CREATE TABLE delivery_attempts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sub_order_id uuid NOT NULL REFERENCES sub_orders (id),
    attempt_number integer NOT NULL CHECK (attempt_number > 0),
    reason text NOT NULL CHECK (reason IN ('customer_absent', 'address_not_found', 'customer_refused', 'other')),
    note text,
    staff_id uuid NOT NULL REFERENCES users (id),
    hub_id uuid NOT NULL REFERENCES hubs (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sub_order_id, attempt_number)
);

CREATE TABLE remittances (
    id uuid PRIMARY KEY,
    hub_id uuid NOT NULL REFERENCES hubs (id),
    staff_id uuid NOT NULL REFERENCES users (id),
    expected_cents bigint NOT NULL CHECK (expected_cents >= 0),
    declared_cents bigint NOT NULL CHECK (declared_cents >= 0),
    variance_cents bigint GENERATED ALWAYS AS (declared_cents - expected_cents) STORED,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX remittances_hub_idx ON remittances (hub_id, created_at DESC, id DESC);
CREATE INDEX remittances_created_idx ON remittances (created_at DESC, id DESC);

-- Cash a staff member collected at delivery; open until a remittance closes it.
CREATE TABLE cod_collections (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sub_order_id uuid NOT NULL REFERENCES sub_orders (id),
    hub_id uuid NOT NULL REFERENCES hubs (id),
    staff_id uuid NOT NULL REFERENCES users (id),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    collected_at timestamptz NOT NULL DEFAULT now(),
    remittance_id uuid REFERENCES remittances (id)
);
CREATE UNIQUE INDEX cod_collections_sub_order_key ON cod_collections (sub_order_id);
CREATE INDEX cod_collections_open_idx ON cod_collections (hub_id, staff_id) WHERE remittance_id IS NULL;

-- The notification outbox: what a user is told, readable at GET /api/v1/notifications and
-- delivered by a background job once one exists.
CREATE TABLE notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    kind text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    order_id uuid REFERENCES orders (id),
    sub_order_id uuid REFERENCES sub_orders (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_undelivered_idx ON notifications (created_at) WHERE delivered_at IS NULL;

-- Refunds (SPEC section 8). Automatic ones (a paid parcel cancelled, rejected or returned)
-- start approved; customers' requests and payouts come with the refunds issue.
CREATE TABLE refunds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sub_order_id uuid NOT NULL REFERENCES sub_orders (id),
    status text NOT NULL CHECK (status IN ('requested', 'approved', 'denied', 'paying', 'paid', 'failed')),
    reason text NOT NULL CHECK (reason IN (
        'damaged', 'wrong_item', 'not_as_described', 'not_delivered', 'other',
        'cancelled', 'merchant_rejected', 'returned', 'late_payment', 'flagged_payment')),
    details text NOT NULL DEFAULT '',
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    restock boolean NOT NULL DEFAULT false,
    automatic boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_sub_order_idx ON refunds (sub_order_id);
CREATE INDEX refunds_status_idx ON refunds (status, created_at);

CREATE TABLE refund_events (
    id bigserial PRIMARY KEY,
    refund_id uuid NOT NULL REFERENCES refunds (id),
    from_status text,
    to_status text NOT NULL,
    actor_id uuid REFERENCES users (id),
    actor_role text NOT NULL CHECK (actor_role IN ('customer', 'merchant', 'hub_staff', 'admin', 'system')),
    note text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refund_events_refund_idx ON refund_events (refund_id, id);
