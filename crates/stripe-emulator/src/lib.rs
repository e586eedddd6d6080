//! A stateful, faithful stand-in for api.stripe.com: generated account history, Stripe's list/retrieve/error
//! semantics, webhook endpoints, events and signed deliveries, rate limits and faults, and a control API.

pub mod data;
