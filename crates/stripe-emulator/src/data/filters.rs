//! List filters (`GET /v1/charges?customer=…`, `GET /v1/balance_transactions?type=…`, …) evaluated on records.

use super::currencies::{CURRENCIES, SETTLEMENT};
use super::records::{NONE, SubscriptionStatus, TxnKind};
use super::{Ledger, ObjectType};

/// The filters each list endpoint supports besides pagination and `created` (stripe-api-facts.md §3).
pub(super) fn supported(ty: ObjectType) -> &'static [&'static str] {
    match ty {
        ObjectType::Charge => &["customer", "payment_intent"],
        ObjectType::PaymentIntent => &["customer"],
        ObjectType::Refund => &["charge", "payment_intent"],
        ObjectType::Dispute => &["charge", "payment_intent"],
        ObjectType::BalanceTransaction => &["type", "source", "payout", "currency"],
        ObjectType::Payout => &["status"],
        ObjectType::Subscription => &["status", "customer"],
        ObjectType::File => &["purpose"],
        ObjectType::PaymentMethod => &["customer", "type"],
        ObjectType::SetupIntent => &["customer", "payment_method"],
        ObjectType::CreditNote => &["customer"],
        ObjectType::Customer => &["email"],
        _ => &[],
    }
}

fn is(l: &Ledger, ty: ObjectType, h: u32, id: &str) -> bool {
    h != NONE && l.lookup(ty, id) == Some(h)
}

pub(super) fn matches(l: &Ledger, ty: ObjectType, h: u32, filter: &str, value: &str) -> bool {
    let i = h as usize;
    match (ty, filter) {
        (ObjectType::Charge, "customer") => {
            is(l, ObjectType::Customer, l.charges[i].customer, value)
        }
        (ObjectType::Charge, "payment_intent") => {
            is(l, ObjectType::PaymentIntent, l.charges[i].intent, value)
        }
        (ObjectType::PaymentIntent, "customer") => {
            is(l, ObjectType::Customer, l.intents[i].customer, value)
        }
        (ObjectType::Refund, "charge") => is(l, ObjectType::Charge, l.refunds[i].charge, value),
        (ObjectType::Refund, "payment_intent") => {
            let c = l.refunds[i].charge as usize;
            is(l, ObjectType::PaymentIntent, l.charges[c].intent, value)
        }
        (ObjectType::Dispute, "charge") => is(l, ObjectType::Charge, l.disputes[i].charge, value),
        (ObjectType::Dispute, "payment_intent") => {
            let c = l.disputes[i].charge as usize;
            is(l, ObjectType::PaymentIntent, l.charges[c].intent, value)
        }
        (ObjectType::BalanceTransaction, "type") => {
            l.balance_transactions[i].kind.type_name() == value
        }
        (ObjectType::BalanceTransaction, "currency") => CURRENCIES[SETTLEMENT].code == value,
        (ObjectType::BalanceTransaction, "payout") => is(
            l,
            ObjectType::Payout,
            l.balance_transactions[i].payout,
            value,
        ),
        (ObjectType::BalanceTransaction, "source") => {
            let t = &l.balance_transactions[i];
            let source_type = match t.kind {
                TxnKind::Charge => ObjectType::Charge,
                TxnKind::Refund => ObjectType::Refund,
                TxnKind::Dispute | TxnKind::DisputeReversal => ObjectType::Dispute,
                TxnKind::Payout => ObjectType::Payout,
            };
            is(l, source_type, t.source, value)
        }
        (ObjectType::Payout, "status") => l.payouts[i].status.name() == value,
        (ObjectType::Subscription, "status") => {
            let s = l.subscriptions[i].status;
            match value {
                "" => s != SubscriptionStatus::Canceled,
                "all" => true,
                "ended" => matches!(
                    s,
                    SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired
                ),
                other => s.name() == other,
            }
        }
        (ObjectType::Subscription, "customer") => {
            is(l, ObjectType::Customer, l.subscriptions[i].customer, value)
        }
        (ObjectType::File, "purpose") => l.files[i].purpose.name() == value,
        (ObjectType::PaymentMethod, "customer") => is(
            l,
            ObjectType::Customer,
            l.payment_methods[i].customer,
            value,
        ),
        (ObjectType::PaymentMethod, "type") => value == "card",
        (ObjectType::SetupIntent, "customer") => {
            is(l, ObjectType::Customer, l.setup_intents[i].customer, value)
        }
        (ObjectType::SetupIntent, "payment_method") => is(
            l,
            ObjectType::PaymentMethod,
            l.setup_intents[i].payment_method,
            value,
        ),
        (ObjectType::CreditNote, "customer") => {
            is(l, ObjectType::Customer, l.credit_notes[i].customer, value)
        }
        (ObjectType::Customer, "email") => super::render::customer_email(h) == value,
        _ => false,
    }
}
