//! Group commit for import steps: workers hand their page writes to one writer task, which stores whatever has
//! queued up in a single transaction. Each step keeps its own guarantee (its page and its checkpoint together, or
//! nothing); what the batch saves is the durable commit per page, the limit on SQLite's write rate.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::domain::payment::Payment;
use crate::store::{ImportPageWrite, ImportRange, RawObject, Store, StoreError, StoreResult};

/// Most steps per transaction: large enough to absorb a burst from every worker, small enough to keep each
/// transaction short.
const MAX_BATCH: usize = 64;

/// Most bytes of pages handed to the writer and not yet committed (queued or in the running transaction). Before,
/// the queue was bounded only by its count of steps (4 × 64), so every worker (up to 150) could keep one page in
/// it while fetching the next. A worker whose page does not fit waits to hand it over, and fetches nothing more
/// meanwhile. A page of charges is about 0.5 MiB here; at 1M charges with `--latency-ms 0` (the writer the bound)
/// the pending bytes after each commit were 5.7 MiB at the median, 12.9 MiB at p99 and 15.4 MiB at most, so the
/// bound holds only the bursts.
pub const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;

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

    /// About how much memory the step holds: its JSON texts, which are most of it, plus each payment's row.
    pub fn approx_bytes(&self) -> usize {
        let objects: usize = self
            .objects
            .iter()
            .chain(&self.embedded)
            .map(|o| o.json.len() + o.id.len() + o.object_type.len() + size_of::<RawObject>())
            .sum();
        objects + self.payments.len() * 2 * size_of::<Payment>()
    }
}

/// The writer's memory bound: permits are KiB of pages handed over and not yet committed.
#[derive(Debug, Clone)]
pub struct QueueBudget {
    permits: Arc<Semaphore>,
    kib: u32,
}

impl QueueBudget {
    fn new(bytes: usize) -> Self {
        let kib = (bytes / 1024).clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize)) as u32;
        Self {
            permits: Arc::new(Semaphore::new(kib as usize)),
            kib,
        }
    }

    /// Waits until `bytes` fit beside what is pending. A page larger than the whole budget waits for an empty
    /// queue and then goes alone, so no page is refused. Permits are handed out first come, first served.
    async fn reserve(&self, bytes: usize) -> OwnedSemaphorePermit {
        let kib = (bytes.div_ceil(1024) as u64).clamp(1, u64::from(self.kib)) as u32;
        self.permits
            .clone()
            .acquire_many_owned(kib)
            .await
            .expect("the writer's budget is never closed")
    }
}

/// A step to write with its share of the byte budget, or `None`: a flush, answered once everything queued before
/// it is committed.
type Request = (
    Option<(PageWrite, OwnedSemaphorePermit)>,
    oneshot::Sender<Result<bool, String>>,
);

/// Where steps store their pages: directly (one transaction per step) or through a group-commit writer task.
#[derive(Debug, Clone)]
pub enum PageWriter {
    /// Each step commits on its own.
    Direct(Store),
    /// Steps queue for the writer task, within its byte budget.
    Batched(mpsc::Sender<Request>, QueueBudget),
}

impl PageWriter {
    /// A writer task over `store`; it ends when every clone of the returned writer is dropped.
    pub fn batched(store: Store) -> PageWriter {
        Self::batched_within(store, MAX_QUEUED_BYTES)
    }

