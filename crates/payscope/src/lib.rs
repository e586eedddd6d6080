//! payscope: a self-hosted payments-data platform. Imports a merchant's Stripe history with a restricted key,
//! keeps it current through signed webhooks and the Events API, and serves payment-performance analytics.
//!
//! Module map (details in ARCHITECTURE.md): `domain` pure types and rules; `store` all SQL; `crypto` secrets at
//! rest; `web` HTTP; `background` the runtime of the sync workers; `cli` subcommands; `config` settings.

pub mod background;
pub mod cli;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod domain;
pub mod store;
pub mod stripe_access;
pub mod sync;
pub mod web;
