//! Stripe objects stored losslessly, and the normalised payments derived from them. Every write is an idempotent
//! upsert guarded by the version it reflects, so replays, retries and out-of-order events are harmless.

use std::borrow::Borrow;

use sqlx::{AnyConnection, Row};

use super::{Store, StoreResult, flag, unix_now};
use crate::domain::payment::Payment;

/// One Stripe object as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    /// Stripe's `object` value (`charge`, `dispute`, …).
    pub object_type: String,
    /// Stripe's id.
    pub id: String,
    /// Stripe's `created` (unix seconds); never changes on update.
    pub created: i64,
    /// What this copy reflects: the event's `created`, or the time it was fetched. Older versions never
    /// overwrite newer ones.
    pub version: i64,
    /// A tombstone left by a `*.deleted` event.
    pub deleted: bool,
    /// The JSON exactly as Stripe sent it.
    pub json: String,
}

/// What payscope holds of one object type, for reconciling with what Stripe lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    /// Stripe's `object` value.
    pub object_type: String,
    /// Objects held, tombstones included.
    pub held: i64,
    /// Tombstones among them.
    pub deleted: i64,
    /// The newest version stored (unix seconds).
    pub newest_version: i64,
}

impl Store {
    /// Upserts objects for a connection in one transaction. Returns how many rows changed (older versions are
    /// skipped, equal versions rewritten).
    pub async fn upsert_objects(
        &self,
        account_id: &str,
        connection_id: &str,
        objects: &[RawObject],
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let changed = upsert_objects_in(&mut tx, account_id, connection_id, objects).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Upserts normalised payments for a connection in one transaction, version-guarded like objects.
    pub async fn upsert_payments(
        &self,
        account_id: &str,
        connection_id: &str,
        payments: &[Payment],
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        let changed = upsert_payments_in(&mut tx, account_id, connection_id, payments).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// One stored object, if held.
    pub async fn object(
        &self,
        account_id: &str,
        connection_id: &str,
        object_type: &str,
        id: &str,
    ) -> StoreResult<Option<RawObject>> {
        let row = sqlx::query(
            "SELECT object_type, id, created, version, deleted, json FROM stripe_objects
             WHERE account_id = $1 AND connection_id = $2 AND object_type = $3 AND id = $4",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(object_type)
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| {
            Ok(RawObject {
                object_type: row.try_get("object_type")?,
                id: row.try_get("id")?,
                created: row.try_get("created")?,
                version: row.try_get("version")?,
                deleted: flag(row.try_get("deleted")?),
                json: row.try_get("json")?,
            })
        })
        .transpose()
    }

    /// One stored payment, if held.
    pub async fn payment(
        &self,
        account_id: &str,
        connection_id: &str,
        charge_id: &str,
    ) -> StoreResult<Option<Payment>> {
        let row = sqlx::query(
            "SELECT charge_id, created, version, amount, currency, status, captured, amount_refunded, disputed,
                    outcome_type, network_status, outcome_reason, risk_level, advice_code, network_decline_code,
                    failure_code, decline_code, payment_method_type, card_brand, card_funding, card_country,
                    card_iin, card_issuer, wallet, three_d_secure, fee, net, payment_intent_id, attempt_number,
                    customer_id
             FROM payments WHERE account_id = $1 AND connection_id = $2 AND charge_id = $3",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(charge_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| {
            Ok(Payment {
                charge_id: row.try_get("charge_id")?,
                created: row.try_get("created")?,
                version: row.try_get("version")?,
                amount: row.try_get("amount")?,
                currency: row.try_get("currency")?,
                status: row.try_get("status")?,
                captured: flag(row.try_get("captured")?),
                amount_refunded: row.try_get("amount_refunded")?,
                disputed: flag(row.try_get("disputed")?),
                outcome_type: row.try_get("outcome_type")?,
                network_status: row.try_get("network_status")?,
                outcome_reason: row.try_get("outcome_reason")?,
                risk_level: row.try_get("risk_level")?,
                advice_code: row.try_get("advice_code")?,
                network_decline_code: row.try_get("network_decline_code")?,
                failure_code: row.try_get("failure_code")?,
                decline_code: row.try_get("decline_code")?,
                payment_method_type: row.try_get("payment_method_type")?,
                card_brand: row.try_get("card_brand")?,
                card_funding: row.try_get("card_funding")?,
                card_country: row.try_get("card_country")?,
                card_iin: row.try_get("card_iin")?,
                card_issuer: row.try_get("card_issuer")?,
                wallet: row.try_get("wallet")?,
                three_d_secure: row.try_get("three_d_secure")?,
                fee: row.try_get("fee")?,
                net: row.try_get("net")?,
                payment_intent_id: row.try_get("payment_intent_id")?,
                attempt_number: row.try_get("attempt_number")?,
                customer_id: row.try_get("customer_id")?,
            })
        })
        .transpose()
    }

    /// Stored objects of one type for a connection of `account_id`, by id, after `after_id`: a page at a time, to
    /// rebuild derived rows or reconcile with Stripe without holding every object in memory.
    pub async fn objects_after(
        &self,
        account_id: &str,
        connection_id: &str,
        object_type: &str,
        after_id: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<RawObject>> {
        sqlx::query(
            "SELECT object_type, id, created, version, deleted, json FROM stripe_objects
             WHERE account_id = $1 AND connection_id = $2 AND object_type = $3 AND id > $4
             ORDER BY id LIMIT $5",
        )
        .bind(account_id)
        .bind(connection_id)
        .bind(object_type)
        .bind(after_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(RawObject {
                object_type: row.try_get("object_type")?,
                id: row.try_get("id")?,
                created: row.try_get("created")?,
                version: row.try_get("version")?,
                deleted: flag(row.try_get("deleted")?),
                json: row.try_get("json")?,
            })
        })
        .collect()
    }

    /// Per object type: objects held, tombstones, newest version — the inventory a user reconciles with Stripe.
    pub async fn inventory(
        &self,
        account_id: &str,
        connection_id: &str,
    ) -> StoreResult<Vec<InventoryRow>> {
        sqlx::query(
            "SELECT object_type, CAST(COUNT(*) AS BIGINT) AS held, CAST(SUM(deleted) AS BIGINT) AS deleted,
                    CAST(MAX(version) AS BIGINT) AS newest
             FROM stripe_objects WHERE account_id = $1 AND connection_id = $2
             GROUP BY object_type ORDER BY object_type",
        )
        .bind(account_id)
        .bind(connection_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(InventoryRow {
                object_type: row.try_get("object_type")?,
                held: row.try_get("held")?,
                deleted: row.try_get("deleted")?,
                newest_version: row.try_get("newest")?,
            })
        })
        .collect()
    }
}

