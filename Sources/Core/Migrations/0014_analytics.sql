-- Analytics (SPEC section 9): materialized views of sales, merchants, hubs, products, payments
-- and refunds, refreshed together (one transaction, so every view answers from the same moment)
-- by a periodic job and by `hubroute refresh-analytics`. Each carries a version comment; a
-- change to a definition is a new migration that drops and recreates the view with the next
-- version. The metrics are defined in the README ("Analytics") and the endpoints' descriptions.
--
-- Dates: a "day" is the calendar day in the business time zone. Orders, sub-orders and GMV
-- count on the day the master order was placed (checkout), delivered revenue and commission on
-- the day of delivery, refunds on the day they were paid out, payments on the day they were
-- settled, hub events on the day they happened.
--
-- The views are kept at day grain (per merchant, product, hub, payment method where they have
-- one), with month rollups for merchants and products, so an endpoint answers a range of dates
-- with an indexed sum over at most a few thousand rows.

-- The business time zone the views were computed in. The refresh writes BUSINESS_TIME_ZONE here
-- in its transaction, so a refresh run by hand (psql) computes the same days.
CREATE TABLE analytics_settings (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    time_zone text NOT NULL
);
INSERT INTO analytics_settings (time_zone) VALUES ('Africa/Nairobi');

-- When each view was last refreshed (every answer carries it as `refreshed_at`) and how long
-- its refresh took.
CREATE TABLE analytics_refreshes (
    view_name text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0)
);

-- One row per sub-order: the facts the other views count, with their business days. A
-- sub-order is "placed" once it left awaiting_payment (cash on delivery starts there; M-Pesa
-- once paid): one that expired or was cancelled unpaid never counts as sold. Origin receipt is
-- the first time its merchant's hub took it in.
CREATE MATERIALIZED VIEW analytics_sub_order_facts AS
WITH moments AS (
    SELECT e.sub_order_id,
        bool_or(e.to_status = 'placed') AS placed,
        min(e.created_at) FILTER (WHERE e.to_status = 'delivered') AS delivered_at,
        min(e.created_at) FILTER (WHERE e.to_status = 'cancelled') AS cancelled_at,
        min(e.created_at) FILTER (WHERE e.to_status = 'returned') AS returned_at,
        min(e.created_at) FILTER (WHERE e.from_status = 'accepted' AND e.to_status IN ('at_origin_hub', 'at_destination_hub'))
            AS origin_received_at
    FROM sub_order_events e
    GROUP BY e.sub_order_id
), granted AS (
    -- Refunds granted (approved and on; not requested or denied) per sub-order.
    SELECT r.sub_order_id FROM refunds r
    WHERE r.sub_order_id IS NOT NULL AND r.status IN ('approved', 'paying', 'paid', 'failed')
    GROUP BY r.sub_order_id
)
SELECT s.id AS sub_order_id, s.order_id, s.merchant_id, s.origin_hub_id, s.destination_hub_id, o.payment_method,
    s.status, s.cancel_reason, coalesce(m.placed, false) AS placed,
    s.items_total_cents, s.delivery_fee_cents, s.total_cents, s.commission_cents, s.merchant_payout_cents,
    (o.created_at AT TIME ZONE cfg.time_zone)::date AS placed_day,
    (m.delivered_at AT TIME ZONE cfg.time_zone)::date AS delivered_day,
    (m.cancelled_at AT TIME ZONE cfg.time_zone)::date AS cancelled_day,
    (m.returned_at AT TIME ZONE cfg.time_zone)::date AS returned_day,
    m.delivered_at - m.origin_received_at AS origin_to_delivery,
    g.sub_order_id IS NOT NULL AS refund_granted
FROM sub_orders s
JOIN orders o ON o.id = s.order_id
CROSS JOIN analytics_settings cfg
LEFT JOIN moments m ON m.sub_order_id = s.id
LEFT JOIN granted g ON g.sub_order_id = s.id;
CREATE UNIQUE INDEX analytics_sub_order_facts_key ON analytics_sub_order_facts (sub_order_id);
COMMENT ON MATERIALIZED VIEW analytics_sub_order_facts IS
    'v1: one row per sub-order: placed (left awaiting_payment), business days of placement, delivery, cancellation and return, origin receipt to delivery, refund granted';

