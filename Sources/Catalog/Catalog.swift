// Catalog: categories, products and stock, carts and delivery addresses (SPEC section 4).
