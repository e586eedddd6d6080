//! Live sync's per-connection state: the events catch-up cursor, what the receiver and the applier last did, the
//! webhook endpoint's status on Stripe, and why the connection needs attention.

use sqlx::Row;

use super::{Store, StoreResult};

/// What payscope knows of a connection's live sync. Times are unix seconds; `None` = never.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveState {
    /// The newest event the catch-up has put in the inbox (`evt_…`).
    pub cursor_event_id: Option<String>,
    /// That event's `created`: the catch-up lists events created at or after it.
    pub cursor_created: Option<i64>,
    /// When a webhook delivery was last accepted.
    pub last_received_at: Option<i64>,
    /// When an event was last applied.
    pub last_applied_at: Option<i64>,
    /// The newest `created` among applied events.
    pub last_applied_event_created: Option<i64>,
    /// When the catch-up last finished a pass.
    pub last_catch_up_at: Option<i64>,
    /// The webhook endpoint as Stripe last reported it: `enabled`, `disabled` or `deleted`.
    pub endpoint_status: Option<String>,
    /// When the endpoint was last checked.
    pub endpoint_checked_at: Option<i64>,
    /// Why live sync cannot proceed (a 401/403 from Stripe), until it succeeds again.
    pub attention_reason: Option<String>,
}

impl Store {
    /// The live-sync state of a connection of `account_id` (all `None` before anything happened).
    pub async fn live_state(
        &self,
        account_id: &str,
        connection_id: &str,
    ) -> StoreResult<LiveState> {
        let row = sqlx::query(
            "SELECT cursor_event_id, cursor_created, last_received_at, last_applied_at, last_applied_event_created,
                    last_catch_up_at, endpoint_status, endpoint_checked_at, attention_reason
             FROM live_sync_state WHERE account_id = $1 AND connection_id = $2",
        )
        .bind(account_id)
        .bind(connection_id)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else {
            return Ok(LiveState::default());
        };
        Ok(LiveState {
            cursor_event_id: row.try_get("cursor_event_id")?,
            cursor_created: row.try_get("cursor_created")?,
            last_received_at: row.try_get("last_received_at")?,
            last_applied_at: row.try_get("last_applied_at")?,
            last_applied_event_created: row.try_get("last_applied_event_created")?,
            last_catch_up_at: row.try_get("last_catch_up_at")?,
            endpoint_status: row.try_get("endpoint_status")?,
            endpoint_checked_at: row.try_get("endpoint_checked_at")?,
            attention_reason: row.try_get("attention_reason")?,
        })
    }

    /// Moves the catch-up cursor of a connection and records the pass's time. Call it only once every event up to
    /// the cursor is durable in the inbox.
    pub async fn set_live_cursor(
        &self,
        account_id: &str,
        connection_id: &str,
        event_id: Option<&str>,
        created: i64,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO live_sync_state (connection_id, account_id, cursor_event_id, cursor_created, last_catch_up_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (connection_id) DO UPDATE SET cursor_event_id = excluded.cursor_event_id,
                 cursor_created = excluded.cursor_created, last_catch_up_at = excluded.last_catch_up_at",
        )
        .bind(connection_id)
        .bind(account_id)
        .bind(event_id)
        .bind(created)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records the webhook endpoint's status as Stripe reported it (`enabled`, `disabled`, `deleted`).
    pub async fn set_live_endpoint_status(
        &self,
        account_id: &str,
        connection_id: &str,
        status: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO live_sync_state (connection_id, account_id, endpoint_status, endpoint_checked_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (connection_id) DO UPDATE SET endpoint_status = excluded.endpoint_status,
                 endpoint_checked_at = excluded.endpoint_checked_at",
        )
        .bind(connection_id)
        .bind(account_id)
        .bind(status)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records why live sync of a connection needs the user (`None` clears it after a success).
    pub async fn set_live_attention(
        &self,
        account_id: &str,
        connection_id: &str,
        reason: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO live_sync_state (connection_id, account_id, attention_reason) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id) DO UPDATE SET attention_reason = excluded.attention_reason",
        )
        .bind(connection_id)
        .bind(account_id)
        .bind(reason)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
