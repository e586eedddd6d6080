//! Ground truth about a ledger for tests and the control API: counts and amount sums per type and per UTC day.
//!
//! Shape: `{"account", "now", "types": {"charge": {"count", "amount_sum", "by_day": {"2026-07-28": {"count",
//! "amount_sum"}}, "succeeded", "failed", "pending", "succeeded_by_currency": {"usd": {"count",
//! "amount_sum"}}}, "customer": {"count", "by_day": {…}}, …}}`; `amount_sum` only for types with `amount`.
//!
//! `payment_method` also has `referenced_by_intents` (`{"count", "by_day"}`: the PaymentMethods a PaymentIntent or
//! SetupIntent names in `payment_method` or `last_payment_error.payment_method`, what a client can reach through
//! the intents when `GET /v1/payment_methods` lists only Treasury ones), `referenced_by_intents_or_customers` (the
//! same plus customers' `invoice_settings.default_payment_method`) and `referenced_by_charges_only` (the count
//! named by a charge and by none of those).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::calendar::{DAY, date_string};
use super::currencies::CURRENCIES;
use super::records::{ChargeStatus, IntentStatus, NONE};
use super::{Ledger, ObjectType};

/// The `amount` field of an object, for types that have one.
pub(super) fn amount(l: &Ledger, ty: ObjectType, h: u32) -> Option<i64> {
    let i = h as usize;
    Some(match ty {
        ObjectType::Charge => l.charges[i].amount,
        ObjectType::PaymentIntent => l.intents[i].amount,
        ObjectType::Refund => l.refunds[i].amount,
        ObjectType::Dispute => l.disputes[i].amount,
        ObjectType::BalanceTransaction => l.balance_transactions[i].amount,
        ObjectType::Payout => l.payouts[i].amount,
        ObjectType::CreditNote => l.credit_notes[i].amount,
        _ => return None,
    })
}

pub(super) fn truth(l: &Ledger) -> Value {
    let mut types = serde_json::Map::new();
    for ty in ObjectType::ALL {
        let mut count = 0u64;
        let mut sum = 0i64;
        // Keyed by day number (cheap) and turned into dates once per day at the end.
        let mut by_day: BTreeMap<i64, (u64, i64)> = BTreeMap::new();
        for h in 0..l.count(ty) as u32 {
            let a = amount(l, ty, h).unwrap_or(0);
            count += 1;
            sum += a;
            let e = by_day.entry(l.created(ty, h).div_euclid(DAY)).or_default();
            e.0 += 1;
            e.1 += a;
        }
        let has_amount = matches!(
            ty,
            ObjectType::Charge
                | ObjectType::PaymentIntent
                | ObjectType::Refund
                | ObjectType::Dispute
                | ObjectType::BalanceTransaction
                | ObjectType::Payout
                | ObjectType::CreditNote
        );
        let days: serde_json::Map<String, Value> = by_day
            .into_iter()
            .map(|(d, (c, s))| {
                let v = if has_amount {
                    json!({ "count": c, "amount_sum": s })
                } else {
                    json!({ "count": c })
                };
                (date_string(d * DAY), v)
            })
            .collect();
        let mut entry = if has_amount {
            json!({ "count": count, "amount_sum": sum, "by_day": days })
        } else {
            json!({ "count": count, "by_day": days })
        };
        if ty == ObjectType::Charge {
            let succeeded = l
                .charges
                .iter()
                .filter(|c| c.status == ChargeStatus::Succeeded)
                .count();
            let failed = l
                .charges
                .iter()
                .filter(|c| c.status == ChargeStatus::Failed)
                .count();
            entry["succeeded"] = json!(succeeded);
            entry["failed"] = json!(failed);
            entry["pending"] = json!(l.charges.len() - succeeded - failed);
            // Revenue per currency: what a dashboard sums, since amounts in different currencies do not add.
            let mut revenue: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
            for c in l
                .charges
                .iter()
                .filter(|c| c.status == ChargeStatus::Succeeded)
            {
                let e = revenue
                    .entry(CURRENCIES[c.currency as usize].code)
                    .or_default();
                e.0 += 1;
                e.1 += c.amount;
            }
            entry["succeeded_by_currency"] = revenue
                .into_iter()
                .map(|(code, (n, sum))| {
                    (code.to_string(), json!({ "count": n, "amount_sum": sum }))
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if ty == ObjectType::PaymentMethod {
            payment_method_references(l, &mut entry);
        }
        types.insert(ty.object_name().to_string(), entry);
    }
    json!({ "account": l.account_id, "now": l.now, "types": types })
}

/// The PaymentMethods reachable through other objects (see the module doc), as the renderer names them.
fn payment_method_references(l: &Ledger, entry: &mut Value) {
    let by_intents = l.referenced_by_intents();
    let mut by_customers = vec![false; l.payment_methods.len()];
    for c in &l.customers {
        if c.default_payment_method != NONE {
            by_customers[c.default_payment_method as usize] = true;
        }
    }
    let mut by_charges = vec![false; l.payment_methods.len()];
    for c in &l.charges {
        by_charges[c.payment_method as usize] = true;
    }
    let mut intents: BTreeMap<i64, u64> = BTreeMap::new();
    let mut either: BTreeMap<i64, u64> = BTreeMap::new();
    let mut charges_only = 0u64;
    for (h, pm) in l.payment_methods.iter().enumerate() {
        let day = pm.created.div_euclid(DAY);
        if by_intents[h] {
            *intents.entry(day).or_default() += 1;
        }
        if by_intents[h] || by_customers[h] {
            *either.entry(day).or_default() += 1;
        } else if by_charges[h] {
            charges_only += 1;
        }
    }
    let counted = |days: BTreeMap<i64, u64>| {
        let count: u64 = days.values().sum();
        let by_day: serde_json::Map<String, Value> = days
            .into_iter()
            .map(|(d, c)| (date_string(d * DAY), json!({ "count": c })))
            .collect();
        json!({ "count": count, "by_day": by_day })
    };
    entry["referenced_by_intents"] = counted(intents);
    entry["referenced_by_intents_or_customers"] = counted(either);
    entry["referenced_by_charges_only"] = json!(charges_only);
}

impl Ledger {
    /// Which PaymentMethods a PaymentIntent or SetupIntent names (in `payment_method`, or in
    /// `last_payment_error.payment_method` for a failed attempt), indexed by handle: what a client reaches through
    /// the intents. Generation uses it too, to give customers saved cards no intent names.
    pub(super) fn referenced_by_intents(&self) -> Vec<bool> {
        let l = self;
        let mut by_intents = vec![false; l.payment_methods.len()];
        for p in &l.intents {
            let pm = match p.status {
                IntentStatus::Succeeded | IntentStatus::Processing => p.payment_method,
                IntentStatus::RequiresPaymentMethod | IntentStatus::Canceled
                    if p.latest_charge != NONE
                        && l.charges[p.latest_charge as usize].status == ChargeStatus::Failed =>
                {
                    l.charges[p.latest_charge as usize].payment_method
                }
                _ => NONE,
            };
            if pm != NONE {
                by_intents[pm as usize] = true;
            }
        }
        for s in &l.setup_intents {
            if s.payment_method != NONE {
                by_intents[s.payment_method as usize] = true;
            }
        }
        by_intents
    }
}
