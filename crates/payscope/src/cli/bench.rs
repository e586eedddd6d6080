//! `payscope bench import`: the import benchmark of issue 6. Starts the Stripe emulator in-process with live-mode
//! rate limits and injected latency, imports its history with payscope's parallel import (limiter at Stripe's full
//! limits), then lists the same data with a plain sequential paginator, and reports objects/s, requests/s, 429s,
//! the ratio to the rate-limit ceiling, the speed-up and the peak RSS.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde::Serialize;
use stripe_emulator::{Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

use crate::crypto::MasterKey;
use crate::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use crate::domain::ids::new_id;
use crate::store::{DEFAULT_ACCOUNT, RawObject, Store, unix_now};
use crate::stripe_access::StripeAccess;
use crate::sync::resources::RESOURCES;
use crate::sync::{ImportConfig, Importer, JobOutcome, job_progress, queue_import};

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The historical import against the emulator: parallel import versus a sequential paginator.
    Import(ImportBenchArgs),
    /// Adding a data connection: the key check and the whole add, with injected latency.
    Connect(super::bench_connect::ConnectBenchArgs),
    /// Server-side rendering time of every dashboard page over a million generated payments in SQLite.
    Dashboards(super::bench_dashboards::DashboardsBenchArgs),
    /// Signed webhook ingest on loopback: events/s, acknowledgement p50/p99, delay until queryable.
    Webhooks(super::bench_webhooks::WebhooksBenchArgs),
}

/// Arguments of `payscope bench import`.
#[derive(Debug, Args)]
pub struct ImportBenchArgs {
    /// Charges in the generated history (with their intents, balance transactions, refunds and disputes).
    #[arg(long, default_value_t = 200_000)]
    pub charges: usize,
    /// Days of generated history.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Latency the emulator adds to every request, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub latency_ms: u64,
    /// How long the sequential paginator may run before its rate is extrapolated (it would take hours in full).
    #[arg(long, default_value_t = 60)]
    pub sequential_seconds: u64,
    /// Open ranges (and workers) per resource.
    #[arg(long, default_value_t = 10)]
    pub ranges_per_resource: usize,
    /// Where the benchmark database goes (default: a temporary SQLite file).
    #[arg(long)]
    pub database_url: Option<String>,
    /// A running `stripe-emulator` to import from (its first account, with that account's restricted live key read
    /// from the emulator's control API) instead of one started in this process: then the peak RSS is payscope's
    /// own. `--charges`, `--days` and `--latency-ms` are the emulator's own options then, and the requests and
    /// 429s it answered are not counted here.
    #[arg(long)]
    pub emulator_url: Option<String>,
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Import(args) => import(args).await,
        BenchCommand::Connect(args) => super::bench_connect::run(args).await,
        BenchCommand::Dashboards(args) => super::bench_dashboards::run(args).await,
        BenchCommand::Webhooks(args) => super::bench_webhooks::run(args).await,
    }
}

/// Requests the emulator answered, by status class, counted by a layer in front of its router.
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    /// `/v1/` requests answered per wall-clock second (unix seconds) and endpoint path, for the timelines.
    per_second: std::sync::Mutex<std::collections::BTreeMap<(i64, String), u64>>,
}

