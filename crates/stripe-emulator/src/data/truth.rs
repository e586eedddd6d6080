//! Ground truth about a ledger for tests and the control API: counts and amount sums per type and per UTC day.
//!
//! Shape: `{"account", "now", "types": {"charge": {"count", "amount_sum", "by_day": {"2026-07-28": {"count",
//! "amount_sum"}}, "succeeded", "failed", "pending", "succeeded_by_currency": {"usd": {"count",
//! "amount_sum"}}}, "customer": {"count", "by_day": {…}}, …}}`; `amount_sum` only for types with `amount`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::calendar::{DAY, date_string};
use super::currencies::CURRENCIES;
use super::records::ChargeStatus;
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
        types.insert(ty.object_name().to_string(), entry);
    }
    json!({ "account": l.account_id, "now": l.now, "types": types })
}
