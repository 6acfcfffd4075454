// Orders: checkout, master orders and sub-orders, and the sub-order state machine
// (`SubOrderLifecycle`), which Hubs, Payments and Refunds call and nobody else writes.
// Built by the checkout issue; this file marks the module's place in the map (ARCHITECTURE.md).
