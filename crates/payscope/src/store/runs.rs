//! Import and sync run logs per connection: what ran, when, with what result (Pagos's "Data Import Logs").

use sqlx::Row;

use super::{Store, StoreResult};
use crate::domain::ids::new_id;

/// One run of an import or a catch-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    /// `run_…`
    pub id: String,
    /// The connection it ran for.
    pub connection_id: String,
    /// `import` or `catch_up`.
    pub kind: String,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds, once finished.
    pub finished_at: Option<i64>,
    /// `succeeded`, `failed`, …; absent while running.
    pub outcome: Option<String>,
    /// Objects stored by the run.
    pub objects: i64,
    /// What went wrong, for a failed run.
    pub error: Option<String>,
}

impl Store {
    /// Records the start of a run and returns its id.
    pub async fn start_sync_run(
        &self,
        account_id: &str,
        connection_id: &str,
        kind: &str,
        now: i64,
    ) -> StoreResult<String> {
        let id = new_id("run");
        sqlx::query(
            "INSERT INTO sync_runs (id, account_id, connection_id, kind, started_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(connection_id)
        .bind(kind)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(id)
    }

    /// Records how a run ended.
    pub async fn finish_sync_run(
        &self,
        id: &str,
        outcome: &str,
        objects: i64,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sync_runs SET finished_at = $1, outcome = $2, objects = $3, error = $4 WHERE id = $5",
        )
        .bind(now)
        .bind(outcome)
        .bind(objects)
        .bind(error)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The latest runs of a connection of `account_id`, newest first.
    pub async fn sync_runs(
        &self,
        account_id: &str,
        connection_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<SyncRun>> {
        sqlx::query(
            "SELECT id, connection_id, kind, started_at, finished_at, outcome, objects, error FROM sync_runs
             WHERE account_id = $1 AND connection_id = $2 ORDER BY started_at DESC, id DESC LIMIT $3",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(SyncRun {
                id: row.try_get("id")?,
                connection_id: row.try_get("connection_id")?,
                kind: row.try_get("kind")?,
                started_at: row.try_get("started_at")?,
                finished_at: row.try_get("finished_at")?,
                outcome: row.try_get("outcome")?,
                objects: row.try_get("objects")?,
                error: row.try_get("error")?,
            })
        })
        .collect()
    }
}