-- One row per refund: its day of creation (asked for, or created automatically), of payout, and
-- the time an admin (or the system, for automatic ones) took to decide.
CREATE MATERIALIZED VIEW analytics_refund_facts AS
SELECT r.id AS refund_id, r.sub_order_id, r.order_id, s.merchant_id, r.reason, r.status, r.automatic, r.amount_cents,
    coalesce(s.status = 'delivered', false) AS of_delivered_parcel,
    (r.created_at AT TIME ZONE cfg.time_zone)::date AS created_day,
    (r.paid_at AT TIME ZONE cfg.time_zone)::date AS paid_day,
    r.decided_at - r.created_at AS time_to_decision
FROM refunds r
LEFT JOIN sub_orders s ON s.id = r.sub_order_id
CROSS JOIN analytics_settings cfg;
CREATE UNIQUE INDEX analytics_refund_facts_key ON analytics_refund_facts (refund_id);
CREATE INDEX analytics_refund_facts_created_idx ON analytics_refund_facts (created_day);
COMMENT ON MATERIALIZED VIEW analytics_refund_facts IS
    'v1: one row per refund: reason, status, amount, business days of creation and payout, time to decision';

-- Daily sales, one row per business day with any activity.
--   orders, sub_orders, gmv_cents (items), delivery_fees_cents: placed sub-orders, by placement day
--   delivered_sub_orders, delivered_revenue_cents (items + fee share), commission_cents: by delivery day
--   refunds_paid_cents: every refund paid out, by payout day
--   delivered_refunds_paid_cents: those of parcels that were delivered, by payout day
--   net_revenue_cents = delivered_revenue_cents - delivered_refunds_paid_cents (money for parcels
--     never delivered was never revenue, so its refunds do not reduce it)
--   average_order_value_cents = (gmv + delivery fees) / orders, rounded half up to the cent
CREATE MATERIALIZED VIEW analytics_daily_sales AS
WITH placed AS (
    SELECT placed_day AS day, count(DISTINCT order_id) AS orders, count(*) AS sub_orders,
        sum(items_total_cents) AS gmv_cents, sum(delivery_fee_cents) AS delivery_fees_cents
    FROM analytics_sub_order_facts WHERE placed
    GROUP BY placed_day
), delivered AS (
    SELECT delivered_day AS day, count(*) AS delivered_sub_orders, sum(total_cents) AS delivered_revenue_cents,
        sum(commission_cents) AS commission_cents
    FROM analytics_sub_order_facts WHERE delivered_day IS NOT NULL
    GROUP BY delivered_day
), refunded AS (
    SELECT paid_day AS day, sum(amount_cents) AS refunds_paid_cents,
        sum(amount_cents) FILTER (WHERE of_delivered_parcel) AS delivered_refunds_paid_cents
    FROM analytics_refund_facts WHERE paid_day IS NOT NULL
    GROUP BY paid_day
), days AS (
    SELECT day FROM placed UNION SELECT day FROM delivered UNION SELECT day FROM refunded
)
SELECT d.day,
    coalesce(p.orders, 0)::bigint AS orders,
    coalesce(p.sub_orders, 0)::bigint AS sub_orders,
    coalesce(p.gmv_cents, 0)::bigint AS gmv_cents,
    coalesce(p.delivery_fees_cents, 0)::bigint AS delivery_fees_cents,
    coalesce(v.delivered_sub_orders, 0)::bigint AS delivered_sub_orders,
    coalesce(v.delivered_revenue_cents, 0)::bigint AS delivered_revenue_cents,
    coalesce(v.commission_cents, 0)::bigint AS commission_cents,
    coalesce(r.refunds_paid_cents, 0)::bigint AS refunds_paid_cents,
    coalesce(r.delivered_refunds_paid_cents, 0)::bigint AS delivered_refunds_paid_cents,
    (coalesce(v.delivered_revenue_cents, 0) - coalesce(r.delivered_refunds_paid_cents, 0))::bigint AS net_revenue_cents,
    CASE WHEN p.orders > 0 THEN round((p.gmv_cents + p.delivery_fees_cents) / p.orders)::bigint END AS average_order_value_cents
FROM days d
LEFT JOIN placed p ON p.day = d.day
LEFT JOIN delivered v ON v.day = d.day
LEFT JOIN refunded r ON r.day = d.day;
CREATE UNIQUE INDEX analytics_daily_sales_key ON analytics_daily_sales (day);
COMMENT ON MATERIALIZED VIEW analytics_daily_sales IS
    'v1: per business day: placed orders, sub-orders, GMV and fees by placement; delivered revenue and commission by delivery; refunds by payout; net revenue; average order value';

