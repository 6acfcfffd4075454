-- An order's derived status (SPEC 13.1) from its sub-orders' statuses alone, so a search by status
-- can ask it of an order's sub-orders without the whole of order_states: planning that view's
-- ledger joins for every probed order cost more than the search itself (an admin page of
-- completed orders). order_states takes its status from here too: the rule is written once.
--
-- "Live" sub-orders are those not cancelled; `live <@ ARRAY[...]` says every live one is in
-- those statuses. An expression without FROM, so PostgreSQL inlines it where it is called.
CREATE FUNCTION order_status(sub_order_statuses text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN 'cancelled' = ALL (sub_order_statuses) THEN 'cancelled'
    WHEN 'awaiting_payment' = ANY (sub_order_statuses) THEN 'awaiting_payment'
    WHEN array_remove(sub_order_statuses, 'cancelled') <@ ARRAY['delivered'] THEN 'delivered'
    WHEN array_remove(sub_order_statuses, 'cancelled') <@ ARRAY['returned'] THEN 'returned'
    WHEN array_remove(sub_order_statuses, 'cancelled') <@ ARRAY['delivered', 'returned'] THEN 'completed'
    WHEN array_remove(sub_order_statuses, 'cancelled') <@ ARRAY['placed'] THEN 'placed'
    ELSE 'in_progress'
END;

CREATE OR REPLACE VIEW order_states AS
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
CROSS JOIN LATERAL (
    SELECT count(*) AS sub_orders,
        order_status(array_agg(s.status)) AS status,
        count(*) FILTER (WHERE s.status NOT IN ('cancelled', 'returned', 'returning')) AS collectable,
        count(c.id) AS collected,
        sum(m.paid_cents) AS paid,
        sum(m.refunded_cents) AS refunded
    FROM sub_orders s
    JOIN sub_order_money m ON m.sub_order_id = s.id
    LEFT JOIN cod_collections c ON c.sub_order_id = s.id
    WHERE s.order_id = o.id
) parcels
-- An order always has sub-orders; the inner join of 0013 said so, and this keeps it.
WHERE parcels.sub_orders > 0;
