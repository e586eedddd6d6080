//! The webhook event inbox: an event is durable here before Stripe gets its 200, then applied asynchronously.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Row};
use tokio::sync::Notify;

use super::objects::{renumber_attempts_in, upsert_objects_in, upsert_payments_in};
use super::{Dialect, Store, StoreResult, unix_now};
use crate::domain::payment::Payment;
use crate::store::RawObject;

/// A verified event to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEvent {
    /// Stripe's `evt_…`; the inbox holds each once per connection.
    pub event_id: String,
    /// `charge.succeeded`, …
    pub event_type: String,
    /// The event's `created` (unix seconds).
    pub event_created: i64,
    /// The raw request body, exactly as signed.
    pub payload: String,
}

/// An event waiting to be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    /// The tenant.
    pub account_id: String,
    /// The connection it arrived for.
    pub connection_id: String,
    /// The event as kept.
    pub event: InboxEvent,
}

/// The WAL size (4 KiB pages) past which a webhook commit checkpoints it itself: far above what the applier's
/// checkpoints every 500 ms leave at 1,000 events/s, so only a process without an applier reaches it.
pub const WAL_BOUND_PAGES: i64 = 4096;
/// The size the WAL file is cut back to when it restarts after a checkpoint (SQLite keeps it at its largest size
/// otherwise).
pub const WAL_BOUND_BYTES: i64 = WAL_BOUND_PAGES * 4096;

impl Store {
    /// Keeps events for a connection in one durable transaction. Duplicates (same connection and event id) are
    /// ignored. Returns how many were new.
    pub async fn insert_inbox_events(
        &self,
        account_id: &str,
        connection_id: &str,
        events: &[InboxEvent],
    ) -> StoreResult<u64> {
        let received_at = unix_now();
        let mut tx = self.writer.begin().await?;
        let mut inserted = 0;
        for event in events {
            inserted += sqlx::query(
                "INSERT INTO webhook_inbox (account_id, connection_id, event_id, event_type, event_created, payload, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (connection_id, event_id) DO NOTHING",
            )
            .bind(account_id)
            .bind(connection_id)
            .bind(&event.event_id)
            .bind(&event.event_type)
            .bind(event.event_created)
            .bind(&event.payload)
            .bind(received_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The oldest events not applied yet, across connections.
    pub async fn pending_inbox_events(&self, limit: i64) -> StoreResult<Vec<PendingEvent>> {
        sqlx::query(
            "SELECT account_id, connection_id, event_id, event_type, event_created, payload FROM webhook_inbox
             WHERE applied_at IS NULL ORDER BY received_at, event_created LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(PendingEvent {
                account_id: row.try_get("account_id")?,
                connection_id: row.try_get("connection_id")?,
                event: InboxEvent {
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    event_created: row.try_get("event_created")?,
                    payload: row.try_get("payload")?,
                },
            })
        })
        .collect()
    }

    /// Marks an event applied, so it is not applied again.
    pub async fn mark_inbox_applied(
        &self,
        connection_id: &str,
        event_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_inbox SET applied_at = $1, attempts = attempts + 1
             WHERE connection_id = $2 AND event_id = $3",
        )
        .bind(now)
        .bind(connection_id)
        .bind(event_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

/// One verified delivery on its way into the inbox: the receiver's group commit writes many of them, for any
/// connections, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxDelivery {
    /// The tenant owning the connection.
    pub account_id: String,
    /// The connection whose endpoint received it.
    pub connection_id: String,
    /// The event.
    pub event: InboxEvent,
}

/// What the webhook receiver needs to know about a connection before it trusts a delivery; looked up by the id in
/// the URL alone, since Stripe's request carries no account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The tenant owning the connection.
    pub account_id: String,
    /// `test` or `live`, to refuse events of the other mode.
    pub mode: String,
    /// The connection's status name (`disconnected` connections refuse deliveries).
    pub status: String,
    /// The endpoint's signing secret(s), sealed: the current one, then the one it replaced while that is still in
    /// its grace period; empty in polling mode.
    pub webhook_secrets_sealed: Vec<String>,
}

/// An event's application, written in one transaction: the objects and payments it changes, and the inbox row
/// marked applied.
#[derive(Debug, Clone)]
pub struct AppliedEvent<'a> {
    /// The tenant.
    pub account_id: &'a str,
    /// The connection.
    pub connection_id: &'a str,
    /// The event applied.
    pub event_id: &'a str,
    /// Its `created`, recorded as the newest applied event of the connection.
    pub event_created: i64,
    /// Raw objects to upsert (version-guarded).
    pub objects: &'a [RawObject],
    /// Payment rows to upsert (version-guarded).
    pub payments: &'a [Payment],
    /// When it was applied (unix seconds).
    pub now: i64,
}

impl Store {
    /// The connection behind a webhook URL, or `None` for an unknown id.
    pub async fn webhook_target(&self, connection_id: &str) -> StoreResult<Option<WebhookTarget>> {
        let row = sqlx::query(
            "SELECT account_id, mode, status, webhook_secret_sealed, previous_webhook_secret_sealed,
                 previous_webhook_secret_until
             FROM connections WHERE id = $1",
        )
        .bind(connection_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| {
            let sealed: Option<String> = row.try_get("webhook_secret_sealed")?;
            // The secret a pasted one replaced is accepted until its grace period ends, then no more.
            let previous: Option<String> = row.try_get("previous_webhook_secret_sealed")?;
            let until: Option<i64> = row.try_get("previous_webhook_secret_until")?;
            let previous = previous.filter(|_| until.is_some_and(|until| unix_now() < until));
            Ok(WebhookTarget {
                account_id: row.try_get("account_id")?,
                mode: row.try_get("mode")?,
                status: row.try_get("status")?,
                webhook_secrets_sealed: sealed.into_iter().chain(previous).collect(),
            })
        })
        .transpose()
    }

