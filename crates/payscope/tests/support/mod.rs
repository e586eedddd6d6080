//! Shared test harness: throwaway SQLite stores, and PostgreSQL stores on a server the harness starts itself.
#![allow(dead_code)] // reason: each test binary uses a different part of the harness

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