/// Rows per multi-row `INSERT`: one statement per page of 100 instead of 100 round trips through the driver, well
/// under both databases' bind-parameter limits (9 or 32 per row).
const BATCH_ROWS: usize = 100;

/// `($1, …, $n), ($n+1, …)` for `rows` rows of `columns` parameters on PostgreSQL; `(?, …), (?, …)` on SQLite.
///
/// SQLite keeps named parameters (`$n`) in a list it scans linearly, both when parsing and when sqlx asks each
/// parameter's name to bind it: quadratic in the parameters, and with 3,200 per payments batch that was a third of
/// the import's CPU (`perf`: `sqlite3_bind_parameter_name`). Anonymous `?` parameters are numbered in order and
/// never looked up, so they bind in order at no cost.
pub(super) fn values_placeholders(conn: &AnyConnection, rows: usize, columns: usize) -> String {
    let anonymous = conn.backend_name().eq_ignore_ascii_case("sqlite");
    let mut sql = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 1..=columns {
            if col > 1 {
                sql.push_str(", ");
            }
            if anonymous {
                sql.push('?');
            } else {
                sql.push_str(&format!("${}", row * columns + col));
            }
        }
        sql.push(')');
    }
    sql
}

/// The object upsert, inside a caller's transaction (the import stores a page and its checkpoint together).
/// Batched; a batch never holds the same object twice, since PostgreSQL refuses to update one row twice in a
/// statement.
pub(super) async fn upsert_objects_in<O: Borrow<RawObject>>(
    conn: &mut AnyConnection,
    account_id: &str,
    connection_id: &str,
    objects: &[O],
) -> StoreResult<u64> {
    let stored_at = unix_now();
    let mut changed = 0;
    for batch in distinct_batches(objects, |o| {
        let o = o.borrow();
        (o.object_type.as_str(), o.id.as_str())
    }) {
        let sql = format!(
            "INSERT INTO stripe_objects (account_id, connection_id, object_type, id, created, version, deleted, json, stored_at)
             VALUES {}
             ON CONFLICT (connection_id, object_type, id) DO UPDATE SET
                 created = excluded.created, version = excluded.version, deleted = excluded.deleted,
                 json = excluded.json, stored_at = excluded.stored_at
             WHERE stripe_objects.version <= excluded.version",
            values_placeholders(conn, batch.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for object in batch {
            let object = object.borrow();
            query = query
                .bind(account_id)
                .bind(connection_id)
                .bind(&object.object_type)
                .bind(&object.id)
                .bind(object.created)
                .bind(object.version)
                .bind(i64::from(object.deleted))
                .bind(&object.json)
                .bind(stored_at);
        }
        changed += query.execute(&mut *conn).await?.rows_affected();
    }
    // Days of objects the dashboards count (disputes, refunds, payouts, fee lines) need their rollups recomputed.
    let rolled_up = objects.iter().map(Borrow::borrow).filter(|o| {
        super::object_analytics::ROLLED_UP_OBJECT_TYPES.contains(&o.object_type.as_str())
    });
    super::rollups::mark_days_in(
        conn,
        account_id,
        connection_id,
        rolled_up.map(|o| o.created),
    )
    .await?;
    Ok(changed)
}

/// Splits `items` into batches of at most [`BATCH_ROWS`] in which no key repeats, keeping their order (a repeated
/// key starts a new batch, so the later copy is applied after the earlier one, as a row-by-row loop would).
fn distinct_batches<'a, T, K: PartialEq>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a [T]> {
    let mut batches = Vec::new();
    let mut start = 0;
    for i in 0..items.len() {
        let full = i - start == BATCH_ROWS;
        let repeated = items[start..i]
            .iter()
            .any(|earlier| key(earlier) == key(&items[i]));
        if full || repeated {
            batches.push(&items[start..i]);
            start = i;
        }
    }
    if start < items.len() {
        batches.push(&items[start..]);
    }
    batches
}

/// The payment upsert, inside a caller's transaction.
pub(super) async fn upsert_payments_in<P: Borrow<Payment>>(
    conn: &mut AnyConnection,
    account_id: &str,
    connection_id: &str,
    payments: &[P],
) -> StoreResult<u64> {
    let mut changed = 0;
    for batch in distinct_batches(payments, |p| p.borrow().charge_id.as_str()) {
        let sql = format!(
            "INSERT INTO payments (account_id, connection_id, charge_id, created, version, amount, currency, status,
                 captured, amount_refunded, disputed, outcome_type, network_status, outcome_reason, risk_level,
                 advice_code, network_decline_code, failure_code, decline_code, payment_method_type, card_brand,
                 card_funding, card_country, card_iin, card_issuer, wallet, three_d_secure, fee, net,
                 payment_intent_id, attempt_number, customer_id)
             VALUES {}
             ON CONFLICT (connection_id, charge_id) DO UPDATE SET
                 created = excluded.created, version = excluded.version, amount = excluded.amount,
                 currency = excluded.currency, status = excluded.status, captured = excluded.captured,
                 amount_refunded = excluded.amount_refunded, disputed = excluded.disputed,
                 outcome_type = excluded.outcome_type, network_status = excluded.network_status,
                 outcome_reason = excluded.outcome_reason, risk_level = excluded.risk_level,
                 advice_code = excluded.advice_code, network_decline_code = excluded.network_decline_code,
                 failure_code = excluded.failure_code, decline_code = excluded.decline_code,
                 payment_method_type = excluded.payment_method_type, card_brand = excluded.card_brand,
                 card_funding = excluded.card_funding, card_country = excluded.card_country,
                 card_iin = excluded.card_iin, card_issuer = excluded.card_issuer, wallet = excluded.wallet,
                 three_d_secure = excluded.three_d_secure, fee = excluded.fee, net = excluded.net,
                 payment_intent_id = excluded.payment_intent_id, attempt_number = excluded.attempt_number,
                 customer_id = excluded.customer_id
             WHERE payments.version <= excluded.version",
            values_placeholders(conn, batch.len(), 32)
        );
        let mut query = sqlx::query(&sql);
        for p in batch {
            let p = p.borrow();
            query = query
                .bind(account_id)
                .bind(connection_id)
                .bind(&p.charge_id)
                .bind(p.created)
                .bind(p.version)
                .bind(p.amount)
                .bind(&p.currency)
                .bind(&p.status)
                .bind(i64::from(p.captured))
                .bind(p.amount_refunded)
                .bind(i64::from(p.disputed))
                .bind(&p.outcome_type)
                .bind(&p.network_status)
                .bind(&p.outcome_reason)
                .bind(&p.risk_level)
                .bind(&p.advice_code)
                .bind(&p.network_decline_code)
                .bind(&p.failure_code)
                .bind(&p.decline_code)
                .bind(&p.payment_method_type)
                .bind(&p.card_brand)
                .bind(&p.card_funding)
                .bind(&p.card_country)
                .bind(&p.card_iin)
                .bind(&p.card_issuer)
                .bind(&p.wallet)
                .bind(&p.three_d_secure)
                .bind(p.fee)
                .bind(p.net)
                .bind(&p.payment_intent_id)
                .bind(p.attempt_number)
                .bind(&p.customer_id);
        }
        changed += query.execute(&mut *conn).await?.rows_affected();
    }
    let intents = intents_of(payments);
    let flipped = mark_deciding_attempts_in(conn, connection_id, &intents).await?;
    // The days these payments fall on, and those of their intents' other attempts whose deciding flag changed (a
    // retry that succeeds moves the deciding attempt, possibly from another day), need their rollups recomputed: a
    // day's rollup rows read only its own payments' columns. Marked in this transaction so a committed payment is
    // never missing from a refreshed rollup.
    super::rollups::mark_days_in(
        conn,
        account_id,
        connection_id,
        payments.iter().map(|p| p.borrow().created).chain(flipped),
    )
    .await?;
    Ok(changed)
}