    /// [`PageWriter::batched`] with another bound on the bytes of pending pages (tests use a small one).
    pub fn batched_within(store: Store, max_queued_bytes: usize) -> PageWriter {
        let budget = QueueBudget::new(max_queued_bytes);
        let (sender, mut receiver) = mpsc::channel::<Request>(4 * MAX_BATCH);
        let pending = budget.clone();
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
                    .filter_map(|(w, _)| w.as_ref().map(|(w, _)| w.borrowed()))
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
                    .map(|(w, _)| w.objects.len())
                    .sum();
                let queued_kib = pending.kib as usize - pending.permits.available_permits();
                tracing::debug!(
                    steps = writes.len(),
                    objects,
                    queued_kib,
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
                // The pages' memory (and their permits) go before the workers hear of the commit.
                let (pages, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let steps: Vec<bool> = pages.iter().map(Option::is_some).collect();
                drop(pages);
                match result {
                    Ok(stored) => {
                        let mut stored = stored.into_iter();
                        for (write, reply) in steps.into_iter().zip(replies) {
                            let ok = if write {
                                stored.next().unwrap_or(false)
                            } else {
                                true
                            };
                            let _ = reply.send(Ok(ok));
                        }
                    }
                    Err(error) => {
                        let text = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(text.clone()));
                        }
                    }
                }
            }
        });
        PageWriter::Batched(sender, budget)
    }

    /// Queues one step and returns without waiting for its commit, so the worker can fetch its next page
    /// meanwhile; [`PendingWrite::settle`] gives the answer of [`PageWriter::write`]. Steps queued by one worker are
    /// committed in the order queued. It first waits while the pages pending in the writer hold
    /// [`MAX_QUEUED_BYTES`].
    pub async fn submit(&self, write: PageWrite) -> StoreResult<PendingWrite> {
        match self {
            PageWriter::Direct(store) => Ok(PendingWrite::Done(
                store.store_import_step(&write.borrowed()).await,
            )),
            PageWriter::Batched(sender, budget) => {
                let permit = budget.reserve(write.approx_bytes()).await;
                let (reply, answer) = oneshot::channel();
                sender
                    .send((Some((write, permit)), reply))
                    .await
                    .map_err(|_| writer_gone())?;
                Ok(PendingWrite::Queued(answer))
            }
        }
    }

    /// Waits until every step queued so far is committed (or failed): a job's run ends only after its workers'
    /// last pages are in the database, not while the writer still holds them.
    pub async fn flush(&self) -> StoreResult<()> {
        if let PageWriter::Batched(sender, _) = self {
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
            PageWriter::Batched(..) => self.submit(write).await?.settle().await,
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

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::Poll;

    use super::*;

    #[tokio::test]
    async fn a_page_waits_while_pending_pages_fill_the_budget() {
        let budget = QueueBudget::new(100 * 1024);
        let first = budget.reserve(80 * 1024).await;
        let mut second = pin!(budget.reserve(40 * 1024));
        assert!(
            matches!(futures::poll!(second.as_mut()), Poll::Pending),
            "80 KiB pending + 40 KiB is over the 100 KiB budget: the second page must wait"
        );
        drop(first); // the writer committed the first page
        let second = second.await;
        assert_eq!(second.num_permits(), 40);
        // A small page still fits beside it.
        let third = budget.reserve(10 * 1024).await;
        assert_eq!(budget.permits.available_permits(), 50);
        drop((second, third));
    }

    #[tokio::test]
    async fn a_page_larger_than_the_budget_goes_alone_once_the_queue_is_empty() {
        let budget = QueueBudget::new(100 * 1024);
        let small = budget.reserve(1).await;
        let mut huge = pin!(budget.reserve(1024 * 1024));
        assert!(matches!(futures::poll!(huge.as_mut()), Poll::Pending));
        drop(small);
        let huge = huge.await;
        assert_eq!(huge.num_permits(), 100, "clamped to the whole budget");
        let mut next = pin!(budget.reserve(1));
        assert!(matches!(futures::poll!(next.as_mut()), Poll::Pending));
        drop(huge);
        assert_eq!(next.await.num_permits(), 1);
    }

    fn page(id: &str, json_bytes: usize) -> PageWrite {
        PageWrite {
            range: ImportRange {
                job_id: "job_none".into(),
                account_id: "acct_none".into(),
                resource: "charges".into(),
                range_start: 0,
                range_end: 100,
                cursor: None,
                done: false,
                objects: 0,
            },
            worker: "wrk_test".into(),
            connection_id: "conn_none".into(),
            new_start: 0,
            cursor: None,
            cursor_created: None,
            done: true,
            lease_until: 0,
            split_off: Vec::new(),
            objects: vec![RawObject {
                object_type: "charge".into(),
                id: id.into(),
                created: 1,
                version: 1,
                deleted: false,
                json: format!("{{\"pad\":\"{}\"}}", "x".repeat(json_bytes)),
            }],
            embedded: Vec::new(),
            payments: Vec::new(),
            listed_days: Vec::new(),
        }
    }

    /// The real writer over a real SQLite file: while the first page's commit is held up (another connection holds
    /// the database's write lock), a second page that does not fit beside it waits in `submit`, and goes once the
    /// first is committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_holds_a_submit_until_pending_pages_are_committed() {
        use sqlx::Connection;

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/writer.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let mut blocker = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut blocker)
            .await
            .unwrap();

        let writer = PageWriter::batched_within(store, 64 * 1024);
        let first = writer.submit(page("ch_first", 50 * 1024)).await.unwrap();
        let mut second = pin!(writer.submit(page("ch_second", 30 * 1024)));
        for _ in 0..50 {
            assert!(
                matches!(futures::poll!(second.as_mut()), Poll::Pending),
                "50 KiB pending + 30 KiB is over the 64 KiB bound: the second page must wait for the first's commit"
            );
            tokio::task::yield_now().await;
        }

        sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
        // Neither range exists, so both steps answer "claim lost", but only after their commits.
        assert!(!first.settle().await.unwrap());
        let second = second.await.unwrap();
        assert!(!second.settle().await.unwrap());
    }
}
