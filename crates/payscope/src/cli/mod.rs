//! The `payscope` command line: subcommands, logging set-up, and the shutdown signal.

mod bench;
mod import;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, LogFormat};
use crate::crypto::MasterKey;
use crate::store::Store;
use crate::web::{self, AppState};

/// payscope — self-hosted payments data: Stripe import, live sync and payment analytics.
#[derive(Debug, Parser)]
#[command(name = "payscope", version, about)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub config: Config,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (dashboards, JSON API, webhook receiver) and the background sync workers.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Import a connection's Stripe history in the foreground (or attach to its running import), with progress.
    Import(import::ImportArgs),
    /// Benchmarks against the built-in Stripe emulator.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs a parsed command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.with_environment();
    init_logging(config.log_format);
    match cli.command {
        Command::Serve => serve(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::Import(args) => import::run(&config, args).await,
        Command::Bench(command) => bench::run(command).await,
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.effective_database_url())
        .await
        .context("opening the database")
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let master_key = MasterKey::load_or_create(config.master_key.as_ref(), &config.data_dir)?;
    let store = open_store(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "payscope is listening");
    let shutdown = shutdown_on_signal();
    web::serve(listener, AppState::new(store.clone(), master_key), shutdown).await?;
    store.close().await;
    tracing::info!("payscope stopped");
    Ok(())
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = Store::connect(&config.effective_database_url()).await?;
    let applied = store.migrate().await?;
    println!(
        "applied {applied} migration(s); schema version {}",
        store.schema_version().await?
    );
    Ok(())
}

/// One token cancelled by SIGINT or SIGTERM; every server and worker listens to it.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested; finishing work in flight");
        cancel.cancel();
    });
    token
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAYSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
