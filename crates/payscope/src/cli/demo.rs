//! `payscope demo`: the README's first command. Starts the Stripe emulator in-process with generated history and
//! live activity, creates a demo account and user, adds two data connections through the real add flow over HTTP,
//! imports them and serves the app, all in a demo data directory that never mixes with real data.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use secrecy::SecretString;
use stripe_emulator::{Emulator, EmulatorConfig};
use tokio::net::TcpListener;

use crate::background::{Background, BackgroundWork};
use crate::config::Config;
use crate::connections::{AddConnection, ConnectionService};
use crate::crypto::MasterKey;
use crate::domain::ids::random_base32;
use crate::store::{RangeProgress, Store, unix_now};
use crate::stripe_access::StripeAccess;
use crate::sync::import_progress;
use crate::sync::live::LiveConfig;
use crate::web::auth::hash_password;
use crate::web::{self, AppState};

/// The file that marks a directory as payscope's demo directory, so a restart may wipe it and nothing else.
const MARKER: &str = ".payscope-demo";
/// The demo user's email.
pub const DEMO_EMAIL: &str = "demo@payscope.local";
/// The demo account's name.
pub const DEMO_ACCOUNT: &str = "Demo Shop";
/// The days of recent history the dashboards show by default; the demo is "ready" when they are imported.
const READY_DAYS: i64 = 30;

/// `payscope demo` options (the global `--listen` sets the address, 127.0.0.1:8080 by default).
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Charges generated per emulated Stripe account.
    #[arg(long, default_value_t = 100_000)]
    pub charges: usize,
    /// Days of history per emulated Stripe account.
    #[arg(long, default_value_t = 400)]
    pub days: u32,
    /// New payments per minute per account while the demo runs (live activity, delivered as webhooks).
    #[arg(long, default_value_t = 20.0)]
    pub activity_per_minute: f64,
    /// The demo's own data directory, wiped at each start (only if it is a demo directory).
    #[arg(long, default_value = "payscope-demo-data")]
    pub demo_dir: PathBuf,
    /// Exit once the import is complete instead of serving (for measuring time to ready).
    #[arg(long)]
    pub exit_when_imported: bool,
}

