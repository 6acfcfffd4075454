-- Listing products (SPEC sections 4 and 16): every sort walks an index in its own order, also
-- within one category, so a page reads about as many rows as it shows.
--
-- The rating key is the mean rating in millionths of a star (integer arithmetic, 0 before the
-- first review); the catalog's ORDER BY and cursors use exactly this expression.
CREATE INDEX products_rating_idx ON products (
    (CASE WHEN rating_count > 0 THEN rating_total::bigint * 1000000 / rating_count ELSE 0 END) DESC, id DESC
) WHERE is_active;

-- Newest first within a category is products_category_idx (0004).
CREATE INDEX products_category_price_idx ON products (category_id, price_cents, id) WHERE is_active;
CREATE INDEX products_category_rating_idx ON products (
    category_id, (CASE WHEN rating_count > 0 THEN rating_total::bigint * 1000000 / rating_count ELSE 0 END) DESC, id DESC
) WHERE is_active;
