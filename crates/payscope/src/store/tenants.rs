//! Accounts (tenants) and their users.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, flag, unix_now};
use crate::domain::ids::new_id;

/// A payscope tenant: a company, with its users and data connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `acc_…`
    pub id: String,
    /// Unique name; a fresh instance has `default`.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A person who signs in to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `usr_…`
    pub id: String,
    /// The one account this user sees.
    pub account_id: String,
    /// Sign-in name, unique across the instance.
    pub email: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    /// Whether the user may manage users and tokens.
    pub is_admin: bool,
    /// Unix seconds.
    pub created_at: i64,
}

fn account_from(row: &AnyRow) -> StoreResult<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn user_from(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: flag(row.try_get("is_admin")?),
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// The account named `name`, created if missing (safe when several processes race to create it).
    pub async fn ensure_account(&self, name: &str) -> StoreResult<Account> {
        sqlx::query(
            "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_id("acc"))
        .bind(name)
        .bind(unix_now())
        .execute(&self.writer)
        .await?;
        let row = sqlx::query("SELECT id, name, created_at FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_one(&self.writer)
            .await?;
        account_from(&row)
    }

    /// The account named `name`, if any.
    pub async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
        sqlx::query("SELECT id, name, created_at FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(account_from)
            .transpose()
    }

    /// Every account, oldest first.
    pub async fn accounts(&self) -> StoreResult<Vec<Account>> {
        sqlx::query("SELECT id, name, created_at FROM accounts ORDER BY created_at, name")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(account_from)
            .collect()
    }

    /// Adds a user to an account. The caller hashes the password.
    pub async fn create_user(
        &self,
        account_id: &str,
        email: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> StoreResult<User> {
        let user = User {
            id: new_id("usr"),
            account_id: account_id.to_owned(),
            email: email.to_owned(),
            password_hash: password_hash.to_owned(),
            is_admin,
            created_at: unix_now(),
        };
        let inserted = sqlx::query(
            "INSERT INTO users (id, account_id, email, password_hash, is_admin, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&user.id)
        .bind(&user.account_id)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(i64::from(user.is_admin))
        .bind(user.created_at)
        .execute(&self.writer)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::EmailTaken(email.to_owned()));
        }
        Ok(user)
    }

    /// The user signing in with `email`, if any.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        sqlx::query(
            "SELECT id, account_id, email, password_hash, is_admin, created_at FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    /// The users of an account, by email.
    pub async fn users(&self, account_id: &str) -> StoreResult<Vec<User>> {
        sqlx::query(
            "SELECT id, account_id, email, password_hash, is_admin, created_at FROM users
             WHERE account_id = $1 ORDER BY email",
        )
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(user_from)
        .collect()
    }

    /// Removes a user of `account_id` and ends their sessions, in one transaction; `false` when the account has
    /// no such user.
    pub async fn remove_user(&self, account_id: &str, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE id = $1 AND account_id = $2)",
        )
        .bind(user_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        let removed = sqlx::query("DELETE FROM users WHERE id = $1 AND account_id = $2")
            .bind(user_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Gives a user of `account_id` a new password hash and, in the same transaction, ends every session of theirs
    /// but `keep_session` (the digest of the session that changed it, if the user did it themself) and forgets
    /// their failed sign-ins: whoever knew the old password is signed out, and the owner is not locked out by
    /// someone else's guesses. `false` when the account has no such user.
    pub async fn set_password(
        &self,
        account_id: &str,
        user_id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let changed =
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND account_id = $3")
                .bind(password_hash)
                .bind(user_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM login_failures WHERE email IN (SELECT email FROM users WHERE id = $1)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
