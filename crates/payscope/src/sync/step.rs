//! The import's step function: fetch one page of a claimed range, plan what follows, and store the page with the
//! range's new checkpoint (and any ranges split off) in one transaction.

use std::pin::pin;

use futures::TryStreamExt;
use serde::Deserialize;
use stripe::{CreatedRange, ListParams};

use super::embedded::extract_payment_methods;
use super::planner::{PageSummary, Plan, PlannerConfig, plan_after_page};
use super::resources::Resource;
use super::stored_ids::StoredIds;
use super::writer::{PageWrite, PageWriter};
use crate::domain::normalize::payment_from_charge;
use crate::store::{ImportRange, RawObject, Store, StoreError, unix_now};

/// Why a step did not store its page. The worker branches on it: transient failures are retried later from the
/// same checkpoint (nothing is dropped), the others stop the resource or the whole import.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// 403: the key lacks the permission the resource needs.
    #[error("{0}")]
    Permission(#[source] stripe::Error),
    /// 401: the key is unknown, revoked or expired.
    #[error("{0}")]
    Authentication(#[source] stripe::Error),
    /// 429, 5xx, timeouts and network errors that outlasted the client's own retries.
    #[error("{0}")]
    Transient(#[source] stripe::Error),
    /// Stripe refused the request or sent something unreadable; retrying the same request cannot help.
    #[error("{0}")]
    Refused(#[source] stripe::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StepError {
    fn from_stripe(error: stripe::Error) -> StepError {
        match error {
            stripe::Error::Permission { .. } => StepError::Permission(error),
            stripe::Error::Authentication { .. } => StepError::Authentication(error),
            stripe::Error::RateLimited { .. }
            | stripe::Error::Api { .. }
            | stripe::Error::Network { .. }
            | stripe::Error::Timeout { .. } => StepError::Transient(error),
            stripe::Error::InvalidRequest { .. } | stripe::Error::Decode { .. } => {
                StepError::Refused(error)
            }
        }
    }
}

/// What a stored step leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// The page is stored and the range has more: continue with this (updated) range.
    More {
        /// The range as it now stands, still claimed by the worker.
        range: ImportRange,
        /// Objects stored by this step.
        stored: usize,
    },
    /// The page is stored and the range is finished.
    Finished {
        /// Objects stored by this step.
        stored: usize,
    },
    /// Another worker took the range over (this one's lease ran out); nothing was stored.
    LostClaim,
}

/// What a step needs besides the range.
#[derive(Debug, Clone)]
pub struct StepContext<'a> {
    /// The database, for reads.
    pub store: &'a Store,
    /// Where the step's write goes (directly, or through the job's group-commit writer).
    pub writer: &'a PageWriter,
    /// The connection's client (its account's shared limiter inside).
    pub client: &'a stripe::Client,
    /// The connection the objects belong to.
    pub connection_id: &'a str,
    /// The resource being imported.
    pub resource: &'a Resource,
    /// The split rule.
    pub planner: &'a PlannerConfig,
    /// This worker's name, as recorded in its claims.
    pub worker: &'a str,
    /// How long a claim lasts after each stored page (seconds).
    pub lease_seconds: i64,
    /// Ids of the PaymentMethods this run has already stored from other pages: a PaymentMethod named by many
    /// intents (a returning customer's card) is written once per run, not once per intent, which is most of what
    /// carrying them inside the intent pages costs the database writer.
    pub stored_payment_methods: &'a StoredIds,
}

/// The few fields of any listed object the import needs.
#[derive(Deserialize)]
struct Identity {
    id: String,
    object: String,
    #[serde(default)]
    created: Option<i64>,
    /// Report types have no `created`; their `updated` stands in for it.
    #[serde(default)]
    updated: Option<i64>,
}

/// Fetches the next page of `range` and stores it with the new checkpoint, in one transaction.
pub async fn import_step(
    ctx: &StepContext<'_>,
    range: &ImportRange,
) -> Result<StepOutcome, StepError> {
    let prepared = prepare_step(ctx, range).await?;
    let stored = prepared.stored;
    if !ctx.writer.write(prepared.write).await? {
        return Ok(StepOutcome::LostClaim);
    }
    Ok(match prepared.next {
        Some(range) => StepOutcome::More { range, stored },
        None => StepOutcome::Finished { stored },
    })
}

/// A fetched page with everything its step will write, not yet written. The worker writes it and may fetch
/// `next`'s page while it commits; the next write waits for this one's commit, so checkpoints stay in order.
#[derive(Debug)]
pub struct PreparedStep {
    /// The page, its checkpoint, splits and listed counts: one transaction.
    pub write: PageWrite,
    /// Objects on the page.
    pub stored: usize,
    /// The range as it stands once the write is committed, `None` when the write finishes it.
    pub next: Option<ImportRange>,
    /// Ids of the PaymentMethods the write stores from inside the page's objects; once it is committed, later
    /// pages of the run leave them out (see [`StepContext::stored_payment_methods`]).
    pub payment_methods: Vec<String>,
}

/// Fetches the next page of `range` and plans what follows, without writing: the first half of [`import_step`].
pub async fn prepare_step(
    ctx: &StepContext<'_>,
    range: &ImportRange,
) -> Result<PreparedStep, StepError> {
    let resource = ctx.resource;
    let mut params = ListParams {
        starting_after: range.cursor.clone(),
        expand: resource.expand.iter().map(|e| (*e).to_owned()).collect(),
        ..ListParams::default()
    };
    if resource.created_filter {
        params.created = CreatedRange {
            gte: Some(range.range_start),
            lt: Some(range.range_end),
            ..CreatedRange::default()
        };
    }
    for (name, value) in resource.extra {
        params.extra = std::mem::take(&mut params.extra).text(name, *value);
    }
    let started = std::time::Instant::now();
    let page = if resource.paginated {
        let mut pages = pin!(ctx.client.list_pages(resource.path, params));
        pages.try_next().await.map_err(StepError::from_stripe)?
    } else {
        Some(whole_list(ctx.client, resource.path).await?)
    };
    let Some(page) = page else {
        // The stream always yields a first page or an error; an empty stream means an empty list.
        return Ok(prepare_write(
            ctx,
            range,
            Plan::Done,
            (Vec::new(), Vec::new()),
            Vec::new(),
        ));
    };

    let fetch_ms = started.elapsed().as_millis() as u64;
    let fetched_at = unix_now();
    let mut objects = Vec::with_capacity(page.objects.len());
    let mut embedded = Vec::new();
    let undecodable = |what, source| {
        StepError::Refused(stripe::Error::Decode {
            what,
            source,
            request_id: page.request_id.clone(),
        })
    };
    for raw in &page.objects {
        let identity: Identity = serde_json::from_str(raw.get())
            .map_err(|e| undecodable("a listed object with id and object", e))?;
        let found = extract_payment_methods(raw.get(), resource.payment_methods, fetched_at)
            .map_err(|e| undecodable("a listed object", e))?;
        embedded.extend(found.payment_methods);
        objects.push(RawObject {
            object_type: identity.object,
            id: identity.id,
            created: identity.created.or(identity.updated).unwrap_or(0),
            version: fetched_at,
            deleted: false,
            json: found.json.unwrap_or_else(|| raw.get().to_owned()),
        });
    }
    if !embedded.is_empty() {
        // Once per run and page: the copies are from the same minutes, and live sync keeps them current after.
        ctx.stored_payment_methods.retain_new(&mut embedded);
    }
    let summary = PageSummary {
        count: objects.len(),
        has_more: page.has_more,
        newest_created: objects.first().map(|o| o.created),
        oldest_created: objects.last().map(|o| o.created),
        last_id: page.next_cursor.clone(),
    };
    let open = if summary.has_more && resource.created_filter {
        ctx.store
            .open_import_ranges(&range.job_id, &range.resource)
            .await? as usize
    } else {
        0
    };
    let plan = plan_after_page(
        ctx.planner,
        (range.range_start, range.range_end),
        resource.created_filter,
        &summary,
        open,
    );
    let mut payments: Vec<_> = if resource.object_type == "charge" {
        objects
            .iter()
            .filter_map(
                |o| match payment_from_charge(&o.json, None, None, fetched_at) {
                    Ok(payment) => Some(payment),
                    Err(error) => {
                        // The raw charge is stored regardless; only its analytics row is missing, and this says so.
                        tracing::error!(charge = %o.id, %error, "charge not normalised");
                        None
                    }
                },
            )
            .collect()
    } else {
        Vec::new()
    };
    number_attempts_on_page(&mut payments);
    let prepared = prepare_write(ctx, range, plan, (objects, embedded), payments);
    tracing::debug!(
        resource = resource.name,
        fetch_ms,
        plan_ms = started.elapsed().as_millis() as u64 - fetch_ms,
        "import page fetched"
    );
    Ok(prepared)
}

/// Numbers each intent's attempts on the page by `created` (ties by charge id), as the store numbers every stored
/// attempt of an intent. Most intents have all their attempts on one page, so the number stored with the row is
/// already right and the store's renumbering, which writes only the numbers that change, rarely rewrites a row.
fn number_attempts_on_page(payments: &mut [crate::domain::payment::Payment]) {
    let mut order: Vec<usize> = (0..payments.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| {
            let p = &payments[i];
            (
                p.payment_intent_id.as_deref(),
                p.created,
                p.charge_id.as_str(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut previous: Option<&str> = None;
    let mut numbers = vec![None; payments.len()];
    let mut number = 0;
    for &i in &order {
        let intent = payments[i].payment_intent_id.as_deref();
        if intent.is_none() {
            continue;
        }
        number = if intent == previous { number + 1 } else { 1 };
        previous = intent;
        numbers[i] = Some(number);
    }
    for (payment, number) in payments.iter_mut().zip(numbers) {
        if number.is_some() {
            payment.attempt_number = number;
        }
    }
}

/// An unpaginated list (report types): one request, every object, no `limit`.
async fn whole_list(client: &stripe::Client, path: &str) -> Result<stripe::Page, StepError> {
    #[derive(Deserialize)]
    struct Body {
        data: Vec<Box<serde_json::value::RawValue>>,
    }
    let response = client
        .get(path, &stripe::Params::new())
        .await
        .map_err(StepError::from_stripe)?;
    let body: Body = response.json("a list").map_err(StepError::from_stripe)?;
    Ok(stripe::Page {
        objects: body.data,
        has_more: false,
        next_cursor: None,
        request_id: response.request_id,
    })
}

fn prepare_write(
    ctx: &StepContext<'_>,
    range: &ImportRange,
    plan: Plan,
    (objects, embedded): (Vec<RawObject>, Vec<RawObject>),
    payments: Vec<crate::domain::payment::Payment>,
) -> PreparedStep {
    let count = objects.len();
    let mut days: Vec<(i64, i64)> = Vec::new();
    for object in &objects {
        let day = object.created.div_euclid(86_400);
        match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, n)) => *n += 1,
            None => days.push((day, 1)),
        }
    }
    let lease_until = unix_now() + ctx.lease_seconds;
    let (new_start, cursor, cursor_created, split_off, done) = match plan {
        Plan::Done => (range.range_start, None, None, Vec::new(), true),
        Plan::Continue {
            new_start,
            cursor,
            cursor_created,
            split_off,
        } => (
            new_start,
            Some(cursor),
            Some(cursor_created),
            split_off,
            false,
        ),
    };
    let next = (!done).then(|| ImportRange {
        range_start: new_start,
        cursor: cursor.clone(),
        objects: range.objects + count as i64,
        ..range.clone()
    });
    let payment_methods = embedded.iter().map(|pm| pm.id.clone()).collect();
    PreparedStep {
        write: PageWrite {
            range: range.clone(),
            worker: ctx.worker.to_owned(),
            connection_id: ctx.connection_id.to_owned(),
            new_start,
            cursor,
            cursor_created,
            done,
            lease_until,
            split_off,
            objects,
            embedded,
            payments,
            listed_days: days,
        },
        stored: count,
        next,
        payment_methods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payment::Payment;

    fn attempt(charge: &str, intent: Option<&str>, created: i64) -> Payment {
        Payment {
            charge_id: charge.into(),
            payment_intent_id: intent.map(str::to_owned),
            created,
            ..Payment::default()
        }
    }

    #[test]
    fn a_pages_attempts_are_numbered_per_intent_by_created_then_charge_id() {
        // Newest first, as Stripe lists them; `ch_b` and `ch_c` tie on `created`.
        let mut page = vec![
            attempt("ch_d", Some("pi_1"), 30),
            attempt("ch_x", None, 25),
            attempt("ch_c", Some("pi_1"), 20),
            attempt("ch_b", Some("pi_1"), 20),
            attempt("ch_e", Some("pi_2"), 15),
        ];
        number_attempts_on_page(&mut page);
        let numbers: Vec<(&str, Option<i64>)> = page
            .iter()
            .map(|p| (p.charge_id.as_str(), p.attempt_number))
            .collect();
        assert_eq!(
            numbers,
            [
                ("ch_d", Some(3)),
                ("ch_x", None),
                ("ch_c", Some(2)),
                ("ch_b", Some(1)),
                ("ch_e", Some(1)),
            ]
        );
    }
}
