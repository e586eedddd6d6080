//! Import jobs and their per-range checkpoints. Ranges are claimed through the database with a lease, so several
//! workers (threads or processes) share one import and a crashed worker's range is picked up when its lease ends.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::objects::{upsert_objects_in, upsert_payments_in};
use super::{Dialect, RawObject, Store, StoreResult, flag};
use crate::domain::payment::Payment;

/// One import of a connection's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    /// `imp_…`
    pub id: String,
    /// The tenant.
    pub account_id: String,
    /// The connection being imported.
    pub connection_id: String,
    /// `running`, `done`, `failed` or `needs_attention`.
    pub status: String,
    /// Unix seconds.
    pub requested_at: i64,
}

/// A slice `[range_start, range_end)` of one resource's `created` axis and how far its paging got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRange {
    /// The job it belongs to.
    pub job_id: String,
    /// The tenant.
    pub account_id: String,
    /// Stripe list resource (`charges`, `disputes`, …).
    pub resource: String,
    /// Inclusive lower bound on `created`.
    pub range_start: i64,
    /// Exclusive upper bound on `created`.
    pub range_end: i64,
    /// The last id stored (`starting_after` for the next page), if paging started.
    pub cursor: Option<String>,
    /// Whether every page of the range is stored.
    pub done: bool,
    /// Objects stored from this range so far.
    pub objects: i64,
}

const RANGE_COLUMNS: &str =
    "job_id, account_id, resource, range_start, range_end, cursor, done, objects";

fn range_from(row: &AnyRow) -> StoreResult<ImportRange> {
    Ok(ImportRange {
        job_id: row.try_get("job_id")?,
        account_id: row.try_get("account_id")?,
        resource: row.try_get("resource")?,
        range_start: row.try_get("range_start")?,
        range_end: row.try_get("range_end")?,
        cursor: row.try_get("cursor")?,
        done: flag(row.try_get("done")?),
        objects: row.try_get("objects")?,
    })
}

impl Store {
    /// Creates a running job with its initial ranges, atomically.
    pub async fn create_import_job(
        &self,
        job: &ImportJob,
        ranges: &[ImportRange],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO import_jobs (id, account_id, connection_id, status, requested_at, started_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&job.id)
        .bind(&job.account_id)
        .bind(&job.connection_id)
        .bind(&job.status)
        .bind(job.requested_at)
        .execute(&mut *tx)
        .await?;
        for range in ranges {
            sqlx::query(&format!(
                "INSERT INTO import_ranges ({RANGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&range.job_id)
            .bind(&range.account_id)
            .bind(&range.resource)
            .bind(range.range_start)
            .bind(range.range_end)
            .bind(&range.cursor)
            .bind(i64::from(range.done))
            .bind(range.objects)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims the newest unfinished range of any running job whose lease is free or expired, for `worker` until
    /// `lease_until`. Two workers never hold the same range: PostgreSQL skips rows another transaction locked;
    /// SQLite has a single writer.
    pub async fn claim_import_range(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<ImportRange>> {
        let lock = match self.dialect {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let row = sqlx::query(&format!(
            "UPDATE import_ranges SET claimed_by = $1, claimed_until = $2
             WHERE (job_id, resource, range_start) IN (
                 SELECT r.job_id, r.resource, r.range_start FROM import_ranges r
                 WHERE r.done = 0 AND (r.claimed_until IS NULL OR r.claimed_until < $3)
                   AND r.job_id IN (SELECT id FROM import_jobs WHERE status = 'running')
                 ORDER BY r.range_end DESC, r.resource LIMIT 1 {lock})
             RETURNING {RANGE_COLUMNS}"
        ))
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        row.as_ref().map(range_from).transpose()
    }

    /// Stores one fetched page and the range's new checkpoint in a single transaction, so a crash leaves either
    /// both or neither. Returns `false` (and stores nothing) when `worker` no longer holds the range's claim.
    #[allow(clippy::too_many_arguments)] // reason: one atomic step; a parameter struct would only rename these
    pub async fn store_import_page(
        &self,
        range: &ImportRange,
        worker: &str,
        connection_id: &str,
        next_cursor: Option<&str>,
        done: bool,
        lease_until: i64,
        objects: &[RawObject],
        payments: &[Payment],
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let updated = sqlx::query(
            "UPDATE import_ranges SET cursor = $1, done = $2, objects = objects + $3, claimed_until = $4
             WHERE job_id = $5 AND resource = $6 AND range_start = $7 AND claimed_by = $8 AND done = 0",
        )
        .bind(next_cursor)
        .bind(i64::from(done))
        .bind(objects.len() as i64)
        .bind(lease_until)
        .bind(&range.job_id)
        .bind(&range.resource)
        .bind(range.range_start)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        upsert_objects_in(&mut tx, &range.account_id, connection_id, objects).await?;
        upsert_payments_in(&mut tx, &range.account_id, connection_id, payments).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every range of a job of `account_id`, newest first.
    pub async fn import_ranges(
        &self,
        account_id: &str,
        job_id: &str,
    ) -> StoreResult<Vec<ImportRange>> {
        sqlx::query(&format!(
            "SELECT {RANGE_COLUMNS} FROM import_ranges WHERE account_id = $1 AND job_id = $2
             ORDER BY resource, range_end DESC"
        ))
        .bind(account_id)
        .bind(job_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(range_from)
        .collect()
    }
}
