// Refunds: customer refund requests, admin decisions and M-Pesa B2C payouts (SPEC section 8).
// Built by the refunds issue; it implements the refund-recording protocol Orders declares.
