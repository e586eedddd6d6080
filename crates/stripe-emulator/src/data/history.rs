//! The state changes each object went through (the raw material of events), derived from its record.

use serde_json::json;

use super::calendar::DAY;
use super::records::*;
use super::{Change, Ledger, ObjectType};

fn change(event_type: &str, object_type: ObjectType, handle: u32, created: i64) -> Change {
    Change {
        event_type: event_type.to_string(),
        object_type,
        handle,
        created,
        previous_attributes: None,
    }
}

fn updated(
    event_type: &str,
    ty: ObjectType,
    h: u32,
    at: i64,
    previous: serde_json::Value,
) -> Change {
    Change {
        previous_attributes: Some(previous),
        ..change(event_type, ty, h, at)
    }
}

/// The status a dispute had before reaching its current one.
pub(super) fn previous_dispute_status(d: &Dispute) -> &'static str {
    match d.status {
        DisputeStatus::WarningUnderReview | DisputeStatus::WarningClosed => {
            "warning_needs_response"
        }
        DisputeStatus::UnderReview => "needs_response",
        DisputeStatus::Won | DisputeStatus::Lost if d.evidence_file != NONE => "under_review",
        _ => "needs_response",
    }
}

/// Every change of object `h` of type `ty` at or after `since`, in the order they happened.
pub(super) fn object_changes(
    l: &Ledger,
    ty: ObjectType,
    h: u32,
    since: i64,
    out: &mut Vec<Change>,
) {
    let i = h as usize;
    // Some follow-ups are dated after their cause (a void an hour after the credit note); none may lie
    // beyond the ledger's clock.
    let mut push = |c: Change| {
        if c.created >= since && c.created <= l.now {
            out.push(c);
        }
    };
    match ty {
        ObjectType::Customer => push(change("customer.created", ty, h, l.customers[i].created)),
        ObjectType::PaymentMethod => push(change(
            "payment_method.attached",
            ty,
            h,
            l.payment_methods[i].created,
        )),
        ObjectType::PaymentIntent => {
            let p = &l.intents[i];
            push(change("payment_intent.created", ty, h, p.created));
            match p.status {
                IntentStatus::Succeeded => {
                    push(change("payment_intent.succeeded", ty, h, p.settled_at))
                }
                IntentStatus::Processing => {
                    push(change("payment_intent.processing", ty, h, p.settled_at))
                }
                IntentStatus::Canceled => {
                    push(change("payment_intent.canceled", ty, h, p.settled_at))
                }
                IntentStatus::RequiresPaymentMethod => {}
            }
        }
        ObjectType::Charge => {
            let c = &l.charges[i];
            let kind = match c.status {
                ChargeStatus::Succeeded => "charge.succeeded",
                ChargeStatus::Pending => "charge.pending",
                ChargeStatus::Failed => "charge.failed",
            };
            push(change(kind, ty, h, c.created));
            if c.balance_transaction != NONE {
                // Capture is `automatic_async`: the balance transaction is attached just after success.
                let at = l.balance_transactions[c.balance_transaction as usize].created;
                push(updated(
                    "charge.updated",
                    ty,
                    h,
                    at,
                    json!({ "balance_transaction": null }),
                ));
            }
            if c.status == ChargeStatus::Failed && c.intent != NONE {
                push(change(
                    "payment_intent.payment_failed",
                    ObjectType::PaymentIntent,
                    c.intent,
                    c.created,
                ));
            }
        }
        ObjectType::Refund => {
            let r = &l.refunds[i];
            push(change("refund.created", ty, h, r.created));
            let c = &l.charges[r.charge as usize];
            let before: i64 = (c.refunds_start..h)
                .map(|k| l.refunds[k as usize].amount)
                .sum();
            push(updated(
                "charge.refunded",
                ObjectType::Charge,
                r.charge,
                r.created,
                json!({ "amount_refunded": before, "refunded": false }),
            ));
        }
        ObjectType::Dispute => {
            let d = &l.disputes[i];
            push(change("charge.dispute.created", ty, h, d.created));
            if d.balance_transactions[0] != NONE {
                push(change("charge.dispute.funds_withdrawn", ty, h, d.created));
            }
            if d.status_at > d.created {
                let previous = json!({ "status": previous_dispute_status(d) });
                let kind = if d.status.is_closed() {
                    "charge.dispute.closed"
                } else {
                    "charge.dispute.updated"
                };
                push(updated(kind, ty, h, d.status_at, previous));
                if d.status == DisputeStatus::Won {
                    push(change(
                        "charge.dispute.funds_reinstated",
                        ty,
                        h,
                        d.status_at,
                    ));
                }
            }
        }
        ObjectType::Payout => {
            let p = &l.payouts[i];
            push(change("payout.created", ty, h, p.created));
            if p.status == PayoutStatus::Paid {
                push(updated(
                    "payout.paid",
                    ty,
                    h,
                    p.arrival_date,
                    json!({ "status": "in_transit" }),
                ));
            }
        }
        ObjectType::SetupIntent => {
            let s = &l.setup_intents[i];
            push(change("setup_intent.created", ty, h, s.created));
            match s.status {
                SetupStatus::Succeeded => push(change("setup_intent.succeeded", ty, h, s.created)),
                SetupStatus::Canceled => push(change("setup_intent.canceled", ty, h, s.created)),
                SetupStatus::RequiresPaymentMethod => {}
            }
        }
        ObjectType::Product => push(change("product.created", ty, h, l.products[i].created)),
        ObjectType::Subscription => {
            let s = &l.subscriptions[i];
            push(change("customer.subscription.created", ty, h, s.created));
            if s.status == SubscriptionStatus::Canceled {
                push(change(
                    "customer.subscription.deleted",
                    ty,
                    h,
                    s.canceled_at,
                ));
            }
        }
        ObjectType::CreditNote => {
            let n = &l.credit_notes[i];
            push(change("credit_note.created", ty, h, n.created));
            if n.void {
                push(updated(
                    "credit_note.voided",
                    ty,
                    h,
                    n.created + 3_600,
                    json!({ "status": "issued" }),
                ));
            }
        }
        ObjectType::File => push(change("file.created", ty, h, l.files[i].created)),
        ObjectType::ReportRun => {
            let r = &l.report_runs[i];
            push(change(
                "reporting.report_run.succeeded",
                ty,
                h,
                r.succeeded_at,
            ));
        }
        ObjectType::BalanceTransaction | ObjectType::ReportType => {}
    }
}

pub(super) fn changes_since(l: &Ledger, since: i64) -> Vec<Change> {
    let mut out = Vec::new();
    for ty in ObjectType::ALL {
        // Every change of an object happens at or after its creation and, except for subscription
        // cancellations, within 120 days of it (disputes close within 75); the list order lets us stop early.
        for &h in l.newest_first(ty) {
            let created = l.created(ty, h);
            if created < since - 120 * DAY && ty != ObjectType::Subscription {
                break;
            }
            object_changes(l, ty, h, since, &mut out);
        }
    }
    out.sort_by_key(|c| c.created);
    out
}
