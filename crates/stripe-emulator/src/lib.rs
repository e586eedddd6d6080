//! A stateful, faithful stand-in for api.stripe.com: generated account history, Stripe's list/retrieve/error
//! semantics, webhook endpoints, events and signed deliveries, rate limits and faults, and a control API.
//!
//! In-process use (tests, demo):
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use stripe_emulator::{Emulator, EmulatorConfig, serve};
//! let emulator = Emulator::new(EmulatorConfig::default());
//! let keys = &emulator.accounts()[0];
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! println!("{} at http://{}", keys.id, listener.local_addr()?);
//! serve(listener, emulator, shutdown).await
//! # }
//! ```

#![recursion_limit = "256"] // reason: the ledger renders Stripe objects with large `json!` literals

mod account;
mod api;
mod api_error;
mod config;
mod control;
pub mod data;
mod delivery;
mod emulator;
mod event_log;
mod gate;
mod idempotency;
mod keys;
mod pagination;
mod params;
mod rate_limit;
mod routes;
mod settings;
mod signature;
pub mod versions;
mod webhook_endpoint;

pub use account::{AccountKeys, ModeKeys};
pub use config::{DEFAULT_API_VERSION, EmulatorConfig};
pub use emulator::{Emulator, serve};
pub use keys::GUIDE_PERMISSIONS;
pub use settings::{DeliverySettings, Settings};
pub use signature::v1_signature;