    /// Keeps deliveries for any connections in one durable transaction (the receiver's group commit) and records
    /// when each connection last received one. Duplicates are ignored; returns how many were new.
    pub async fn insert_inbox_deliveries(&self, deliveries: &[InboxDelivery]) -> StoreResult<u64> {
        match self.dialect {
            Dialect::Sqlite => self.insert_inbox_deliveries_sqlite(deliveries).await,
            Dialect::Postgres => {
                let mut conn = self.writer.acquire().await?;
                insert_deliveries_postgres(&mut conn, deliveries).await
            }
        }
    }

    /// [`Store::insert_inbox_deliveries`] for the receiver's group commit, which on PostgreSQL keeps a connection of
    /// its own in `own` (opened on first use, and again after a failure): each commit then skips the pool's
    /// checkout and its liveness round trip, and never waits for a connection the rest of the process holds. Each
    /// acknowledgement waits for one such commit, and under CPU load every round trip to the server costs
    /// milliseconds. On SQLite the single writer connection is shared with the applier, so it is taken from the
    /// pool as before.
    pub async fn insert_inbox_deliveries_on(
        &self,
        own: &mut InboxConnection,
        deliveries: &[InboxDelivery],
    ) -> StoreResult<u64> {
        if self.dialect == Dialect::Sqlite {
            return self.insert_inbox_deliveries_sqlite(deliveries).await;
        }
        let conn = match &mut own.0 {
            Some(conn) => conn,
            slot => slot.insert(AnyConnection::connect_with(&self.writer.connect_options()).await?),
        };
        let outcome = insert_deliveries_postgres(conn, deliveries).await;
        if outcome.is_err() {
            // The connection may be broken: the next batch opens a new one.
            own.0 = None;
        }
        outcome
    }

    /// Closes the receiver's own connection, if it has one (when its writer stops).
    pub async fn close_inbox_connection(&self, own: InboxConnection) {
        if let Some(conn) = own.0 {
            let _ = conn.close().await;
        }
    }

