//! Per-resource bookkeeping of an import: whether each resource is importing, complete or unreadable with the
//! key, what the completeness check found, and the figures the progress API and the check read.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::import::{ImportJob, ImportRange, insert_job_in, insert_range_in};
use super::{Dialect, Store, StoreResult};

/// One resource of one import job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportResource {
    /// The job.
    pub job_id: String,
    /// The tenant.
    pub account_id: String,
    /// Stripe list resource (`charges`, …).
    pub resource: String,
    /// `importing`, `complete` or `unreadable` (the key may not read it; the resource is optional).
    pub state: String,
    /// Why, for `unreadable`: the permission that is missing.
    pub reason: Option<String>,
    /// The `created` interval the job imports for this resource, `[range_start, range_end)`.
    pub range_start: i64,
    /// Exclusive end of that interval.
    pub range_end: i64,
    /// `matched` or `mismatched` once the completeness check ran.
    pub check_outcome: Option<String>,
    /// What the check compared, or where it found a difference.
    pub check_detail: Option<String>,
}

/// One range's figures for the progress report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProgress {
    /// Stripe list resource.
    pub resource: String,
    /// Inclusive start.
    pub range_start: i64,
    /// Exclusive end.
    pub range_end: i64,
    /// `created` of the cursor object, once paging started.
    pub cursor_created: Option<i64>,
    /// Whether every page is stored.
    pub done: bool,
    /// Objects stored from it.
    pub objects: i64,
}

const RESOURCE_COLUMNS: &str = "job_id, account_id, resource, state, reason, range_start, range_end, check_outcome, check_detail";

fn resource_from(row: &AnyRow) -> StoreResult<ImportResource> {
    Ok(ImportResource {
        job_id: row.try_get("job_id")?,
        account_id: row.try_get("account_id")?,
        resource: row.try_get("resource")?,
        state: row.try_get("state")?,
        reason: row.try_get("reason")?,
        range_start: row.try_get("range_start")?,
        range_end: row.try_get("range_end")?,
        check_outcome: row.try_get("check_outcome")?,
        check_detail: row.try_get("check_detail")?,
    })
}

impl Store {
    /// Creates a running job, its resources and their initial ranges in one transaction, so an import is either
    /// fully planned or absent.
    pub async fn create_import(
        &self,
        job: &ImportJob,
        resources: &[ImportResource],
        ranges: &[ImportRange],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        insert_job_in(&mut tx, job).await?;
        for r in resources {
            sqlx::query(&format!(
                "INSERT INTO import_resources ({RESOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&r.job_id)
            .bind(&r.account_id)
            .bind(&r.resource)
            .bind(&r.state)
            .bind(&r.reason)
            .bind(r.range_start)
            .bind(r.range_end)
            .bind(&r.check_outcome)
            .bind(&r.check_detail)
            .execute(&mut *tx)
            .await?;
        }
        for range in ranges {
            insert_range_in(&mut tx, range).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The resources of a job of `account_id`, by name.
    pub async fn import_resources(
        &self,
        account_id: &str,
        job_id: &str,
    ) -> StoreResult<Vec<ImportResource>> {
        sqlx::query(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM import_resources WHERE account_id = $1 AND job_id = $2
             ORDER BY resource"
        ))
        .bind(account_id)
        .bind(job_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(resource_from)
        .collect()
    }

    /// Marks an optional resource as not readable with the connection's key (naming why) and drops its unfinished
    /// ranges, in one transaction: the import goes on without it, visibly.
    pub async fn mark_import_resource_unreadable(
        &self,
        job_id: &str,
        resource: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE import_resources SET state = 'unreadable', reason = $1 WHERE job_id = $2 AND resource = $3",
        )
        .bind(reason)
        .bind(job_id)
        .bind(resource)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM import_ranges WHERE job_id = $1 AND resource = $2 AND done = 0")
            .bind(job_id)
            .bind(resource)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a resource's state (`importing`, `complete`) and, when given, the completeness check's result.
    pub async fn set_import_resource_state(
        &self,
        job_id: &str,
        resource: &str,
        state: &str,
        check: Option<(&str, &str)>,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE import_resources SET state = $1,
                 check_outcome = COALESCE($2, check_outcome), check_detail = COALESCE($3, check_detail),
                 checked_at = CASE WHEN $2 IS NULL THEN checked_at ELSE $4 END
             WHERE job_id = $5 AND resource = $6",
        )
        .bind(state)
        .bind(check.map(|c| c.0))
        .bind(check.map(|c| c.1))
        .bind(now)
        .bind(job_id)
        .bind(resource)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every range of a job with its coverage, for the progress report.
    pub async fn import_range_progress(
        &self,
        account_id: &str,
        job_id: &str,
    ) -> StoreResult<Vec<RangeProgress>> {
        sqlx::query(
            "SELECT resource, range_start, range_end, cursor_created, done, objects FROM import_ranges
             WHERE account_id = $1 AND job_id = $2 ORDER BY resource, range_end DESC",
        )
        .bind(account_id)
        .bind(job_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(RangeProgress {
                resource: row.try_get("resource")?,
                range_start: row.try_get("range_start")?,
                range_end: row.try_get("range_end")?,
                cursor_created: row.try_get("cursor_created")?,
                done: row.try_get::<i64, _>("done")? != 0,
                objects: row.try_get("objects")?,
            })
        })
        .collect()
    }

    /// What Stripe listed for one resource of a job, per UTC day number (`created / 86400`), ascending.
    pub async fn import_listed_days(
        &self,
        job_id: &str,
        resource: &str,
    ) -> StoreResult<Vec<(i64, i64)>> {
        sqlx::query(
            "SELECT day, listed FROM import_day_counts WHERE job_id = $1 AND resource = $2 ORDER BY day",
        )
        .bind(job_id)
        .bind(resource)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("day")?, row.try_get("listed")?)))
        .collect()
    }

