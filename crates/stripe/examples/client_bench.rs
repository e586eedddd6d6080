//! Benchmarks of the client against the emulator with Stripe-like latency: how long the permission probe takes, and
//! how close concurrent list requests for one account get to the limiter's budget (and whether any earn a 429).
//!
//! Run: `cargo run --release -p stripe --example client_bench -- [latency_ms] [seconds] [share_percent]`
//! (defaults 300 ms, 10 s, 80%).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use stripe::{AccountLimiter, ApiKey, Client, Error, LimiterConfig, Params, RetryPolicy};
use stripe_emulator::{Emulator, EmulatorConfig, serve};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let latency_ms = args.first().copied().unwrap_or(300);
    let seconds = args.get(1).copied().unwrap_or(10);
    let share = args.get(2).copied().unwrap_or(80) as u32;

    let config = EmulatorConfig {
        latency_ms,
        rate_limits: true,
        ..EmulatorConfig::default()
    };
    let emulator = tokio::task::spawn_blocking(move || Emulator::new(config))
        .await
        .unwrap();
    let keys = emulator.accounts().remove(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(serve(listener, emulator, shutdown.clone()));

    // 1. The permission probe with the guide's key (test mode).
    let probe_client = Client::builder(ApiKey::parse(&keys.test.restricted).unwrap())
        .base_url(&base)
        .build()
        .unwrap();
    for run in 1..=3 {
        let started = Instant::now();
        let report = probe_client.probe_permissions().await.unwrap();
        println!(
            "probe run {run}: {:?} for {} checks, {} missing (latency {latency_ms} ms)",
            started.elapsed(),
            report.checks.len(),
            report.missing().len()
        );
    }

    // 2. Throughput: 12 workers on each of 6 list endpoints, one shared live-mode limiter, no retries.
    let key = ApiKey::parse(&keys.live.restricted).unwrap();
    let limiter = AccountLimiter::new(LimiterConfig::with_share(key.mode(), share).unwrap());
    let budget = limiter.config();
    let client = Client::builder(key)
        .base_url(&base)
        .limiter(limiter)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let ok = Arc::new(AtomicU64::new(0));
    let limited = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let endpoints = [
        "/v1/charges",
        "/v1/refunds",
        "/v1/payment_intents",
        "/v1/balance_transactions",
        "/v1/events",
        "/v1/disputes",
    ];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for path in endpoints {
        for _ in 0..12 {
            let (client, ok, limited, failed) =
                (client.clone(), ok.clone(), limited.clone(), failed.clone());
            workers.push(tokio::spawn(async move {
                let params = Params::new().text("limit", 100);
                while Instant::now() < deadline {
                    match client.get(path, &params).await {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(Error::RateLimited { .. }) => limited.fetch_add(1, Ordering::Relaxed),
                        Err(error) => {
                            eprintln!("{error}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            }));
        }
    }
    let started = Instant::now();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "throughput: {:.1} req/s ok over {elapsed:.1} s (budget {} req/s global, {} per endpoint; {} endpoints × 12 workers; latency {latency_ms} ms); 429s: {}, other errors: {}",
        ok as f64 / elapsed,
        budget.global_per_second,
        budget.endpoint_per_second,
        endpoints.len(),
        limited.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    shutdown.cancel();
}
