-- Catalog administration (SPEC sections 4 and 13): categories get an active flag, and reviews of
-- delivered order items (SPEC section 7).

-- `is_active` is what an admin sets. `is_listed` says the category and every ancestor are active;
-- the catalog service recomputes it in the transaction of every category change (those
-- transactions are serialised), so listings, product pages and checkout read one column instead
-- of walking the tree.
ALTER TABLE categories
    ADD COLUMN is_active boolean NOT NULL DEFAULT true,
    ADD COLUMN is_listed boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT categories_parent_not_self CHECK (parent_id <> id);
CREATE INDEX categories_parent_idx ON categories (parent_id);
CREATE INDEX categories_created_idx ON categories (created_at DESC, id DESC);

CREATE TABLE reviews (
    id uuid PRIMARY KEY,
    order_item_id uuid NOT NULL REFERENCES order_items (id),
    product_id uuid NOT NULL REFERENCES products (id),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    author_id uuid NOT NULL REFERENCES users (id),
    rating integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title text CHECK (length(title) BETWEEN 1 AND 120),
    body text CHECK (length(body) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- The merchant's one reply, replaced when edited.
    reply_body text CHECK (length(reply_body) BETWEEN 1 AND 2000),
    replied_at timestamptz,
    reply_updated_at timestamptz,
    -- A hidden review leaves the public listing and the product's rating.
    hidden_at timestamptz,
    hidden_by uuid REFERENCES users (id),
    hidden_note text,
    CHECK ((reply_body IS NULL) = (replied_at IS NULL)),
    CHECK ((hidden_at IS NULL) = (hidden_note IS NULL))
);
-- One review per order item: concurrent second reviews fail here.
CREATE UNIQUE INDEX reviews_order_item_key ON reviews (order_item_id);
-- The public listing's three orders (newest, highest, lowest), each newest first within a rating.
CREATE INDEX reviews_product_newest_idx ON reviews (product_id, created_at DESC, id DESC) WHERE hidden_at IS NULL;
CREATE INDEX reviews_product_highest_idx ON reviews (product_id, rating DESC, created_at DESC, id DESC) WHERE hidden_at IS NULL;
CREATE INDEX reviews_product_lowest_idx ON reviews (product_id, (-rating) DESC, created_at DESC, id DESC) WHERE hidden_at IS NULL;
CREATE INDEX reviews_merchant_idx ON reviews (merchant_id, created_at DESC, id DESC) WHERE hidden_at IS NULL;
CREATE INDEX reviews_merchant_unanswered_idx ON reviews (merchant_id, created_at DESC, id DESC)
    WHERE hidden_at IS NULL AND reply_body IS NULL;
CREATE INDEX reviews_author_idx ON reviews (author_id, created_at DESC, id DESC);