#[derive(Debug, Serialize)]
struct Report {
    /// `in-process`, or the URL of the separate emulator imported from.
    emulator: String,
    /// Charges generated, when the emulator runs in this process.
    charges_generated: Option<usize>,
    /// Latency added per request, when the emulator runs in this process.
    latency_ms: Option<u64>,
    objects: i64,
    seconds: f64,
    objects_per_second: f64,
    /// Requests, 429s and 5xx the in-process emulator answered (not counted with `--emulator-url`).
    requests: Option<u64>,
    requests_per_second: Option<f64>,
    rate_limited_429s: Option<u64>,
    server_errors: Option<u64>,
    pages_needed: u64,
    ceiling_seconds: f64,
    ratio_to_ceiling: f64,
    outcome: String,
    completeness: Vec<(String, String)>,
    /// PaymentMethods held after the import: listed, or carried inside intents and customers.
    payment_methods_stored: i64,
    /// PaymentMethods named by imported charges but not held: what no list reaches (see the README).
    payment_methods_named_only_by_charges: i64,
    /// Seconds from the start until each resource was complete (every range stored and checked), slowest last.
    resource_seconds: Vec<(String, f64)>,
    /// `/v1/` requests per second over each 10 s of the import, in order: where the rate sags.
    requests_per_second_by_10s: Vec<f64>,
    /// The same per endpoint path, for the endpoints with the most requests: whether the busiest endpoints keep
    /// to their own limit (25 req/s) from the start, which the ceiling assumes.
    busiest_endpoints_by_10s: Vec<(String, Vec<f64>)>,
    /// Seconds until every resource listed by `created` ranges was complete: the import without the unsplittable
    /// cursor chains (payment methods, report types), whose pages must be fetched one after another.
    ranged_seconds: f64,
    /// `ceiling_seconds / ranged_seconds`: how close the parallel, rate-limited part comes to the ceiling.
    ranged_ratio_to_ceiling: f64,
    sequential_objects: u64,
    sequential_seconds: f64,
    sequential_objects_per_second: f64,
    sequential_finished: bool,
    speed_up: f64,
    rss_before_import_mb: f64,
    peak_rss_mb: f64,
}

/// The emulator the benchmark imports from: its URL, the account and its restricted live key.
struct Target {
    base_url: String,
    account: String,
    restricted_key: String,
    /// The in-process emulator's request counters and server; `None` for a separate emulator.
    in_process: Option<(Arc<Counters>, tokio::task::JoinHandle<std::io::Result<()>>)>,
}

/// Starts the emulator in this process with live-mode rate limits, behind a layer counting what it answers.
async fn start_emulator(
    args: &ImportBenchArgs,
    shutdown: &CancellationToken,
) -> anyhow::Result<Target> {
    let (charges, days, latency_ms) = (args.charges, args.days, args.latency_ms);
    eprintln!("generating {charges} charges over {days} days in the emulator…");
    let emulator = tokio::task::spawn_blocking(move || {
        Emulator::new(EmulatorConfig {
            charges,
            days,
            latency_ms,
            rate_limits: true,
            ..EmulatorConfig::default()
        })
    })
    .await?;
    let keys = emulator
        .accounts()
        .into_iter()
        .next()
        .context("the emulator has no account")?;
    let counters = Arc::new(Counters::default());
    let counted = Arc::clone(&counters);
    let router = emulator.router().layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let counters = Arc::clone(&counted);
            async move { count(&counters, request, next).await }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let server = {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        })
    };
    Ok(Target {
        base_url,
        account: keys.id,
        restricted_key: keys.live.restricted,
        in_process: Some((counters, server)),
    })
}

/// A running `stripe-emulator` at `url`: its first account and that account's restricted live key, from the
/// control API (so the key never appears on a command line).
async fn separate_emulator(url: &str) -> anyhow::Result<Target> {
    #[derive(serde::Deserialize)]
    struct Accounts {
        data: Vec<AccountKeys>,
    }
    #[derive(serde::Deserialize)]
    struct AccountKeys {
        id: String,
        live: LiveKeys,
    }
    #[derive(serde::Deserialize)]
    struct LiveKeys {
        restricted: String,
    }
    let base_url = url.trim_end_matches('/').to_owned();
    let control = format!("{base_url}/_emulator/accounts");
    let accounts: Accounts = reqwest::get(&control)
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| {
            format!(
                "reading the emulator's accounts at {control}; is stripe-emulator running there?"
            )
        })?
        .json()
        .await
        .with_context(|| format!("{control} did not answer with the emulator's accounts"))?;
    let first = accounts
        .data
        .into_iter()
        .next()
        .with_context(|| format!("the emulator at {base_url} has no account"))?;
    Ok(Target {
        base_url,
        account: first.id,
        restricted_key: first.live.restricted,
        in_process: None,
    })
}