/// The distinct payment intents of `payments`.
fn intents_of<P: Borrow<Payment>>(payments: &[P]) -> Vec<&str> {
    let mut intents: Vec<&str> = payments
        .iter()
        .filter_map(|p| p.borrow().payment_intent_id.as_deref())
        .collect();
    intents.sort_unstable();
    intents.dedup();
    intents
}

/// Sets `decisive` on the attempts of `intents`: 1 on each intent's deciding attempt (the one that succeeded, else
/// a pending one, else the latest; verifications never), 0 on the others, so retry-deduplicated analytics count
/// each intent once by reading deciding attempts only.
///
/// Only attempts whose flag changes are written (a flag is 0 or 1, so a change flips it): `decisive` is a column
/// of the wide analytics index, and rewriting every attempt of every intent a page touches, most of them already
/// right (a new payment's default 1 is right for a single attempt), cost the import's writer an index delete and
/// insert per payment.
/// Returns the `created` of the attempts it changed, whose days need their rollups recomputed.
async fn mark_deciding_attempts_in(
    conn: &mut AnyConnection,
    connection_id: &str,
    intents: &[&str],
) -> StoreResult<Vec<i64>> {
    let mut changed = Vec::new();
    for (text, chunk) in statements_for_intents(1, intents, |list| {
        format!(
            "UPDATE payments SET decisive = 1 - decisive
             WHERE connection_id = $1 AND payment_intent_id IN ({list})
               AND decisive <> CASE WHEN charge_id = (
                 SELECT p2.charge_id FROM payments p2
                 WHERE p2.connection_id = payments.connection_id
                   AND p2.payment_intent_id = payments.payment_intent_id AND p2.amount > 0
                 ORDER BY CASE p2.status WHEN 'succeeded' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
                          p2.created DESC, p2.charge_id DESC
                 LIMIT 1) THEN 1 ELSE 0 END
             RETURNING created"
        )
    }) {
        let mut query = sqlx::query(&text).bind(connection_id);
        for intent in chunk {
            query = query.bind(*intent);
        }
        for row in query.fetch_all(&mut *conn).await? {
            changed.push(row.try_get("created")?);
        }
    }
    Ok(changed)
}

