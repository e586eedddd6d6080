//! Web sign-in state: sessions (one row per signed-in browser, keyed by a digest of its cookie), failed sign-ins
//! for throttling, and the first-user check behind the one-time setup page.

use sqlx::Row;

use super::{Store, StoreResult, flag, unix_now};
use crate::domain::ids::new_id;
use crate::store::User;

/// A live session with what every page needs about its user, read in one query per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in user, `usr_…`.
    pub user_id: String,
    /// The one account the user sees, `acc_…`.
    pub account_id: String,
    /// The account's name, shown in the page frame.
    pub account_name: String,
    /// The user's sign-in email.
    pub email: String,
    /// Whether the user may manage users and tokens.
    pub is_admin: bool,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    /// Unix seconds after which the session no longer signs anyone in.
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session for `user`. Only a digest of the cookie value is stored, so a database leak cannot
    /// be replayed as a cookie.
    pub async fn create_session(
        &self,
        token_digest: &str,
        user: &User,
        csrf_token: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, account_id, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_digest)
        .bind(&user.id)
        .bind(&user.account_id)
        .bind(csrf_token)
        .bind(unix_now())
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The session whose cookie digest is `token_digest`, if it has not expired at `now`.
    pub async fn session(&self, token_digest: &str, now: i64) -> StoreResult<Option<Session>> {
        let row = sqlx::query(
            "SELECT s.user_id, s.account_id, a.name AS account_name, u.email, u.is_admin, s.csrf_token, s.expires_at
             FROM sessions s
             JOIN users u ON u.id = s.user_id AND u.account_id = s.account_id
             JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_digest)
        .bind(now)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            user_id: row.try_get("user_id")?,
            account_id: row.try_get("account_id")?,
            account_name: row.try_get("account_name")?,
            email: row.try_get("email")?,
            is_admin: flag(row.try_get("is_admin")?),
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Ends a session (sign-out). Ending one that does not exist is not an error.
    pub async fn delete_session(&self, token_digest: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_digest)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Deletes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(deleted.rows_affected())
    }

    /// Records a failed sign-in for `email` (as typed, lowercased by the caller) at `at`.
    pub async fn record_login_failure(&self, email: &str, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO login_failures (email, failed_at) VALUES ($1, $2)")
            .bind(email)
            .bind(at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// How many sign-ins for `email` failed at or after `since`.
    pub async fn login_failures_since(&self, email: &str, since: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM login_failures WHERE email = $1 AND failed_at >= $2",
        )
        .bind(email)
        .bind(since)
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Forgets the failed sign-ins of `email` (after a successful one).
    pub async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// How many users the instance has; the setup page is offered only while this is 0.
    pub async fn user_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Creates the instance's first user, an admin of `account_id`, only if no user exists yet: one statement,
    /// so two browsers racing through the setup page cannot both become the first admin. `None` when a user
    /// already existed.
    pub async fn create_first_user(
        &self,
        account_id: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<Option<User>> {
        let user = User {
            id: new_id("usr"),
            account_id: account_id.to_owned(),
            email: email.to_owned(),
            password_hash: password_hash.to_owned(),
            is_admin: true,
            created_at: unix_now(),
        };
        let inserted = sqlx::query(
            "INSERT INTO users (id, account_id, email, password_hash, is_admin, created_at)
             SELECT $1, $2, $3, $4, 1, $5 WHERE NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(&user.id)
        .bind(&user.account_id)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&self.writer)
        .await?;
        Ok((inserted.rows_affected() == 1).then_some(user))
    }
}