async fn import(args: ImportBenchArgs) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let target = match &args.emulator_url {
        Some(url) => separate_emulator(url).await?,
        None => start_emulator(&args, &shutdown).await?,
    };
    let base_url = target.base_url.clone();

    let dir = tempfile_dir()?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    let store = Store::open(&url).await?;
    let master_key = MasterKey::from_bytes(&rand::random::<[u8; 32]>());
    let account = store.ensure_account(DEFAULT_ACCOUNT).await?;
    let parallel = connection(
        &store,
        &master_key,
        &account.id,
        &target.account,
        &target.restricted_key,
        "parallel",
    )
    .await?;

    let rss_before = peak_rss_mb();
    let access = StripeAccess::new(&base_url, 100);
    let mut config = ImportConfig::default();
    config.planner.target_ranges = args.ranges_per_resource;
    let importer = Importer::new(store.clone(), access.clone(), master_key.clone(), config);
    let job_id = queue_import(&store, &parallel).await?;
    eprintln!("importing with payscope's parallel import…");
    let started = Instant::now();
    let started_unix = unix_now();
    let finished = CancellationToken::new();
    let watcher = tokio::spawn(resource_finish_times(
        store.clone(),
        account.id.clone(),
        job_id.clone(),
        started,
        finished.clone(),
    ));
    let outcome = importer
        .run_job(&account.id, &job_id, &CancellationToken::new())
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let ended_unix = unix_now();
    finished.cancel();
    let resource_seconds = watcher.await??;
    let ranged_seconds = resource_seconds
        .iter()
        .filter(|(name, _)| {
            RESOURCES
                .iter()
                .any(|r| r.name == name.as_str() && r.created_filter)
        })
        .map(|&(_, s)| s)
        .fold(0.0, f64::max);
    let counters = target.in_process.as_ref().map(|(c, _)| Arc::clone(c));
    let requests = counters
        .as_ref()
        .map(|c| c.requests.load(Ordering::Relaxed));
    let record = store
        .import_job(&account.id, &job_id)
        .await?
        .context("the job vanished")?;
    let progress = job_progress(&store, &record).await?;
    let pages_needed: Vec<(String, u64)> = progress
        .resources
        .iter()
        .filter(|r| r.state == "complete")
        .map(|r| (r.resource.clone(), (r.objects as u64).div_ceil(100).max(1)))
        .collect();
    let total_pages: u64 = pages_needed.iter().map(|p| p.1).sum();
    let busiest = pages_needed.iter().map(|p| p.1).max().unwrap_or(0);
    let ceiling = (busiest as f64 / f64::from(stripe::STRIPE_ENDPOINT_LIMIT))
        .max(total_pages as f64 / f64::from(stripe::STRIPE_LIVE_LIMIT));
    let peak_after_import = peak_rss_mb();
    let (requests_per_second_by_10s, busiest_endpoints_by_10s) = counters
        .as_ref()
        .map(|counters| timelines(counters, started_unix, ended_unix))
        .unwrap_or_default();
    let payment_methods_stored: i64 = store
        .stored_days(
            &account.id,
            &parallel.id,
            "payment_method",
            i64::MIN,
            i64::MAX,
        )
        .await?
        .iter()
        .map(|d| d.1)
        .sum();
    let (_, payment_methods_named_only_by_charges) = store
        .payment_methods_named_by_charges(&account.id, &parallel.id)
        .await?;

    eprintln!(
        "listing the same data with a sequential paginator (at most {} s)…",
        args.sequential_seconds
    );
    let sequential = connection(
        &store,
        &master_key,
        &account.id,
        &target.account,
        &target.restricted_key,
        "sequential",
    )
    .await?;
    let client = access.client_for(&sequential, &master_key)?;
    let (seq_objects, seq_seconds, seq_finished) = sequential_paginator(
        &store,
        &client,
        &sequential,
        Duration::from_secs(args.sequential_seconds),
    )
    .await?;
    let seq_rate = seq_objects as f64 / seq_seconds.max(1e-9);
    let rate = progress.objects as f64 / seconds;
    let in_process = target.in_process.is_some();
    let report = Report {
        emulator: args
            .emulator_url
            .clone()
            .unwrap_or_else(|| "in-process".into()),
        charges_generated: in_process.then_some(args.charges),
        latency_ms: in_process.then_some(args.latency_ms),
        objects: progress.objects,
        seconds,
        objects_per_second: rate,
        requests,
        requests_per_second: requests.map(|r| r as f64 / seconds),
        rate_limited_429s: counters
            .as_ref()
            .map(|c| c.rate_limited.load(Ordering::Relaxed)),
        server_errors: counters
            .as_ref()
            .map(|c| c.server_errors.load(Ordering::Relaxed)),
        pages_needed: total_pages,
        ceiling_seconds: ceiling,
        ratio_to_ceiling: ceiling / seconds,
        outcome: match outcome {
            JobOutcome::Done => "done".into(),
            other => format!("{other:?}"),
        },
        completeness: progress
            .resources
            .iter()
            .map(|r| {
                (
                    r.resource.clone(),
                    r.check.clone().unwrap_or_else(|| r.state.clone()),
                )
            })
            .collect(),
        payment_methods_stored,
        payment_methods_named_only_by_charges,
        resource_seconds,
        requests_per_second_by_10s,
        busiest_endpoints_by_10s,
        ranged_seconds,
        ranged_ratio_to_ceiling: ceiling / ranged_seconds.max(1e-9),
        sequential_objects: seq_objects,
        sequential_seconds: seq_seconds,
        sequential_objects_per_second: seq_rate,
        sequential_finished: seq_finished,
        speed_up: rate / seq_rate.max(1e-9),
        rss_before_import_mb: rss_before,
        peak_rss_mb: peak_after_import,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    shutdown.cancel();
    if let Some((_, server)) = target.in_process {
        let _ = server.await;
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Watches the job's progress until `finished`, noting when each resource became complete (every range stored
/// and the completeness check recorded; unreadable resources never do). Slowest last.
async fn resource_finish_times(
    store: Store,
    account_id: String,
    job_id: String,
    started: Instant,
    finished: CancellationToken,
) -> anyhow::Result<Vec<(String, f64)>> {
    let mut times: Vec<(String, f64)> = Vec::new();
    loop {
        let stop = finished.is_cancelled();
        let record = store
            .import_job(&account_id, &job_id)
            .await?
            .context("the job vanished")?;
        let at = started.elapsed().as_secs_f64();
        for resource in job_progress(&store, &record).await?.resources {
            if resource.state == "complete" && !times.iter().any(|(n, _)| *n == resource.resource) {
                times.push((resource.resource, at));
            }
        }
        if stop {
            break;
        }
        tokio::select! {
            _ = finished.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
    times.sort_by(|a, b| a.1.total_cmp(&b.1));
    Ok(times)
}

/// Endpoints shown in [`Report::busiest_endpoints_by_10s`].
const BUSIEST_ENDPOINTS: usize = 4;

/// Requests per second over each 10 s from `from` to `to` (unix seconds): all `/v1/` requests, and each of the
/// [`BUSIEST_ENDPOINTS`] endpoints with the most requests.
fn timelines(counters: &Counters, from: i64, to: i64) -> (Vec<f64>, Vec<(String, Vec<f64>)>) {
    let per_second = counters.per_second.lock().expect("timeline poisoned");
    let mut totals: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for ((_, path), n) in per_second.iter() {
        *totals.entry(path).or_default() += n;
    }
    let mut busiest: Vec<(&str, u64)> = totals.into_iter().collect();
    busiest.sort_by_key(|b| std::cmp::Reverse(b.1));
    let timeline = |wanted: Option<&str>| -> Vec<f64> {
        (from..=to)
            .step_by(10)
            .map(|start| {
                let n: u64 = per_second
                    .iter()
                    .filter(|((at, path), _)| {
                        (start..start + 10).contains(at) && wanted.is_none_or(|w| w == path)
                    })
                    .map(|(_, n)| n)
                    .sum();
                n as f64 / 10.0
            })
            .collect()
    };
    let by_endpoint = busiest
        .iter()
        .take(BUSIEST_ENDPOINTS)
        .map(|(path, _)| ((*path).to_owned(), timeline(Some(path))))
        .collect();
    (timeline(None), by_endpoint)
}

async fn count(counters: &Counters, request: Request, next: Next) -> Response {
    let api_path = request
        .uri()
        .path()
        .starts_with("/v1/")
        .then(|| request.uri().path().to_owned());
    let response = next.run(request).await;
    if let Some(path) = api_path {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        *counters
            .per_second
            .lock()
            .expect("timeline poisoned")
            .entry((unix_now(), path))
            .or_default() += 1;
        match response.status().as_u16() {
            429 => {
                counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            500..=599 => {
                counters.server_errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
    response
}

/// What tap-stripe, dlt and Stripe's sync engine v1 do: one resource after another, one page at a time, each page
/// written before the next is asked for. Stops after `budget`; returns (objects, seconds, finished).
async fn sequential_paginator(
    store: &Store,
    client: &stripe::Client,
    connection: &Connection,
    budget: Duration,
) -> anyhow::Result<(u64, f64, bool)> {
    let started = Instant::now();
    let mut objects = 0u64;
    for resource in RESOURCES {
        let mut params = stripe::ListParams {
            expand: resource.expand.iter().map(|e| (*e).to_owned()).collect(),
            ..stripe::ListParams::default()
        };
        for (name, value) in resource.extra {
            params.extra = std::mem::take(&mut params.extra).text(name, *value);
        }
        let mut pages = pin!(client.list_pages(resource.path, params));
        while let Some(page) = pages.try_next().await? {
            let now = unix_now();
            let raw: Vec<RawObject> = page
                .objects
                .iter()
                .filter_map(|o| {
                    let v: serde_json::Value = serde_json::from_str(o.get()).ok()?;
                    Some(RawObject {
                        object_type: v["object"].as_str()?.to_owned(),
                        id: v["id"].as_str()?.to_owned(),
                        created: v["created"].as_i64().unwrap_or(0),
                        version: now,
                        deleted: false,
                        json: o.get().to_owned(),
                    })
                })
                .collect();
            objects += raw.len() as u64;
            store
                .upsert_objects(&connection.account_id, &connection.id, &raw)
                .await?;
            if started.elapsed() >= budget {
                return Ok((objects, started.elapsed().as_secs_f64(), false));
            }
        }
    }
    Ok((objects, started.elapsed().as_secs_f64(), true))
}

async fn connection(
    store: &Store,
    master_key: &MasterKey,
    account_id: &str,
    stripe_account: &str,
    key: &str,
    name: &str,
) -> anyhow::Result<Connection> {
    let id = new_id("con");
    let now = unix_now();
    let connection = Connection {
        api_key_sealed: master_key.seal(key, &Connection::api_key_context(&id)),
        id,
        account_id: account_id.to_owned(),
        name: name.to_owned(),
        processor: Processor::Stripe,
        mode: Mode::Live,
        processor_account_id: Some(stripe_account.to_owned()),
        api_key_hint: format!("rk_live_…{}", &key[key.len().saturating_sub(4)..]),
        webhook_endpoint_id: None,
        webhook_secret_sealed: None,
        status: ConnectionStatus::Importing,
        status_reason: None,
        created_at: now,
        updated_at: now,
    };
    store.insert_connection(&connection).await?;
    Ok(connection)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(new_id("payscope-bench"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The process's peak resident set (VmHWM) in MB, from /proc; 0 where /proc is absent.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
