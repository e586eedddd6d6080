//! The `payscope` command line: subcommands, logging set-up, and the shutdown signal.

mod bench;
mod bench_connect;
mod bench_dashboards;
mod bench_webhooks;
mod connections;
mod demo;
mod import;
mod tokens;
mod users;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::background::{Background, BackgroundWork};
use crate::config::{Config, LogFormat};
use crate::connections::ConnectionService;
use crate::crypto::MasterKey;
use crate::store::Store;
use crate::stripe_access::StripeAccess;
use crate::web::{self, AppState};

/// How often `serve` looks for newly queued imports.
const IMPORT_POLL: std::time::Duration = std::time::Duration::from_secs(1);

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
    /// Manage data connections (add, list, show, rename, rotate-key, remove).
    #[command(subcommand)]
    Connections(connections::ConnectionsCommand),
    /// Manage API tokens for the JSON API.
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
    /// Manage the people who sign in to the web app.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Try payscope: an emulated Stripe with generated history, two connections, imported and served.
    Demo(demo::DemoArgs),
}

/// Runs a parsed command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.with_environment();
    // The demo prints its own milestones and sign-in details, and a benchmark its figures; request and sync logs
    // (and sqlx's slow-statement warnings, which quote whole statements) would bury them.
    let default_filter = match cli.command {
        Command::Demo(_) | Command::Bench(_) => "warn,sqlx::query=error",
        _ => "info,sqlx=warn",
    };
    init_logging(config.log_format, default_filter);
    match cli.command {
        Command::Serve => serve(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::Import(args) => import::run(&config, args).await,
        Command::Bench(command) => bench::run(command).await,
        Command::Connections(command) => connections::run(&config, command).await,
        Command::Tokens(command) => tokens::run(&config, command).await,
        Command::Users(command) => users::run(&config, command).await,
        Command::Demo(args) => demo::run(&config, args).await,
    }
}

/// The services every subcommand that touches data needs, built once from the config.
pub(crate) struct Services {
    /// The database.
    pub store: Store,
    /// The master key for secrets at rest.
    pub master_key: MasterKey,
    /// How to reach Stripe.
    pub access: StripeAccess,
    /// The Data Connections service.
    pub connections: ConnectionService,
}

impl Services {
    pub(crate) async fn open(config: &Config) -> anyhow::Result<Self> {
        let master_key = MasterKey::load_or_create(config.master_key.as_ref(), &config.data_dir)?;
        let store = Store::open(&config.effective_database_url())
            .await
            .context("opening the database")?;
        let access = StripeAccess::new(config.stripe_api_base.as_str(), config.stripe_rate_share);
        let connections = ConnectionService::new(
            store.clone(),
            access.clone(),
            master_key.clone(),
            config.public_url.clone(),
            config.allow_secret_keys,
        );
        Ok(Self {
            store,
            master_key,
            access,
            connections,
        })
    }

    /// The account a command acts on: the named one, or the only one.
    pub(crate) async fn account_id(&self, name: Option<&str>) -> anyhow::Result<String> {
        match name {
            Some(name) => Ok(self
                .store
                .account_by_name(name)
                .await?
                .with_context(|| format!("no account named {name:?}"))?
                .id),
            None => {
                let accounts = self.store.accounts().await?;
                match accounts.as_slice() {
                    [only] => Ok(only.id.clone()),
                    _ => anyhow::bail!(
                        "this instance has {} accounts; say which with --account NAME",
                        accounts.len()
                    ),
                }
            }
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let services = Services::open(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "payscope is listening");
    let shutdown = shutdown_on_signal();
    // The import, live sync and the rollup refresher run on their own runtime: the web runtime's workers stay
    // free for requests (webhook acknowledgements queued behind their CPU work).
    let background = Background::start(
        BackgroundWork {
            store: services.store.clone(),
            access: services.access.clone(),
            master_key: services.master_key.clone(),
            import_poll: IMPORT_POLL,
            live: crate::sync::live::LiveConfig {
                inbox_retention: std::time::Duration::from_secs(
                    config.inbox_retention_days * 86_400,
                ),
                ..crate::sync::live::LiveConfig::default()
            },
            rollup_refresher: true,
        },
        shutdown.clone(),
    )
    .await?;
    let state = AppState::new(
        services.store.clone(),
        services.master_key,
        services.connections,
    )
    .with_secure_cookies(
        config
            .public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https"),
    );
    let served = web::serve(listener, state, shutdown.clone()).await;
    shutdown.cancel();
    background.stopped().await;
    services.store.close().await;
    served?;
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

fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAYSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    // Logs go to stderr so that `--json` output on stdout stays machine-readable.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
