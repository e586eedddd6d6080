//! The applier: takes verified events from the inbox and applies each in one transaction — the object (snapshot,
//! tombstone or a fresh copy from Stripe), its balance transactions, and the derived payment row — guarded by
//! version, so duplicates and any arrival order give the same final state.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use super::event::{Decision, ObjectIdentity, decide, parse_event};
use super::{LiveError, answered_by, attention_reason};
use crate::crypto::MasterKey;
use crate::domain::connection::ConnectionStatus;
use crate::domain::ids::new_id;
use crate::domain::normalize::payment_from_charge;
use crate::domain::payment::Payment;
use crate::store::{AppliedEvent, Dialect, PendingEvent, RawObject, Store, unix_now};
use crate::stripe_access::StripeAccess;
use crate::sync::resources::RESOURCES;

/// Events claimed and written per transaction on SQLite: few, so a webhook delivery arriving meanwhile waits at most
/// one short transaction for the single writer (acknowledgement p99 ≤ 25 ms at 1,000 events/s).
const SLICE_SQLITE: i64 = 32;
/// On PostgreSQL writers do not queue behind each other: larger slices share each statement's round trip. Slices of
/// 32 were measured (`bench webhooks`, load 5-7, alternated), with and without yielding to pending deliveries: the
/// applier then fell behind at 1,000 events/s (650-1,160 events/s drained, queryable p95 up to 13 s) and the
/// acknowledgement p99 was no better (59.9-78.3 ms against 47.1-84.1 ms).
const SLICE_POSTGRES: i64 = 256;
/// How long a claim keeps events for this applier; an applier that died leaves them to others after it (on
/// PostgreSQL; on SQLite the next start releases them at once). Short, since a heartbeat renews it every
/// [`RENEW_EVERY`] while a slice takes long (waiting on Stripe).
const LEASE: i64 = 30;
/// How often a slice still being planned renews its claims.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// The longest the applier yields the writer to waiting webhook deliveries before taking its turn: slowed under
/// load, never starved.
const MAX_YIELD: Duration = Duration::from_millis(5);
/// How often the applier checkpoints the SQLite WAL while it works (webhook commits leave checkpoints to it).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// How long a failed event waits before its next attempt: transient failures, then key problems a user must fix.
const RETRY_TRANSIENT: i64 = 10;
const RETRY_ATTENTION: i64 = 300;

/// Applies inbox events. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Applier {
    store: Store,
    access: StripeAccess,
    master_key: MasterKey,
    /// Names this applier's claims on inbox events.
    worker: String,
    /// When this applier last checkpointed the WAL.
    last_checkpoint: std::sync::Arc<tokio::sync::Mutex<tokio::time::Instant>>,
}

/// What applying one event writes.
struct Plan {
    event_created: i64,
    objects: Vec<RawObject>,
    payments: Vec<Payment>,
    /// The permissions (`rak_…`) of the Stripe fetches that answered: what they show the key may do.
    proven: Vec<&'static str>,
}

/// What one event needs from Stripe beyond its own payload.
enum Fetch {
    Object(RawObject),
    Gone,
}

impl Applier {
    /// The store it applies into.
    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// An applier over `store`, reaching Stripe through `access` for refetches.
    pub fn new(store: Store, access: StripeAccess, master_key: MasterKey) -> Applier {
        Applier {
            store,
            access,
            master_key,
            worker: new_id("applier"),
            last_checkpoint: std::sync::Arc::new(tokio::sync::Mutex::new(
                tokio::time::Instant::now(),
            )),
        }
    }

