//! The webhook event inbox: an event is durable here before Stripe gets its 200, then applied asynchronously.

use sqlx::Row;

use super::objects::{renumber_attempts_in, upsert_objects_in, upsert_payments_in};
use super::{Store, StoreResult, unix_now};
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
    /// The endpoint's signing secret(s), sealed; empty in polling mode.
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
            "SELECT account_id, mode, status, webhook_secret_sealed FROM connections WHERE id = $1",
        )
        .bind(connection_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| {
            let sealed: Option<String> = row.try_get("webhook_secret_sealed")?;
            Ok(WebhookTarget {
                account_id: row.try_get("account_id")?,
                mode: row.try_get("mode")?,
                status: row.try_get("status")?,
                webhook_secrets_sealed: sealed.into_iter().collect(),
            })
        })
        .transpose()
    }

    /// Keeps deliveries for any connections in one durable transaction (the receiver's group commit) and records
    /// when each connection last received one. Duplicates are ignored; returns how many were new.
    pub async fn insert_inbox_deliveries(&self, deliveries: &[InboxDelivery]) -> StoreResult<u64> {
        let received_at = unix_now();
        let mut tx = self.writer.begin().await?;
        let mut inserted = 0;
        let mut connections: Vec<(&str, &str)> = Vec::new();
        // Multi-row statements: one round trip per 100 events instead of one per event, which is most of the
        // commit's cost on PostgreSQL. Duplicates inside a statement are fine with DO NOTHING.
        for chunk in deliveries.chunks(100) {
            let values: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let cells: Vec<String> =
                        (1..=7).map(|col| format!("${}", row * 7 + col)).collect();
                    format!("({})", cells.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO webhook_inbox (account_id, connection_id, event_id, event_type, event_created, payload, received_at)
                 VALUES {}
                 ON CONFLICT (connection_id, event_id) DO NOTHING",
                values.join(", ")
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
    /// their inbox rows marked applied, and each connection's last-applied times. One transaction for a batch keeps
    /// the applier's share of the single SQLite writer small, so webhook acknowledgements do not queue behind it.
    pub async fn apply_inbox_events(&self, events: &[AppliedEvent<'_>]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        let mut newest: Vec<(&str, &str, i64, i64)> = Vec::new();
        for applied in events {
            upsert_objects_in(
                &mut tx,
                applied.account_id,
                applied.connection_id,
                applied.objects,
            )
            .await?;
            upsert_payments_in(
                &mut tx,
                applied.account_id,
                applied.connection_id,
                applied.payments,
            )
            .await?;
            renumber_attempts_in(&mut tx, applied.connection_id, applied.payments).await?;
            sqlx::query(
                "UPDATE webhook_inbox SET applied_at = $1, attempts = attempts + 1, last_error = NULL
                 WHERE account_id = $2 AND connection_id = $3 AND event_id = $4",
            )
            .bind(applied.now)
            .bind(applied.account_id)
            .bind(applied.connection_id)
            .bind(applied.event_id)
            .execute(&mut *tx)
            .await?;
            match newest
                .iter_mut()
                .find(|(_, c, _, _)| *c == applied.connection_id)
            {
                Some(entry) => {
                    entry.2 = entry.2.max(applied.event_created);
                    entry.3 = entry.3.max(applied.now);
                }
                None => newest.push((
                    applied.account_id,
                    applied.connection_id,
                    applied.event_created,
                    applied.now,
                )),
            }
        }
        for (account_id, connection_id, created, now) in newest {
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
            "UPDATE webhook_inbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2
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
