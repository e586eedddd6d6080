//! The HTTP face of payscope: the route table, pages, JSON API and webhook receiver, served on a bound listener.

pub mod api;
pub mod auth;
pub mod charts;
pub mod dashboards;
pub mod data_quality;
mod error;
mod health;
pub mod layout;
pub mod pages;
mod routes;
pub mod sign_in_guard;
pub mod webhooks;

pub use error::ApiError;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::connections::ConnectionService;
use crate::crypto::MasterKey;
use crate::store::Store;
use sign_in_guard::SignInGuard;

/// What every handler may reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    master_key: MasterKey,
    connections: ConnectionService,
    /// Whether session cookies get `Secure` (the public URL is https).
    secure_cookies: bool,
    /// The sign-in budget per client address and the queue of password checks.
    sign_in_guard: SignInGuard,
}

impl AppState {
    /// Bundles the process-wide services handlers need.
    pub fn new(store: Store, master_key: MasterKey, connections: ConnectionService) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                master_key,
                connections,
                secure_cookies: false,
                sign_in_guard: SignInGuard::default(),
            }),
        }
    }

    /// Marks session cookies `Secure`, for an instance whose public URL is https (browsers then send them over
    /// https only).
    pub fn with_secure_cookies(self, secure: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: self.inner.store.clone(),
                master_key: self.inner.master_key.clone(),
                connections: self.inner.connections.clone(),
                secure_cookies: secure,
                sign_in_guard: self.inner.sign_in_guard.clone(),
            }),
        }
    }

    /// Whether session cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The Data Connections service.
    pub fn connections(&self) -> &ConnectionService {
        &self.inner.connections
    }

    /// What limits sign-in attempts and password checks.
    pub fn sign_in_guard(&self) -> &SignInGuard {
        &self.inner.sign_in_guard
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
    // The peer address reaches handlers (sign-in attempts are budgeted per client address).
    axum::serve(
        listener,
        routes::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
}
