//! Import jobs and their per-range checkpoints. Ranges are claimed through the database with a lease, so several
//! workers (threads or processes) share one import and a crashed worker's range is picked up when its lease ends.

use sqlx::any::AnyRow;
use sqlx::{Acquire, AnyConnection, Row};

use super::objects::{renumber_attempts_in, upsert_objects_in, upsert_payments_in};
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

/// A job as stored, with how it ended: what the import log and the progress API show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobRecord {
    /// The job.
    pub job: ImportJob,
    /// When the job last started running (unix seconds).
    pub started_at: Option<i64>,
    /// When it ended (unix seconds), absent while running.
    pub finished_at: Option<i64>,
    /// Why it stopped, for `failed` and `needs_attention`.
    pub error: Option<String>,
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

/// Everything one import step writes, atomically: the page's objects and payments, the range's new checkpoint,
/// the ranges split off it, and the per-day counts of what Stripe listed.
#[derive(Debug, Clone, Copy)]
pub struct ImportPageWrite<'a> {
    /// The range as claimed (its job, resource and `range_start` identify the row).
    pub range: &'a ImportRange,
    /// The worker holding the claim; nothing is stored if it no longer does.
    pub worker: &'a str,
    /// The connection the objects belong to.
    pub connection_id: &'a str,
    /// The range's lower bound after this step: a split hands `[range_start, new_start)` to `split_off`.
    pub new_start: i64,
    /// The id to resume after (`starting_after`), `None` when done.
    pub cursor: Option<&'a str>,
    /// `created` of the cursor object: the range is covered from here to its end.
    pub cursor_created: Option<i64>,
    /// Whether the range is finished.
    pub done: bool,
    /// The claim's new lease end (unix seconds).
    pub lease_until: i64,
    /// New unclaimed ranges `[start, end)` carved out of `[range_start, new_start)`.
    pub split_off: &'a [(i64, i64)],
    /// The page's objects as received.
    pub objects: &'a [RawObject],
    /// Objects carried inside them (an intent's PaymentMethod): stored too, not counted as the range's.
    pub embedded: &'a [RawObject],
    /// Payments normalised from the page's charges.
    pub payments: &'a [Payment],
    /// `(day, objects)` of this page by UTC day number (`created / 86400`), for the completeness check.
    pub listed_days: &'a [(i64, i64)],
}

/// WAL pages past which an import commit checkpoints the WAL itself (64 MiB at SQLite's 4 KiB pages): a batch of
/// import pages can hold several MiB, so the webhook inbox's smaller bound would checkpoint inside most commits.
const IMPORT_WAL_BOUND_PAGES: i64 = 16_384;

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

fn job_from(row: &AnyRow) -> StoreResult<ImportJobRecord> {
    Ok(ImportJobRecord {
        job: ImportJob {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            connection_id: row.try_get("connection_id")?,
            status: row.try_get("status")?,
            requested_at: row.try_get("requested_at")?,
        },
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        error: row.try_get("error")?,
    })
}

const JOB_COLUMNS: &str =
    "id, account_id, connection_id, status, requested_at, started_at, finished_at, error";

