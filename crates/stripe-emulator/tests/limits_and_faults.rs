//! Stripe's rate limits (429 bodies and headers) and the injected faults: 500s, lock timeouts, connection resets
//! and latency, each switched on and off through the settings call.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use stripe_emulator::EmulatorConfig;
use support::{TestEmulator, small_config};

fn rate_limited_config() -> EmulatorConfig {
    EmulatorConfig {
        rate_limits: true,
        ..small_config()
    }
}

#[tokio::test]
async fn test_mode_allows_25_requests_per_second_then_answers_stripes_429() {
    let emulator = TestEmulator::start(rate_limited_config()).await;
    let key = emulator.keys.test.secret.clone();
    // 150 requests sent at once: unless they took over 6 seconds, more than 25 share one second.
    let replies =
        futures::future::join_all((0..150).map(|_| emulator.get("/v1/charges?limit=1", &key)))
            .await;
    let limited: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(!limited.is_empty(), "no request was rate limited");
    assert!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count()
            >= 25
    );
    let reply = limited[0];
    assert_eq!(reply.body["error"]["code"], "rate_limit");
    assert_eq!(reply.body["error"]["type"], "invalid_request_error");
    assert_eq!(
        reply.message(),
        "Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
    );
    assert_eq!(
        reply.body["error"]["doc_url"],
        "https://stripe.com/docs/error-codes/rate-limit"
    );
    assert_eq!(reply.headers["stripe-rate-limited-reason"], "global-rate");
    assert!(reply.headers.get("retry-after").is_none());
    assert!(reply.headers.get("stripe-should-retry").is_none());
    assert!(
        reply.headers["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
}

#[tokio::test]
async fn live_mode_limits_each_endpoint_to_25_per_second() {
    let emulator = TestEmulator::start(rate_limited_config()).await;
    let key = emulator.keys.live.secret.clone();
    let replies =
        futures::future::join_all((0..150).map(|_| emulator.get("/v1/charges?limit=1", &key)))
            .await;
    // Past 100 in one second the account-wide limit answers instead; the endpoint limit answers first.
    let endpoint_limited: Vec<_> = replies
        .iter()
        .filter(|r| {
            r.status == StatusCode::TOO_MANY_REQUESTS
                && r.headers["stripe-rate-limited-reason"] == "endpoint-rate"
        })
        .collect();
    assert!(!endpoint_limited.is_empty());
    assert_eq!(
        endpoint_limited[0].message(),
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
    );
}

#[tokio::test]
async fn switching_rate_limits_off_lets_every_request_through() {
    let emulator = TestEmulator::start(rate_limited_config()).await;
    emulator.settings(json!({"rate_limits": false})).await;
    let key = emulator.keys.test.secret.clone();
    let replies =
        futures::future::join_all((0..150).map(|_| emulator.get("/v1/charges?limit=1", &key)))
            .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
}

#[tokio::test]
async fn injected_faults_give_500s_lock_timeouts_and_resets() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();

    emulator.settings(json!({"error_rate": 1.0})).await;
    let reply = emulator.get("/v1/charges", &key).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body["error"]["type"], "api_error");

    emulator
        .settings(json!({"error_rate": 0.0, "lock_timeout_rate": 1.0}))
        .await;
    let reply = emulator.get("/v1/charges", &key).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.body["error"]["code"], "lock_timeout");
    assert_eq!(reply.headers["stripe-should-retry"], "true");

    emulator
        .settings(json!({"lock_timeout_rate": 0.0, "reset_rate": 1.0}))
        .await;
    let result = async {
        let response = emulator
            .http
            .get(format!("{}/v1/charges", emulator.base))
            .bearer_auth(&key)
            .send()
            .await?;
        response.bytes().await
    }
    .await;
    assert!(
        result.is_err(),
        "a reset connection must fail the request: {result:?}"
    );

    emulator.settings(json!({"reset_rate": 0.0})).await;
    assert_eq!(
        emulator.get("/v1/charges", &key).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn injected_latency_delays_api_responses_by_at_least_its_setting() {
    let emulator = TestEmulator::start(small_config()).await;
    emulator
        .settings(json!({"latency_ms": 300, "latency_jitter_ms": 50}))
        .await;
    let started = Instant::now();
    let reply = emulator
        .get("/v1/charges?limit=1", &emulator.keys.test.secret)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let emulator = TestEmulator::start(small_config()).await;
    let before = emulator.control_get("/settings").await;
    let (status, body) = emulator
        .control_post("/settings", json!({"error_rate": 3}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("error_rate")
    );
    let (status, _) = emulator
        .control_post("/settings", json!({"no_such_setting": 1}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(emulator.control_get("/settings").await, before);
}

#[tokio::test]
async fn retrieving_different_ids_counts_against_one_endpoint_limit() {
    let emulator = TestEmulator::start(rate_limited_config()).await;
    let key = emulator.keys.live.secret.clone();
    let page = emulator.get("/v1/charges?limit=90", &key).await;
    let ids: Vec<String> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 90);
    let paths: Vec<String> = ids.iter().map(|id| format!("/v1/charges/{id}")).collect();
    // A low endpoint limit makes the outcome independent of how fast this machine sends the 90 requests.
    emulator
        .settings(json!({"endpoint_requests_per_second": 5}))
        .await;
    let replies =
        futures::future::join_all(paths.iter().map(|path| emulator.get(path, &key))).await;
    assert!(
        replies
            .iter()
            .any(|r| r.status == StatusCode::TOO_MANY_REQUESTS
                && r.headers["stripe-rate-limited-reason"] == "endpoint-rate"),
        "GET /v1/charges/{{id}} is one endpoint whatever the id"
    );
}