/// Runs the statement `sql(list)` once per chunk of `intents`: `list` is the chunk's placeholders, bound after
/// `leading` (which take `$1`, `$2`, …). For the statements that touch every attempt of some intents.
pub(super) async fn execute_for_intents(
    conn: &mut AnyConnection,
    leading: &[&str],
    intents: &[&str],
    sql: impl Fn(String) -> String,
) -> StoreResult<()> {
    for (text, chunk) in statements_for_intents(leading.len(), intents, sql) {
        let mut query = sqlx::query(&text);
        for value in leading.iter().chain(chunk) {
            query = query.bind(*value);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The statements `sql(list)` of [`execute_for_intents`], each with its chunk of `intents` (bound after `leading`
/// values).
fn statements_for_intents<'a, 'b>(
    leading: usize,
    intents: &'a [&'b str],
    sql: impl Fn(String) -> String,
) -> impl Iterator<Item = (String, &'a [&'b str])> {
    intents.chunks(BATCH_ROWS).map(move |chunk| {
        let list: Vec<String> = (1..=chunk.len())
            .map(|i| format!("${}", leading + i))
            .collect();
        (sql(list.join(", ")), chunk)
    })
}

/// Sets `attempt_number` of every stored payment of the given payments' intents to its position among the
/// intent's charges by `created` (ties by charge id). The import and live sync both call it after storing payments, so a
/// charge numbers its intent's attempts the same whichever way it arrived. Only payments whose number changes are
/// written: the import stores its payments numbered as their page shows them, which is already right for nearly
/// all of them, and rewriting each row a second time was a large share of the import's writer time.
pub(super) async fn renumber_attempts_in<P: Borrow<Payment>>(
    conn: &mut AnyConnection,
    connection_id: &str,
    payments: &[P],
) -> StoreResult<()> {
    const POSITION: &str = "(SELECT COUNT(*) FROM payments p2
                 WHERE p2.connection_id = payments.connection_id AND p2.payment_intent_id = payments.payment_intent_id
                   AND (p2.created < payments.created OR (p2.created = payments.created AND p2.charge_id <= payments.charge_id)))";
    execute_for_intents(conn, &[connection_id], &intents_of(payments), |list| {
        format!(
            "UPDATE payments SET attempt_number = {POSITION}
             WHERE connection_id = $1 AND payment_intent_id IN ({list})
               AND (attempt_number IS NULL OR attempt_number <> {POSITION})"
        )
    })
    .await
}