    async fn insert_inbox_deliveries_sqlite(
        &self,
        deliveries: &[InboxDelivery],
    ) -> StoreResult<u64> {
        let received_at = unix_now();
        let started = std::time::Instant::now();
        let mut conn = self.writer.acquire().await?;
        let writer_wait = started.elapsed();
        // One round trip for the three settings (per connection: set on the writer that receives webhooks).
        // - The acknowledgement promises durability: FULL even if a relaxed write was cut short on this
        //   connection.
        // - No WAL checkpoint inside an acknowledged commit while the WAL is small (copying the WAL into the file
        //   and syncing it took tens of milliseconds, the acknowledgement p99): the applier checkpoints beside
        //   the writer instead ([`Store::checkpoint`]). If nothing does (a process that receives webhooks but
        //   runs no applier), the commit that takes the WAL past [`WAL_BOUND_PAGES`] checkpoints it, and the
        //   file is cut back to [`WAL_BOUND_BYTES`] when the WAL restarts: the WAL stays bounded, at the cost
        //   of one slow acknowledgement per bound's worth of deliveries.
        let settings = format!(
            "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {WAL_BOUND_PAGES}; \
             PRAGMA journal_size_limit = {WAL_BOUND_BYTES};"
        );
        sqlx::query(&settings).execute(&mut *conn).await?;
        let mut tx = conn.begin().await?;
        let mut inserted = 0;
        let mut connections: Vec<(&str, &str)> = Vec::new();
        // Multi-row statements: one round trip per 100 events instead of one per event. Duplicates inside a
        // statement are fine with DO NOTHING.
        for chunk in deliveries.chunks(100) {
            let sql = format!(
                "INSERT INTO webhook_inbox (account_id, connection_id, event_id, event_type, event_created, payload, received_at)
                 VALUES {}
                 ON CONFLICT (connection_id, event_id) DO NOTHING",
                super::objects::values_placeholders(&tx, chunk.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for delivery in chunk {
                query = query
                    .bind(&delivery.account_id)
                    .bind(&delivery.connection_id)
                    .bind(&delivery.event.event_id)
                    .bind(&delivery.event.event_type)
                    .bind(delivery.event.event_created)
                    .bind(&delivery.event.payload)
                    .bind(received_at);
                let key = (
                    delivery.account_id.as_str(),
                    delivery.connection_id.as_str(),
                );
                if !connections.contains(&key) {
                    connections.push(key);
                }
            }
            inserted += query.execute(&mut *tx).await?.rows_affected();
        }
        for (account_id, connection_id) in connections {
            sqlx::query(
                "INSERT INTO live_sync_state (connection_id, account_id, last_received_at) VALUES ($1, $2, $3)
                 ON CONFLICT (connection_id) DO UPDATE SET last_received_at = excluded.last_received_at",
            )
            .bind(connection_id)
            .bind(account_id)
            .bind(received_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::debug!(
            deliveries = deliveries.len(),
            writer_wait_us = writer_wait.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "inbox group commit"
        );
        Ok(inserted)
    }

    /// Whether the inbox of a connection of `account_id` holds an event (applied or not).
    pub async fn inbox_holds(
        &self,
        account_id: &str,
        connection_id: &str,
        event_id: &str,
    ) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT event_id FROM webhook_inbox WHERE account_id = $1 AND connection_id = $2 AND event_id = $3",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(event_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.is_some())
    }

    /// The oldest unapplied events whose retry time (if any) has come, across connections.
    pub async fn due_inbox_events(&self, now: i64, limit: i64) -> StoreResult<Vec<PendingEvent>> {
        sqlx::query(
            "SELECT account_id, connection_id, event_id, event_type, event_created, payload FROM webhook_inbox
             WHERE applied_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
             ORDER BY received_at, event_created LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(PendingEvent {
                account_id: row.try_get("account_id")?,
                connection_id: row.try_get("connection_id")?,
                event: InboxEvent {
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    event_created: row.try_get("event_created")?,
                    payload: row.try_get("payload")?,
                },
            })
        })
        .collect()
    }

    /// Applies events in one transaction: their objects and payments (version-guarded upserts, in the given order),
    /// their inbox rows marked applied (and their claims released), and each connection's last-applied times. The
    /// statements are per connection, not per event (one round trip each for all objects, all payments, all inbox
    /// rows), and the commit does not wait for the disk ([`Store::relaxed_writer`]): a commit lost to a power cut
    /// leaves its events unapplied in the durable inbox, to be applied again.
    pub async fn apply_inbox_events(&self, events: &[AppliedEvent<'_>]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.relaxed_writer().await?;
        let outcome = apply_in(&mut conn, self.dialect, events).await;
        self.restore_durable(&mut conn, outcome).await
    }

    /// Records a failed application and when to try again; the event stays in the inbox.
    pub async fn defer_inbox_event(
        &self,
        account_id: &str,
        connection_id: &str,
        event_id: &str,
        error: &str,
        next_attempt_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_inbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
                 claimed_by = NULL, claimed_until = NULL
             WHERE account_id = $3 AND connection_id = $4 AND event_id = $5",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(account_id)
        .bind(connection_id)
        .bind(event_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Unapplied events of a connection (the applier's backlog, for health): how many, and the oldest one's
    /// `created`.
    pub async fn unapplied_inbox_events(
        &self,
        account_id: &str,
        connection_id: &str,
    ) -> StoreResult<(i64, Option<i64>)> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(MIN(event_created) AS BIGINT) AS oldest FROM webhook_inbox
             WHERE account_id = $1 AND connection_id = $2 AND applied_at IS NULL",
        )
        .bind(account_id)
        .bind(connection_id)
        .fetch_one(&self.reader)
        .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }
}

/// The receiver's own PostgreSQL connection for the inbox ([`Store::insert_inbox_deliveries_on`]); empty on SQLite
/// and until the first commit. Dropping it closes the connection abruptly: hand it to
/// [`Store::close_inbox_connection`].
#[derive(Default)]
pub struct InboxConnection(Option<AnyConnection>);

impl std::fmt::Debug for InboxConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxConnection")
            .field("open", &self.0.is_some())
            .finish()
    }
}

/// The group commit on PostgreSQL: the whole batch in one statement (and so one round trip and one implicit,
/// durable commit — `synchronous_commit` stays on for the inbox), its rows passed as one JSON array so that the
/// statement's text, prepared once per connection, is the same whatever the batch's size. The statement before it
/// took five round trips (a pool liveness check, BEGIN, the rows, the connection's last-received time, COMMIT), each
/// waiting for the server's turn on a busy machine.
async fn insert_deliveries_postgres(
    conn: &mut AnyConnection,
    deliveries: &[InboxDelivery],
) -> StoreResult<u64> {
    if deliveries.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let rows: Vec<serde_json::Value> = deliveries
        .iter()
        .map(|d| {
            serde_json::json!({
                "account_id": d.account_id,
                "connection_id": d.connection_id,
                "event_id": d.event.event_id,
                "event_type": d.event.event_type,
                "event_created": d.event.event_created,
                "payload": d.event.payload,
            })
        })
        .collect();
    // Data-modifying CTEs always run to completion, read or not. DISTINCT: one connection's row is updated once.
    let row = sqlx::query(
        "WITH batch AS (
             SELECT * FROM json_to_recordset(CAST($1 AS json)) AS b(account_id TEXT, connection_id TEXT,
                 event_id TEXT, event_type TEXT, event_created BIGINT, payload TEXT)),
         kept AS (
             INSERT INTO webhook_inbox (account_id, connection_id, event_id, event_type, event_created, payload, received_at)
             SELECT account_id, connection_id, event_id, event_type, event_created, payload, CAST($2 AS BIGINT) FROM batch
             ON CONFLICT (connection_id, event_id) DO NOTHING
             RETURNING 1),
         seen AS (
             INSERT INTO live_sync_state (connection_id, account_id, last_received_at)
             SELECT DISTINCT connection_id, account_id, CAST($2 AS BIGINT) FROM batch
             ON CONFLICT (connection_id) DO UPDATE SET last_received_at = excluded.last_received_at)
         SELECT CAST(COUNT(*) AS BIGINT) AS inserted FROM kept",
    )
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(unix_now())
    .fetch_one(&mut *conn)
    .await?;
    let inserted: i64 = row.try_get("inserted")?;
    tracing::debug!(
        deliveries = deliveries.len(),
        total_us = started.elapsed().as_micros() as u64,
        "inbox group commit"
    );
    Ok(inserted as u64)
}

/// [`Store::apply_inbox_events`]'s transaction, grouped by connection (keeping the events' order within each).
async fn apply_in(
    conn: &mut AnyConnection,
    dialect: Dialect,
    events: &[AppliedEvent<'_>],
) -> StoreResult<()> {
    let mut tx = conn.begin().await?;
    if dialect == Dialect::Postgres {
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
    }
    let mut groups: Vec<(&str, &str, Vec<&AppliedEvent<'_>>)> = Vec::new();
    for applied in events {
        match groups
            .iter_mut()
            .find(|(a, c, _)| *a == applied.account_id && *c == applied.connection_id)
        {
            Some(group) => group.2.push(applied),
            None => groups.push((applied.account_id, applied.connection_id, vec![applied])),
        }
    }
    for (account_id, connection_id, group) in groups {
        let objects: Vec<RawObject> = group
            .iter()
            .flat_map(|a| a.objects.iter().cloned())
            .collect();
        let payments: Vec<Payment> = group
            .iter()
            .flat_map(|a| a.payments.iter().cloned())
            .collect();
        upsert_objects_in(&mut tx, account_id, connection_id, &objects).await?;
        upsert_payments_in(&mut tx, account_id, connection_id, &payments).await?;
        renumber_attempts_in(&mut tx, connection_id, &payments).await?;
        let now = group.iter().map(|a| a.now).max().unwrap_or_else(unix_now);
        let created = group.iter().map(|a| a.event_created).max();
        for chunk in group.chunks(500) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 4)).collect();
            let sql = format!(
                "UPDATE webhook_inbox SET applied_at = $1, attempts = attempts + 1, last_error = NULL,
                     claimed_by = NULL, claimed_until = NULL
                 WHERE account_id = $2 AND connection_id = $3 AND event_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql)
                .bind(now)
                .bind(account_id)
                .bind(connection_id);
            for applied in chunk {
                query = query.bind(applied.event_id);
            }
            query.execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO live_sync_state (connection_id, account_id, last_applied_at, last_applied_event_created)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (connection_id) DO UPDATE SET last_applied_at = excluded.last_applied_at,
                 last_applied_event_created = CASE
                     WHEN live_sync_state.last_applied_event_created IS NULL
                       OR live_sync_state.last_applied_event_created < excluded.last_applied_event_created
                     THEN excluded.last_applied_event_created
                     ELSE live_sync_state.last_applied_event_created END",
        )
        .bind(connection_id)
        .bind(account_id)
        .bind(now)
        .bind(created)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

impl Store {
    /// Claims up to `limit` due, unapplied events for `worker` until `lease_until`, oldest first: events another
    /// worker holds (an unexpired claim) are skipped — on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so processes
    /// sharing the database never take the same event; on SQLite through the single writer. Applying or deferring
    /// an event releases its claim; a worker that died leaves it to be claimed again after `lease_until`.
    pub async fn claim_inbox_events(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<PendingEvent>> {
        let lock = match self.dialect {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_inbox SET claimed_by = $1, claimed_until = $2
             WHERE (connection_id, event_id) IN (
                 SELECT connection_id, event_id FROM webhook_inbox
                 WHERE applied_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $3)
                   AND (claimed_until IS NULL OR claimed_until <= $3)
                 ORDER BY received_at, event_created LIMIT $4 {lock})
             RETURNING account_id, connection_id, event_id, event_type, event_created, payload, received_at"
        );
        let mut conn = self.relaxed_writer().await?;
        let outcome = async {
            let mut tx = conn.begin().await?;
            if self.dialect == Dialect::Postgres {
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
            }
            let rows = sqlx::query(&sql)
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(rows)
        }
        .await;
        let rows = self.restore_durable(&mut conn, outcome).await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let received_at: i64 = row.try_get("received_at")?;
                Ok((
                    received_at,
                    PendingEvent {
                        account_id: row.try_get("account_id")?,
                        connection_id: row.try_get("connection_id")?,
                        event: InboxEvent {
                            event_id: row.try_get("event_id")?,
                            event_type: row.try_get("event_type")?,
                            event_created: row.try_get("event_created")?,
                            payload: row.try_get("payload")?,
                        },
                    },
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING has no order: restore the claim's (arrival, then `created`).
        claimed.sort_by_key(|(received_at, p)| (*received_at, p.event.event_created));
        Ok(claimed.into_iter().map(|(_, p)| p).collect())
    }

    /// Releases the claims `worker` holds on unapplied events, so any applier takes them at once (an applier
    /// stopping cleanly); returns how many. With `worker` `None`, releases every claim: only for a process that
    /// knows no other applier runs (SQLite, whose data file one process serves), on start — a claim a killed
    /// process left would otherwise hold its events for the rest of its lease. Releasing a claim that is still
    /// in use is safe anyway: applying is idempotent, the worst is an event applied twice.
    pub async fn release_inbox_claims(&self, worker: Option<&str>) -> StoreResult<u64> {
        let mut conn = self.relaxed_writer().await?;
        let outcome = async {
            let released = sqlx::query(
                "UPDATE webhook_inbox SET claimed_by = NULL, claimed_until = NULL
                 WHERE applied_at IS NULL AND claimed_by IS NOT NULL AND (CAST($1 AS TEXT) IS NULL OR claimed_by = $1)",
            )
            .bind(worker)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(released)
        }
        .await;
        self.restore_durable(&mut conn, outcome).await
    }

    /// Extends the claims `worker` holds on unapplied events to `lease_until` (the applier's heartbeat while a slice
    /// takes long, e.g. waiting on Stripe); returns how many. Claims of other workers are untouched.
    pub async fn renew_inbox_claims(&self, worker: &str, lease_until: i64) -> StoreResult<u64> {
        let mut conn = self.relaxed_writer().await?;
        let outcome = async {
            let renewed = sqlx::query(
                "UPDATE webhook_inbox SET claimed_until = $1
                 WHERE applied_at IS NULL AND claimed_by = $2",
            )
            .bind(lease_until)
            .bind(worker)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(renewed)
        }
        .await;
        self.restore_durable(&mut conn, outcome).await
    }

    /// Stored versions (tombstones included) of the given `(object type, id)`s of a connection, in one query per
    /// few hundred objects instead of one per object.
    pub async fn object_versions(
        &self,
        account_id: &str,
        connection_id: &str,
        keys: &[(String, String)],
    ) -> StoreResult<HashMap<(String, String), i64>> {
        let mut versions = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(300) {
            let pairs: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 3, 2 * i + 4))
                .collect();
            let sql = format!(
                "SELECT object_type, id, version FROM stripe_objects
                 WHERE account_id = $1 AND connection_id = $2 AND (object_type, id) IN ({})",
                pairs.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(account_id).bind(connection_id);
            for (object_type, id) in chunk {
                query = query.bind(object_type).bind(id);
            }
            for row in query.fetch_all(&self.reader).await? {
                versions.insert(
                    (row.try_get("object_type")?, row.try_get("id")?),
                    row.try_get("version")?,
                );
            }
        }
        Ok(versions)
    }

    /// Deletes up to `limit` events applied before `applied_before` (unix seconds); returns how many. Unapplied
    /// events are never deleted. The caller keeps `applied_before` far enough back that Stripe's retries (up to 3
    /// days) still find their event id and are ignored as duplicates.
    pub async fn prune_inbox(&self, applied_before: i64, limit: i64) -> StoreResult<u64> {
        let mut conn = self.relaxed_writer().await?;
        let outcome = async {
            let mut tx = conn.begin().await?;
            if self.dialect == Dialect::Postgres {
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
            }
            let deleted = sqlx::query(
                "DELETE FROM webhook_inbox WHERE (connection_id, event_id) IN (
                     SELECT connection_id, event_id FROM webhook_inbox
                     WHERE applied_at IS NOT NULL AND applied_at < $1 LIMIT $2)",
            )
            .bind(applied_before)
            .bind(limit)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(deleted)
        }
        .await;
        self.restore_durable(&mut conn, outcome).await
    }

    /// Copies the SQLite WAL back into the database file without blocking the writer (a PASSIVE checkpoint, run on
    /// a reader connection), so the WAL stays small although webhook commits leave checkpoints to this call. Live
    /// sync's applier calls it between its slices. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        if self.dialect == Dialect::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.reader)
                .await?;
        }
        Ok(())
    }

