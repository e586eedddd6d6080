//! The `stripe-emulator` binary: generates the accounts, prints their ids and ready keys, serves until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use stripe_emulator::{DeliverySettings, Emulator, EmulatorConfig, serve};
use tokio_util::sync::CancellationToken;

/// A faithful, stateful stand-in for api.stripe.com (see the crate README for the control API).
#[derive(Debug, Parser)]
#[command(name = "stripe-emulator", version)]
struct Cli {
    /// Address to listen on.
    #[arg(
        long,
        env = "STRIPE_EMULATOR_LISTEN",
        default_value = "127.0.0.1:12111"
    )]
    listen: SocketAddr,
    /// Seed of the generated history (account i uses seed + i).
    #[arg(long, env = "STRIPE_EMULATOR_SEED", default_value_t = 1)]
    seed: u64,
    /// Charges generated per account.
    #[arg(long, env = "STRIPE_EMULATOR_CHARGES", default_value_t = 50_000)]
    charges: usize,
    /// Days of history per account.
    #[arg(long, env = "STRIPE_EMULATOR_DAYS", default_value_t = 400)]
    days: u32,
    /// Number of accounts.
    #[arg(long, env = "STRIPE_EMULATOR_ACCOUNTS", default_value_t = 1)]
    accounts: usize,
    /// Latency added to every /v1/ request, in milliseconds.
    #[arg(long, env = "STRIPE_EMULATOR_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Extra random latency, uniform in 0..=N milliseconds.
    #[arg(long, env = "STRIPE_EMULATOR_LATENCY_JITTER_MS", default_value_t = 0)]
    latency_jitter_ms: u64,
    /// New payments per minute per account, with their refunds, disputes, events and deliveries.
    #[arg(
        long,
        env = "STRIPE_EMULATOR_ACTIVITY_PER_MINUTE",
        default_value_t = 0.0
    )]
    activity_per_minute: f64,
    /// Serve the gated card fields (iin, issuer, description), as accounts where Stripe support enabled them.
    #[arg(long, env = "STRIPE_EMULATOR_CARD_DETAILS")]
    card_details: bool,
    /// GET /v1/payment_methods without `customer` lists every PaymentMethod, not only Treasury ones (none).
    #[arg(long, env = "STRIPE_EMULATOR_PAYMENT_METHODS_LIST_ALL")]
    payment_methods_list_all: bool,
    /// Do not enforce Stripe's rate limits.
    #[arg(long, env = "STRIPE_EMULATOR_NO_RATE_LIMITS")]
    no_rate_limits: bool,
    /// The accounts' default API version.
    #[arg(long, env = "STRIPE_EMULATOR_API_VERSION", default_value = stripe_emulator::DEFAULT_API_VERSION)]
    api_version: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = EmulatorConfig {
        seed: cli.seed,
        charges: cli.charges,
        days: cli.days,
        accounts: cli.accounts,
        latency_ms: cli.latency_ms,
        latency_jitter_ms: cli.latency_jitter_ms,
        activity_per_minute: cli.activity_per_minute,
        card_details: cli.card_details,
        payment_methods_list_all: cli.payment_methods_list_all,
        rate_limits: !cli.no_rate_limits,
        api_version: cli.api_version,
        now: None,
        delivery: DeliverySettings::default(),
    };
    let started = std::time::Instant::now();
    eprintln!(
        "generating {} account(s) with {} charges over {} days…",
        config.accounts, config.charges, config.days
    );
    let emulator = Emulator::new(config);
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .with_context(|| {
                format!(
                    "binding {}; is another emulator already listening there?",
                    cli.listen
                )
            })?;
        let address = listener.local_addr()?;
        println!("stripe-emulator listening on http://{address}");
        for keys in emulator.accounts() {
            println!("account {}", keys.id);
            for (mode, set) in [("test", &keys.test), ("live", &keys.live)] {
                println!("  {mode} secret      {}", set.secret);
                println!("  {mode} publishable {}", set.publishable);
                println!(
                    "  {mode} restricted  {}  (the guide's permission set)",
                    set.restricted
                );
            }
        }
        println!("control API: http://{address}/_emulator/accounts");
        let shutdown = CancellationToken::new();
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            on_signal.cancel();
        });
        serve(listener, emulator, shutdown)
            .await
            .context("serving HTTP")
    })
}
