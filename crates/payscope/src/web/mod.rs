//! The HTTP face of payscope: the route table, pages, JSON API and webhook receiver, served on a bound listener.

mod health;
mod routes;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::crypto::MasterKey;
use crate::store::Store;

/// What every handler may reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    master_key: MasterKey,
}

impl AppState {
    /// Bundles the process-wide services handlers need.
    pub fn new(store: Store, master_key: MasterKey) -> Self {
        Self {
            inner: Arc::new(Inner { store, master_key }),
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The key that seals and opens stored secrets.
    pub fn master_key(&self) -> &MasterKey {
        &self.inner.master_key
    }
}

/// Serves the app on an already-bound listener (tests bind port 0) until `shutdown` is cancelled, then lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, routes::router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
