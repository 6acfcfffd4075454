-- Bench data shared by every benchmark: two hubs, a zone, merchants with their users, a
-- category tree. Bulk SQL, never the HTTP API. psql variables: merchants (how many).
-- Ids are deterministic where the benchmarks need to name rows: merchant k is
-- 0000000k-0000-4000-8000-000000000000-like (ordered by k), so sub-orders come in k order.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO hubs (id, code, name, city, address, phone) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'BENCH-A', 'Bench hub A', 'Nairobi', '1 Bench Road', '254700000001'),
    ('00000000-0000-4000-8000-0000000000a2', 'BENCH-B', 'Bench hub B', 'Mombasa', '2 Bench Road', '254700000002');
INSERT INTO zones (id, name, hub_id, delivery_fee_cents) VALUES
    ('00000000-0000-4000-8000-0000000000b1', 'Bench zone', '00000000-0000-4000-8000-0000000000a2', 20000);

INSERT INTO users (id, email, password_hash, full_name, phone, role)
SELECT ('00000000-0000-4000-8000-1' || lpad(k::text, 11, '0'))::uuid, 'bench-merchant-' || k || '@bench.hubroute.test',
       'replaced-by-the-bench', 'Bench merchant ' || k, '2541' || lpad(k::text, 8, '0'), 'merchant'
FROM generate_series(1, :merchants) AS k;
INSERT INTO merchants (id, user_id, business_name, phone, home_hub_id, commission_bps)
SELECT (lpad(to_hex(k), 8, '0') || '-0000-4000-8000-000000000000')::uuid,
       ('00000000-0000-4000-8000-1' || lpad(k::text, 11, '0'))::uuid, 'Bench merchant ' || k, '2541' || lpad(k::text, 8, '0'),
       CASE WHEN k % 2 = 1 THEN '00000000-0000-4000-8000-0000000000a1'::uuid ELSE '00000000-0000-4000-8000-0000000000a2'::uuid END,
       1000
FROM generate_series(1, :merchants) AS k;

-- 8 top categories with 4 children each; products go in the children.
INSERT INTO categories (id, parent_id, name, slug)
SELECT ('00000000-0000-4000-8000-2' || lpad((t * 100)::text, 11, '0'))::uuid, NULL, 'Bench top ' || t, 'bench-top-' || t
FROM generate_series(1, 8) AS t;
INSERT INTO categories (id, parent_id, name, slug)
SELECT ('00000000-0000-4000-8000-2' || lpad((t * 100 + c)::text, 11, '0'))::uuid,
       ('00000000-0000-4000-8000-2' || lpad((t * 100)::text, 11, '0'))::uuid, 'Bench leaf ' || t || '.' || c, 'bench-leaf-' || t || '-' || c
FROM generate_series(1, 8) AS t, generate_series(1, 4) AS c;
COMMIT;
