-- M-Pesa payments (SPEC section 6): one row per STK push, unmatched callbacks kept for admins,
-- and the master order's payment state derived from payments, COD collections and refunds.
CREATE TABLE payments (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    method text NOT NULL DEFAULT 'mpesa' CHECK (method = 'mpesa'),
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'flagged')),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0 AND amount_cents % 100 = 0),
    phone text NOT NULL,
    merchant_request_id text,
    checkout_request_id text,
    mpesa_receipt text,
    -- What the callback said was paid, when it differs from amount_cents (flagged).
    received_cents bigint,
    result_code text,
    result_desc text,
    created_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz,
    resolution text CHECK (resolution IN ('accepted', 'refunded')),
    resolution_note text,
    resolved_by uuid REFERENCES users (id),
    resolved_at timestamptz
);
CREATE UNIQUE INDEX payments_checkout_request_key ON payments (checkout_request_id) WHERE checkout_request_id IS NOT NULL;
CREATE UNIQUE INDEX payments_receipt_key ON payments (mpesa_receipt) WHERE mpesa_receipt IS NOT NULL;
-- At most one push in flight per order.
CREATE UNIQUE INDEX payments_one_pending ON payments (order_id) WHERE status = 'pending';
CREATE INDEX payments_order_idx ON payments (order_id, created_at);
CREATE INDEX payments_status_idx ON payments (status, created_at DESC) WHERE status IN ('flagged', 'pending');

-- A callback whose CheckoutRequestID matches no payment: money may have arrived; never dropped.
CREATE TABLE unmatched_callbacks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    checkout_request_id text NOT NULL,
    result_code text NOT NULL,
    amount_cents bigint,
    mpesa_receipt text,
    body jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unmatched_callbacks_received_idx ON unmatched_callbacks (received_at DESC);

-- Replaces 0006's view: the same status rules, with payment state and amounts from payments,
-- COD collections and paid refunds.
CREATE OR REPLACE VIEW order_states AS
WITH parcels AS (
    SELECT s.order_id,
        CASE
            WHEN bool_and(s.status = 'cancelled') THEN 'cancelled'
            WHEN bool_or(s.status = 'awaiting_payment') THEN 'awaiting_payment'
            WHEN bool_and(s.status = 'delivered') FILTER (WHERE s.status <> 'cancelled') THEN 'delivered'
            WHEN bool_and(s.status = 'returned') FILTER (WHERE s.status <> 'cancelled') THEN 'returned'
            WHEN bool_and(s.status IN ('delivered', 'returned')) FILTER (WHERE s.status <> 'cancelled') THEN 'completed'
            WHEN bool_and(s.status = 'placed') FILTER (WHERE s.status <> 'cancelled') THEN 'placed'
            ELSE 'in_progress'
        END AS status,
        count(*) FILTER (WHERE s.status NOT IN ('cancelled', 'returned', 'returning')) AS collectable,
        count(c.id) AS collected,
        coalesce(sum(c.amount_cents), 0) AS collected_cents
    FROM sub_orders s LEFT JOIN cod_collections c ON c.sub_order_id = s.id
    GROUP BY s.order_id
), money AS (
    SELECT o.id AS order_id,
        (SELECT coalesce(sum(p.amount_cents), 0) FROM payments p WHERE p.order_id = o.id AND p.status = 'succeeded') AS mpesa_paid,
        EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'pending') AS push_pending,
        (SELECT coalesce(sum(r.amount_cents), 0) FROM refunds r JOIN sub_orders s ON s.id = r.sub_order_id
         WHERE s.order_id = o.id AND r.status = 'paid') AS refunded
    FROM orders o
)
SELECT o.id AS order_id, parcels.status,
    CASE
        WHEN o.payment_method = 'mpesa' THEN
            CASE
                WHEN money.mpesa_paid > 0 AND money.refunded >= money.mpesa_paid THEN 'refunded'
                WHEN money.refunded > 0 THEN 'partially_refunded'
                WHEN money.mpesa_paid > 0 THEN 'paid'
                WHEN money.push_pending THEN 'pending'
                ELSE 'unpaid'
            END
        ELSE
            CASE
                WHEN parcels.collected_cents > 0 AND money.refunded >= parcels.collected_cents THEN 'refunded'
                WHEN money.refunded > 0 THEN 'partially_refunded'
                WHEN parcels.collected > 0 AND parcels.collected >= parcels.collectable THEN 'cod_collected'
                WHEN parcels.collected > 0 THEN 'cod_partially_collected'
                ELSE 'cod_due'
            END
    END AS payment_state,
    CASE WHEN o.payment_method = 'mpesa' THEN money.mpesa_paid ELSE parcels.collected_cents END::bigint AS amount_paid_cents,
    money.refunded::bigint AS amount_refunded_cents
FROM orders o
JOIN parcels ON parcels.order_id = o.id
JOIN money ON money.order_id = o.id;
