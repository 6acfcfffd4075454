-- Categories (a tree) and products (SPEC section 4).
CREATE TABLE categories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id uuid REFERENCES categories (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX categories_slug_key ON categories (slug);

CREATE TABLE products (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    category_id uuid NOT NULL REFERENCES categories (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    price_cents bigint NOT NULL CHECK (price_cents > 0 AND price_cents % 100 = 0),
    stock integer NOT NULL CHECK (stock >= 0),
    image_urls text[] NOT NULL DEFAULT '{}',
    is_active boolean NOT NULL DEFAULT true,
    rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_total integer NOT NULL DEFAULT 0 CHECK (rating_total >= 0),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A') || setweight(to_tsvector('simple', description), 'B')
    ) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_merchant_idx ON products (merchant_id, created_at DESC, id DESC);
CREATE INDEX products_category_idx ON products (category_id, created_at DESC, id DESC) WHERE is_active;
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC) WHERE is_active;
CREATE INDEX products_price_idx ON products (price_cents, id) WHERE is_active;
-- Seeding and merchant imports are idempotent on (merchant, name).
CREATE UNIQUE INDEX products_merchant_name_key ON products (merchant_id, lower(name));
