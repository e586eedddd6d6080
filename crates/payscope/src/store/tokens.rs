//! Per-account API tokens for the JSON API. Only a SHA-256 digest of each token is stored: tokens are long random
//! strings, so a fast digest is enough (no password-style stretching needed) and lookups stay one indexed query.

use sqlx::Row;

use super::{Store, StoreResult, unix_now};
use crate::domain::ids::new_id;

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// `tok_…`
    pub id: String,
    /// What the user called it.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last authenticated request.
    pub last_used_at: Option<i64>,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Stores a new token's digest for `account_id` and returns the token's id.
    pub async fn create_api_token(
        &self,
        account_id: &str,
        name: &str,
        digest: &str,
    ) -> StoreResult<String> {
        let id = new_id("tok");
        sqlx::query(
            "INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(name)
        .bind(digest)
        .bind(unix_now())
        .execute(&self.writer)
        .await?;
        Ok(id)
    }

    /// The account a live (unrevoked) token digest belongs to; records the use.
    pub async fn account_for_token(&self, digest: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT id, account_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(digest)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id")?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(unix_now())
            .bind(&id)
            .execute(&self.writer)
            .await?;
        Ok(Some(row.try_get("account_id")?))
    }

    /// Every token of `account_id`, newest first.
    pub async fn api_tokens(&self, account_id: &str) -> StoreResult<Vec<ApiToken>> {
        sqlx::query(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE account_id = $1
             ORDER BY created_at DESC, id",
        )
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(ApiToken {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .collect()
    }

    /// Revokes a token of `account_id`. Returns whether a live token was revoked.
    pub async fn revoke_api_token(&self, account_id: &str, id: &str) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(unix_now())
        .bind(account_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }
}
