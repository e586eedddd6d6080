//! The webhook event inbox: an event is durable here before Stripe gets its 200, then applied asynchronously.

use sqlx::Row;

use super::{Store, StoreResult, unix_now};

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
