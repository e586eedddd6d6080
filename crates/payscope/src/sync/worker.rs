//! The thin loop around the step function: a pool of workers per resource claims ranges and steps through them
//! until every range is finished, the key stops working, or the shutdown token is cancelled; then each resource
//! gets its completeness check and the job its outcome.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::completeness::{check_payment_methods, check_resource};
use super::planner::PlannerConfig;
use super::recent::page_priority;
use super::resources::{RESOURCES, Resource, resource_named};
use super::step::{StepContext, StepError, prepare_step};
use super::stored_ids::StoredIds;
use super::writer::{PageWriter, PendingWrite};
use super::{JobOutcome, SyncError};
use crate::crypto::MasterKey;
use crate::domain::connection::ConnectionStatus;
use crate::domain::ids::new_id;
use crate::store::{ImportRange, Store, unix_now};
use crate::stripe_access::StripeAccess;

/// How an import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportConfig {
    /// The split rule (its `target_ranges` is also the workers per resource).
    pub planner: PlannerConfig,
    /// How long a claim lasts after each stored page, in seconds; a crashed worker's range is free after this.
    pub lease_seconds: i64,
    /// The longest pause between retries of a page after transient failures.
    pub max_retry_pause: Duration,
    /// How often an idle worker looks for ranges freed by other processes.
    pub idle_poll: Duration,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            planner: PlannerConfig::default(),
            lease_seconds: 60,
            max_retry_pause: Duration::from_secs(30),
            idle_poll: Duration::from_secs(2),
        }
    }
}

/// Runs imports: the store, the Stripe clients and the master key that opens connection keys. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Importer {
    store: Store,
    access: StripeAccess,
    master_key: MasterKey,
    config: ImportConfig,
}

/// What the workers of one job share.
struct JobShared {
    store: Store,
    client: stripe::Client,
    account_id: String,
    connection_id: String,
    job_id: String,
    config: ImportConfig,
    /// Cancelled on shutdown or when the job must stop (a fatal error).
    stop: CancellationToken,
    /// The first fatal outcome, which stops the job.
    fatal: Mutex<Option<JobOutcome>>,
    /// Objects stored by this run, for the run log.
    stored: AtomicU64,
    /// A tag naming this process's workers in claims.
    process_tag: String,
    /// The job's group-commit writer.
    writer: PageWriter,
    /// When the import was requested: the reference time of the recent days that go first (see `recent`).
    requested_at: i64,
    /// PaymentMethods this run has stored from inside other objects' pages (see `StepContext`).
    stored_payment_methods: StoredIds,
}

impl Importer {
    /// An importer over these services.
    pub fn new(
        store: Store,
        access: StripeAccess,
        master_key: MasterKey,
        config: ImportConfig,
    ) -> Self {
        Importer {
            store,
            access,
            master_key,
            config,
        }
    }

