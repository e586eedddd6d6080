//! The whole route table, on one screen.

use axum::Router;
use axum::routing::{get, post};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::api::connections;
use super::{AppState, health, webhooks};

/// Every route payscope serves.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/api/v1/connections",
            get(connections::list).post(connections::create),
        )
        .route(
            "/api/v1/connections/{id}",
            get(connections::show)
                .patch(connections::rename)
                .delete(connections::remove),
        )
        .route(
            "/api/v1/connections/{id}/rotate-key",
            post(connections::rotate_key),
        )
        .route(
            "/api/v1/connections/{id}/replace-webhook",
            post(connections::replace_webhook),
        )
        .route(
            "/api/v1/connections/{id}/webhook-secret",
            post(connections::set_webhook_secret),
        )
        .route("/api/v1/connections/{id}/import", get(connections::import))
        .route(
            "/api/v1/connections/{id}/inventory",
            get(connections::inventory),
        )
        .route(
            "/api/v1/connections/{id}/health",
            get(super::api::health::show),
        )
        .merge(super::pages::routes())
        .merge(super::dashboards::routes())
        .merge(super::data_quality::routes())
        // One log line per request: method, path, status, latency. Bodies and headers are never logged.
        .layer(trace(Level::INFO))
        .merge(
            // Stripe may post a thousand events a second: their requests log at debug (the receiver logs every
            // refusal with its reason, and server errors log at error whatever the level).
            Router::new()
                .route(
                    "/webhooks/stripe/{connection_id}",
                    webhooks::receiver(&state),
                )
                .layer(trace(Level::DEBUG)),
        )
        .with_state(state)
}

/// The request log at `level`.
fn trace(
    level: Level,
) -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    DefaultMakeSpan,
    tower_http::trace::DefaultOnRequest,
    DefaultOnResponse,
> {
    TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(level))
        .on_response(DefaultOnResponse::new().level(level))
}
