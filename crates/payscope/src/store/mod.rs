//! All SQL lives here: one `Store` over SQLite (embedded default) or PostgreSQL, with methods named for intent.
//!
//! Both databases are reached through sqlx's `Any` driver with one set of queries: the schema uses only portable
//! types (TEXT, BIGINT), placeholders are `$n` (SQLite accepts them too), and the few statements that must differ
//! branch on [`Dialect`]. Work shared between processes is claimed through the database, never an in-process lock.

mod analytics;
mod connections;
mod import;
mod import_resources;
mod inbox;
mod live_state;
mod migrations;
mod object_analytics;
mod objects;
mod rollup_blocks;
mod rollups;
mod runs;
mod sessions;
mod tenants;
mod tokens;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use analytics::{BreakdownRow, CardDetailsShare, GroupBy, PaymentMissingDetails};
pub use connections::WebhookSecretState;
pub use import::{ImportJob, ImportJobRecord, ImportPageWrite, ImportRange};
pub use import_resources::{ImportResource, RangeProgress};
pub use inbox::{
    AppliedEvent, InboxConnection, InboxDelivery, InboxEvent, PendingEvent, UrgentWrite,
    WAL_BOUND_BYTES, WebhookTarget,
};
pub use live_state::LiveState;
pub use migrations::SCHEMA_VERSION;
pub use object_analytics::{ObjectGroup, ObjectKind, ObjectRow};
pub use objects::{InventoryRow, RawObject};
pub use rollups::{DAY_DIRTY_AT_MOST, DAY_QUIET_FOR, RefreshCutoffs};
pub use runs::SyncRun;
pub use sessions::Session;
pub use tenants::{Account, User};
pub use tokens::ApiToken;

/// The name of the account every fresh instance starts with.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Which database a [`Store`] talks to, for the few statements whose SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file, one writer at a time.
    Sqlite,
    /// A server shared by several payscope processes.
    Postgres,
}

/// Why a store call failed. Callers branch on the named cases; the rest is a database failure to report.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names neither SQLite nor PostgreSQL.
    #[error(
        "unsupported database url {0:?}; use sqlite://path/to/file.db or postgres://user@host/db"
    )]
    UnsupportedUrl(String),
    /// A data connection with this name already exists in the account.
    #[error("a data connection named {0:?} already exists in this account; choose another name")]
    NameTaken(String),
    /// A user with this email already exists.
    #[error("a user with email {0:?} already exists")]
    EmailTaken(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite file's directory could not be created.
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        /// The directory payscope tried to create.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database behind payscope. Cheap to clone: pools inside.
#[derive(Clone, Debug)]
pub struct Store {
    /// Writes go here. On SQLite it holds a single connection, so writers queue instead of failing with
    /// SQLITE_BUSY; on PostgreSQL it is the same pool as `reader`.
    writer: AnyPool,
    /// Reads go here: several connections, which SQLite's WAL lets read while the writer writes.
    reader: AnyPool,
    dialect: Dialect,
    /// Webhook deliveries waiting for their commit, which background writers yield to (see `inbox.rs`).
    urgent: std::sync::Arc<inbox::UrgentWrites>,
}

impl Store {
    /// Connects to `url` and brings the schema up to date, creating the default account on a fresh database.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        store.ensure_account(DEFAULT_ACCOUNT).await?;
        Ok(store)
    }

    /// Connects without touching the schema (for `payscope migrate` and health checks).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        install_default_drivers();
        if let Some(path) = sqlite_path(url) {
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::Directory {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            let url = format!("sqlite://{path}?mode=rwc");
            let writer = sqlite_pool(&url, 1, WRITER_CACHE_KIB).await?;
            // WAL is a property of the file: set it once, through the writer, before readers open.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&writer)
                .await?;
            let reader = sqlite_pool(&url, 4, READER_CACHE_KIB).await?;
            Ok(Self {
                writer,
                reader,
                dialect: Dialect::Sqlite,
                urgent: Default::default(),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            Ok(Self {
                writer: pool.clone(),
                reader: pool,
                dialect: Dialect::Postgres,
                urgent: Default::default(),
            })
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// Which database this store talks to.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Proves the database answers (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// This store for work on another tokio runtime (the background runtime of `payscope serve`, `background.rs`).
    /// On PostgreSQL, a new pool of [`BACKGROUND_POOL_POSTGRES`] connections to the same database: sqlx's
    /// PostgreSQL connections are sockets driven by the runtime that opened them, so one shared pool would make one
    /// runtime's queries wait on the other's workers (and fail once that runtime stops). Call it on the runtime that
    /// will use the result, and close the result when that work ends. On SQLite, this store itself: sqlx's SQLite
    /// connections run on threads of their own, whatever the runtime, and a file must have one writer connection,
    /// so that writers queue (and yield to webhook deliveries) instead of failing with SQLITE_BUSY; closing the
    /// result closes this store.
    pub async fn for_another_runtime(&self) -> StoreResult<Store> {
        match self.dialect {
            Dialect::Sqlite => Ok(self.clone()),
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(BACKGROUND_POOL_POSTGRES)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with((*self.writer.connect_options()).clone())
                    .await?;
                Ok(Self {
                    writer: pool.clone(),
                    reader: pool,
                    dialect: Dialect::Postgres,
                    urgent: Default::default(),
                })
            }
        }
    }

    /// Closes both pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Connections of the PostgreSQL pool a background runtime opens ([`Store::for_another_runtime`]), beside the
/// web side's 16: the applier, the catch-up, the pruning and the rollup refresher each hold one at a time, and the
/// import's workers write through one group-commit writer and otherwise hold one only to claim or check a range.
pub const BACKGROUND_POOL_POSTGRES: u32 = 8;

/// The file path of a `sqlite:` URL, or `None` for any other URL.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split('?').next().unwrap_or(rest))
}

/// Page cache of the single SQLite writer. The import's upserts touch random places of the primary-key indexes;
/// with SQLite's 2 MiB default most of those pages were re-read from disk (`payscope bench import --charges 20000
/// --latency-ms 0` went from about 2,700 to about 5,000 objects/s with 32 MiB). 16 MiB kept the speed (200k charges
/// at `--latency-ms 0`: 86.8 s against 87.5 s with 32 MiB) and shrinks the largest item of the import's peak heap,
/// SQLite's page caches: 57 MB with 32 MiB in a heaptrack of 200k charges (README, "Memory at 1M charges").
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// Page cache of each reader connection: SQLite's default, so four readers add little memory.
const READER_CACHE_KIB: i64 = 2 * 1024;

async fn sqlite_pool(url: &str, connections: u32, cache_kib: i64) -> StoreResult<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                // FULL makes every commit durable against power loss, which the webhook inbox promises.
                conn.execute(
                    format!(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL; \
                         PRAGMA cache_size = -{cache_kib};"
                    )
                    .as_str(),
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// A URL with any password removed, safe to show in an error.
fn redact_url(url: &str) -> String {
    match url::Url::from_str(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The current time as unix seconds, the unit of every timestamp column (one clock for the whole app).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Converts a stored 0/1 flag.
fn flag(value: i64) -> bool {
    value != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_yield_their_file_path() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db"), Some("/tmp/a.db"));
        assert_eq!(
            sqlite_path("sqlite://data/a.db?mode=rwc"),
            Some("data/a.db")
        );
        assert_eq!(sqlite_path("sqlite:a.db"), Some("a.db"));
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }

    #[test]
    fn passwords_never_appear_in_url_errors() {
        let shown = redact_url("mysql://bob:hunter2@db/x");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