pub(super) async fn insert_range_in(
    conn: &mut AnyConnection,
    range: &ImportRange,
) -> StoreResult<()> {
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_job_in(conn: &mut AnyConnection, job: &ImportJob) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_jobs (id, account_id, connection_id, status, requested_at, started_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&job.id)
    .bind(&job.account_id)
    .bind(&job.connection_id)
    .bind(&job.status)
    .bind(job.requested_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Creates a running job with its initial ranges, atomically.
    pub async fn create_import_job(
        &self,
        job: &ImportJob,
        ranges: &[ImportRange],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        insert_job_in(&mut tx, job).await?;
        for range in ranges {
            insert_range_in(&mut tx, range).await?;
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
        self.claim_range_where(worker, now, lease_until, None).await
    }

    /// Like [`Store::claim_import_range`], restricted to one resource of one job: the import runs a set of workers
    /// per resource so a slow endpoint never starves the others of workers.
    pub async fn claim_import_range_of(
        &self,
        job_id: &str,
        resource: &str,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<ImportRange>> {
        self.claim_range_where(worker, now, lease_until, Some((job_id, resource)))
            .await
    }

    async fn claim_range_where(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
        only: Option<(&str, &str)>,
    ) -> StoreResult<Option<ImportRange>> {
        let lock = match self.dialect {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let filter = if only.is_some() {
            "AND r.job_id = $4 AND r.resource = $5"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE import_ranges SET claimed_by = $1, claimed_until = $2
             WHERE (job_id, resource, range_start) IN (
                 SELECT r.job_id, r.resource, r.range_start FROM import_ranges r
                 WHERE r.done = 0 AND (r.claimed_until IS NULL OR r.claimed_until < $3) {filter}
                   AND r.job_id IN (SELECT id FROM import_jobs WHERE status = 'running')
                 ORDER BY r.range_end DESC, r.resource LIMIT 1 {lock})
             RETURNING {RANGE_COLUMNS}"
        );
        let mut query = sqlx::query(&sql).bind(worker).bind(lease_until).bind(now);
        if let Some((job_id, resource)) = only {
            query = query.bind(job_id).bind(resource);
        }
        let row = query.fetch_optional(&self.writer).await?;
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
        self.store_import_step(&ImportPageWrite {
            range,
            worker,
            connection_id,
            new_start: range.range_start,
            cursor: next_cursor,
            cursor_created: None,
            done,
            lease_until,
            split_off: &[],
            objects,
            embedded: &[],
            payments,
            listed_days: &[],
        })
        .await
    }

    /// The import's one write: a page, its checkpoint, its splits and its listed counts in one transaction.
    /// Returns `false` (and stores nothing) when `write.worker` no longer holds the range's claim. Attempt numbers
    /// of the payments' intents are recomputed from every stored charge of those intents, so they are right
    /// whatever order the attempts arrive in.
    pub async fn store_import_step(&self, write: &ImportPageWrite<'_>) -> StoreResult<bool> {
        Ok(self.store_import_steps(std::slice::from_ref(write)).await?[0])
    }

    /// Several import steps in one transaction (group commit: one durable commit for many pages, which is what
    /// bounds SQLite's write rate). Each step still stores its page together with its checkpoint, or nothing when
    /// its worker lost the claim; the answer says which, in order.
    pub async fn store_import_steps(
        &self,
        writes: &[ImportPageWrite<'_>],
    ) -> StoreResult<Vec<bool>> {
        let mut conn = self.writer.acquire().await?;
        if self.dialect == Dialect::Sqlite {
            // Durable commits (FULL, whatever the last user of the writer set), and no WAL checkpoint inside them
            // until the WAL passes [`IMPORT_WAL_BOUND_PAGES`]: copying the WAL into the file and syncing it was
            // about half of each import commit, which the single writer waited for. The import's writer task
            // checkpoints beside it on a reader instead ([`Store::checkpoint`]); the bound keeps the WAL finite if
            // that falls behind.
            let settings = format!(
                "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {IMPORT_WAL_BOUND_PAGES}; \
                 PRAGMA journal_size_limit = {};",
                IMPORT_WAL_BOUND_PAGES * 4096
            );
            sqlx::query(&settings).execute(&mut *conn).await?;
        }
        let mut tx = conn.begin().await?;
        let mut stored = Vec::with_capacity(writes.len());
        for write in writes {
            stored.push(checkpoint_step_in(&mut tx, write).await?);
        }
        // The pages of the steps whose claims held, written together: a few multi-row statements for the whole
        // batch instead of several per page, since each statement is a round trip to SQLite's thread that the
        // single writer waits for. The order of the pages is kept, so the result is that of writing them one by
        // one.
        let kept: Vec<&ImportPageWrite<'_>> = writes
            .iter()
            .zip(&stored)
            .filter_map(|(write, &ok)| ok.then_some(write))
            .collect();
        let mut owners: Vec<(&str, &str)> = Vec::new();
        for write in &kept {
            let owner = (write.range.account_id.as_str(), write.connection_id);
            if !owners.contains(&owner) {
                owners.push(owner);
            }
        }
        for (account_id, connection_id) in owners {
            let theirs = || {
                kept.iter().filter(move |w| {
                    w.range.account_id == account_id && w.connection_id == connection_id
                })
            };
            let objects: Vec<&RawObject> = theirs()
                .flat_map(|w| w.objects.iter().chain(w.embedded))
                .collect();
            let payments: Vec<&Payment> = theirs().flat_map(|w| w.payments.iter()).collect();
            upsert_objects_in(&mut tx, account_id, connection_id, &objects).await?;
            upsert_payments_in(&mut tx, account_id, connection_id, &payments).await?;
            renumber_attempts_in(&mut tx, connection_id, &payments).await?;
        }
        tx.commit().await?;
        Ok(stored)
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

    /// How many ranges of one resource of a job are not finished yet, claimed or not (as of the last commit; read
    /// off the writer so it never waits behind writes).
    pub async fn open_import_ranges(&self, job_id: &str, resource: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM import_ranges
             WHERE job_id = $1 AND resource = $2 AND done = 0",
        )
        .bind(job_id)
        .bind(resource)
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Ends every lease on a job's ranges, so a process attaching to the import (after a crash of the one that
    /// ran it) resumes at once instead of waiting for leases to run out. Safe even if the old holder still runs:
    /// its next write finds the claim gone and stores nothing.
    pub async fn release_import_claims(&self, job_id: &str) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE import_ranges SET claimed_by = NULL, claimed_until = NULL WHERE job_id = $1 AND done = 0",
        )
        .bind(job_id)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    /// One job of `account_id`.
    pub async fn import_job(
        &self,
        account_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<ImportJobRecord>> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(job_id)
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(job_from)
        .transpose()
    }

    /// The latest jobs of a connection of `account_id`, newest first: the import log.
    pub async fn import_jobs(
        &self,
        account_id: &str,
        connection_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<ImportJobRecord>> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE account_id = $1 AND connection_id = $2
             ORDER BY requested_at DESC, id DESC LIMIT $3"
        ))
        .bind(account_id)
        .bind(connection_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(job_from)
        .collect()
    }

    /// Every running job of every account, oldest first: what the import workers of `payscope serve` pick up.
    pub async fn running_import_jobs(&self) -> StoreResult<Vec<ImportJob>> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE status = 'running' ORDER BY requested_at, id"
        ))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| job_from(row).map(|record| record.job))
        .collect()
    }

    /// Records how a job stands: `running` again (a retry; clears the end), or an end state with its error.
    pub async fn set_import_job_status(
        &self,
        job_id: &str,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let sql = if status == "running" {
            "UPDATE import_jobs SET status = $1, error = $2, started_at = $3, finished_at = NULL WHERE id = $4"
        } else {
            "UPDATE import_jobs SET status = $1, error = $2, finished_at = $3 WHERE id = $4"
        };
        let updated = sqlx::query(sql)
            .bind(status)
            .bind(error)
            .bind(now)
            .bind(job_id)
            .execute(&self.writer)
            .await?;
        Ok(updated.rows_affected() == 1)
    }
}

