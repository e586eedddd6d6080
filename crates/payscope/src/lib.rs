//! payscope: self-hosted payments-data platform.
