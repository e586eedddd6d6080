//! Versioned schema migrations, applied at start and by `payscope migrate`; safe when several processes start at
//! once on one PostgreSQL (an advisory lock serialises them).

use sqlx::{Acquire, Executor, Row};

use super::{Dialect, Store, StoreResult, unix_now};

/// One schema change. The SQL is the same for both databases; keep it to portable types.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Append only: an applied migration is never edited.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "import_progress",
        sql: include_str!("migrations/0002_import_progress.sql"),
    },
    Migration {
        version: 3,
        name: "sessions",
        sql: include_str!("migrations/0003_sessions.sql"),
    },
    Migration {
        version: 4,
        name: "live_sync",
        sql: include_str!("migrations/0004_live_sync.sql"),
    },
    Migration {
        version: 5,
        name: "analytics_index",
        sql: include_str!("migrations/0005_analytics_index.sql"),
    },
    Migration {
        version: 6,
        name: "payment_rollups",
        sql: include_str!("migrations/0006_payment_rollups.sql"),
    },
    Migration {
        version: 7,
        name: "inbox_claims",
        sql: include_str!("migrations/0007_inbox_claims.sql"),
    },
    Migration {
        version: 8,
        name: "object_rollups",
        sql: include_str!("migrations/0008_object_rollups.sql"),
    },
    Migration {
        version: 9,
        name: "rollup_blocks",
        sql: include_str!("migrations/0009_rollup_blocks.sql"),
    },
    Migration {
        version: 10,
        name: "webhook_secret_roll",
        sql: include_str!("migrations/0010_webhook_secret_roll.sql"),
    },
];

/// The schema version this build migrates to: a database at another version is older (migrated at start) or was
/// written by a newer payscope.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// An arbitrary constant naming payscope's migration lock among PostgreSQL advisory locks.
const MIGRATION_LOCK_ID: i64 = 0x7061_7973_636f_7065; // "payscope"

impl Store {
    /// Applies every migration the database has not seen yet, each in its own transaction. Returns how many ran.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.writer.acquire().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK_ID)
                .execute(&mut *conn)
                .await?;
        }
        let outcome = apply_pending(&mut conn).await;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK_ID)
                .execute(&mut *conn)
                .await?;
        }
        outcome
    }

    /// The highest applied migration version (0 on an empty database).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM schema_migrations",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get("v")?)
    }
}

async fn apply_pending(conn: &mut sqlx::AnyConnection) -> StoreResult<usize> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let mut applied = 0;
    for migration in MIGRATIONS {
        let mut tx = conn.begin().await?;
        let seen = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await?;
        if seen.is_some() {
            continue;
        }
        tx.execute(migration.sql).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(unix_now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        applied += 1;
    }
    Ok(applied)
}