/// Runs the demo until Ctrl-C.
pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let shutdown = super::shutdown_on_signal();
    prepare_demo_dir(&args.demo_dir)?;

    // Bind payscope first: its address is the public URL the emulator posts signed webhooks to.
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "binding {}; choose another address with --listen",
            config.listen
        )
    })?;
    let app_url = format!("http://{}", listener.local_addr()?);

    eprintln!(
        "generating {} charges over {} days for 2 emulated Stripe accounts…",
        args.charges, args.days
    );
    let emulator = tokio::task::spawn_blocking({
        let charges = args.charges;
        let days = args.days;
        let activity = args.activity_per_minute;
        move || {
            Emulator::new(EmulatorConfig {
                accounts: 2,
                charges,
                days,
                activity_per_minute: activity,
                card_details: false,
                ..EmulatorConfig::default()
            })
        }
    })
    .await
    .context("generating the emulated history")?;
    let accounts = emulator.accounts();
    let stripe_listener = TcpListener::bind("127.0.0.1:0").await?;
    let stripe_url = format!("http://{}", stripe_listener.local_addr()?);
    // The emulator stops after payscope's workers, so they never retry against a Stripe that is gone.
    let emulator_shutdown = tokio_util::sync::CancellationToken::new();
    let emulator_task = tokio::spawn(stripe_emulator::serve(
        stripe_listener,
        emulator,
        emulator_shutdown.clone(),
    ));
    // Card details on the first account only, so the data-quality check shows both outcomes.
    reqwest::Client::new()
        .post(format!(
            "{stripe_url}/_emulator/accounts/{}/card_details",
            accounts[0].id
        ))
        .json(&serde_json::json!({"enabled": true}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("enabling card details on the first emulated account")?;

    let master_key = MasterKey::load_or_create(None, &args.demo_dir)?;
    let database_url = format!("sqlite://{}", args.demo_dir.join("payscope.db").display());
    let store = Store::open(&database_url)
        .await
        .context("opening the demo database")?;
    let access = StripeAccess::new(&stripe_url, config.stripe_rate_share);
    let public_url = app_url.parse().context("the demo's public url")?;
    let connections = ConnectionService::new(
        store.clone(),
        access.clone(),
        master_key.clone(),
        Some(public_url),
        false,
    );

    let account = store.ensure_account(DEMO_ACCOUNT).await?;
    let password = random_base32(16);
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await??;
    store
        .create_user(&account.id, DEMO_EMAIL, &hash, true)
        .await?;

    // Start serving before adding connections: adding registers webhooks that point here. The import, live sync
    // (the emulator's signed webhook deliveries, and gaps closed via events) and the rollup refresher run on the
    // background runtime, as in `payscope serve`.
    let background = Background::start(
        BackgroundWork {
            store: store.clone(),
            access: access.clone(),
            master_key: master_key.clone(),
            import_poll: Duration::from_millis(200),
            live: LiveConfig::default(),
            rollup_refresher: true,
        },
        shutdown.clone(),
    )
    .await?;
    let state = AppState::new(store.clone(), master_key, connections.clone());
    let server = tokio::spawn(web::serve(listener, state, shutdown.clone()));

    let mut connection_ids = Vec::new();
    for (keys, name) in accounts.iter().zip(["Stripe EU", "Stripe US"]) {
        let added = connections
            .add(
                &account.id,
                AddConnection {
                    name: name.to_owned(),
                    processor: "stripe".to_owned(),
                    api_key: SecretString::from(keys.test.restricted.clone()),
                    replace_webhook: true,
                },
            )
            .await
            .map_err(|refusal| anyhow::anyhow!("adding the demo connection {name}: {refusal}"))?;
        connection_ids.push(added.connection.id);
    }

    println!();
    println!("  payscope demo is running at {app_url}");
    println!("  email:    {DEMO_EMAIL}");
    println!("  password: {password}");
    println!("  (data in {}; Ctrl-C to stop)", args.demo_dir.display());
    println!();

    // Milestones, each printed once: recent charges visible, the last 7 days complete, the last 30 days complete.
    let milestones = [
        (0, "first recent payments are on the dashboard"),
        (7, "the last 7 days are imported"),
        (READY_DAYS, "dashboard ready: the last 30 days are imported"),
    ];
    let mut reached = [false; 3];
    let mut last_report = Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let mut now_reached = [true; 3];
        let mut all_done = true;
        let mut objects = 0;
        for id in &connection_ids {
            let progress = import_progress(&store, &account.id, id).await?;
            let Some(progress) = progress else {
                now_reached = [false; 3];
                all_done = false;
                continue;
            };
            objects += progress.objects;
            let ranges = store
                .import_range_progress(&account.id, &progress.job_id)
                .await?;
            let now = unix_now();
            for (i, (days, _)) in milestones.iter().enumerate() {
                now_reached[i] &= if *days == 0 {
                    newest_charges_started(&ranges, now)
                } else {
                    recent_charges_listed(&ranges, now - days * 86_400)
                };
            }
            all_done &= progress.status == "done";
        }
        for (i, (_, what)) in milestones.iter().enumerate() {
            if now_reached[i] && !reached[i] {
                reached[i] = true;
                println!(
                    "  {what}, {:.1} s after start — {app_url}/dashboards/overview",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        if all_done {
            println!(
                "  import complete: {objects} objects, {:.1} s after start; live activity keeps arriving as webhooks",
                started.elapsed().as_secs_f64()
            );
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            eprintln!(
                "  importing… {objects} objects so far ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if args.exit_when_imported {
        shutdown.cancel();
    }
    shutdown.cancelled().await;
    background.stopped().await;
    server.await??;
    emulator_shutdown.cancel();
    let _ = emulator_task.await;
    store.close().await;
    Ok(())
}

/// Whether every charge created at or after `since` is stored: each charges range overlapping `[since, …)` is
/// done, or has paged (newest first) down to `since` or its own start. The import lists newest first, so this
/// turns true long before the whole history is in.
fn recent_charges_listed(ranges: &[RangeProgress], since: i64) -> bool {
    let charges: Vec<&RangeProgress> = ranges.iter().filter(|r| r.resource == "charges").collect();
    !charges.is_empty()
        && charges.iter().filter(|r| r.range_end > since).all(|r| {
            r.done
                || r.cursor_created
                    .is_some_and(|c| c <= r.range_start.max(since))
        })
}

/// Whether the charges range that ends now has stored its first page (the newest charges are visible).
fn newest_charges_started(ranges: &[RangeProgress], now: i64) -> bool {
    ranges
        .iter()
        .filter(|r| r.resource == "charges")
        .max_by_key(|r| r.range_end)
        .is_some_and(|r| r.range_end >= now - 86_400 && (r.done || r.cursor_created.is_some()))
}

/// Empties the demo directory (each run generates a fresh emulated history), refusing to touch a directory that is
/// not empty and was not made by the demo.
fn prepare_demo_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let is_demo = dir.join(MARKER).exists();
        let is_empty = std::fs::read_dir(dir)?.next().is_none();
        if !is_demo && !is_empty {
            anyhow::bail!(
                "{} exists and is not a payscope demo directory; choose another with --demo-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("clearing the demo directory {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the demo directory {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "payscope demo data; `payscope demo` wipes this directory at each start\n",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: i64, end: i64, cursor: Option<i64>, done: bool) -> RangeProgress {
        RangeProgress {
            resource: "charges".into(),
            range_start: start,
            range_end: end,
            cursor_created: cursor,
            done,
            objects: 0,
        }
    }

    fn check(ranges: &[RangeProgress], since: i64, expected: bool) {
        assert_eq!(
            recent_charges_listed(ranges, since),
            expected,
            "{ranges:?} since {since}"
        );
    }

    #[test]
    fn recent_charges_are_listed_once_every_overlapping_range_paged_down_to_the_cutoff() {
        // Two halves of [0, 100); the cutoff is 80.
        check(
            &[range(0, 50, None, false), range(50, 100, Some(85), false)],
            80,
            false,
        );
        check(
            &[range(0, 50, None, false), range(50, 100, Some(80), false)],
            80,
            true,
        );
        check(
            &[range(0, 50, None, false), range(50, 100, None, false)],
            80,
            false,
        );
        check(
            &[range(0, 50, None, false), range(50, 100, None, true)],
            80,
            true,
        );
        // A range straddling the cutoff must reach the cutoff, not its own start.
        check(&[range(0, 100, Some(79), false)], 80, true);
        check(&[range(0, 100, Some(81), false)], 80, false);
        // Ranges entirely older than the cutoff do not matter; no charges ranges at all is not ready.
        check(
            &[range(0, 50, None, false), range(50, 100, Some(60), false)],
            60,
            true,
        );
        check(&[], 80, false);
    }
}