-- Merchant performance per merchant and business day (and per month below): a range of dates is
-- a sum over these rows. The merchant's payout due per day is payout_cents -
-- delivered_refunds_paid_cents of the day.
--   sub_orders, gmv_cents: placed sub-orders by placement day
--   delivered, commission_cents, payout_cents (items - commission, frozen at placement),
--   delivered_refunded (delivered parcels with a refund granted): by delivery day
--   cancelled_*: cancelled sub-orders by reason, by the day of cancellation (payment_expired
--     ones were never placed); returned: parcels back with the merchant, by the day of return
--   refunds_paid_cents, delivered_refunds_paid_cents: refunds of the merchant's parcels by payout day
--   review_count, rating_total: reviews of its products, not hidden, by the day written
CREATE MATERIALIZED VIEW analytics_merchant_daily AS
WITH placed AS (
    SELECT merchant_id, placed_day AS day, count(*) AS sub_orders, sum(items_total_cents) AS gmv_cents
    FROM analytics_sub_order_facts WHERE placed
    GROUP BY merchant_id, placed_day
), delivered AS (
    SELECT merchant_id, delivered_day AS day, count(*) AS delivered, sum(commission_cents) AS commission_cents,
        sum(merchant_payout_cents) AS payout_cents, count(*) FILTER (WHERE refund_granted) AS delivered_refunded
    FROM analytics_sub_order_facts WHERE delivered_day IS NOT NULL
    GROUP BY merchant_id, delivered_day
), cancelled AS (
    SELECT merchant_id, cancelled_day AS day,
        count(*) FILTER (WHERE cancel_reason = 'customer') AS cancelled_customer,
        count(*) FILTER (WHERE cancel_reason = 'merchant_rejected') AS cancelled_merchant_rejected,
        count(*) FILTER (WHERE cancel_reason = 'payment_expired') AS cancelled_payment_expired,
        count(*) FILTER (WHERE cancel_reason = 'admin') AS cancelled_admin
    FROM analytics_sub_order_facts WHERE cancelled_day IS NOT NULL
    GROUP BY merchant_id, cancelled_day
), returned AS (
    SELECT merchant_id, returned_day AS day, count(*) AS returned
    FROM analytics_sub_order_facts WHERE returned_day IS NOT NULL
    GROUP BY merchant_id, returned_day
), refunded AS (
    SELECT merchant_id, paid_day AS day, sum(amount_cents) AS refunds_paid_cents,
        sum(amount_cents) FILTER (WHERE of_delivered_parcel) AS delivered_refunds_paid_cents
    FROM analytics_refund_facts WHERE paid_day IS NOT NULL AND merchant_id IS NOT NULL
    GROUP BY merchant_id, paid_day
), rated AS (
    SELECT v.merchant_id, (v.created_at AT TIME ZONE cfg.time_zone)::date AS day, count(*) AS review_count,
        sum(v.rating) AS rating_total
    FROM reviews v CROSS JOIN analytics_settings cfg WHERE v.hidden_at IS NULL
    GROUP BY v.merchant_id, (v.created_at AT TIME ZONE cfg.time_zone)::date
), keys AS (
    SELECT merchant_id, day FROM placed UNION SELECT merchant_id, day FROM delivered
    UNION SELECT merchant_id, day FROM cancelled UNION SELECT merchant_id, day FROM returned
    UNION SELECT merchant_id, day FROM refunded UNION SELECT merchant_id, day FROM rated
)
SELECT k.merchant_id, k.day,
    coalesce(p.sub_orders, 0)::bigint AS sub_orders,
    coalesce(p.gmv_cents, 0)::bigint AS gmv_cents,
    coalesce(d.delivered, 0)::bigint AS delivered,
    coalesce(d.commission_cents, 0)::bigint AS commission_cents,
    coalesce(d.payout_cents, 0)::bigint AS payout_cents,
    coalesce(d.delivered_refunded, 0)::bigint AS delivered_refunded,
    coalesce(c.cancelled_customer, 0)::bigint AS cancelled_customer,
    coalesce(c.cancelled_merchant_rejected, 0)::bigint AS cancelled_merchant_rejected,
    coalesce(c.cancelled_payment_expired, 0)::bigint AS cancelled_payment_expired,
    coalesce(c.cancelled_admin, 0)::bigint AS cancelled_admin,
    coalesce(t.returned, 0)::bigint AS returned,
    coalesce(r.refunds_paid_cents, 0)::bigint AS refunds_paid_cents,
    coalesce(r.delivered_refunds_paid_cents, 0)::bigint AS delivered_refunds_paid_cents,
    coalesce(v.review_count, 0)::bigint AS review_count,
    coalesce(v.rating_total, 0)::bigint AS rating_total