    /// The database this importer writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs one job of `account_id` until it ends or `shutdown` is cancelled, resuming from its checkpoints. A
    /// job that is not running returns its recorded outcome at once.
    pub async fn run_job(
        &self,
        account_id: &str,
        job_id: &str,
        shutdown: &CancellationToken,
    ) -> Result<JobOutcome, SyncError> {
        let record = self
            .store
            .import_job(account_id, job_id)
            .await?
            .ok_or_else(|| SyncError::NoJob(job_id.to_owned()))?;
        if record.job.status != "running" {
            return Ok(JobOutcome::from_record(&record));
        }
        let connection_id = record.job.connection_id.clone();
        let connection = self
            .store
            .connection(account_id, &connection_id)
            .await?
            .ok_or_else(|| SyncError::NoConnection(connection_id.clone()))?;
        let client = self.access.client_for(&connection, &self.master_key)?;
        let now = unix_now();
        let run_id = self
            .store
            .start_sync_run(account_id, &connection_id, "import", now)
            .await?;
        self.store
            .set_connection_status(
                account_id,
                &connection_id,
                ConnectionStatus::Importing,
                None,
                now,
            )
            .await?;
        let shared = Arc::new(JobShared {
            store: self.store.clone(),
            client,
            account_id: account_id.to_owned(),
            connection_id: connection_id.clone(),
            job_id: job_id.to_owned(),
            config: self.config,
            stop: shutdown.child_token(),
            fatal: Mutex::new(None),
            stored: AtomicU64::new(0),
            process_tag: new_id("wrk"),
            writer: PageWriter::batched(self.store.clone()),
            requested_at: record.job.requested_at,
            stored_payment_methods: StoredIds::default(),
        });
        let mut resources = JoinSet::new();
        for row in self.store.import_resources(account_id, job_id).await? {
            if row.state != "importing" {
                continue;
            }
            let Some(resource) = resource_named(&row.resource) else {
                tracing::warn!(resource = %row.resource, "unknown import resource skipped");
                continue;
            };
            let shared = Arc::clone(&shared);
            let interval = (row.range_start, row.range_end);
            resources.spawn(async move { run_resource(shared, resource, interval).await });
        }
        let mut first_error = None;
        while let Some(joined) = resources.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    shared.stop.cancel();
                    first_error.get_or_insert(error);
                }
                Err(panic) => {
                    shared.stop.cancel();
                    first_error.get_or_insert(SyncError::Worker(panic.to_string()));
                }
            }
        }
        // Workers stopped early (shutdown, a fatal error) may have left pages in the writer's queue; the run ends
        // once they are committed, so what it reports is what the database holds.
        if let Err(error) = shared.writer.flush().await {
            first_error.get_or_insert(error.into());
        }
        if first_error.is_none()
            && !shared.stop.is_cancelled()
            && let Err(error) = check_deferred(&shared).await
        {
            first_error.get_or_insert(error);
        }
        let stored = shared.stored.load(Ordering::Relaxed) as i64;
        let now = unix_now();
        let fatal = shared.fatal.lock().expect("fatal slot poisoned").take();
        let outcome = match (first_error, fatal) {
            (Some(error), _) => {
                let text = error.to_string();
                self.store
                    .finish_sync_run(&run_id, "failed", stored, Some(&text), now)
                    .await?;
                return Err(error);
            }
            (None, Some(fatal)) => fatal,
            (None, None) if shutdown.is_cancelled() => JobOutcome::Interrupted,
            (None, None) => JobOutcome::Done,
        };
        let (run_outcome, error) = match &outcome {
            JobOutcome::Done => {
                self.store
                    .set_import_job_status(job_id, "done", None, now)
                    .await?;
                self.store
                    .set_connection_status(
                        account_id,
                        &connection_id,
                        ConnectionStatus::Active,
                        None,
                        now,
                    )
                    .await?;
                ("succeeded", None)
            }
            JobOutcome::NeedsAttention(reason) => {
                self.store
                    .set_import_job_status(job_id, "needs_attention", Some(reason), now)
                    .await?;
                self.store
                    .set_connection_status(
                        account_id,
                        &connection_id,
                        ConnectionStatus::NeedsAttention,
                        Some(reason),
                        now,
                    )
                    .await?;
                ("needs_attention", Some(reason.as_str()))
            }
            JobOutcome::Failed(reason) => {
                self.store
                    .set_import_job_status(job_id, "failed", Some(reason), now)
                    .await?;
                ("failed", Some(reason.as_str()))
            }
            JobOutcome::Interrupted => ("interrupted", None),
        };
        self.store
            .finish_sync_run(&run_id, run_outcome, stored, error, now)
            .await?;
        tracing::info!(
            job = job_id,
            outcome = run_outcome,
            objects = stored,
            "import run ended"
        );
        Ok(outcome)
    }

    /// Runs every running job of every account, picking up new ones every `poll`, until `shutdown`: the import
    /// worker of `payscope serve`. Jobs run concurrently; their requests share each Stripe account's limiter.
    pub async fn run_pending(&self, poll: Duration, shutdown: CancellationToken) {
        let mut running: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            running.retain(|_, task| !task.is_finished());
            match self.store.running_import_jobs().await {
                Ok(jobs) => {
                    for job in jobs {
                        if running.contains_key(&job.id) {
                            continue;
                        }
                        let importer = self.clone();
                        let token = shutdown.clone();
                        let id = job.id.clone();
                        running.insert(
                            id.clone(),
                            tokio::spawn(async move {
                                if let Err(error) =
                                    importer.run_job(&job.account_id, &id, &token).await
                                {
                                    tracing::error!(job = %id, %error, "import run failed");
                                }
                            }),
                        );
                    }
                }
                Err(error) => tracing::error!(%error, "listing running imports failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(poll) => {}
            }
        }
        for (_, task) in running {
            let _ = task.await;
        }
    }
}

