//! Handlers of Stripe's `/v1/` API. Each checks, in order: the key's permission, the parameters, then looks the
//! resource up (our documented order for Stripe's unverified one), and answers with Stripe's JSON.

pub mod events;
pub mod objects;
pub mod webhook_endpoints;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api_error::ApiError;

/// A JSON response with Stripe's content type.
pub fn json_response(body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).expect("JSON values always serialize");
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Stripe's list envelope.
pub fn list_envelope(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// The fallback for paths and methods the API does not have: Stripe's "Unrecognized request URL" 404 (after
/// authentication, which the gate already did).
pub async fn unrecognized(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::UnrecognizedUrl {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}