    /// What is stored of one object type for a connection of `account_id` with `created` in `[start, end)`, per
    /// UTC day number, ascending: the other side of the completeness check.
    pub async fn stored_days(
        &self,
        account_id: &str,
        connection_id: &str,
        object_type: &str,
        start: i64,
        end: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        sqlx::query(
            "SELECT created / 86400 AS day, CAST(COUNT(*) AS BIGINT) AS n FROM stripe_objects
             WHERE account_id = $1 AND connection_id = $2 AND object_type = $3 AND created >= $4 AND created < $5
             GROUP BY created / 86400 ORDER BY day",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(object_type)
        .bind(start)
        .bind(end)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("day")?, row.try_get("n")?)))
        .collect()
    }
}

/// Where stored objects name a PaymentMethod by id: `(object type, JSON path)`. An intent's `payment_method` and a
/// customer's default are stored as ids (the import puts expanded ones back); the errors embed the object.
const PAYMENT_METHOD_REFERENCES: &[(&str, &[&str])] = &[
    ("payment_intent", &["payment_method"]),
    (
        "payment_intent",
        &["last_payment_error", "payment_method", "id"],
    ),
    ("setup_intent", &["payment_method"]),
    (
        "setup_intent",
        &["last_setup_error", "payment_method", "id"],
    ),
    ("customer", &["invoice_settings", "default_payment_method"]),
];

impl Store {
    /// PaymentMethods named by the stored payment intents, setup intents and customers of a connection of
    /// `account_id`: `(distinct ids named, how many of them are not stored)`. The completeness check of payment
    /// methods, which Stripe does not list in full (its list without `customer` is for Treasury flows).
    pub async fn payment_method_references(
        &self,
        account_id: &str,
        connection_id: &str,
    ) -> StoreResult<(i64, i64)> {
        self.named_payment_methods(account_id, connection_id, PAYMENT_METHOD_REFERENCES)
            .await
    }

    /// PaymentMethods named by the stored charges of a connection of `account_id`: `(distinct ids named, how many
    /// are not stored)`. The second number is what no listing reaches: cards used only by charges whose intent
    /// names another PaymentMethod now (a retry with a new card), and charges without an intent.
    pub async fn payment_methods_named_by_charges(
        &self,
        account_id: &str,
        connection_id: &str,
    ) -> StoreResult<(i64, i64)> {
        self.named_payment_methods(
            account_id,
            connection_id,
            &[("charge", &["payment_method"])],
        )
        .await
    }

    async fn named_payment_methods(
        &self,
        account_id: &str,
        connection_id: &str,
        references: &[(&str, &[&str])],
    ) -> StoreResult<(i64, i64)> {
        let selects: Vec<String> = references
            .iter()
            .map(|(object_type, path)| {
                format!(
                    "SELECT {} AS pm FROM stripe_objects WHERE account_id = $1 AND connection_id = $2
                         AND object_type = '{object_type}'",
                    json_text(self.dialect, path)
                )
            })
            .collect();
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS named,
                 CAST(COALESCE(SUM(CASE WHEN p.id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS missing
             FROM ({}) refs
             LEFT JOIN stripe_objects p ON p.connection_id = $3 AND p.object_type = 'payment_method' AND p.id = refs.pm
             WHERE refs.pm IS NOT NULL",
            // UNION (not UNION ALL) also makes the ids distinct.
            if selects.len() == 1 {
                format!("SELECT DISTINCT pm FROM ({}) one", selects[0])
            } else {
                selects.join(" UNION ")
            }
        );
        let row = sqlx::query(&sql)
            .bind(account_id)
            .bind(connection_id)
            .bind(connection_id)
            .fetch_one(&self.reader)
            .await?;
        Ok((row.try_get("named")?, row.try_get("missing")?))
    }
}

/// The text at `path` inside the `json` column (NULL when absent or null).
fn json_text(dialect: Dialect, path: &[&str]) -> String {
    match dialect {
        Dialect::Sqlite => format!("json_extract(json, '$.{}')", path.join(".")),
        Dialect::Postgres => format!("(CAST(json AS jsonb) #>> '{{{}}}')", path.join(",")),
    }
}
