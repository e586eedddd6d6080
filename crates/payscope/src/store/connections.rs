//! Data connections: insert, read and list, always scoped by account; their webhook signing secrets (a pasted new
//! one, the previous one while Stripe still signs with it) and the count of deliveries refused for a bad signature.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::connection::{Connection, ConnectionStatus, Mode, Processor};

const COLUMNS: &str =
    "id, account_id, name, processor, mode, processor_account_id, api_key_sealed, api_key_hint,
    webhook_endpoint_id, webhook_secret_sealed, status, status_reason, created_at, updated_at";

/// A connection's signing-secret history and refused deliveries, for its health. Times are unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookSecretState {
    /// When the current secret was pasted or came with a replaced endpoint; `None` if it came with the connection.
    pub set_at: Option<i64>,
    /// Until when the secret before it is still accepted (it may already be past).
    pub previous_accepted_until: Option<i64>,
    /// Deliveries refused for a bad signature since the current secret was set.
    pub refused_count: i64,
    /// When the last of them was refused.
    pub last_refused_at: Option<i64>,
}

fn connection_from(row: &AnyRow) -> StoreResult<Connection> {
    let decode = |e: crate::domain::connection::UnknownName| sqlx::Error::Decode(Box::new(e));
    Ok(Connection {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        processor: Processor::parse(&row.try_get::<String, _>("processor")?).map_err(decode)?,
        mode: Mode::parse(&row.try_get::<String, _>("mode")?).map_err(decode)?,
        processor_account_id: row.try_get("processor_account_id")?,
        api_key_sealed: row.try_get("api_key_sealed")?,
        api_key_hint: row.try_get("api_key_hint")?,
        webhook_endpoint_id: row.try_get("webhook_endpoint_id")?,
        webhook_secret_sealed: row.try_get("webhook_secret_sealed")?,
        status: ConnectionStatus::parse(&row.try_get::<String, _>("status")?).map_err(decode)?,
        status_reason: row.try_get("status_reason")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Stores a new connection. A name already used in the account is refused with [`StoreError::NameTaken`].
    pub async fn insert_connection(&self, connection: &Connection) -> StoreResult<()> {
        let inserted = sqlx::query(&format!(
            "INSERT INTO connections ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (account_id, name) DO NOTHING"
        ))
        .bind(&connection.id)
        .bind(&connection.account_id)
        .bind(&connection.name)
        .bind(connection.processor.as_str())
        .bind(connection.mode.as_str())
        .bind(&connection.processor_account_id)
        .bind(&connection.api_key_sealed)
        .bind(&connection.api_key_hint)
        .bind(&connection.webhook_endpoint_id)
        .bind(&connection.webhook_secret_sealed)
        .bind(connection.status.as_str())
        .bind(&connection.status_reason)
        .bind(connection.created_at)
        .bind(connection.updated_at)
        .execute(&self.writer)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NameTaken(connection.name.clone()));
        }
        Ok(())
    }

    /// One connection of `account_id`; another account's id reads as absent.
    pub async fn connection(&self, account_id: &str, id: &str) -> StoreResult<Option<Connection>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connections WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(connection_from)
        .transpose()
    }

    /// Every connection of `account_id`, by name.
    pub async fn connections(&self, account_id: &str) -> StoreResult<Vec<Connection>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connections WHERE account_id = $1 ORDER BY name"
        ))
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(connection_from)
        .collect()
    }

    /// Records a new status (and its reason) for a connection of `account_id`. Returns whether it existed.
    pub async fn set_connection_status(
        &self,
        account_id: &str,
        id: &str,
        status: ConnectionStatus,
        reason: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        self.set_connection_columns(
            account_id,
            id,
            ("status", Some(status.as_str())),
            ("status_reason", reason),
            now,
        )
        .await
    }

    /// Renames a connection of `account_id`. Returns whether it existed; a name in use gives
    /// [`StoreError::NameTaken`].
    pub async fn rename_connection(
        &self,
        account_id: &str,
        id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let taken = sqlx::query(
            "SELECT id FROM connections WHERE account_id = $1 AND name = $2 AND id <> $3",
        )
        .bind(account_id)
        .bind(name)
        .bind(id)
        .fetch_optional(&self.writer)
        .await?;
        if taken.is_some() {
            return Err(StoreError::NameTaken(name.to_owned()));
        }
        let updated = sqlx::query(
            "UPDATE connections SET name = $1, updated_at = $2 WHERE account_id = $3 AND id = $4",
        )
        .bind(name)
        .bind(now)
        .bind(account_id)
        .bind(id)
        .execute(&self.writer)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::NameTaken(name.to_owned())
            }
            other => StoreError::Database(other),
        })?;
        Ok(updated.rows_affected() == 1)
    }

    /// Replaces the sealed API key (and its display hint) of a connection of `account_id`.
    pub async fn replace_connection_key(
        &self,
        account_id: &str,
        id: &str,
        api_key_sealed: &str,
        api_key_hint: &str,
        now: i64,
    ) -> StoreResult<bool> {
        self.set_connection_columns(
            account_id,
            id,
            ("api_key_sealed", Some(api_key_sealed)),
            ("api_key_hint", Some(api_key_hint)),
            now,
        )
        .await
    }

    /// Points a connection of `account_id` at a new webhook endpoint and its (sealed) signing secret. The old
    /// endpoint's secrets are dropped (previous one included) and its refused-delivery count starts over.
    pub async fn replace_connection_webhook(
        &self,
        account_id: &str,
        id: &str,
        endpoint_id: &str,
        secret_sealed: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE connections SET webhook_endpoint_id = $1, webhook_secret_sealed = $2,
                 previous_webhook_secret_sealed = NULL, previous_webhook_secret_until = NULL,
                 webhook_secret_set_at = $3, webhook_refused_count = 0, webhook_refused_at = NULL, updated_at = $3
             WHERE account_id = $4 AND id = $5",
        )
        .bind(endpoint_id)
        .bind(secret_sealed)
        .bind(now)
        .bind(account_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Stores the signing secret the merchant pasted after rolling it in the Stripe Dashboard (sealed, bound to the
    /// connection). The secret it replaces stays accepted until `previous_until`; the refused-delivery count starts
    /// over. Returns whether the connection existed.
    pub async fn set_connection_webhook_secret(
        &self,
        account_id: &str,
        id: &str,
        secret_sealed: &str,
        previous_until: i64,
        now: i64,
    ) -> StoreResult<bool> {
        // SET expressions read the row as it was, on both databases: the old secret moves to `previous`.
        let updated = sqlx::query(
            "UPDATE connections SET previous_webhook_secret_sealed = webhook_secret_sealed,
                 previous_webhook_secret_until = $1, webhook_secret_sealed = $2, webhook_secret_set_at = $3,
                 webhook_refused_count = 0, webhook_refused_at = NULL, updated_at = $3
             WHERE account_id = $4 AND id = $5",
        )
        .bind(previous_until)
        .bind(secret_sealed)
        .bind(now)
        .bind(account_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Adds `count` deliveries refused for a bad signature, the last at `last_at`, to a connection's tally. Looked up
    /// by id alone, as the webhook receiver knows only the id in the URL. Refusals from before the current secret
    /// was set are not counted against it.
    pub async fn record_webhook_signature_refusals(
        &self,
        connection_id: &str,
        count: i64,
        last_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE connections SET webhook_refused_count = webhook_refused_count + $1, webhook_refused_at = $2
             WHERE id = $3 AND (webhook_secret_set_at IS NULL OR webhook_secret_set_at <= $2)",
        )
        .bind(count)
        .bind(last_at)
        .bind(connection_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Where a connection of `account_id` stands with its signing secrets; `None` if there is no such connection.
    pub async fn webhook_secret_state(
        &self,
        account_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookSecretState>> {
        sqlx::query(
            "SELECT webhook_secret_set_at, previous_webhook_secret_until, webhook_refused_count, webhook_refused_at
             FROM connections WHERE account_id = $1 AND id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .map(|row| {
            Ok(WebhookSecretState {
                set_at: row.try_get("webhook_secret_set_at")?,
                previous_accepted_until: row.try_get("previous_webhook_secret_until")?,
                refused_count: row.try_get("webhook_refused_count")?,
                last_refused_at: row.try_get("webhook_refused_at")?,
            })
        })
        .transpose()
    }

    /// Marks a connection of `account_id` disconnected and forgets its webhook endpoint, keeping the imported data.
    pub async fn disconnect_connection(
        &self,
        account_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE connections SET status = 'disconnected', status_reason = NULL, webhook_endpoint_id = NULL,
                 webhook_secret_sealed = NULL, previous_webhook_secret_sealed = NULL,
                 previous_webhook_secret_until = NULL, updated_at = $1
             WHERE account_id = $2 AND id = $3",
        )
        .bind(now)
        .bind(account_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Forgets replaced webhook secrets whose grace ended before `now`, for every connection: the receiver already
    /// refuses them, and a secret no one accepts should not stay stored, even sealed. Returns how many were dropped.
    pub async fn drop_expired_webhook_secrets(&self, now: i64) -> StoreResult<u64> {
        let dropped = sqlx::query(
            "UPDATE connections SET previous_webhook_secret_sealed = NULL, previous_webhook_secret_until = NULL
             WHERE previous_webhook_secret_sealed IS NOT NULL AND previous_webhook_secret_until < $1",
        )
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(dropped.rows_affected())
    }

    /// `UPDATE connections SET first = a, second = b, updated_at = now` for one connection of `account_id`; whether
    /// it existed. The column names are this file's literals, never input.
    async fn set_connection_columns(
        &self,
        account_id: &str,
        id: &str,
        (first, a): (&str, Option<&str>),
        (second, b): (&str, Option<&str>),
        now: i64,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(&format!(
            "UPDATE connections SET {first} = $1, {second} = $2, updated_at = $3 WHERE account_id = $4 AND id = $5"
        ))
        .bind(a)
        .bind(b)
        .bind(now)
        .bind(account_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Deletes a connection of `account_id` and, through the schema's cascades, everything imported for it.
    pub async fn delete_connection(&self, account_id: &str, id: &str) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM connections WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
