//! Group commit for import steps: workers hand their page writes to one writer task, which stores whatever has
//! queued up in a single transaction. Each step keeps its own guarantee (its page and its checkpoint together, or
//! nothing); what the batch saves is the durable commit per page, the limit on SQLite's write rate.

use tokio::sync::{mpsc, oneshot};

use crate::domain::payment::Payment;
use crate::store::{ImportPageWrite, ImportRange, RawObject, Store, StoreError, StoreResult};

/// Most steps per transaction: large enough to absorb a burst from every worker, small enough to keep each
/// transaction short.
const MAX_BATCH: usize = 64;

/// An import step's write, owned so it can cross to the writer task.
#[derive(Debug, Clone)]
pub struct PageWrite {
    /// The range as claimed.
    pub range: ImportRange,
    /// The worker holding the claim.
    pub worker: String,
    /// The connection the objects belong to.
    pub connection_id: String,
    /// The range's lower bound after this step.
    pub new_start: i64,
    /// `starting_after` for the next page, `None` when done.
    pub cursor: Option<String>,
    /// `created` of the cursor object.
    pub cursor_created: Option<i64>,
    /// Whether the range is finished.
    pub done: bool,
    /// The claim's new lease end.
    pub lease_until: i64,
    /// New ranges split off.
    pub split_off: Vec<(i64, i64)>,
    /// The page's objects.
    pub objects: Vec<RawObject>,
    /// PaymentMethods carried inside them.
    pub embedded: Vec<RawObject>,
    /// Payments normalised from them.
    pub payments: Vec<Payment>,
    /// `(day, objects)` listed on the page.
    pub listed_days: Vec<(i64, i64)>,
}

impl PageWrite {
    fn borrowed(&self) -> ImportPageWrite<'_> {
        ImportPageWrite {
            range: &self.range,
            worker: &self.worker,
            connection_id: &self.connection_id,
            new_start: self.new_start,
            cursor: self.cursor.as_deref(),
            cursor_created: self.cursor_created,
            done: self.done,
            lease_until: self.lease_until,
            split_off: &self.split_off,
            objects: &self.objects,
            embedded: &self.embedded,
            payments: &self.payments,
            listed_days: &self.listed_days,
        }
    }
}

/// A step to write, or `None`: a flush, answered once everything queued before it is committed.
type Request = (Option<PageWrite>, oneshot::Sender<Result<bool, String>>);

/// Where steps store their pages: directly (one transaction per step) or through a group-commit writer task.
#[derive(Debug, Clone)]
pub enum PageWriter {
    /// Each step commits on its own.
    Direct(Store),
    /// Steps queue for the writer task.
    Batched(mpsc::Sender<Request>),
}

impl PageWriter {
    /// A writer task over `store`; it ends when every clone of the returned writer is dropped.
    pub fn batched(store: Store) -> PageWriter {
        let (sender, mut receiver) = mpsc::channel::<Request>(4 * MAX_BATCH);
        tokio::spawn(async move {
            // The WAL checkpoint running beside the writer, if any (see `Store::store_import_steps`).
            let mut checkpoint: Option<tokio::task::JoinHandle<()>> = None;
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match receiver.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let writes: Vec<ImportPageWrite<'_>> = batch
                    .iter()
                    .filter_map(|(w, _)| w.as_ref().map(PageWrite::borrowed))
                    .collect();
                let started = std::time::Instant::now();
                let result = if writes.is_empty() {
                    Ok(Vec::new())
                } else {
                    store.store_import_steps(&writes).await
                };
                let objects: usize = batch
                    .iter()
                    .filter_map(|(w, _)| w.as_ref())
                    .map(|w| w.objects.len())
                    .sum();
                tracing::debug!(
                    steps = writes.len(),
                    objects,
                    ms = started.elapsed().as_millis() as u64,
                    "import pages committed"
                );
                drop(writes);
                if result.is_ok() && checkpoint.as_ref().is_none_or(|c| c.is_finished()) {
                    let store = store.clone();
                    checkpoint = Some(tokio::spawn(async move {
                        if let Err(error) = store.checkpoint().await {
                            // The commit that takes the WAL past its bound checkpoints it instead.
                            tracing::warn!(%error, "checkpointing the WAL beside the import failed");
                        }
                    }));
                }
                match result {
                    Ok(stored) => {
                        let mut stored = stored.into_iter();
                        for (write, reply) in batch {
                            let ok = match write {
                                Some(_) => stored.next().unwrap_or(false),
                                None => true,
                            };
                            let _ = reply.send(Ok(ok));
                        }
                    }
                    Err(error) => {
                        let text = error.to_string();
                        for (_, reply) in batch {
                            let _ = reply.send(Err(text.clone()));
                        }
                    }
                }
            }
        });
        PageWriter::Batched(sender)
    }

    /// Queues one step and returns without waiting for its commit, so the worker can fetch its next page
    /// meanwhile; [`PendingWrite::settle`] gives the answer of [`PageWriter::write`]. Steps queued by one worker are
    /// committed in the order queued.
    pub async fn submit(&self, write: PageWrite) -> StoreResult<PendingWrite> {
        match self {
            PageWriter::Direct(store) => Ok(PendingWrite::Done(
                store.store_import_step(&write.borrowed()).await,
            )),
            PageWriter::Batched(sender) => {
                let (reply, answer) = oneshot::channel();
                sender
                    .send((Some(write), reply))
                    .await
                    .map_err(|_| writer_gone())?;
                Ok(PendingWrite::Queued(answer))
            }
        }
    }

    /// Waits until every step queued so far is committed (or failed): a job's run ends only after its workers'
    /// last pages are in the database, not while the writer still holds them.
    pub async fn flush(&self) -> StoreResult<()> {
        if let PageWriter::Batched(sender) = self {
            let (reply, answer) = oneshot::channel();
            sender
                .send((None, reply))
                .await
                .map_err(|_| writer_gone())?;
            PendingWrite::Queued(answer).settle().await?;
        }
        Ok(())
    }

    /// Stores one step; `false` when its worker lost the claim.
    pub async fn write(&self, write: PageWrite) -> StoreResult<bool> {
        match self {
            PageWriter::Direct(store) => store.store_import_step(&write.borrowed()).await,
            PageWriter::Batched(_) => self.submit(write).await?.settle().await,
        }
    }
}

/// A step handed to the writer whose commit may still be running.
#[derive(Debug)]
pub enum PendingWrite {
    /// Written already (the direct writer).
    Done(StoreResult<bool>),
    /// Waiting in, or being committed by, the writer task.
    Queued(oneshot::Receiver<Result<bool, String>>),
}

impl PendingWrite {
    /// Waits for the commit: `true` stored, `false` the worker had lost the claim (nothing stored).
    pub async fn settle(self) -> StoreResult<bool> {
        match self {
            PendingWrite::Done(result) => result,
            PendingWrite::Queued(answer) => {
                answer.await.map_err(|_| writer_gone())?.map_err(|text| {
                    StoreError::Database(sqlx::Error::Protocol(format!(
                        "storing a batch of import pages failed: {text}"
                    )))
                })
            }
        }
    }
}

fn writer_gone() -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(
        "the import's writer task stopped".into(),
    ))
}