/// Runs a pool of workers over one resource's ranges, then checks the resource's completeness.
async fn run_resource(
    shared: Arc<JobShared>,
    resource: &'static Resource,
    interval: (i64, i64),
) -> Result<(), SyncError> {
    let resource_stop = shared.stop.child_token();
    let wake = Arc::new(Notify::new());
    let mut workers = JoinSet::new();
    let count = if resource.created_filter {
        shared.config.planner.target_ranges.max(1)
    } else {
        1
    };
    for i in 0..count {
        let shared = Arc::clone(&shared);
        let stop = resource_stop.clone();
        let wake = Arc::clone(&wake);
        let worker = format!("{}-{}-{i}", shared.process_tag, resource.name);
        workers.spawn(async move { run_worker(&shared, resource, &worker, &stop, &wake).await });
    }
    let mut result = Ok(());
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                resource_stop.cancel();
                if result.is_ok() {
                    result = Err(error);
                }
            }
            Err(panic) => {
                resource_stop.cancel();
                if result.is_ok() {
                    result = Err(SyncError::Worker(panic.to_string()));
                }
            }
        }
    }
    result?;
    if resource_stop.is_cancelled() || checked_last(resource) {
        // Stopped (shutdown, a fatal error, or the resource is unreadable): not complete, nothing to check. Or
        // checked once every resource is imported (`check_deferred`).
        return Ok(());
    }
    check_and_complete(&shared, resource, interval).await
}

/// Resources whose objects also come inside other resources' pages (payment methods): their check needs those
/// others imported, so it runs at the end of the job's run.
fn checked_last(resource: &Resource) -> bool {
    RESOURCES
        .iter()
        .any(|r| !r.payment_methods.is_empty() && resource.object_type == "payment_method")
}

/// Checks the resources [`checked_last`] leaves to the end of a run whose other resources all finished.
async fn check_deferred(shared: &JobShared) -> Result<(), SyncError> {
    let rows = shared
        .store
        .import_resources(&shared.account_id, &shared.job_id)
        .await?;
    for row in rows.iter().filter(|r| r.state == "importing") {
        if let Some(resource) = resource_named(&row.resource).filter(|r| checked_last(r)) {
            check_and_complete(shared, resource, (row.range_start, row.range_end)).await?;
        }
    }
    Ok(())
}

/// Once a resource has no open range: its completeness check, and its state `complete` with the result.
async fn check_and_complete(
    shared: &JobShared,
    resource: &'static Resource,
    interval: (i64, i64),
) -> Result<(), SyncError> {
    let store = &shared.store;
    if store
        .open_import_ranges(&shared.job_id, resource.name)
        .await?
        > 0
    {
        return Ok(());
    }
    let ranges: Vec<_> = store
        .import_ranges(&shared.account_id, &shared.job_id)
        .await?
        .into_iter()
        .filter(|r| r.resource == resource.name)
        .map(|r| (r.range_start, r.range_end, r.done))
        .collect();
    let listed = store
        .import_listed_days(&shared.job_id, resource.name)
        .await?;
    let (low, high) = if resource.created_filter {
        interval
    } else {
        // Objects of unfiltered lists are listed whatever their `created`.
        (i64::MIN, i64::MAX)
    };
    let stored = store
        .stored_days(
            &shared.account_id,
            &shared.connection_id,
            resource.object_type,
            low,
            high,
        )
        .await?;
    let check = if checked_last(resource) {
        let named = store
            .payment_method_references(&shared.account_id, &shared.connection_id)
            .await?;
        check_payment_methods(interval, &ranges, &listed, &stored, named)
    } else {
        check_resource(interval, &ranges, &listed, &stored)
    };
    if !check.matched() {
        tracing::warn!(resource = resource.name, detail = %check.detail, "completeness check found differences");
    }
    store
        .set_import_resource_state(
            &shared.job_id,
            resource.name,
            "complete",
            Some((check.outcome, &check.detail)),
            unix_now(),
        )
        .await?;
    Ok(())
}

/// One worker: claim a range of the resource, step through it, repeat; stop when no range is left.
async fn run_worker(
    shared: &JobShared,
    resource: &'static Resource,
    worker: &str,
    stop: &CancellationToken,
    wake: &Notify,
) -> Result<(), SyncError> {
    let store = &shared.store;
    let ctx = StepContext {
        store,
        writer: &shared.writer,
        client: &shared.client,
        connection_id: &shared.connection_id,
        resource,
        planner: &shared.config.planner,
        worker,
        lease_seconds: shared.config.lease_seconds,
        stored_payment_methods: &shared.stored_payment_methods,
    };
    loop {
        if stop.is_cancelled() {
            return Ok(());
        }
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = unix_now();
        let claimed = store
            .claim_import_range_of(
                &shared.job_id,
                resource.name,
                worker,
                now,
                now + shared.config.lease_seconds,
            )
            .await?;
        let Some(range) = claimed else {
            if store
                .open_import_ranges(&shared.job_id, resource.name)
                .await?
                == 0
            {
                wake.notify_waiters();
                return Ok(());
            }
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = &mut notified => {}
                _ = tokio::time::sleep(shared.config.idle_poll) => {}
            }
            continue;
        };
        step_through(shared, &ctx, range, stop, wake).await?;
    }
}

