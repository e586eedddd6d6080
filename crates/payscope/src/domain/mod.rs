//! Pure types and rules of payscope: no IO, no SQL, no HTTP. Everything else speaks in these terms.

pub mod analytics;
pub mod connection;
pub mod ids;
pub mod normalize;
pub mod payment;
pub mod stripe_setup;
