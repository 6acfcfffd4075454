-- Checkout benchmark data: customers (with one address each, in the bench zone) and, for each
-- customer n and each merchant k of 1..3, one product with a large stock; customer n buys
-- those three. A hot product (stock set by bench.sh hot). psql variable: customers.
-- Product ids start with the merchant's number, so product-id order is merchant order.
\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE bench_customers (
    n integer PRIMARY KEY,
    user_id uuid NOT NULL,
    address_id uuid NOT NULL,
    p1 uuid NOT NULL,
    p2 uuid NOT NULL,
    p3 uuid NOT NULL
);
INSERT INTO bench_customers (n, user_id, address_id, p1, p2, p3)
SELECT n, gen_random_uuid(), gen_random_uuid(),
       ('00000001-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid,
       ('00000002-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid,
       ('00000003-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid
FROM generate_series(0, :customers - 1) AS n;

INSERT INTO users (id, email, password_hash, full_name, phone)
SELECT user_id, 'bench-' || n || '@bench.hubroute.test', 'replaced-by-the-bench', 'Bench customer ' || n,
       '2547' || lpad(n::text, 8, '0')
FROM bench_customers;
INSERT INTO addresses (id, user_id, label, zone_id, line1, phone)
SELECT address_id, user_id, 'Home', '00000000-0000-4000-8000-0000000000b1', n || ' Bench Street', '2547' || lpad(n::text, 8, '0')
FROM bench_customers;

INSERT INTO products (id, merchant_id, category_id, name, description, price_cents, stock)
SELECT ('0000000' || k || '-0000-4000-9000-' || lpad(b.n::text, 12, '0'))::uuid,
       (lpad(to_hex(k), 8, '0') || '-0000-4000-8000-000000000000')::uuid,
       '00000000-0000-4000-8000-200000000101', 'Bench product ' || k || '-' || b.n, 'A product for the checkout benchmark',
       (100 + (b.n * 7 + k) % 400) * 100, 1000000
FROM bench_customers b, generate_series(1, 3) AS k;

INSERT INTO products (id, merchant_id, category_id, name, description, price_cents, stock)
VALUES ('00000009-0000-4000-9000-000000000001', '00000001-0000-4000-8000-000000000000',
        '00000000-0000-4000-8000-200000000101', 'Bench hot product', 'Everyone wants it', 50000, 0);
COMMIT;
ANALYZE;
