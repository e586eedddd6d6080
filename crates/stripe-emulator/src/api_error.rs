//! Stripe's error envelopes (`{"error": {...}}`) with the exact status codes, types, codes and texts real Stripe
//! sends, so clients exercise the same error handling against the emulator as against api.stripe.com.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Every way a `/v1/` request can fail; each variant renders as the envelope Stripe sends for that situation.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization` header (or an empty key).
    #[error(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
    )]
    NoKey,
    /// A key the emulator never issued.
    #[error("Invalid API Key provided: {masked}")]
    InvalidKey {
        /// The key with all but its prefix and last 4 characters replaced by `*`.
        masked: String,
    },
    /// A key that was expired through the control API (Stripe: a rolled or expired key).
    #[error("Expired API Key provided: {masked}")]
    ExpiredKey {
        /// The key as Stripe masks it in this message: prefix, `****…`, last 6 characters.
        masked: String,
    },
    /// A publishable key used on a server endpoint.
    #[error(
        "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
    )]
    PublishableKey,
    /// A restricted key without the permission the endpoint needs.
    #[error(
        "The provided key '{masked}' does not have the required permissions for this endpoint on account '{account}'. Having the 'rak_{permission}' permission would allow this request to continue."
    )]
    MissingPermission {
        /// The key masked as Stripe does in 403s: prefix, `***…`, last 6 characters.
        masked: String,
        /// The account the key belongs to (Stripe leaks it in this message).
        account: String,
        /// The permission that would allow the request, without the `rak_` prefix.
        permission: String,
    },
    /// A parameter the endpoint does not accept.
    #[error("Received unknown parameter: {0}")]
    UnknownParameter(String),
    /// A parameter that must be an integer but is not.
    #[error("Invalid integer: {value}")]
    InvalidInteger {
        /// The parameter name as sent.
        param: String,
        /// The value as sent.
        value: String,
    },
    /// An integer parameter outside its allowed range (e.g. `limit` above 100).
    #[error("{message}")]
    IntegerOutOfRange {
        /// The parameter name as sent.
        param: String,
        /// Stripe's sentence about the bound.
        message: String,
    },
    /// A required parameter is absent.
    #[error("Missing required param: {0}.")]
    MissingParam(String),
    /// Any other invalid request, with Stripe's text and optionally the parameter and code it concerns.
    #[error("{message}")]
    InvalidRequest {
        /// Stripe's message.
        message: String,
        /// The parameter at fault, if any.
        param: Option<String>,
        /// The machine-readable code, if Stripe sends one for this case.
        code: Option<&'static str>,
    },
    /// An id that does not exist (on retrieve: 404; as a list cursor: 400).
    #[error("No such {noun}: '{id}'")]
    NoSuchObject {
        /// Stripe's noun for the object type, e.g. `charge`, `webhook endpoint`.
        noun: &'static str,
        /// The id as sent.
        id: String,
        /// `id` on retrieve, the cursor name when a list cursor is unknown.
        param: String,
    },
    /// A path the API does not have.
    #[error(
        "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
    )]
    UnrecognizedUrl {
        /// The HTTP method.
        method: String,
        /// The request path without the query.
        path: String,
    },
    /// The per-account or per-endpoint request rate was exceeded.
    #[error("{}", rate_limit_message(*livemode))]
    RateLimited {
        /// Live mode (different text from test mode).
        livemode: bool,
        /// `Stripe-Rate-Limited-Reason` header value: `global-rate` or `endpoint-rate`.
        reason: &'static str,
    },
    /// An injected object-lock contention fault; SDKs retry it because of `Stripe-Should-Retry: true`.
    #[error(
        "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate. See https://stripe.com/docs/rate-limits for more details."
    )]
    LockTimeout,
    /// An `Idempotency-Key` reused with different parameters.
    #[error(
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{0}' if you meant to execute a different request."
    )]
    IdempotencyMismatch(String),
    /// An injected server fault.
    #[error("An unknown error occurred")]
    Internal,
}

fn rate_limit_message(livemode: bool) -> &'static str {
    if livemode {
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
    } else {
        "Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
    }
}

