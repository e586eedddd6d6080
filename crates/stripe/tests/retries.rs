//! Retries over real HTTP: Retry-After obeyed, attempts bounded. Retry logging is tested in retry_log.rs; the
//! backoff schedule itself on a paused tokio clock beside the retry loop in src/retry.rs, because a paused clock
//! auto-advances while real sockets are pending and so cannot time real HTTP exchanges reliably.

mod common;

use std::time::Duration;

use common::{Reply, ScriptedStripe, init_test_log, test_key};
use stripe::{Client, Error, Params, RetryPolicy};
use tokio::time::Instant;

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(60),
    }
}

fn client(server: &ScriptedStripe) -> Client {
    init_test_log();
    Client::builder(test_key())
        .base_url(&server.base_url)
        .retry_policy(policy())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_retry_after_header_is_obeyed_over_http() {
    let server = ScriptedStripe::start(vec![
        Reply::error(429, Some("rate_limit"), "slow down").header("retry-after", "1"),
        Reply::json(200, "{}"),
    ])
    .await;
    let started = Instant::now();
    client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap();
    let sent = server.recorded();
    assert_eq!(sent.len(), 2);
    // Only a lower bound: the jittered backoff (at most 10 ms here) would have retried far sooner.
    assert!(sent[1].at - sent[0].at >= Duration::from_secs(1));
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn retries_stop_after_max_attempts_and_return_the_last_error() {
    let server = ScriptedStripe::start(vec![
        Reply::error(503, None, "unavailable"),
        Reply::error(500, None, "boom"),
        Reply::error(502, None, "bad gateway"),
        Reply::error(504, None, "timeout"),
        Reply::json(200, "{}"),
    ])
    .await;
    let error = client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Api { status: 504, .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("req_scripted4"));
    assert_eq!(server.recorded().len(), 4);
}