FROM keys k
LEFT JOIN placed p ON p.merchant_id = k.merchant_id AND p.day = k.day
LEFT JOIN delivered d ON d.merchant_id = k.merchant_id AND d.day = k.day
LEFT JOIN cancelled c ON c.merchant_id = k.merchant_id AND c.day = k.day
LEFT JOIN returned t ON t.merchant_id = k.merchant_id AND t.day = k.day
LEFT JOIN refunded r ON r.merchant_id = k.merchant_id AND r.day = k.day
LEFT JOIN rated v ON v.merchant_id = k.merchant_id AND v.day = k.day;
CREATE UNIQUE INDEX analytics_merchant_daily_key ON analytics_merchant_daily (merchant_id, day);
CREATE INDEX analytics_merchant_daily_day_idx ON analytics_merchant_daily (day);
COMMENT ON MATERIALIZED VIEW analytics_merchant_daily IS
    'v1: per merchant and business day: placed sub-orders and GMV, delivered with commission and payout, cancellations by reason, returns, refunds paid, reviews';

-- The same per calendar month (the first day of the month), summed from the days: a range of
-- whole months reads one row per merchant and month.
CREATE MATERIALIZED VIEW analytics_merchant_monthly AS
SELECT merchant_id, date_trunc('month', day::timestamp)::date AS month,
    sum(sub_orders)::bigint AS sub_orders, sum(gmv_cents)::bigint AS gmv_cents, sum(delivered)::bigint AS delivered,
    sum(commission_cents)::bigint AS commission_cents, sum(payout_cents)::bigint AS payout_cents,
    sum(delivered_refunded)::bigint AS delivered_refunded, sum(cancelled_customer)::bigint AS cancelled_customer,
    sum(cancelled_merchant_rejected)::bigint AS cancelled_merchant_rejected,
    sum(cancelled_payment_expired)::bigint AS cancelled_payment_expired, sum(cancelled_admin)::bigint AS cancelled_admin,
    sum(returned)::bigint AS returned,
    sum(refunds_paid_cents)::bigint AS refunds_paid_cents, sum(delivered_refunds_paid_cents)::bigint AS delivered_refunds_paid_cents,
    sum(review_count)::bigint AS review_count, sum(rating_total)::bigint AS rating_total
FROM analytics_merchant_daily
GROUP BY merchant_id, date_trunc('month', day::timestamp)::date;
CREATE UNIQUE INDEX analytics_merchant_monthly_key ON analytics_merchant_monthly (merchant_id, month);
CREATE INDEX analytics_merchant_monthly_month_idx ON analytics_merchant_monthly (month);
COMMENT ON MATERIALIZED VIEW analytics_merchant_monthly IS 'v1: analytics_merchant_daily summed per calendar month';

