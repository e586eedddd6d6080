//! What an import has done so far, per resource: objects stored, share of the time range covered, rate, ETA,
//! readability and the completeness check. Served by the JSON API and drawn by `payscope import`.

use serde::Serialize;

use super::planner::covered_share;
use crate::store::{ImportJobRecord, Store, StoreResult, unix_now};

/// The latest import of a connection, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportProgress {
    /// The job (`imp_…`).
    pub job_id: String,
    /// `running`, `done`, `failed` or `needs_attention`.
    pub status: String,
    /// Why it stopped, when it did.
    pub error: Option<String>,
    /// When it was requested (unix seconds).
    pub requested_at: i64,
    /// When it last started running.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// Objects stored over all resources.
    pub objects: i64,
    /// Whether every resource is complete (unreadable optional resources aside).
    pub complete: bool,
    /// One entry per resource, by name.
    pub resources: Vec<ResourceProgress>,
}

/// One resource of an import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceProgress {
    /// `charges`, `payment_intents`, …
    pub resource: String,
    /// `importing`, `complete` or `unreadable`.
    pub state: String,
    /// For `unreadable`: which permission is missing.
    pub reason: Option<String>,
    /// Objects stored.
    pub objects: i64,
    /// Share of the resource's `created` range already listed, 0.0–1.0.
    pub covered: f64,
    /// Objects stored per second since the job started.
    pub objects_per_second: f64,
    /// Seconds left at the current pace, when it can be told.
    pub eta_seconds: Option<i64>,
    /// Ranges not finished yet.
    pub open_ranges: usize,
    /// `matched` or `mismatched` once the completeness check ran.
    pub check: Option<String>,
    /// What the check compared or found.
    pub check_detail: Option<String>,
}

/// The progress of the latest import of a connection of `account_id`, or `None` if it was never imported.
pub async fn import_progress(
    store: &Store,
    account_id: &str,
    connection_id: &str,
) -> StoreResult<Option<ImportProgress>> {
    let Some(record) = store
        .import_jobs(account_id, connection_id, 1)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    job_progress(store, &record).await.map(Some)
}

/// The progress of one job.
pub async fn job_progress(store: &Store, record: &ImportJobRecord) -> StoreResult<ImportProgress> {
    let job = &record.job;
    let resources = store.import_resources(&job.account_id, &job.id).await?;
    let ranges = store
        .import_range_progress(&job.account_id, &job.id)
        .await?;
    let now = record.finished_at.unwrap_or_else(unix_now);
    let elapsed = (now - record.started_at.unwrap_or(job.requested_at)).max(1) as f64;
    let mut rows = Vec::with_capacity(resources.len());
    for resource in &resources {
        let mine: Vec<_> = ranges
            .iter()
            .filter(|r| r.resource == resource.resource)
            .collect();
        let objects: i64 = mine.iter().map(|r| r.objects).sum();
        let open_ranges = mine.iter().filter(|r| !r.done).count();
        let covered = match resource.state.as_str() {
            "complete" => 1.0,
            _ => covered_share(
                &mine
                    .iter()
                    .map(|r| (r.range_start, r.range_end, r.cursor_created, r.done))
                    .collect::<Vec<_>>(),
            ),
        };
        let rate = objects as f64 / elapsed;
        let eta_seconds = (resource.state == "importing" && covered > 0.0 && covered < 1.0)
            .then(|| (elapsed * (1.0 - covered) / covered).round() as i64);
        rows.push(ResourceProgress {
            resource: resource.resource.clone(),
            state: resource.state.clone(),
            reason: resource.reason.clone(),
            objects,
            covered,
            objects_per_second: rate,
            eta_seconds,
            open_ranges,
            check: resource.check_outcome.clone(),
            check_detail: resource.check_detail.clone(),
        });
    }
    Ok(ImportProgress {
        job_id: job.id.clone(),
        status: job.status.clone(),
        error: record.error.clone(),
        requested_at: job.requested_at,
        started_at: record.started_at,
        finished_at: record.finished_at,
        objects: rows.iter().map(|r| r.objects).sum(),
        complete: !rows.is_empty() && rows.iter().all(|r| r.state != "importing"),
        resources: rows,
    })
}
