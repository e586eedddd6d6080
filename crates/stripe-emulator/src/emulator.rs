//! The emulator handle: shared state (accounts, key ring, settings, rate limiter, HTTP client for deliveries),
//! the router, `serve`, and the background activity loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::account::{Account, AccountKeys, AccountSpec};
use crate::config::EmulatorConfig;
use crate::delivery::{self, now_ms};
use crate::keys::KeyRing;
use crate::rate_limit::RateLimiter;
use crate::settings::Settings;

/// Most webhook POSTs in flight at once, so a big burst does not open thousands of connections to a receiver.
const DELIVERY_CONCURRENCY: usize = 32;

/// A running emulator's state; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Emulator {
    pub(crate) shared: Arc<Shared>,
}

/// Everything the handlers and background tasks share.
pub struct Shared {
    /// The start-up configuration (defaults for accounts created later).
    pub config: EmulatorConfig,
    accounts: RwLock<Vec<Arc<Account>>>,
    /// Every issued key.
    pub keyring: KeyRing,
    settings: RwLock<Settings>,
    /// Request counters for Stripe's rate limits.
    pub rate_limiter: RateLimiter,
    /// Client for webhook deliveries.
    pub http: reqwest::Client,
    /// Stops deliveries and the activity loop.
    pub shutdown: CancellationToken,
    /// Bounds concurrent deliveries.
    pub delivery_slots: tokio::sync::Semaphore,
    next_seed: AtomicU64,
}

impl Emulator {
    /// Generates `config.accounts` accounts (seeds `seed`, `seed + 1`, …). Generation is CPU-bound: for big
    /// histories call this from `tokio::task::spawn_blocking` or before starting a runtime.
    pub fn new(config: EmulatorConfig) -> Emulator {
        let settings = Settings {
            latency_ms: config.latency_ms,
            latency_jitter_ms: config.latency_jitter_ms,
            rate_limits: config.rate_limits,
            delivery: config.delivery.clone(),
            ..Settings::default()
        };
        let shared = Arc::new(Shared {
            accounts: RwLock::new(Vec::new()),
            keyring: KeyRing::default(),
            settings: RwLock::new(settings),
            rate_limiter: RateLimiter::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client with rustls builds"),
            shutdown: CancellationToken::new(),
            delivery_slots: tokio::sync::Semaphore::new(DELIVERY_CONCURRENCY),
            next_seed: AtomicU64::new(config.seed),
            config,
        });
        let emulator = Emulator { shared };
        for _ in 0..emulator.shared.config.accounts {
            let spec = emulator.shared.default_spec();
            emulator.shared.add_account(&spec);
        }
        emulator
    }

    /// The HTTP routes: Stripe's `/v1/…` API and the `/_emulator/…` control API.
    pub fn router(&self) -> axum::Router {
        crate::routes::router(self.clone())
    }

    /// Every account with its ready-made keys (test and live: secret, publishable, guide-set restricted).
    pub fn accounts(&self) -> Vec<AccountKeys> {
        self.shared
            .accounts()
            .iter()
            .map(|a| a.keys.clone())
            .collect()
    }
}

impl Shared {
    /// A snapshot of the accounts, in creation order.
    pub fn accounts(&self) -> Vec<Arc<Account>> {
        self.accounts
            .read()
            .expect("accounts lock poisoned")
            .clone()
    }

    /// The account with id `id`.
    pub fn account(&self, id: &str) -> Option<Arc<Account>> {
        self.accounts
            .read()
            .expect("accounts lock poisoned")
            .iter()
            .find(|a| a.id == id)
            .cloned()
    }

    /// The current behaviour settings.
    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .expect("settings lock poisoned")
            .clone()
    }

    /// Replaces the behaviour settings.
    pub fn set_settings(&self, settings: Settings) {
        *self.settings.write().expect("settings lock poisoned") = settings;
    }

    /// The spec of the next account with the start-up defaults and the next unused seed.
    pub fn default_spec(&self) -> AccountSpec {
        AccountSpec {
            seed: self.next_seed.fetch_add(1, Ordering::Relaxed),
            charges: self.config.charges,
            days: self.config.days,
            card_details: self.config.card_details,
            payment_methods_list_all: self.config.payment_methods_list_all,
            api_version: self.config.api_version.clone(),
            now: self.config.now.unwrap_or_else(|| now_ms() / 1000),
        }
    }

    /// Generates and registers an account.
    pub fn add_account(&self, spec: &AccountSpec) -> Arc<Account> {
        let account = Arc::new(Account::generate(spec, &self.keyring));
        self.accounts
            .write()
            .expect("accounts lock poisoned")
            .push(Arc::clone(&account));
        account
    }
}

/// Makes `charges` new payments on `account` now, records their events and starts their deliveries; returns the
/// number of events created.
pub fn run_activity(shared: &Arc<Shared>, account: &Arc<Account>, charges: usize) -> usize {
    let now = now_ms() / 1000;
    let seqs = account.apply_activity(charges, now);
    delivery::dispatch(shared, account, &seqs);
    seqs.len()
}

/// Serves `emulator` on `listener` until `shutdown` is cancelled; the background activity loop and webhook
/// deliveries stop with it, for good: an emulator is served once (make a new one to serve again).
pub async fn serve(
    listener: TcpListener,
    emulator: Emulator,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let internal = emulator.shared.shutdown.clone();
    let activity = tokio::spawn(activity_loop(Arc::clone(&emulator.shared)));
    let stop = shutdown.clone();
    let result = axum::serve(listener, emulator.router())
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    internal.cancel();
    let _ = activity.await;
    result
}

/// Every second, adds `activity_per_minute / 60` payments to each account (carrying fractions over).
async fn activity_loop(shared: Arc<Shared>) {
    let per_minute = shared.config.activity_per_minute;
    if per_minute <= 0.0 {
        return;
    }
    let mut owed = 0.0_f64;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        owed += per_minute / 60.0;
        let charges = owed.floor() as usize;
        if charges == 0 {
            continue;
        }
        owed -= charges as f64;
        for account in shared.accounts() {
            let worker = Arc::clone(&shared);
            let result =
                tokio::task::spawn_blocking(move || run_activity(&worker, &account, charges)).await;
            if let Err(error) = result {
                tracing::error!(%error, "background activity failed; continuing with the next tick");
            }
        }
    }
}