    /// Applies the inbox's due events until none is left; returns how many were applied. Events are claimed in
    /// small slices (so other processes on the same PostgreSQL take others); each slice is planned (reads, and
    /// Stripe calls where needed) and then written in one transaction, after yielding the writer to pending webhook
    /// deliveries. Failed events stay in the inbox with a retry time.
    pub async fn apply_until_idle(&self) -> Result<usize, LiveError> {
        let slice = match self.store.dialect() {
            Dialect::Sqlite => SLICE_SQLITE,
            Dialect::Postgres => SLICE_POSTGRES,
        };
        let mut applied = 0;
        loop {
            self.store.yield_to_urgent_writes(MAX_YIELD).await;
            let now = unix_now();
            let due = self
                .store
                .claim_inbox_events(&self.worker, now, now + LEASE, slice)
                .await?;
            if due.is_empty() {
                return Ok(applied);
            }
            let mut clients = HashMap::new();
            // Versions stored or written by this slice, so a second event about the same object in the same second
            // is refetched, exactly as if the first had been committed before it was read.
            let mut batch_versions = self.stored_versions(&due).await?;
            let plans = self
                .with_heartbeat(async {
                    let mut plans = Vec::with_capacity(due.len());
                    let mut flagged = Vec::new();
                    for pending in &due {
                        match self.plan(pending, &mut clients, &mut batch_versions).await {
                            Ok(plan) => plans.push((pending, plan)),
                            Err(error) => self.defer(pending, &error, &mut flagged).await?,
                        }
                    }
                    Ok::<_, LiveError>(plans)
                })
                .await?;
            let now = unix_now();
            let writes: Vec<AppliedEvent> = plans
                .iter()
                .map(|(pending, plan)| AppliedEvent {
                    account_id: &pending.account_id,
                    connection_id: &pending.connection_id,
                    event_id: &pending.event.event_id,
                    event_created: plan.event_created,
                    objects: &plan.objects,
                    payments: &plan.payments,
                    now,
                })
                .collect();
            self.store.yield_to_urgent_writes(MAX_YIELD).await;
            self.store.apply_inbox_events(&writes).await?;
            applied += writes.len();
            self.lift_answered_attention(&plans).await?;
            self.checkpoint().await;
        }
    }

    /// Runs `work` (a slice's planning), renewing this applier's claims every [`RENEW_EVERY`] until it ends, so a
    /// slice slower than the lease keeps its events; a failed renewal is only logged.
    async fn with_heartbeat<T>(&self, work: impl Future<Output = T>) -> T {
        tokio::pin!(work);
        let mut renew =
            tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
        loop {
            tokio::select! {
                done = &mut work => return done,
                _ = renew.tick() => {
                    if let Err(error) = self.store.renew_inbox_claims(&self.worker, unix_now() + LEASE).await {
                        tracing::warn!(%error, "renewing the applier's claims on inbox events failed; retrying");
                    }
                }
            }
        }
    }

