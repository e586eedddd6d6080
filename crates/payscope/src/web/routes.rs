//! The whole route table, on one screen.

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

use super::{AppState, health};

/// Every route payscope serves.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