-- Product performance per product and business day (and per month below).
--   units_sold, sales_cents: items of placed sub-orders by placement day
--   units_delivered, revenue_cents: items of delivered sub-orders by delivery day
--   refunded_units, refunds_cents: items of refunds paid out, by payout day. A refund's amount is
--     shared among its items in proportion to their value (unit price x units), in whole cents,
--     the remainder on its first item (by order item id); what exceeds the items' value (a fee
--     share refunded with a parcel that never arrived) is not product money. Automatic refunds
--     (cancelled, rejected, returned parcels, payments that found nothing to pay) name no items.
--   review_count, rating_total: reviews, not hidden, by the day written
CREATE MATERIALIZED VIEW analytics_product_daily AS
WITH lines AS (
    SELECT i.product_id, i.quantity, i.line_total_cents, f.placed, f.placed_day, f.delivered_day
    FROM order_items i JOIN analytics_sub_order_facts f ON f.sub_order_id = i.sub_order_id
), sold AS (
    SELECT product_id, placed_day AS day, sum(quantity) AS units_sold, sum(line_total_cents) AS sales_cents
    FROM lines WHERE placed
    GROUP BY product_id, placed_day
), delivered AS (
    SELECT product_id, delivered_day AS day, sum(quantity) AS units_delivered, sum(line_total_cents) AS revenue_cents
    FROM lines WHERE delivered_day IS NOT NULL
    GROUP BY product_id, delivered_day
), refund_lines AS (
    SELECT f.refund_id, f.paid_day, f.amount_cents, i.product_id, ri.quantity, i.unit_price_cents * ri.quantity AS value,
        (sum(i.unit_price_cents * ri.quantity) OVER (PARTITION BY f.refund_id))::bigint AS refund_value,
        row_number() OVER (PARTITION BY f.refund_id ORDER BY ri.order_item_id) AS position
    FROM analytics_refund_facts f
    JOIN refund_items ri ON ri.refund_id = f.refund_id
    JOIN order_items i ON i.id = ri.order_item_id
    WHERE f.paid_day IS NOT NULL
), refund_shares AS (
    SELECT refund_id, paid_day, product_id, quantity, position, least(amount_cents, refund_value) AS items_amount,
        least(amount_cents, refund_value) * value / refund_value AS share
    FROM refund_lines
), refunded AS (
    SELECT product_id, paid_day AS day, sum(quantity) AS refunded_units,
        sum(share + CASE WHEN position = 1 THEN items_amount - shares_total ELSE 0 END) AS refunds_cents
    FROM (SELECT *, sum(share) OVER (PARTITION BY refund_id) AS shares_total FROM refund_shares) s
    GROUP BY product_id, paid_day
), rated AS (
    SELECT v.product_id, (v.created_at AT TIME ZONE cfg.time_zone)::date AS day, count(*) AS review_count,
        sum(v.rating) AS rating_total
    FROM reviews v CROSS JOIN analytics_settings cfg WHERE v.hidden_at IS NULL
    GROUP BY v.product_id, (v.created_at AT TIME ZONE cfg.time_zone)::date
), keys AS (
    SELECT product_id, day FROM sold UNION SELECT product_id, day FROM delivered
    UNION SELECT product_id, day FROM refunded UNION SELECT product_id, day FROM rated
)
SELECT k.product_id, p.merchant_id, k.day,
    coalesce(s.units_sold, 0)::bigint AS units_sold,
    coalesce(s.sales_cents, 0)::bigint AS sales_cents,
    coalesce(d.units_delivered, 0)::bigint AS units_delivered,
    coalesce(d.revenue_cents, 0)::bigint AS revenue_cents,
    coalesce(r.refunded_units, 0)::bigint AS refunded_units,
    coalesce(r.refunds_cents, 0)::bigint AS refunds_cents,
    coalesce(v.review_count, 0)::bigint AS review_count,
    coalesce(v.rating_total, 0)::bigint AS rating_total
FROM keys k
JOIN products p ON p.id = k.product_id
LEFT JOIN sold s ON s.product_id = k.product_id AND s.day = k.day
LEFT JOIN delivered d ON d.product_id = k.product_id AND d.day = k.day
LEFT JOIN refunded r ON r.product_id = k.product_id AND r.day = k.day
LEFT JOIN rated v ON v.product_id = k.product_id AND v.day = k.day;
CREATE UNIQUE INDEX analytics_product_daily_key ON analytics_product_daily (product_id, day);
CREATE INDEX analytics_product_daily_day_idx ON analytics_product_daily (day);
CREATE INDEX analytics_product_daily_merchant_idx ON analytics_product_daily (merchant_id, day);
COMMENT ON MATERIALIZED VIEW analytics_product_daily IS
    'v1: per product and business day: units and sales placed, units and revenue delivered, refunds paid (shared among refunded items), reviews';

CREATE MATERIALIZED VIEW analytics_product_monthly AS
SELECT product_id, merchant_id, date_trunc('month', day::timestamp)::date AS month,
    sum(units_sold)::bigint AS units_sold, sum(sales_cents)::bigint AS sales_cents,
    sum(units_delivered)::bigint AS units_delivered, sum(revenue_cents)::bigint AS revenue_cents,
    sum(refunded_units)::bigint AS refunded_units, sum(refunds_cents)::bigint AS refunds_cents,
    sum(review_count)::bigint AS review_count, sum(rating_total)::bigint AS rating_total
