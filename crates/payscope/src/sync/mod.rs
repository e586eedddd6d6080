//! The historical import: a pure planner of `created` ranges ([`planner`]), a step function that fetches one page
//! and stores it with its checkpoint in one transaction ([`step`]), and a thin pool of workers around them
//! ([`Importer`]), all stopped by one `CancellationToken`.
//!
//! Use: after creating a connection, [`queue_import`] plans its import; [`Importer::run_pending`] (in
//! `payscope serve`) or [`Importer::run_job`] (in `payscope import`) runs it; [`import_progress`] reports it.

pub mod completeness;
pub mod embedded;
pub mod live;
pub mod planner;
mod progress;
mod recent;
pub mod resources;
pub mod rollups;
pub mod step;
pub mod stored_ids;
mod worker;
pub mod writer;

pub use progress::{ImportProgress, ResourceProgress, import_progress, job_progress};
pub use worker::{ImportConfig, Importer};

use crate::domain::connection::{Connection, ConnectionStatus};
use crate::domain::ids::new_id;
use crate::store::{
    ImportJob, ImportJobRecord, ImportRange, ImportResource, Store, StoreError, unix_now,
};
use crate::stripe_access::AccessError;
use resources::RESOURCES;

/// Why an import could not be queued or run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No client could be made for the connection (its stored key cannot be opened).
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The connection does not exist in this account.
    #[error("no data connection {0} in this account; `payscope connections list` shows them")]
    NoConnection(String),
    /// The job does not exist in this account.
    #[error("no import {0} in this account")]
    NoJob(String),
    /// A worker task panicked.
    #[error("an import worker crashed: {0}")]
    Worker(String),
}

/// How a run of an import ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Every resource is imported (optional unreadable ones aside) and checked.
    Done,
    /// The key stopped working (a revoked permission, an expired key); the reason says what to fix.
    NeedsAttention(String),
    /// Stripe refused a request in a way retrying cannot fix.
    Failed(String),
    /// Shutdown came first; the job resumes from its checkpoints next time.
    Interrupted,
}

impl JobOutcome {
    /// The outcome a stored job records.
    pub fn from_record(record: &ImportJobRecord) -> JobOutcome {
        let reason = || record.error.clone().unwrap_or_default();
        match record.job.status.as_str() {
            "done" => JobOutcome::Done,
            "needs_attention" => JobOutcome::NeedsAttention(reason()),
            "failed" => JobOutcome::Failed(reason()),
            _ => JobOutcome::Interrupted,
        }
    }
}

/// Plans the import of a connection and returns the job id; the workers pick it up. If an import of the connection
/// is already running, its id is returned instead of starting a second one. Call it after creating a connection
/// (and to re-import one).
pub async fn queue_import(store: &Store, connection: &Connection) -> Result<String, SyncError> {
    let latest = store
        .import_jobs(&connection.account_id, &connection.id, 1)
        .await?;
    if let Some(running) = latest.iter().find(|r| r.job.status == "running") {
        return Ok(running.job.id.clone());
    }
    let now = unix_now();
    let job = ImportJob {
        id: new_id("imp"),
        account_id: connection.account_id.clone(),
        connection_id: connection.id.clone(),
        status: "running".into(),
        requested_at: now,
    };
    let mut resources = Vec::with_capacity(RESOURCES.len());
    let mut ranges = Vec::with_capacity(4 * RESOURCES.len());
    for resource in RESOURCES {
        let (start, end) = planner::initial_range(now, resource.window_days);
        resources.push(ImportResource {
            job_id: job.id.clone(),
            account_id: job.account_id.clone(),
            resource: resource.name.into(),
            state: "importing".into(),
            reason: None,
            range_start: start,
            range_end: end,
            check_outcome: None,
            check_detail: None,
        });
        // Cut at the recent bands, so the last days are paged in parallel from the start (see `recent`).
        let bands = if resource.created_filter {
            planner::initial_ranges(now, resource.window_days)
        } else {
            vec![(start, end)]
        };
        for (range_start, range_end) in bands {
            ranges.push(ImportRange {
                job_id: job.id.clone(),
                account_id: job.account_id.clone(),
                resource: resource.name.into(),
                range_start,
                range_end,
                cursor: None,
                done: false,
                objects: 0,
            });
        }
    }
    store.create_import(&job, &resources, &ranges).await?;
    store
        .set_connection_status(
            &connection.account_id,
            &connection.id,
            ConnectionStatus::Importing,
            None,
            now,
        )
        .await?;
    Ok(job.id)
}

/// The retry action of the import log: puts a stopped job (`failed` or `needs_attention`, e.g. after the key was
/// fixed) back to running, to resume from its checkpoints. Returns whether the job was stopped.
pub async fn resume_import(
    store: &Store,
    account_id: &str,
    job_id: &str,
) -> Result<bool, SyncError> {
    let record = store
        .import_job(account_id, job_id)
        .await?
        .ok_or_else(|| SyncError::NoJob(job_id.to_owned()))?;
    if !matches!(record.job.status.as_str(), "failed" | "needs_attention") {
        return Ok(false);
    }
    store
        .set_import_job_status(job_id, "running", None, unix_now())
        .await?;
    // The stopped run's range leases would hold the resumed one back for up to a minute.
    store.release_import_claims(job_id).await?;
    // The attention the stopped run raised is answered by the retry; the run raises it again if it still applies.
    store
        .set_connection_status(
            account_id,
            &record.job.connection_id,
            ConnectionStatus::Importing,
            None,
            unix_now(),
        )
        .await?;
    Ok(true)
}
