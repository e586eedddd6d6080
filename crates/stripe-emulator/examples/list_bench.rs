//! Benchmark of the scale target: a 1,000,000-charge account served over HTTP with no injected latency;
//! measures generation time, peak memory and the latency of `limit=100` list pages (first pages, deep
//! `starting_after` walks, `ending_before`, `created` windows, expand). Run in release:
//! `cargo run --release -p stripe-emulator --example list_bench -- [charges]`.

use std::time::{Duration, Instant};

use stripe_emulator::{Emulator, EmulatorConfig, serve};
use tokio_util::sync::CancellationToken;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<44} n={:<4} p50={:>6.2} ms  p95={:>6.2} ms  max={:>6.2} ms",
        samples.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

/// Time until the whole response body arrived (the client's JSON parsing is not the server's cost, so it is
/// done after the clock stops).
async fn timed_get(http: &reqwest::Client, url: &str, key: &str) -> (Duration, serde_json::Value) {
    let started = Instant::now();
    let response = http.get(url).bearer_auth(key).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let bytes = response.bytes().await.unwrap();
    let elapsed = started.elapsed();
    (elapsed, serde_json::from_slice(&bytes).unwrap())
}

fn main() {
    let charges: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("charges must be a number"));
    let config = EmulatorConfig {
        charges,
        days: 400,
        rate_limits: false,
        ..EmulatorConfig::default()
    };
    let started = Instant::now();
    let emulator = Emulator::new(config);
    println!(
        "generated {charges} charges (400 days) in {:.1} s; peak RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let keys = emulator.accounts().remove(0);
        let key = keys.test.secret.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, emulator.clone(), shutdown.clone()));
        let http = reqwest::Client::new();

        // Warm up the connection.
        timed_get(&http, &format!("{base}/v1/charges?limit=1"), &key).await;

        let mut first = Vec::new();
        for _ in 0..50 {
            first.push(
                timed_get(&http, &format!("{base}/v1/charges?limit=100"), &key)
                    .await
                    .0,
            );
        }
        report("GET /v1/charges?limit=100 (first page)", first);

        let mut walk = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..300 {
            let url = match &cursor {
                Some(after) => format!("{base}/v1/charges?limit=100&starting_after={after}"),
                None => format!("{base}/v1/charges?limit=100"),
            };
            let (elapsed, body) = timed_get(&http, &url, &key).await;
            walk.push(elapsed);
            cursor = body["data"]
                .as_array()
                .unwrap()
                .last()
                .map(|c| c["id"].as_str().unwrap().to_string());
        }
        report("starting_after walk (300 pages)", walk);

        let mut back = Vec::new();
        let oldest = cursor.unwrap();
        let mut before = oldest;
        for _ in 0..100 {
            let url = format!("{base}/v1/charges?limit=100&ending_before={before}");
            let (elapsed, body) = timed_get(&http, &url, &key).await;
            back.push(elapsed);
            before = body["data"][0]["id"].as_str().unwrap().to_string();
        }
        report("ending_before walk (100 pages)", back);

        let (_, newest) = timed_get(&http, &format!("{base}/v1/charges?limit=1"), &key).await;
        let now = newest["data"][0]["created"].as_i64().unwrap();
        let mut windows = Vec::new();
        for day in 0..100 {
            let hi = now - day * 3 * 86_400;
            let url = format!(
                "{base}/v1/charges?limit=100&created[gte]={}&created[lt]={hi}",
                hi - 86_400
            );
            windows.push(timed_get(&http, &url, &key).await.0);
        }
        report("created[gte]/[lt] one-day windows (100)", windows);

        let mut expanded = Vec::new();
        for _ in 0..50 {
            let url = format!("{base}/v1/charges?limit=100&expand[]=data.balance_transaction");
            expanded.push(timed_get(&http, &url, &key).await.0);
        }
        report("charges + expand data.balance_transaction", expanded);

        for path in [
            "/v1/balance_transactions",
            "/v1/payment_intents",
            "/v1/refunds",
            "/v1/disputes",
        ] {
            let mut samples = Vec::new();
            for _ in 0..30 {
                samples.push(
                    timed_get(&http, &format!("{base}{path}?limit=100"), &key)
                        .await
                        .0,
                );
            }
            report(&format!("GET {path}?limit=100"), samples);
        }

        let mut events = Vec::new();
        for _ in 0..30 {
            events.push(
                timed_get(&http, &format!("{base}/v1/events?limit=100"), &key)
                    .await
                    .0,
            );
        }
        report("GET /v1/events?limit=100", events);

        let started = Instant::now();
        timed_get(&http, &format!("{base}/v1/balance"), &key).await;
        println!(
            "GET /v1/balance (first, uncached)             {:.0} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        println!("peak RSS {:.0} MiB", peak_rss_mib().unwrap_or(f64::NAN));
        shutdown.cancel();
    });
}
