//! `payscope bench connect`: how long adding a Data Connection makes the user wait, against the emulator with
//! injected latency — the key check (every permission probe plus the webhook-endpoint listing, run together) and the
//! whole add (check, endpoint creation, storing, queuing the import).

use std::time::{Duration, Instant};

use clap::Args;
use secrecy::SecretString;
use stripe_emulator::{Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

use crate::connections::{AddConnection, ConnectionService};
use crate::crypto::MasterKey;
use crate::store::{DEFAULT_ACCOUNT, Store};
use crate::stripe_access::StripeAccess;

/// Arguments of `payscope bench connect`.
#[derive(Debug, Args)]
pub struct ConnectBenchArgs {
    /// Latency the emulator adds to every request, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub latency_ms: u64,
    /// How many times to measure each step.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

/// Runs the benchmark and prints one line per measurement and a summary.
pub async fn run(args: ConnectBenchArgs) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let emulator = Emulator::new(EmulatorConfig {
        charges: 100,
        days: 7,
        latency_ms: args.latency_ms,
        ..EmulatorConfig::default()
    });
    let keys = emulator.accounts()[0].clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(stripe_emulator::serve(listener, emulator, shutdown.clone()));

    let dir = tempfile_dir()?;
    let store = Store::open(&format!("sqlite://{}/bench.db", dir.display())).await?;
    let account = store.ensure_account(DEFAULT_ACCOUNT).await?;
    let access = StripeAccess::new(&base, 100);
    let key = stripe::ApiKey::parse(&keys.test.restricted)?;

    let mut checks = Vec::new();
    for round in 0..args.rounds {
        // The same concurrent pair the add flow runs (a fresh limiter each round, as for a new connection).
        let client = access.client(key.clone(), &format!("bench-check-{round}"))?;
        let started = Instant::now();
        let (report, endpoints) =
            tokio::join!(client.probe_permissions(), client.list_webhook_endpoints());
        report?;
        endpoints?;
        checks.push(started.elapsed());
    }

    let service = ConnectionService::new(
        store.clone(),
        access,
        MasterKey::from_bytes(&[3; 32]),
        Some("https://payscope.bench".parse()?),
        false,
    );
    let mut adds = Vec::new();
    for round in 0..args.rounds {
        let started = Instant::now();
        service
            .add(
                &account.id,
                AddConnection {
                    name: format!("bench {round}"),
                    processor: "stripe".into(),
                    api_key: SecretString::from(keys.test.restricted.clone()),
                    replace_webhook: true,
                },
            )
            .await
            .map_err(|refusal| anyhow::anyhow!("{refusal}"))?;
        adds.push(started.elapsed());
    }
    shutdown.cancel();
    std::fs::remove_dir_all(&dir).ok();

    println!(
        "latency per stripe request: {} ms; {} rounds; one request after another, the check alone would take {} ms",
        args.latency_ms,
        args.rounds,
        20 * args.latency_ms
    );
    println!(
        "key check (19 permission probes + endpoint listing, concurrent): {}",
        summary(&checks)
    );
    println!(
        "whole add (check, replace old endpoint, create endpoint, store, queue import): {}",
        summary(&adds)
    );
    Ok(())
}

fn summary(samples: &[Duration]) -> String {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    format!(
        "median {:.0} ms, min {:.0} ms, max {:.0} ms",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1]
    )
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(crate::domain::ids::new_id("payscope-bench"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
