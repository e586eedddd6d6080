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

use crate::config::Config;
use crate::connections::{AddConnection, ConnectionService};
use crate::crypto::MasterKey;
use crate::domain::ids::random_base32;
use crate::store::Store;
use crate::stripe_access::StripeAccess;
use crate::sync::live::{LiveConfig, LiveSync};
use crate::sync::{ImportConfig, Importer, import_progress};
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
    tokio::spawn(stripe_emulator::serve(
        stripe_listener,
        emulator,
        shutdown.clone(),
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

    // Start serving before adding connections: adding registers webhooks that point here.
    let importer = Importer::new(
        store.clone(),
        access.clone(),
        master_key.clone(),
        ImportConfig::default(),
    );
    let import_worker = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            importer
                .run_pending(Duration::from_millis(200), shutdown)
                .await
        }
    });
    // Live sync applies the emulator's signed webhook deliveries (live activity) and closes gaps via events.
    let live_sync = LiveSync::new(
        store.clone(),
        access.clone(),
        master_key.clone(),
        LiveConfig::default(),
    );
    let live_worker = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { live_sync.run(shutdown).await }
    });
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

    let ready_share = READY_DAYS as f64 / f64::from(args.days.max(1));
    let mut ready_reported = false;
    let mut last_report = Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let mut all_recent = true;
        let mut all_done = true;
        let mut objects = 0;
        for id in &connection_ids {
            let progress = import_progress(&store, &account.id, id).await?;
            let Some(progress) = progress else {
                all_recent = false;
                all_done = false;
                continue;
            };
            objects += progress.objects;
            let charges = progress.resources.iter().find(|r| r.resource == "charges");
            all_recent &= charges.is_some_and(|c| c.covered >= ready_share);
            all_done &= progress.status == "done";
        }
        if all_recent && !ready_reported {
            ready_reported = true;
            println!(
                "  dashboard ready: the last {READY_DAYS} days are imported, {:.1} s after start — open {app_url}/dashboards/overview",
                started.elapsed().as_secs_f64()
            );
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
    if let Err(error) = import_worker.await {
        tracing::error!(%error, "the import worker ended abnormally");
    }
    if let Err(error) = live_worker.await {
        tracing::error!(%error, "the live-sync worker ended abnormally");
    }
    server.await??;
    store.close().await;
    Ok(())
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
