-- Customers' delivery addresses and carts (SPEC sections 4 and 13).
CREATE TABLE addresses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 60),
    zone_id uuid NOT NULL REFERENCES zones (id),
    line1 text NOT NULL CHECK (length(line1) BETWEEN 1 AND 300),
    phone text NOT NULL CHECK (phone ~ '^254[17][0-9]{8}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_idx ON addresses (user_id, created_at DESC, id DESC);

-- One cart per customer: a line per product.
CREATE TABLE cart_items (
    user_id uuid NOT NULL REFERENCES users (id),
    product_id uuid NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, product_id)
);