FROM analytics_product_daily
GROUP BY product_id, merchant_id, date_trunc('month', day::timestamp)::date;
CREATE UNIQUE INDEX analytics_product_monthly_key ON analytics_product_monthly (product_id, month);
CREATE INDEX analytics_product_monthly_month_idx ON analytics_product_monthly (month);
CREATE INDEX analytics_product_monthly_merchant_idx ON analytics_product_monthly (merchant_id, month);
COMMENT ON MATERIALIZED VIEW analytics_product_monthly IS 'v1: analytics_product_daily summed per calendar month';

-- Hub performance per hub and business day, every hub on every day from the first day with any
-- hub activity to the last, by the time each event happened at that hub.
--   parcels_received: taken in from a merchant (origin) or off the transfer (destination);
--     refusals and parcels back from a failed attempt are not receipts
--   parcels_dispatched: sent from origin to destination; parcels_delivered: handed over at the door
--   failed_attempts: delivery attempts that failed
--   median_hours_to_delivery: of the parcels the hub delivered that day, the median time from
--     origin receipt to delivery, in hours (2 decimals)
--   cod_collected_cents: cash collected at the door; cod_remitted_cents: cash the hub's staff
--     handed in (what their remittances closed); cod_declared_cents, cod_variance_cents: what
--     they declared and declared - expected
--   cod_outstanding_cents: collected and not yet remitted at the end of the day
CREATE MATERIALIZED VIEW analytics_hub_daily AS
WITH moves AS (
    SELECT e.hub_id, (e.created_at AT TIME ZONE cfg.time_zone)::date AS day,
        count(*) FILTER (WHERE e.from_status IN ('accepted', 'in_transit') AND e.to_status IN ('at_origin_hub', 'at_destination_hub'))
            AS parcels_received,
        count(*) FILTER (WHERE e.from_status = 'at_origin_hub' AND e.to_status = 'in_transit') AS parcels_dispatched,
        count(*) FILTER (WHERE e.to_status = 'delivered') AS parcels_delivered
    FROM sub_order_events e CROSS JOIN analytics_settings cfg
    WHERE e.hub_id IS NOT NULL
    GROUP BY e.hub_id, (e.created_at AT TIME ZONE cfg.time_zone)::date
), attempts AS (
    SELECT a.hub_id, (a.created_at AT TIME ZONE cfg.time_zone)::date AS day, count(*) AS failed_attempts
    FROM delivery_attempts a CROSS JOIN analytics_settings cfg
    GROUP BY a.hub_id, (a.created_at AT TIME ZONE cfg.time_zone)::date
), durations AS (
    SELECT destination_hub_id AS hub_id, delivered_day AS day,
        round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY origin_to_delivery)) / 3600, 2)
            AS median_hours_to_delivery
    FROM analytics_sub_order_facts WHERE delivered_day IS NOT NULL AND origin_to_delivery IS NOT NULL
    GROUP BY destination_hub_id, delivered_day
), collected AS (
    SELECT c.hub_id, (c.collected_at AT TIME ZONE cfg.time_zone)::date AS day, sum(c.amount_cents) AS cod_collected_cents
    FROM cod_collections c CROSS JOIN analytics_settings cfg
    GROUP BY c.hub_id, (c.collected_at AT TIME ZONE cfg.time_zone)::date
), remitted AS (
    SELECT m.hub_id, (m.created_at AT TIME ZONE cfg.time_zone)::date AS day, sum(m.expected_cents) AS cod_remitted_cents,
        sum(m.declared_cents) AS cod_declared_cents, sum(m.variance_cents) AS cod_variance_cents
    FROM remittances m CROSS JOIN analytics_settings cfg
    GROUP BY m.hub_id, (m.created_at AT TIME ZONE cfg.time_zone)::date
), span AS (
    SELECT min(day) AS first, max(day) AS last FROM (
        SELECT day FROM moves UNION ALL SELECT day FROM attempts UNION ALL SELECT day FROM collected
        UNION ALL SELECT day FROM remitted
    ) active
), grid AS (
    SELECT h.id AS hub_id, g.day::date AS day
    FROM span CROSS JOIN hubs h CROSS JOIN generate_series(span.first::timestamp, span.last::timestamp, interval '1 day') AS g(day)
)
SELECT g.day, g.hub_id,
    coalesce(v.parcels_received, 0)::bigint AS parcels_received,
    coalesce(v.parcels_dispatched, 0)::bigint AS parcels_dispatched,
    coalesce(v.parcels_delivered, 0)::bigint AS parcels_delivered,
    coalesce(a.failed_attempts, 0)::bigint AS failed_attempts,
    d.median_hours_to_delivery,
    coalesce(c.cod_collected_cents, 0)::bigint AS cod_collected_cents,
    coalesce(r.cod_remitted_cents, 0)::bigint AS cod_remitted_cents,
    coalesce(r.cod_declared_cents, 0)::bigint AS cod_declared_cents,
    coalesce(r.cod_variance_cents, 0)::bigint AS cod_variance_cents,
    sum(coalesce(c.cod_collected_cents, 0) - coalesce(r.cod_remitted_cents, 0))
        OVER (PARTITION BY g.hub_id ORDER BY g.day)::bigint AS cod_outstanding_cents
