//! Requests over real HTTP against a scripted Stripe: headers, form bodies, idempotency, request ids, error kinds,
//! retry decisions, timeouts and network failures.

mod common;

use std::time::Duration;

use common::{Reply, ScriptedStripe, init_test_log, test_key};
use stripe::{Client, Error, Params, RateLimitReason, RetryPolicy};

/// Fast retries so real-clock tests stay quick; backoff timing itself is tested on a paused clock in backoff.rs.
fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        max_retry_after: Duration::from_secs(60),
    }
}

fn client(server: &ScriptedStripe) -> Client {
    init_test_log();
    Client::builder(test_key())
        .base_url(&server.base_url)
        .retry_policy(quick_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_request_carries_bearer_auth_and_the_pinned_stripe_version() {
    let server = ScriptedStripe::start(vec![Reply::json(200, r#"{"object":"balance"}"#)]).await;
    let response = client(&server)
        .get("/v1/balance", &Params::new())
        .await
        .unwrap();
    assert_eq!(response.request_id.as_deref(), Some("req_scripted1"));
    let sent = &server.recorded()[0];
    assert_eq!(sent.method, "GET");
    assert_eq!(sent.path, "/v1/balance");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer rk_test_51ScriptedKey0000abcd")
    );
    assert_eq!(sent.header("stripe-version"), Some("2026-07-29.dahlia"));
    assert_eq!(
        sent.header("idempotency-key"),
        None,
        "GETs need no idempotency key"
    );
}

#[tokio::test]
async fn post_bodies_are_form_encoded_with_brackets_and_carry_an_idempotency_key() {
    let server = ScriptedStripe::start(vec![Reply::json(200, r#"{"id":"we_1"}"#)]).await;
    let form = Params::new()
        .text("url", "https://example.com/hook?a=1&b=2")
        .list("enabled_events", ["charge.succeeded", "charge.failed"])
        .map("metadata", [("tenant", "7")]);
    client(&server)
        .post("/v1/webhook_endpoints", &form)
        .await
        .unwrap();
    let sent = &server.recorded()[0];
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let key = sent.header("idempotency-key").unwrap();
    assert!(key.starts_with("payscope-") && key.len() <= 255, "{key}");
    let pairs = sent.pairs(true);
    let expected = [
        ("url", "https://example.com/hook?a=1&b=2"),
        ("enabled_events[]", "charge.succeeded"),
        ("enabled_events[]", "charge.failed"),
        ("metadata[tenant]", "7"),
    ];
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(pairs, expected);
    assert_eq!(sent.query, None);
}

#[tokio::test]
async fn two_posts_get_different_idempotency_keys() {
    let server = ScriptedStripe::start(vec![Reply::json(200, "{}"), Reply::json(200, "{}")]).await;
    let client = client(&server);
    client
        .post("/v1/webhook_endpoints", &Params::new())
        .await
        .unwrap();
    client
        .post("/v1/webhook_endpoints", &Params::new())
        .await
        .unwrap();
    let sent = server.recorded();
    assert_ne!(
        sent[0].header("idempotency-key"),
        sent[1].header("idempotency-key")
    );
}

#[tokio::test]
async fn the_idempotency_key_stays_the_same_across_retries() {
    let server = ScriptedStripe::start(vec![
        Reply::error(
            429,
            Some("rate_limit"),
            "Testmode request rate limit exceeded",
        ),
        Reply::error(503, None, "unavailable"),
        Reply::json(200, r#"{"id":"we_1"}"#),
    ])
    .await;
    let response = client(&server)
        .post_idempotent(
            "/v1/webhook_endpoints",
            &Params::new().text("url", "https://x"),
            "payscope-conn-42",
        )
        .await
        .unwrap();
    assert_eq!(response.request_id.as_deref(), Some("req_scripted3"));
    let sent = server.recorded();
    assert_eq!(sent.len(), 3);
    for request in &sent {
        assert_eq!(request.header("idempotency-key"), Some("payscope-conn-42"));
        assert_eq!(request.body, "url=https%3A%2F%2Fx");
    }
}

#[tokio::test]
async fn a_403_becomes_a_permission_error_naming_the_permission_and_the_account() {
    let message = "The provided key 'rk_test_***…0abcd' does not have the required permissions for this endpoint on account 'acct_1Scripted'. Having the 'rak_charge_read' permission would allow this request to continue.";
    let server = ScriptedStripe::start(vec![Reply::error(403, None, message)]).await;
    let error = client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap_err();
    match &error {
        Error::Permission {
            permission,
            account_id,
            request_id,
            ..
        } => {
            assert_eq!(permission.as_deref(), Some("rak_charge_read"));
            assert_eq!(account_id.as_deref(), Some("acct_1Scripted"));
            assert_eq!(request_id.as_deref(), Some("req_scripted1"));
        }
        other => panic!("expected a permission error, got {other:?}"),
    }
    assert_eq!(server.recorded().len(), 1, "403 is never retried");
}

#[tokio::test]
async fn an_expired_key_is_told_apart_from_an_unknown_key() {
    let server = ScriptedStripe::start(vec![
        Reply::error(
            401,
            Some("api_key_expired"),
            "Expired API Key provided: rk_test_****…abcd",
        ),
        Reply::error(401, None, "Invalid API Key provided: rk_test_****abcd"),
    ])
    .await;
    let client = client(&server);
    let expired = client.get("/v1/balance", &Params::new()).await.unwrap_err();
    assert!(
        matches!(expired, Error::Authentication { expired: true, .. }),
        "{expired:?}"
    );
    let unknown = client.get("/v1/balance", &Params::new()).await.unwrap_err();
    assert!(
        matches!(unknown, Error::Authentication { expired: false, .. }),
        "{unknown:?}"
    );
    assert_eq!(server.recorded().len(), 2, "401 is never retried");
}

#[tokio::test]
async fn client_errors_are_returned_at_once_with_code_and_param() {
    for status in [400, 401, 403, 404] {
        let server = ScriptedStripe::start(vec![
            Reply::error(
                status,
                Some("parameter_missing"),
                "Missing required param: url.",
            )
            .header("stripe-should-retry", "maybe"),
        ])
        .await;
        let error = client(&server)
            .post("/v1/webhook_endpoints", &Params::new())
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(
            server.recorded().len(),
            1,
            "http {status} must not be retried"
        );
    }
    let server = ScriptedStripe::start(vec![Reply::json(
        400,
        r#"{"error":{"type":"invalid_request_error","code":"parameter_missing","param":"url","message":"Missing required param: url."}}"#,
    )])
    .await;
    let error = client(&server)
        .post("/v1/webhook_endpoints", &Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidRequest { status: 400, code: Some(c), param: Some(p), .. } if c == "parameter_missing" && p == "url"),
        "{error:?}"
    );
}

#[tokio::test]
async fn stripe_should_retry_false_stops_retries_even_on_a_503() {
    let server = ScriptedStripe::start(vec![
        Reply::error(503, None, "unavailable").header("stripe-should-retry", "false"),
        Reply::json(200, "{}"),
    ])
    .await;
    let error = client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Api { status: 503, .. }), "{error:?}");
    assert_eq!(server.recorded().len(), 1);
}

#[tokio::test]
async fn stripe_should_retry_true_retries_even_a_400() {
    let server = ScriptedStripe::start(vec![
        Reply::error(400, None, "try again").header("stripe-should-retry", "true"),
        Reply::json(200, "{}"),
    ])
    .await;
    client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap();
    assert_eq!(server.recorded().len(), 2);
}

#[tokio::test]
async fn a_lock_timeout_is_retried_and_reported_as_such_when_it_persists() {
    let lock = || {
        Reply::error(
            429,
            Some("lock_timeout"),
            "This object cannot be accessed right now",
        )
        .header("stripe-should-retry", "true")
    };
    let server = ScriptedStripe::start(vec![lock(), lock(), lock()]).await;
    let error = client(&server)
        .get("/v1/charges/ch_1", &Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::RateLimited {
                lock_timeout: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.request_id(),
        Some("req_scripted3"),
        "the last attempt's request id"
    );
    assert_eq!(server.recorded().len(), 3, "bounded by max_attempts");
}

#[tokio::test]
async fn a_rate_limit_carries_stripes_reason() {
    let limited = || {
        Reply::error(429, Some("rate_limit"), "Request rate limit exceeded")
            .header("stripe-rate-limited-reason", "endpoint-rate")
    };
    let server = ScriptedStripe::start(vec![limited(), limited(), limited()]).await;
    let error = client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::RateLimited {
                reason: Some(RateLimitReason::EndpointRate),
                lock_timeout: false,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_becomes_a_timeout_error() {
    let server =
        ScriptedStripe::start(vec![Reply::json(200, "{}").delayed(Duration::from_secs(5))]).await;
    let client = Client::builder(test_key())
        .base_url(&server.base_url)
        .request_timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let error = client.get("/v1/charges", &Params::new()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error_after_the_retries() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(test_key())
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let error = client.get("/v1/charges", &Params::new()).await.unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error:?}");
    assert!(error.to_string().contains("could not reach stripe"));
}

#[tokio::test]
async fn a_non_json_error_body_still_becomes_a_readable_error() {
    let server = ScriptedStripe::start(vec![Reply::json(502, "<html>Bad Gateway</html>")]).await;
    let client = Client::builder(test_key())
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let error = client.get("/v1/charges", &Params::new()).await.unwrap_err();
    assert!(matches!(error, Error::Api { status: 502, .. }));
    assert!(error.to_string().contains("Bad Gateway"), "{error}");
}

#[tokio::test]
async fn a_base_url_without_a_scheme_is_refused() {
    let error = Client::builder(test_key())
        .base_url("api.stripe.com")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("http://"), "{error}");
}

#[tokio::test]
async fn the_client_debug_output_never_contains_the_key() {
    let server = ScriptedStripe::start(vec![]).await;
    let text = format!("{:?}", client(&server));
    assert!(text.contains("rk_test_…abcd"), "{text}");
    assert!(!text.contains("51ScriptedKey"), "{text}");
}
