//! Generated Stripe account history (the "ledger"): compact records, deterministic generation from a seed, and
//! rendering to Stripe-shaped JSON. This is the contract between the data and the HTTP server.