    /// The writer connection for work that is redone if lost (applying inbox events, claims, pruning): on SQLite with
    /// `synchronous = NORMAL`, whose WAL commits do not wait for the disk (a power cut may drop the newest of
    /// them, never corrupt the file; the next FULL commit makes them durable too). Hand it back through
    /// [`Store::restore_durable`]. Webhook deliveries set FULL again before their own commit, so even a relaxed
    /// write cut short never weakens an acknowledgement.
    async fn relaxed_writer(&self) -> StoreResult<PoolConnection<Any>> {
        let mut conn = self.writer.acquire().await?;
        if self.dialect == Dialect::Sqlite {
            sqlx::query("PRAGMA synchronous = NORMAL")
                .execute(&mut *conn)
                .await?;
        }
        Ok(conn)
    }

    /// Puts the writer connection back to durable commits; returns `outcome` (or the restore's own failure).
    async fn restore_durable<T>(
        &self,
        conn: &mut PoolConnection<Any>,
        outcome: StoreResult<T>,
    ) -> StoreResult<T> {
        if self.dialect == Dialect::Sqlite {
            let restored = sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut **conn)
                .await;
            let value = outcome?;
            restored?;
            return Ok(value);
        }
        outcome
    }

    /// Marks a write an acknowledgement is waiting on (a webhook delivery, from its arrival until its commit) for
    /// as long as the guard lives: background writers yield to it ([`Store::yield_to_urgent_writes`]), which
    /// keeps webhook acknowledgements fast while the applier works through a backlog on the single SQLite writer.
    pub fn urgent_write(&self) -> UrgentWrite {
        self.urgent.pending.fetch_add(1, Ordering::SeqCst);
        UrgentWrite {
            gate: self.urgent.clone(),
        }
    }

    /// Waits until no urgent write is pending, but at most `at_most`, so background work is slowed, never starved.
    /// Only SQLite's single writer needs it: on PostgreSQL it returns at once.
    pub async fn yield_to_urgent_writes(&self, at_most: Duration) {
        if self.dialect == Dialect::Postgres {
            return;
        }
        let deadline = tokio::time::Instant::now() + at_most;
        loop {
            let idle = self.urgent.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.urgent.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return;
            }
        }
    }
}

/// Counts urgent writes in progress, and wakes yielding background writers when there are none.
#[derive(Debug, Default)]
pub(super) struct UrgentWrites {
    pending: AtomicUsize,
    idle: Notify,
}

/// An urgent write in progress ([`Store::urgent_write`]); dropping it ends it.
#[derive(Debug)]
pub struct UrgentWrite {
    gate: Arc<UrgentWrites>,
}

impl Drop for UrgentWrite {
    fn drop(&mut self) {
        if self.gate.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.gate.idle.notify_waiters();
        }
    }
}
