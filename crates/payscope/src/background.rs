//! The background runtime: the import worker, live sync's applier, catch-up and inbox pruning, and the rollup
//! refresher run on a tokio runtime of their own (its own OS threads), so the web runtime's workers are free for
//! requests. `payscope serve`, `payscope demo` and `payscope bench webhooks` all start it through
//! [`Background::start`].
//!
//! Why: on two cores, webhook acknowledgements queued on the web runtime's two workers behind the applier's (and
//! the refresher's, the import's) CPU work — parsing and normalising events, building statements — and that queueing
//! was most of the acknowledgement p99 at 1,000 events/s. With the work on its own threads, the operating system
//! shares the cores between the two sides, and a request is picked up as soon as it arrives.
//!
//! Each runtime keeps what is bound to it: the background runtime makes its own HTTP pool to Stripe (sharing the
//! web side's per-account rate limiters, [`StripeAccess::sharing_limiters_with`]) and, on PostgreSQL, its own
//! database pool ([`Store::for_another_runtime`]).

use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::crypto::MasterKey;
use crate::store::{Dialect, Store};
use crate::stripe_access::StripeAccess;
use crate::sync::live::{LiveConfig, LiveSync};
use crate::sync::rollups::RollupRefresher;
use crate::sync::{ImportConfig, Importer};

/// Worker threads of the background runtime: one, by measurement. `payscope bench webhooks` (SQLite, refresher on,
/// 2 cores shared with other builds, load 4-6, alternated in one sitting) gave an acknowledgement p99 at 1,000
/// events/s of 27.0, 27.1 and 25.1 ms with one worker against 38.1, 19.9 and 30.2 ms with two (and 26.6, 41.1 and
/// 36.1 ms with everything on the web runtime, as before). With one worker the background work takes at most one
/// core, so the web runtime always finds the other; the applier still drained the 30,000-event burst as fast
/// (2,100-2,900 events/s, against 2,300-2,800 with two workers and 2,300-2,500 before), and the import is bound
/// by its single database writer, not by this runtime's threads.
pub const WORKERS: usize = 1;

/// How long stopping waits for background tasks that outlive their shutdown (a blocking call in flight) before the
/// runtime drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the background runtime runs, with the web side's handles it derives its own from.
#[derive(Debug, Clone)]
pub struct BackgroundWork {
    /// The web side's store: shared on SQLite, the source of a new pool on PostgreSQL.
    pub store: Store,
    /// The web side's Stripe access, whose rate limiters the background shares.
    pub access: StripeAccess,
    /// Opens connections' stored keys.
    pub master_key: MasterKey,
    /// How often the import worker looks for newly queued imports.
    pub import_poll: Duration,
    /// Live sync's timing.
    pub live: LiveConfig,
    /// Whether the rollup refresher runs (`bench webhooks --no-rollup-refresher` leaves it out to show its share).
    pub rollup_refresher: bool,
}

/// The running background runtime. Cancel the shutdown token given to [`Background::start`], then wait for it with
/// [`Background::stopped`].
#[derive(Debug)]
pub struct Background {
    stopped: oneshot::Receiver<()>,
}

impl Background {
    /// Starts the background runtime on its own thread and the work on it; returns once its store is open, so a
    /// database that cannot be reached is reported here. The work runs until `shutdown` is cancelled.
    pub async fn start(
        work: BackgroundWork,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Background> {
        let (ready, is_ready) = oneshot::channel();
        let (stopped_tx, stopped) = oneshot::channel();
        std::thread::Builder::new()
            .name("payscope-background".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKERS)
                    .thread_name("payscope-background-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready
                            .send(Err(anyhow::Error::new(error)
                                .context("starting the background runtime")));
                        return;
                    }
                };
                runtime.block_on(run(work, shutdown, ready));
                // A blocking context (this thread, outside `block_on`): dropping a runtime inside an async one
                // panics.
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
                let _ = stopped_tx.send(());
            })
            .context("starting the background runtime's thread")?;
        is_ready
            .await
            .context("the background runtime ended before it started its work")??;
        Ok(Background { stopped })
    }

    /// Waits until the background work has stopped (after the shutdown token was cancelled), its store is closed
    /// (on PostgreSQL; on SQLite it is the caller's) and its runtime is shut down.
    pub async fn stopped(self) {
        if self.stopped.await.is_err() {
            tracing::error!("the background runtime's thread ended abnormally");
        }
    }
}

/// The background runtime's main task: opens its own handles, runs the work until `shutdown`, waits for every task
/// and closes its own pool.
async fn run(
    work: BackgroundWork,
    shutdown: CancellationToken,
    ready: oneshot::Sender<anyhow::Result<()>>,
) {
    let store = match work.store.for_another_runtime().await {
        Ok(store) => store,
        Err(error) => {
            let _ = ready
                .send(Err(anyhow::Error::new(error)
                    .context("opening the background runtime's database pool")));
            return;
        }
    };
    let access = StripeAccess::sharing_limiters_with(&work.access);
    let _ = ready.send(Ok(()));

    let importer = Importer::new(
        store.clone(),
        access.clone(),
        work.master_key.clone(),
        ImportConfig::default(),
    );
    let import = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { importer.run_pending(work.import_poll, shutdown).await }
    });
    let live_sync = LiveSync::new(store.clone(), access, work.master_key, work.live);
    let live = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { live_sync.run(shutdown).await }
    });
    let refresher = RollupRefresher::new(store.clone(), RollupRefresher::DEFAULT_INTERVAL);
    let rollups = tokio::spawn({
        let shutdown = shutdown.clone();
        let run = work.rollup_refresher;
        async move {
            if run {
                refresher.run(shutdown).await;
            }
        }
    });
    for (task, what) in [
        (import, "the import worker"),
        (live, "the live-sync worker"),
        (rollups, "the rollup refresher"),
    ] {
        if let Err(error) = task.await {
            tracing::error!(%error, "{what} ended abnormally");
        }
    }
    // On SQLite the store is the web side's (one writer per file): its owner closes it.
    if store.dialect() == Dialect::Postgres {
        store.close().await;
    }
}
