-- The money ledger (SPEC sections 2 and 8): where every shilling of a payment went, the refunds
-- customers ask for and admins decide, their payout by M-Pesa B2C, and the merchants' stock
-- supply, so that paid, refunded and refundable amounts and stock are read from rows, never
-- inferred from a status.

-- A successful payment's money, allocated to the sub-orders it paid, each up to its total.
-- Whatever found nothing to pay is a refund of that remainder (refunds.sub_order_id NULL).
CREATE TABLE payment_allocations (
    payment_id uuid NOT NULL REFERENCES payments (id),
    sub_order_id uuid NOT NULL REFERENCES sub_orders (id),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (payment_id, sub_order_id)
);
CREATE INDEX payment_allocations_sub_order_idx ON payment_allocations (sub_order_id);

-- Payments settled before this ledger existed: the first success of an order paid its
-- sub-orders that had left awaiting_payment, each in full (what the old code assumed).
INSERT INTO payment_allocations (payment_id, sub_order_id, amount_cents, created_at)
SELECT p.id, s.id, s.total_cents, coalesce(p.settled_at, p.created_at)
FROM payments p
JOIN sub_orders s ON s.order_id = p.order_id AND s.status <> 'awaiting_payment'
WHERE p.status = 'succeeded'
  AND p.id = (SELECT first.id FROM payments first WHERE first.order_id = p.order_id AND first.status = 'succeeded'
              ORDER BY first.settled_at, first.id LIMIT 1);

-- Refunds: of a sub-order's money (sub_order_id), or of a payment's unallocated remainder
-- (payment_id, no sub-order). The payee is the phone that paid, or for cash the delivery
-- address's phone. A payout is one B2C request per OriginatorConversationID (ours, unique:
-- the payout's idempotency key); a retry after a definite failure takes a new one.
ALTER TABLE refunds
    ALTER COLUMN sub_order_id DROP NOT NULL,
    ADD COLUMN order_id uuid REFERENCES orders (id),
    ADD COLUMN payment_id uuid REFERENCES payments (id),
    ADD COLUMN requested_by uuid REFERENCES users (id),
    ADD COLUMN evidence_urls text[] NOT NULL DEFAULT '{}',
    ADD COLUMN payee_phone text,
    ADD COLUMN originator_conversation_id text,
    ADD COLUMN conversation_id text,
    ADD COLUMN mpesa_receipt text,
    ADD COLUMN failure_reason text,
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN paid_at timestamptz;
UPDATE refunds r SET order_id = s.order_id FROM sub_orders s WHERE s.id = r.sub_order_id;
UPDATE refunds r SET payee_phone = o.address_phone FROM orders o WHERE o.id = r.order_id;
ALTER TABLE refunds
    ALTER COLUMN order_id SET NOT NULL,
    ALTER COLUMN payee_phone SET NOT NULL,
    DROP CONSTRAINT refunds_reason_check,
    ADD CONSTRAINT refunds_reason_check CHECK (reason IN (
        'damaged', 'wrong_item', 'not_as_described', 'not_delivered', 'other',
        'cancelled', 'merchant_rejected', 'returned', 'late_payment', 'flagged_payment', 'unallocated_payment')),
    ADD CONSTRAINT refunds_owner_check CHECK (sub_order_id IS NOT NULL OR payment_id IS NOT NULL),
    ADD CONSTRAINT refunds_paid_check CHECK ((status = 'paid') = (paid_at IS NOT NULL));
CREATE UNIQUE INDEX refunds_originator_conversation_key ON refunds (originator_conversation_id)
    WHERE originator_conversation_id IS NOT NULL;
