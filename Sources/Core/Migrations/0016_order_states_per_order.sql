-- 0013's order_states grouped every sub-order of the database before the join to the orders
-- asked for: PostgreSQL cannot push `o.id = ANY(...)` into a GROUP BY, so reading one order took
-- seconds at 100,000 orders (a sequential scan of sub_orders and cod_collections). The same
-- rules, computed per order with LATERAL: reading an order touches its own sub-orders only,
-- through sub_orders_order_idx.
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
    WHERE s.order_id = o.id
) parcels
-- An order always has sub-orders; the inner join of 0013 said so, and this keeps it.
WHERE parcels.sub_orders > 0;

-- Admins search orders by status: for the statuses of orders under way, the sub-order statuses
-- such an order must have (Orders.subOrderStatusesOfLiveOrderStatus) narrow the search to the
-- orders that may be in it.
CREATE INDEX sub_orders_status_idx ON sub_orders (status, order_id);