FROM grid g
LEFT JOIN moves v ON v.hub_id = g.hub_id AND v.day = g.day
LEFT JOIN attempts a ON a.hub_id = g.hub_id AND a.day = g.day
LEFT JOIN durations d ON d.hub_id = g.hub_id AND d.day = g.day
LEFT JOIN collected c ON c.hub_id = g.hub_id AND c.day = g.day
LEFT JOIN remitted r ON r.hub_id = g.hub_id AND r.day = g.day;
CREATE UNIQUE INDEX analytics_hub_daily_key ON analytics_hub_daily (day, hub_id);
COMMENT ON MATERIALIZED VIEW analytics_hub_daily IS
    'v1: per hub and business day: parcels received, dispatched, delivered, failed attempts, median origin receipt to delivery, cash collected, remitted, outstanding';

-- Payment mix per business day and method, by settlement time.
--   mpesa: every STK push that settled that day is an attempt; successes are the succeeded ones
--     (an admin's accepted flagged payment included), failures the failed, flagged those waiting
--     for or refunded by an admin; amount_cents is the money received by the successes (a late
--     payment refunded afterwards included: it is what M-Pesa moved)
--   cod: every doorstep attempt of a cash-on-delivery parcel: a collection (success, on the day
--     collected, for its amount) or a failed delivery attempt (failure)
--   success_rate = successes / attempts, 4 decimals
CREATE MATERIALIZED VIEW analytics_payment_mix AS
WITH attempts AS (
    SELECT (p.settled_at AT TIME ZONE cfg.time_zone)::date AS day, 'mpesa' AS method, p.status,
        CASE WHEN p.status = 'succeeded' THEN coalesce(p.received_cents, p.amount_cents) ELSE 0 END AS amount_cents
    FROM payments p CROSS JOIN analytics_settings cfg
    WHERE p.settled_at IS NOT NULL
    UNION ALL
    SELECT (c.collected_at AT TIME ZONE cfg.time_zone)::date, 'cod', 'succeeded', c.amount_cents
    FROM cod_collections c CROSS JOIN analytics_settings cfg
    UNION ALL
    SELECT (a.created_at AT TIME ZONE cfg.time_zone)::date, 'cod', 'failed', 0
    FROM delivery_attempts a
    JOIN sub_orders s ON s.id = a.sub_order_id
    JOIN orders o ON o.id = s.order_id AND o.payment_method = 'cod'
    CROSS JOIN analytics_settings cfg
)
SELECT day, method, count(*)::bigint AS attempts,
    count(*) FILTER (WHERE status = 'succeeded')::bigint AS successes,
    count(*) FILTER (WHERE status = 'failed')::bigint AS failures,
    count(*) FILTER (WHERE status = 'flagged')::bigint AS flagged,
    round(count(*) FILTER (WHERE status = 'succeeded')::numeric / count(*), 4) AS success_rate,
    sum(amount_cents)::bigint AS amount_cents
FROM attempts
GROUP BY day, method;
CREATE UNIQUE INDEX analytics_payment_mix_key ON analytics_payment_mix (day, method);
COMMENT ON MATERIALIZED VIEW analytics_payment_mix IS
    'v1: per business day and method (mpesa, cod): attempts, successes, failures, flagged, success rate, amount received, by settlement time';

INSERT INTO analytics_refreshes (view_name, refreshed_at, duration_ms)
SELECT name, now(), 0
FROM unnest(ARRAY['analytics_sub_order_facts', 'analytics_refund_facts', 'analytics_daily_sales', 'analytics_merchant_daily',
                  'analytics_merchant_monthly', 'analytics_product_daily', 'analytics_product_monthly', 'analytics_hub_daily',
                  'analytics_payment_mix']) AS name;
