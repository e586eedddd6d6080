//! Group commit for the webhook receiver: requests hand their verified event to one writer task, which commits
//! everything that arrived meanwhile in a single durable transaction and then answers each request.
//!
//! One transaction per request cannot go past a few hundred commits a second with `synchronous = FULL` (every
//! commit is an fsync); batching keeps every acknowledged event durable while the fsync cost is shared.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use crate::store::{InboxConnection, InboxDelivery, Store};

/// Most deliveries one transaction takes; more wait for the next commit.
const MAX_BATCH: usize = 512;

/// Requests waiting for the writer before new ones are made to wait for room.
const QUEUE: usize = 8192;

/// Why a delivery was not kept; the receiver answers 503 and Stripe retries later.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InboxWriteError {
    /// The database refused the transaction.
    #[error("the inbox could not be written: {0}")]
    Store(String),
    /// The writer task is gone (the process is stopping).
    #[error("the inbox writer has stopped; the process is shutting down")]
    Stopped,
}

type Reply = oneshot::Sender<Result<(), InboxWriteError>>;

/// A handle to the writer task. Cheap to clone; the task starts with the first write and ends when every handle is
/// dropped.
#[derive(Debug, Clone)]
pub struct InboxWriter {
    store: Store,
    sender: std::sync::Arc<OnceLock<mpsc::Sender<(InboxDelivery, Reply)>>>,
}

impl InboxWriter {
    /// A writer into `store`'s inbox.
    pub fn new(store: Store) -> InboxWriter {
        InboxWriter {
            store,
            sender: Default::default(),
        }
    }

    /// Keeps `delivery` durably; returns once its transaction has committed.
    pub async fn write(&self, delivery: InboxDelivery) -> Result<(), InboxWriteError> {
        // From now until the commit, the applier and the pruning leave the single SQLite writer to this delivery.
        let _urgent = self.store.urgent_write();
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(run(self.store.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        sender
            .send((delivery, reply))
            .await
            .map_err(|_| InboxWriteError::Stopped)?;
        answer.await.map_err(|_| InboxWriteError::Stopped)?
    }
}

async fn run(store: Store, mut receiver: mpsc::Receiver<(InboxDelivery, Reply)>) {
    // On PostgreSQL the writer keeps a connection of its own (see `Store::insert_inbox_deliveries_on`).
    let mut own = InboxConnection::default();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (deliveries, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        match store
            .insert_inbox_deliveries_on(&mut own, &deliveries)
            .await
        {
            Ok(_) => {
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(error) => {
                // One bad delivery (say, for a connection removed a moment ago) must not fail the others: retry
                // each alone, so each request gets its own answer.
                tracing::warn!(%error, size = deliveries.len(), "inbox batch failed; writing its deliveries one by one");
                for (delivery, reply) in deliveries.into_iter().zip(replies) {
                    let outcome = store
                        .insert_inbox_deliveries_on(&mut own, std::slice::from_ref(&delivery))
                        .await
                        .map(|_| ())
                        .map_err(|e| InboxWriteError::Store(e.to_string()));
                    let _ = reply.send(outcome);
                }
            }
        }
    }
    store.close_inbox_connection(own).await;
}