CREATE UNIQUE INDEX refunds_receipt_key ON refunds (mpesa_receipt) WHERE mpesa_receipt IS NOT NULL;
CREATE INDEX refunds_order_idx ON refunds (order_id);
CREATE INDEX refunds_payment_idx ON refunds (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX refunds_requested_by_idx ON refunds (requested_by, created_at DESC, id DESC) WHERE requested_by IS NOT NULL;
CREATE INDEX refunds_status_page_idx ON refunds (status, created_at DESC, id DESC);

-- The items and quantities a refund covers (customers' requests).
CREATE TABLE refund_items (
    refund_id uuid NOT NULL REFERENCES refunds (id),
    order_item_id uuid NOT NULL REFERENCES order_items (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (refund_id, order_item_id)
);

-- What each sub-order holds, in one place: paid (M-Pesa allocations, or the cash collected at
-- its door), the refunds committed (approved and on: approval is where the sum is capped),
-- those paid out, and what is still refundable.
CREATE VIEW sub_order_money AS
SELECT s.id AS sub_order_id, s.order_id,
    paid.cents AS paid_cents,
    refunded.committed AS refund_committed_cents,
    refunded.paid_out AS refunded_cents,
    paid.cents - refunded.committed AS refundable_cents
FROM sub_orders s
CROSS JOIN LATERAL (
    SELECT (coalesce((SELECT sum(a.amount_cents) FROM payment_allocations a WHERE a.sub_order_id = s.id), 0)
          + coalesce((SELECT c.amount_cents FROM cod_collections c WHERE c.sub_order_id = s.id), 0))::bigint AS cents
) paid
CROSS JOIN LATERAL (
    SELECT coalesce(sum(r.amount_cents) FILTER (WHERE r.status IN ('approved', 'paying', 'paid', 'failed')), 0)::bigint AS committed,
           coalesce(sum(r.amount_cents) FILTER (WHERE r.status = 'paid'), 0)::bigint AS paid_out
    FROM refunds r WHERE r.sub_order_id = s.id
) refunded;

-- Replaces 0010's view: the same status rules; payment state and amounts from the ledger.
-- `amount_paid_cents` is what was allocated to (or collected for) the order's sub-orders, so
-- money paid twice never shows the order paid twice; `amount_refunded_cents` is what went back
-- of it. Money that found nothing to pay is refunded on its own (the order's refunds list).
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
        sum(m.paid_cents) AS paid,
        sum(m.refunded_cents) AS refunded
    FROM sub_orders s
    JOIN sub_order_money m ON m.sub_order_id = s.id
    LEFT JOIN cod_collections c ON c.sub_order_id = s.id
    GROUP BY s.order_id
)
SELECT o.id AS order_id, parcels.status,
    CASE
        WHEN parcels.paid > 0 AND parcels.refunded >= parcels.paid THEN 'refunded'
        WHEN parcels.refunded > 0 THEN 'partially_refunded'
        WHEN o.payment_method = 'mpesa' THEN
            CASE
                WHEN parcels.paid > 0 THEN 'paid'
                WHEN EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'pending') THEN 'pending'
                ELSE 'unpaid'
            END
        WHEN parcels.collected > 0 AND parcels.collected >= parcels.collectable THEN 'cod_collected'
        WHEN parcels.collected > 0 THEN 'cod_partially_collected'
        ELSE 'cod_due'
    END AS payment_state,
    parcels.paid::bigint AS amount_paid_cents,
    parcels.refunded::bigint AS amount_refunded_cents
FROM orders o
JOIN parcels ON parcels.order_id = o.id;

-- Stock merchants supplied: every product's initial stock and each change a merchant made. With
-- the order items' sold and restocked units it proves stock conserved:
-- stock = supplied − sold + restocked.
CREATE TABLE stock_supply (
    id bigserial PRIMARY KEY,
    product_id uuid NOT NULL REFERENCES products (id),
    delta integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_supply_product_idx ON stock_supply (product_id);
-- A product's first stock is supply however the row is written (API, seeders, bulk imports).
CREATE FUNCTION products_initial_supply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_supply (product_id, delta, created_at) VALUES (NEW.id, NEW.stock, NEW.created_at);
    RETURN NULL;
END $$;
CREATE TRIGGER products_initial_supply AFTER INSERT ON products
    FOR EACH ROW EXECUTE FUNCTION products_initial_supply();
-- Products that exist already: their stock as supplied, back to before any sale.
INSERT INTO stock_supply (product_id, delta, created_at)
SELECT p.id, p.stock + coalesce(sum(i.quantity - i.restocked_quantity), 0), p.created_at
FROM products p LEFT JOIN order_items i ON i.product_id = p.id
GROUP BY p.id;

-- Payments: a flagged payment an admin resolved no longer holds its order from expiring.
CREATE INDEX payments_unresolved_flagged_idx ON payments (order_id) WHERE status = 'flagged' AND resolution IS NULL;
