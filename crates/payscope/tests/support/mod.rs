//! Shared test harness: throwaway SQLite stores, and PostgreSQL stores on a server the harness starts itself.
#![allow(dead_code)] // reason: each test binary uses a different part of the harness

/// Runs each named `async fn case(store: Store)` of the test file twice: as `sqlite::case` on a fresh SQLite file and
/// as `postgres::case` on a fresh PostgreSQL database (skipped with a message outside CI when no server can be had;
/// `.ci/run` checks that `postgres::` cases ran). Declared before the submodules so `#[macro_use] mod support;`
/// brings it into every test file.
#[allow(unused_macros)] // reason: test binaries that never run cases on both databases include the harness too
macro_rules! on_both_databases {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::support::sqlite_store().await;
                    super::$case(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(store) = crate::support::postgres_store().await {
                        super::$case(store).await;
                    }
                }
            )*
        }
    };
}

pub mod analytics;
pub mod app;
pub mod live;
pub mod postgres;
pub mod web;

use payscope::store::Store;
use tempfile::TempDir;

/// A store on a fresh SQLite file; the directory goes away with the value.
pub struct SqliteStore {
    /// The open store.
    pub store: Store,
    /// Where the file lives.
    pub dir: TempDir,
}

impl SqliteStore {
    /// The database file's path.
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("payscope.db")
    }
}

/// Opens a migrated store on a new SQLite file.
pub async fn sqlite_store() -> SqliteStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("payscope.db").display());
    let store = Store::open(&url).await.expect("open sqlite store");
    SqliteStore { store, dir }
}

/// Opens a migrated store on a new PostgreSQL database, or `None` (after saying why) when no server can be had
/// outside CI. With `CI=true` a missing server fails the test instead.
pub async fn postgres_store() -> Option<Store> {
    let url = postgres::fresh_database_url().await?;
    Some(Store::open(&url).await.expect("open postgres store"))
}
