//! payscope's thin Stripe API client: keys, requests, errors, retries, rate limiting, webhook signatures.
