-- Master orders, sub-orders (one per merchant), their items and the append-only event log
-- (SPEC section 5).

CREATE SEQUENCE order_number_seq;

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    number text NOT NULL,
    customer_id uuid NOT NULL REFERENCES users (id),
    payment_method text NOT NULL CHECK (payment_method IN ('mpesa', 'cod')),
    -- The delivery address as it was at checkout; the address book may change later.
    address_id uuid NOT NULL REFERENCES addresses (id),
    address_label text NOT NULL,
    address_line1 text NOT NULL,
    address_phone text NOT NULL,
    zone_id uuid NOT NULL REFERENCES zones (id),
    zone_name text NOT NULL,
    destination_hub_id uuid NOT NULL REFERENCES hubs (id),
    items_total_cents bigint NOT NULL CHECK (items_total_cents > 0),
    delivery_fee_cents bigint NOT NULL CHECK (delivery_fee_cents >= 0),
    total_cents bigint NOT NULL CHECK (total_cents = items_total_cents + delivery_fee_cents),
    -- Checkout is idempotent per customer and key; the hash tells a replay from a different body.
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX orders_number_key ON orders (number);
CREATE UNIQUE INDEX orders_idempotency_key ON orders (customer_id, idempotency_key);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);

CREATE TABLE sub_orders (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    number text NOT NULL,
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    status text NOT NULL CHECK (status IN (
        'awaiting_payment', 'placed', 'accepted', 'at_origin_hub', 'in_transit', 'at_destination_hub',
        'out_for_delivery', 'delivered', 'returning', 'returned', 'cancelled')),
    cancel_reason text CHECK (cancel_reason IN ('customer', 'merchant_rejected', 'payment_expired', 'admin')),
    origin_hub_id uuid NOT NULL REFERENCES hubs (id),
    destination_hub_id uuid NOT NULL REFERENCES hubs (id),
    items_total_cents bigint NOT NULL CHECK (items_total_cents > 0),
    delivery_fee_cents bigint NOT NULL CHECK (delivery_fee_cents >= 0),
    total_cents bigint NOT NULL CHECK (total_cents = items_total_cents + delivery_fee_cents),
    -- Frozen at placement: commission on the items only, rounded half up; payout = items - commission.
    commission_bps integer NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
    commission_cents bigint NOT NULL CHECK (commission_cents >= 0),
    merchant_payout_cents bigint NOT NULL CHECK (merchant_payout_cents = items_total_cents - commission_cents),
    -- HMAC-SHA256 of the 6-digit handover code under a server-side key.
    handover_code_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);
CREATE UNIQUE INDEX sub_orders_number_key ON sub_orders (number);
CREATE INDEX sub_orders_order_idx ON sub_orders (order_id);
CREATE INDEX sub_orders_merchant_idx ON sub_orders (merchant_id, created_at DESC, id DESC);
CREATE INDEX sub_orders_origin_idx ON sub_orders (origin_hub_id, status);
CREATE INDEX sub_orders_destination_idx ON sub_orders (destination_hub_id, status);
CREATE INDEX sub_orders_awaiting_payment_idx ON sub_orders (created_at) WHERE status = 'awaiting_payment';

CREATE TABLE order_items (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sub_order_id uuid NOT NULL REFERENCES sub_orders (id),
    product_id uuid NOT NULL REFERENCES products (id),
    name text NOT NULL,
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents > 0),
    quantity integer NOT NULL CHECK (quantity > 0),
    line_total_cents bigint NOT NULL CHECK (line_total_cents = unit_price_cents * quantity),
    refunded_quantity integer NOT NULL DEFAULT 0 CHECK (refunded_quantity BETWEEN 0 AND quantity),
    -- Units put back into stock (cancellation, return, refund with restock): never more than sold.
    restocked_quantity integer NOT NULL DEFAULT 0 CHECK (restocked_quantity BETWEEN 0 AND quantity)
);
CREATE INDEX order_items_sub_order_idx ON order_items (sub_order_id);
CREATE INDEX order_items_product_idx ON order_items (product_id);

CREATE TABLE sub_order_events (
    id bigserial PRIMARY KEY,
    sub_order_id uuid NOT NULL REFERENCES sub_orders (id),
    from_status text,
    to_status text NOT NULL,
    actor_id uuid REFERENCES users (id),
    actor_role text NOT NULL CHECK (actor_role IN ('customer', 'merchant', 'hub_staff', 'admin', 'system')),
    hub_id uuid REFERENCES hubs (id),
    note text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sub_order_events_sub_order_idx ON sub_order_events (sub_order_id, id);

-- The only writer of sub_order_events is the sub-order lifecycle; the log is append-only.
CREATE FUNCTION sub_order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sub_order_events is append-only';
END $$;
CREATE TRIGGER sub_order_events_no_change BEFORE UPDATE OR DELETE ON sub_order_events
    FOR EACH ROW EXECUTE FUNCTION sub_order_events_append_only();

-- The master order's status and payment state, derived from its sub-orders in one place
-- (SPEC section 13.1). "Live" means not cancelled. Payments and COD collections join this
-- view when they exist.
CREATE VIEW order_states AS
SELECT o.id AS order_id,
    CASE
        WHEN bool_and(s.status = 'cancelled') THEN 'cancelled'
        WHEN bool_or(s.status = 'awaiting_payment') THEN 'awaiting_payment'
        WHEN bool_and(s.status = 'delivered') FILTER (WHERE s.status <> 'cancelled') THEN 'delivered'
        WHEN bool_and(s.status = 'returned') FILTER (WHERE s.status <> 'cancelled') THEN 'returned'
        WHEN bool_and(s.status IN ('delivered', 'returned')) FILTER (WHERE s.status <> 'cancelled') THEN 'completed'
        WHEN bool_and(s.status = 'placed') FILTER (WHERE s.status <> 'cancelled') THEN 'placed'
        ELSE 'in_progress'
    END AS status,
    CASE o.payment_method WHEN 'cod' THEN 'cod_due' ELSE 'unpaid' END AS payment_state,
    0::bigint AS amount_paid_cents,
    0::bigint AS amount_refunded_cents
FROM orders o
JOIN sub_orders s ON s.order_id = o.id
GROUP BY o.id;
