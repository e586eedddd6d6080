//! The account limiter over real HTTP: budgets are shared by every client holding the same limiter, per-endpoint
//! budgets apply per path template, and requests are not serialised.

mod common;

use std::time::{Duration, Instant};

use common::{Reply, ScriptedStripe, init_test_log, test_key};
use futures::future::join_all;
use stripe::{AccountLimiter, Client, LimiterConfig, Mode, Params, RetryPolicy};

fn client(server: &ScriptedStripe, limiter: &AccountLimiter) -> Client {
    init_test_log();
    Client::builder(test_key())
        .base_url(&server.base_url)
        .limiter(limiter.clone())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
}

fn ok_replies(n: usize) -> Vec<Reply> {
    (0..n).map(|_| Reply::json(200, "{}")).collect()
}

#[tokio::test]
async fn two_clients_sharing_a_limiter_share_its_global_budget() {
    let server = ScriptedStripe::start(ok_replies(12)).await;
    let limiter = AccountLimiter::new(LimiterConfig::new(Mode::Test, 10, 25).unwrap());
    let (a, b) = (client(&server, &limiter), client(&server, &limiter));
    let started = Instant::now();
    let requests = (0..12).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        // Different endpoints, so only the global budget can hold them back.
        async move {
            client
                .get(&format!("/v1/charges/ch_{i}"), &Params::new())
                .await
                .map(|_| ())
        }
    });
    for result in join_all(requests).await {
        result.unwrap();
    }
    // 10 req/s with a burst of 1: the 12th request cannot start before 1.1 s. (A lower bound only.)
    assert!(
        started.elapsed() >= Duration::from_millis(1050),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.recorded().len(), 12);
}

#[tokio::test]
async fn one_endpoint_is_held_to_its_own_budget_whatever_the_ids() {
    let server = ScriptedStripe::start(ok_replies(6)).await;
    let limiter = AccountLimiter::new(LimiterConfig::new(Mode::Test, 25, 5).unwrap());
    let client = client(&server, &limiter);
    let started = Instant::now();
    let requests = (0..6).map(|i| {
        let client = client.clone();
        async move {
            client
                .get(&format!("/v1/tokens/tok_{i}"), &Params::new())
                .await
                .map(|_| ())
        }
    });
    for result in join_all(requests).await {
        result.unwrap();
    }
    // GET /v1/tokens/{id} at 5 req/s, burst 1: the 6th cannot start before 1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn concurrent_requests_are_in_flight_together() {
    let replies = (0..8)
        .map(|_| Reply::json(200, "{}").delayed(Duration::from_millis(300)))
        .collect();
    let server = ScriptedStripe::start(replies).await;
    let limiter = AccountLimiter::for_mode(Mode::Live);
    let client = client(&server, &limiter);
    let requests = (0..8).map(|i| {
        let client = client.clone();
        let path = if i % 2 == 0 {
            "/v1/charges"
        } else {
            "/v1/refunds"
        };
        async move { client.get(path, &Params::new()).await.map(|_| ()) }
    });
    for result in join_all(requests).await {
        result.unwrap();
    }
    // Each answer takes 300 ms while the limiter lets a request start every ~12 ms: without a lock around requests,
    // several overlap.
    assert!(
        server.max_in_flight() >= 3,
        "max in flight {}",
        server.max_in_flight()
    );
}