    /// Releases claims when the applier starts and stops, so no event waits out a lease after a restart: on start,
    /// on SQLite, every claim (one process serves a SQLite file, so any claim was left by a process that is gone);
    /// on stop, this applier's own. A failure is only logged: the claims then end with their lease.
    async fn release_claims(&self, every: bool) {
        let worker = (!every).then_some(self.worker.as_str());
        match self.store.release_inbox_claims(worker).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released claims on webhook inbox events"),
            Err(error) => {
                tracing::warn!(%error, "releasing claims on webhook inbox events failed; they end with their lease")
            }
        }
    }

    /// Checkpoints the WAL if `CHECKPOINT_EVERY` passed since the last time; a failure is only logged, the next
    /// call tries again.
    async fn checkpoint(&self) {
        let mut last = self.last_checkpoint.lock().await;
        if last.elapsed() >= CHECKPOINT_EVERY {
            *last = tokio::time::Instant::now();
            if let Err(error) = self.store.checkpoint().await {
                tracing::warn!(%error, "checkpointing the database's write-ahead log failed; retrying later");
            }
        }
    }

    /// The stored versions of the objects the events are about, keyed like the batch's versions: one query per
    /// connection instead of one per event.
    async fn stored_versions(
        &self,
        due: &[PendingEvent],
    ) -> Result<HashMap<(String, String, String), i64>, LiveError> {
        let mut wanted: HashMap<(&str, &str), Vec<(String, String)>> = HashMap::new();
        for pending in due {
            let Ok(event) = parse_event(pending.event.payload.as_bytes()) else {
                continue; // planning reports it
            };
            if let Ok(ObjectIdentity {
                id: Some(id),
                object,
                ..
            }) = serde_json::from_str(event.data.object.get())
            {
                wanted
                    .entry((&pending.account_id, &pending.connection_id))
                    .or_default()
                    .push((object, id));
            }
        }
        let mut versions = HashMap::new();
        for ((account_id, connection_id), keys) in wanted {
            let stored = self
                .store
                .object_versions(account_id, connection_id, &keys)
                .await?;
            versions.extend(
                stored
                    .into_iter()
                    .map(|((object, id), v)| ((connection_id.to_owned(), object, id), v)),
            );
        }
        Ok(versions)
    }

    /// Applies due events every `poll` until `shutdown`, which also interrupts a pass waiting on Stripe; its claims
    /// are released then, so whichever applier runs next takes its events at once.
    pub async fn run(&self, poll: Duration, shutdown: CancellationToken) {
        if self.store.dialect() == Dialect::Sqlite {
            self.release_claims(true).await;
        }
        self.run_until(poll, &shutdown).await;
        self.release_claims(false).await;
    }

    async fn run_until(&self, poll: Duration, shutdown: &CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = self.apply_until_idle() => {
                    if let Err(error) = outcome {
                        tracing::error!(%error, "applying webhook events failed; retrying");
                    }
                    self.checkpoint().await;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Lifts a connection's live-sync attention once Stripe answered a fetch that needed what it names (see
    /// [`answered_by`]): the deferred event's retry after the merchant fixed the key, typically.
    async fn lift_answered_attention(
        &self,
        plans: &[(&PendingEvent, Plan)],
    ) -> Result<(), LiveError> {
        let mut proven: HashMap<(&str, &str), Vec<&'static str>> = HashMap::new();
        for (pending, plan) in plans.iter().filter(|(_, plan)| !plan.proven.is_empty()) {
            proven
                .entry((&pending.account_id, &pending.connection_id))
                .or_default()
                .extend(&plan.proven);
        }
        for ((account_id, connection_id), permissions) in proven {
            let state = self.store.live_state(account_id, connection_id).await?;
            let Some(reason) = state
                .attention_reason
                .filter(|reason| answered_by(reason, &permissions))
            else {
                continue;
            };
            self.store
                .set_live_attention(account_id, connection_id, None)
                .await?;
            let connection = self.store.connection(account_id, connection_id).await?;
            if connection.is_some_and(|c| {
                c.status == ConnectionStatus::NeedsAttention
                    && c.status_reason.as_ref() == Some(&reason)
            }) {
                self.store
                    .set_connection_status(
                        account_id,
                        connection_id,
                        ConnectionStatus::Active,
                        None,
                        unix_now(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Leaves a failed event in the inbox with a retry time. A key Stripe refuses (401/403) also sets the
    /// connection to `needs_attention` with the reason, once per connection and slice (`flagged`), as the import
    /// does; a later fetch that needed what it names, or a catch-up pass for a refused key, lifts it.
    async fn defer(
        &self,
        pending: &PendingEvent,
        error: &LiveError,
        flagged: &mut Vec<String>,
    ) -> Result<(), LiveError> {
        let attention = attention_reason(error);
        let wait = if attention.is_some() {
            RETRY_ATTENTION
        } else {
            RETRY_TRANSIENT
        };
        tracing::warn!(
            connection = %pending.connection_id,
            event = %pending.event.event_id,
            %error,
            "event not applied; it stays in the inbox and is retried"
        );
        if let Some(reason) = &attention
            && !flagged.contains(&pending.connection_id)
        {
            flagged.push(pending.connection_id.clone());
            self.store
                .set_live_attention(&pending.account_id, &pending.connection_id, Some(reason))
                .await?;
            self.store
                .set_connection_status(
                    &pending.account_id,
                    &pending.connection_id,
                    ConnectionStatus::NeedsAttention,
                    Some(reason),
                    unix_now(),
                )
                .await?;
        }
        self.store
            .defer_inbox_event(
                &pending.account_id,
                &pending.connection_id,
                &pending.event.event_id,
                &error.to_string(),
                unix_now() + wait,
            )
            .await?;
        Ok(())
    }

    async fn client(
        &self,
        pending: &PendingEvent,
        clients: &mut HashMap<String, stripe::Client>,
    ) -> Result<stripe::Client, LiveError> {
        if let Some(client) = clients.get(&pending.connection_id) {
            return Ok(client.clone());
        }
        let connection = self
            .store
            .connection(&pending.account_id, &pending.connection_id)
            .await?
            .ok_or_else(|| LiveError::NoConnection(pending.connection_id.clone()))?;
        let client = self.access.client_for(&connection, &self.master_key)?;
        clients.insert(pending.connection_id.clone(), client.clone());
        Ok(client)
    }

    /// Decides and fetches what one event writes, without writing it.
    async fn plan(
        &self,
        pending: &PendingEvent,
        clients: &mut HashMap<String, stripe::Client>,
        batch_versions: &mut HashMap<(String, String, String), i64>,
    ) -> Result<Plan, LiveError> {
        let (account_id, connection_id) = (&pending.account_id, &pending.connection_id);
        let event = parse_event(pending.event.payload.as_bytes())?;
        let identity: ObjectIdentity = serde_json::from_str(event.data.object.get())
            .map_err(super::event::EventError::Shape)?;
        let mut objects = Vec::new();
        let mut proven = Vec::new();
        if let Some(id) = &identity.id {
            let key = (connection_id.clone(), identity.object.clone(), id.clone());
            // Seeded with the stored versions by `stored_versions`, raised by this slice's writes.
            let stored = batch_versions.get(&key).copied();
            let snapshot = |deleted| RawObject {
                object_type: identity.object.clone(),
                id: id.clone(),
                created: identity.created.unwrap_or(event.created),
                version: event.created,
                deleted,
                json: event.data.object.get().to_owned(),
            };
            match decide(
                &event.event_type,
                event.created,
                &identity.object,
                identity.status.as_deref(),
                stored,
            ) {
                Decision::Skip => {}
                Decision::Store => objects.push(snapshot(false)),
                Decision::Tombstone => objects.push(snapshot(true)),
                Decision::Refetch => {
                    let client = self.client(pending, clients).await?;
                    match refetch(&client, &identity.object, id).await? {
                        Fetch::Object(object) => {
                            proven.extend(permission_of_type(&identity.object));
                            objects.push(object)
                        }
                        // Not retrievable (a type payscope does not fetch, or gone): the snapshot is the best known.
                        Fetch::Gone => objects.push(snapshot(false)),
                    }
                }
            }
        }
        // A dispute changes its charge (`disputed`) without Stripe sending a charge event: fetch the charge too, so
        // the payment row changes with the dispute.
        let disputed_charges: Vec<String> = objects
            .iter()
            .filter(|o| o.object_type == "dispute" && !o.deleted)
            .filter_map(|o| {
                serde_json::from_str::<serde_json::Value>(&o.json)
                    .ok()
                    .and_then(|v| v["charge"].as_str().map(str::to_owned))
            })
            .collect();
        for charge_id in disputed_charges {
            let client = self.client(pending, clients).await?;
            if let Fetch::Object(charge) =
                fetch_path(&client, "/v1/charges", &charge_id, &["balance_transaction"]).await?
            {
                proven.extend(permission_of_type("charge"));
                objects.push(charge);
            }
        }
        let mut related = Vec::new();
        let mut payments: Vec<Payment> = Vec::new();
        for object in objects.iter().filter(|o| !o.deleted) {
            for txn in balance_transactions(object) {
                match txn {
                    Related::Inline(json) => related.push(json),
                    Related::Id(txn_id) => {
                        let held = self
                            .store
                            .object(account_id, connection_id, "balance_transaction", &txn_id)
                            .await?;
                        if held.is_none() {
                            let client = self.client(pending, clients).await?;
                            match fetch_path(&client, "/v1/balance_transactions", &txn_id, &[])
                                .await
                            {
                                Ok(Fetch::Object(txn)) => {
                                    proven.extend(permission_of_type("balance_transaction"));
                                    related.push(txn)
                                }
                                Ok(Fetch::Gone) => {}
                                // A key without balance_read still gets its payments; only fee and net are missing.
                                Err(LiveError::Stripe(stripe::Error::Permission { .. })) => {}
                                Err(error) => return Err(error),
                            }
                        }
                    }
                }
            }
            if object.object_type == "charge" {
                let txn = self
                    .charge_transaction(account_id, connection_id, object, &related)
                    .await?;
                match payment_from_charge(&object.json, txn.as_ref(), None, object.version) {
                    Ok(payment) => payments.push(payment),
                    Err(error) => {
                        tracing::error!(charge = %object.id, %error, "charge not normalised")
                    }
                }
            }
        }
        objects.extend(related);
        for object in &objects {
            let key = (
                connection_id.clone(),
                object.object_type.clone(),
                object.id.clone(),
            );
            let version = batch_versions.entry(key).or_insert(object.version);
            *version = (*version).max(object.version);
        }
        Ok(Plan {
            event_created: event.created,
            objects,
            payments,
            proven,
        })
    }

    /// The balance transaction of a charge whose JSON holds only its id: fetched with this event, or stored.
    async fn charge_transaction(
        &self,
        account_id: &str,
        connection_id: &str,
        charge: &RawObject,
        related: &[RawObject],
    ) -> Result<Option<stripe::views::BalanceTransaction>, LiveError> {
        #[derive(Deserialize)]
        struct TxnRef {
            balance_transaction: Option<serde_json::Value>,
        }
        let Ok(TxnRef {
            balance_transaction: Some(serde_json::Value::String(id)),
        }) = serde_json::from_str::<TxnRef>(&charge.json)
        else {
            return Ok(None);
        };
        let json = match related.iter().find(|o| o.id == id) {
            Some(object) => Some(object.json.clone()),
            None => self
                .store
                .object(account_id, connection_id, "balance_transaction", &id)
                .await?
                .map(|o| o.json),
        };
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }
}

/// A balance transaction an object refers to.
enum Related {
    /// Expanded inside the object (a dispute's `balance_transactions`, an expanded charge).
    Inline(RawObject),
    /// Only its id.
    Id(String),
}

/// The balance transactions an object carries or names (`balance_transaction`, `balance_transactions[]`).
fn balance_transactions(object: &RawObject) -> Vec<Related> {
    #[derive(Deserialize)]
    struct Refs<'a> {
        #[serde(borrow, default)]
        balance_transaction: Option<&'a RawValue>,
        #[serde(borrow, default)]
        balance_transactions: Option<Vec<&'a RawValue>>,
    }
    let Ok(refs) = serde_json::from_str::<Refs>(&object.json) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let all = refs
        .balance_transaction
        .into_iter()
        .chain(refs.balance_transactions.unwrap_or_default());
    for raw in all {
        if let Ok(id) = serde_json::from_str::<String>(raw.get()) {
            found.push(Related::Id(id));
        } else if let Ok(identity) = serde_json::from_str::<ObjectIdentity>(raw.get())
            && let Some(id) = identity.id
        {
            found.push(Related::Inline(RawObject {
                object_type: identity.object,
                id,
                created: identity.created.unwrap_or(object.created),
                version: object.version,
                deleted: false,
                json: raw.get().to_owned(),
            }));
        }
    }
    found
}

/// Fetches the current copy of an object from Stripe (charges with their balance transaction expanded, as the
/// import stores them), versioned by the fetch time.
/// The permission a fetch of `object_type` needs (the import resource's).
fn permission_of_type(object_type: &str) -> Option<&'static str> {
    RESOURCES
        .iter()
        .find(|r| r.object_type == object_type && r.paginated)
        .map(|r| r.permission)
}

async fn refetch(client: &stripe::Client, object_type: &str, id: &str) -> Result<Fetch, LiveError> {
    let Some(resource) = RESOURCES
        .iter()
        .find(|r| r.object_type == object_type && r.paginated)
    else {
        return Ok(Fetch::Gone);
    };
    let expand: &[&str] = if object_type == "charge" {
        &["balance_transaction"]
    } else {
        &[]
    };
    fetch_path(client, resource.path, id, expand).await
}

async fn fetch_path(
    client: &stripe::Client,
    path: &str,
    id: &str,
    expand: &[&str],
) -> Result<Fetch, LiveError> {
    let params = stripe::Params::new().list("expand", expand.iter().map(|e| (*e).to_owned()));
    let fetched_at = unix_now();
    let response = match client.get(&format!("{path}/{id}"), &params).await {
        Ok(response) => response,
        Err(stripe::Error::InvalidRequest { status: 404, .. }) => return Ok(Fetch::Gone),
        Err(error) => return Err(LiveError::Stripe(error)),
    };
    let identity: ObjectIdentity = response
        .json("an object with id and object")
        .map_err(LiveError::Stripe)?;
    Ok(Fetch::Object(RawObject {
        object_type: identity.object,
        id: identity.id.unwrap_or_else(|| id.to_owned()),
        created: identity.created.unwrap_or(0),
        version: fetched_at,
        deleted: false,
        json: response.body,
    }))
}