/// A step's checkpoint, splits and listed counts inside a caller's transaction; `false` when the worker no longer
/// holds the claim (nothing written, and the caller must not write the step's page either).
async fn checkpoint_step_in(
    conn: &mut AnyConnection,
    write: &ImportPageWrite<'_>,
) -> StoreResult<bool> {
    let range = write.range;
    let updated = sqlx::query(
        "UPDATE import_ranges SET cursor = $1, done = $2, objects = objects + $3, claimed_until = $4,
             range_start = $5, cursor_created = $6
         WHERE job_id = $7 AND resource = $8 AND range_start = $9 AND claimed_by = $10 AND done = 0",
    )
    .bind(write.cursor)
    .bind(i64::from(write.done))
    .bind(write.objects.len() as i64)
    .bind(write.lease_until)
    .bind(write.new_start)
    .bind(write.cursor_created)
    .bind(&range.job_id)
    .bind(&range.resource)
    .bind(range.range_start)
    .bind(write.worker)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    for &(start, end) in write.split_off {
        insert_range_in(
            conn,
            &ImportRange {
                job_id: range.job_id.clone(),
                account_id: range.account_id.clone(),
                resource: range.resource.clone(),
                range_start: start,
                range_end: end,
                cursor: None,
                done: false,
                objects: 0,
            },
        )
        .await?;
    }
    for &(day, listed) in write.listed_days {
        sqlx::query(
            "INSERT INTO import_day_counts (job_id, resource, day, listed) VALUES ($1, $2, $3, $4)
             ON CONFLICT (job_id, resource, day) DO UPDATE SET listed = import_day_counts.listed + excluded.listed",
        )
        .bind(&range.job_id)
        .bind(&range.resource)
        .bind(day)
        .bind(listed)
        .execute(&mut *conn)
        .await?;
    }
    Ok(true)
}
