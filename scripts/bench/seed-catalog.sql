-- Catalog benchmark data: :products products (bulk INSERT ... SELECT generate_series) spread
-- over the merchants of seed-common.sql and the 32 leaf categories, with words for the text
-- search, prices in whole shillings, ratings and creation times spread over a year.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE words (i int, adjective text, noun text);
INSERT INTO words
SELECT i - 1, adjective, noun
FROM unnest(
    '{red,blue,green,black,white,silver,golden,wooden,steel,cotton,leather,woollen,smart,classic,modern,vintage,compact,portable,deluxe,eco,rugged,soft,bright,quiet,fast,light,heavy,mini,maxi,royal}'::text[],
    '{kettle,jacket,phone,radio,sandal,basket,blender,lantern,backpack,mattress,cooker,shirt,scarf,speaker,charger,blanket,bottle,table,chair,torch,watch,helmet,bicycle,kikoi,kanga,sufuria,jiko,thermos,umbrella,mirror}'::text[]
) WITH ORDINALITY AS w(adjective, noun, i);

INSERT INTO products (merchant_id, category_id, name, description, price_cents, stock, rating_count, rating_total,
                      created_at, updated_at)
SELECT (lpad(to_hex(1 + g % :merchants), 8, '0') || '-0000-4000-8000-000000000000')::uuid,
       ('00000000-0000-4000-8000-2' || lpad((100 * (1 + g % 8) + 1 + (g / 8) % 4)::text, 11, '0'))::uuid,
       initcap(a.adjective) || ' ' || n.noun || ' ' || g,
       'A ' || a.adjective || ' ' || n.noun || ' for everyday use, model ' || (g % 977) || '.',
       (50 + (g * 7919) % 20000) * 100,
       g % 500,
       CASE WHEN g % 3 = 0 THEN 0 ELSE g % 97 END,
       CASE WHEN g % 3 = 0 THEN 0 ELSE (g % 97) * (1 + g % 5) END,
       now() - make_interval(secs => g * 311.0),
       now() - make_interval(secs => g * 311.0)
FROM generate_series(1, :products) AS g
JOIN words a ON a.i = g % 30
JOIN words n ON n.i = (g / 30) % 30;
COMMIT;
VACUUM ANALYZE products;