impl ApiError {
    /// The HTTP status Stripe uses for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NoKey
            | ApiError::InvalidKey { .. }
            | ApiError::ExpiredKey { .. }
            | ApiError::PublishableKey => StatusCode::UNAUTHORIZED,
            ApiError::MissingPermission { .. } => StatusCode::FORBIDDEN,
            ApiError::NoSuchObject { param, .. } if param == "id" => StatusCode::NOT_FOUND,
            ApiError::UnrecognizedUrl { .. } => StatusCode::NOT_FOUND,
            ApiError::RateLimited { .. } | ApiError::LockTimeout => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Stripe's `error.code`, absent for authentication, permission and unknown-URL errors.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ApiError::ExpiredKey { .. } => Some("api_key_expired"),
            ApiError::UnknownParameter(_) => Some("parameter_unknown"),
            ApiError::InvalidInteger { .. } | ApiError::IntegerOutOfRange { .. } => {
                Some("parameter_invalid_integer")
            }
            ApiError::MissingParam(_) => Some("parameter_missing"),
            ApiError::InvalidRequest { code, .. } => *code,
            ApiError::NoSuchObject { .. } => Some("resource_missing"),
            ApiError::RateLimited { .. } => Some("rate_limit"),
            ApiError::LockTimeout => Some("lock_timeout"),
            _ => None,
        }
    }

    fn param(&self) -> Option<&str> {
        match self {
            ApiError::UnknownParameter(p) | ApiError::MissingParam(p) => Some(p),
            ApiError::InvalidInteger { param, .. } | ApiError::IntegerOutOfRange { param, .. } => {
                Some(param)
            }
            ApiError::InvalidRequest { param, .. } => param.as_deref(),
            ApiError::NoSuchObject { param, .. } => Some(param),
            _ => None,
        }
    }

    fn error_type(&self) -> &'static str {
        match self {
            ApiError::Internal => "api_error",
            ApiError::IdempotencyMismatch(_) => "idempotency_error",
            _ => "invalid_request_error",
        }
    }

    /// The `{"error": {...}}` body; only the fields Stripe sets for this case are present.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        if let Some(code) = self.code() {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        error.insert("message".into(), json!(self.to_string()));
        if let Some(param) = self.param() {
            error.insert("param".into(), json!(param));
        }
        error.insert("type".into(), json!(self.error_type()));
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::RateLimited { reason, .. } => {
                headers.insert(
                    "Stripe-Rate-Limited-Reason",
                    HeaderValue::from_static(reason),
                );
            }
            ApiError::LockTimeout => {
                headers.insert("Stripe-Should-Retry", HeaderValue::from_static("true"));
            }
            _ => {}
        }
        response
    }
}

/// Masks a key as in Stripe's "Invalid API Key provided" message: prefix kept, middle as `*`, last 4 shown.
pub fn mask_invalid(key: &str) -> String {
    let prefix = key_prefix(key);
    let rest = &key[prefix.len()..];
    let shown = rest.len().saturating_sub(4);
    format!("{prefix}{}{}", "*".repeat(shown), &rest[shown..])
}

/// Masks a key as in Stripe's expired-key message: prefix, `****…`, last 6 characters.
pub fn mask_expired(key: &str) -> String {
    format!("{}****…{}", key_prefix(key), last_chars(key, 6))
}

/// Masks a key as in Stripe's 403 message: prefix, `***…`, last 6 characters.
pub fn mask_forbidden(key: &str) -> String {
    format!("{}***…{}", key_prefix(key), last_chars(key, 6))
}

/// `sk_test_`, `rk_live_`, … or, for a key of unknown shape, its first three characters.
fn key_prefix(key: &str) -> &str {
    for prefix in [
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_",
    ] {
        if key.starts_with(prefix) {
            return &key[..prefix.len()];
        }
    }
    let end = key.char_indices().nth(3).map_or(key.len(), |(i, _)| i);
    &key[..end]
}

fn last_chars(key: &str, n: usize) -> &str {
    let start = key.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
    &key[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_follow_stripes_three_styles() {
        assert_eq!(mask_invalid("sk_test_abcdefghAso0"), "sk_test_********Aso0");
        assert_eq!(
            mask_expired("rk_test_abcdefgh6i1euf"),
            "rk_test_****…6i1euf"
        );
        assert_eq!(
            mask_forbidden("rk_test_abcdefghqs8Kgd"),
            "rk_test_***…qs8Kgd"
        );
        assert_eq!(mask_invalid("xyz"), "xyz");
    }

    #[test]
    fn permission_error_has_no_code_and_names_the_permission() {
        let error = ApiError::MissingPermission {
            masked: "rk_test_***…qs8Kgd".into(),
            account: "acct_1".into(),
            permission: "charge_read".into(),
        };
        assert_eq!(error.status(), StatusCode::FORBIDDEN);
        let body = error.body();
        assert!(body["error"].get("code").is_none());
        assert!(body["error"]["message"].as_str().unwrap().ends_with(
            "Having the 'rak_charge_read' permission would allow this request to continue."
        ));
    }
}