/// Steps through one claimed range until it is finished, lost, or the job stops.
async fn step_through(
    shared: &JobShared,
    ctx: &StepContext<'_>,
    mut range: ImportRange,
    stop: &CancellationToken,
    wake: &Notify,
) -> Result<(), SyncError> {
    // The range's end never moves (splits take its older part), so neither does its pages' priority.
    let client = shared.client.with_priority(page_priority(
        ctx.resource,
        shared.requested_at,
        range.range_end,
    ));
    let ctx = &StepContext {
        client: &client,
        ..*ctx
    };
    let mut pause = Duration::from_millis(500);
    // The page written last while its commit runs: the next page is fetched meanwhile, and its write (or its
    // error) waits for that commit, so checkpoints stay in order and a lost claim discards what followed.
    let mut committing: Option<Committing> = None;
    loop {
        let step = tokio::select! {
            _ = stop.cancelled() => {
                if let Some(previous) = committing {
                    settle(shared, previous, wake).await?;
                }
                return Ok(());
            }
            step = prepare_step(ctx, &range) => step,
        };
        if let Some(previous) = committing.take()
            && !settle(shared, previous, wake).await?
        {
            return Ok(());
        }
        match step {
            Ok(prepared) => {
                pause = Duration::from_millis(500);
                let committed = Committing {
                    split: !prepared.write.split_off.is_empty(),
                    stored: prepared.stored,
                    payment_methods: prepared.payment_methods,
                    pending: shared.writer.submit(prepared.write).await?,
                };
                let Some(next) = prepared.next else {
                    if settle(shared, committed, wake).await? {
                        wake.notify_waiters();
                    }
                    return Ok(());
                };
                committing = Some(committed);
                range = next;
            }
            Err(StepError::Transient(error)) => {
                // The client already retried with backoff; keep the checkpoint and try the same page again later.
                tracing::warn!(resource = %range.resource, %error, pause_ms = pause.as_millis() as u64, "page failed; retrying from the checkpoint");
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(shared.config.max_retry_pause);
            }
            Err(StepError::Permission(error)) if ctx.resource.optional => {
                let reason = format!(
                    "not readable with this key: {error}; payscope imports the rest without it"
                );
                tracing::warn!(resource = %range.resource, %reason, "optional resource skipped");
                shared
                    .store
                    .mark_import_resource_unreadable(&range.job_id, &range.resource, &reason)
                    .await?;
                return stop_resource(stop);
            }
            Err(StepError::Permission(error) | StepError::Authentication(error)) => {
                let reason = format!("importing {} stopped: {error}", ctx.resource.name);
                return stop_job(shared, JobOutcome::NeedsAttention(reason));
            }
            Err(StepError::Refused(error)) => {
                let reason = format!("importing {} failed: {error}", ctx.resource.name);
                return stop_job(shared, JobOutcome::Failed(reason));
            }
            Err(StepError::Store(error)) => return Err(error.into()),
        }
    }
}

/// A page handed to the writer, with what its commit means for the worker.
struct Committing {
    pending: PendingWrite,
    stored: usize,
    split: bool,
    /// PaymentMethods stored from inside the page's objects, known to the run once committed.
    payment_methods: Vec<String>,
}

/// Waits for a page's commit and counts it; `false` when the worker had lost the range's claim.
async fn settle(shared: &JobShared, page: Committing, wake: &Notify) -> Result<bool, SyncError> {
    if !page.pending.settle().await? {
        return Ok(false);
    }
    shared
        .stored
        .fetch_add(page.stored as u64, Ordering::Relaxed);
    if !page.payment_methods.is_empty() {
        shared.stored_payment_methods.extend(page.payment_methods);
    }
    if page.split {
        // New ranges were split off: wake idle workers to claim them.
        wake.notify_waiters();
    }
    Ok(true)
}

fn stop_resource(stop: &CancellationToken) -> Result<(), SyncError> {
    stop.cancel();
    Ok(())
}

fn stop_job(shared: &JobShared, outcome: JobOutcome) -> Result<(), SyncError> {
    tracing::error!(job = %shared.job_id, ?outcome, "import stopped");
    shared
        .fatal
        .lock()
        .expect("fatal slot poisoned")
        .get_or_insert(outcome);
    shared.stop.cancel();
    Ok(())
}
