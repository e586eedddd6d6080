//! Activity bursts: new payments and the later life of existing ones (refunds, disputes and their progress,
//! payouts), applied to a ledger at a given time and reported as changes.

use serde_json::json;

use super::calendar::DAY;
use super::records::*;
use super::rng::Rng;
use super::{Change, Ledger, ObjectType, history};

/// Share of a burst's charge count that becomes refunds of recent charges.
const REFUND_SHARE: f64 = 0.05;
/// Share of a burst's charge count that becomes new disputes.
const DISPUTE_SHARE: f64 = 0.008;

/// `x` rounded up or down at random so that small bursts still get their share on average.
fn random_round(rng: &mut Rng, x: f64) -> usize {
    let base = x.floor();
    base as usize + usize::from(rng.chance(x - base))
}

pub(super) fn apply(l: &mut Ledger, charges: usize, now: i64) -> Vec<Change> {
    let now = now.max(l.now);
    let previous = l.now;
    let mut rng = Rng::new(l.seed, 1_000 + l.bursts);
    l.bursts += 1;
    let before: Vec<u32> = ObjectType::ALL
        .iter()
        .map(|&ty| l.count(ty) as u32)
        .collect();
    // New objects never predate the previous clock, so a client's `created[gt]` watermark still finds them.
    let floor = if now > previous { previous + 1 } else { now };
    l.floor = floor;
    let span_start = floor.max(now - 3_600);
    let mut changes = Vec::new();

    let mut left = charges;
    while left > 0 {
        let t = rng.between(span_start, now);
        if rng.chance(0.04) {
            l.abandoned_intent(&mut rng, t, now);
        }
        left -= l.new_payment(&mut rng, t, now, left);
    }

    let recent_refundable = recent(l, now, 30 * DAY, 0);
    for _ in 0..random_round(&mut rng, charges as f64 * REFUND_SHARE) {
        if let Some(ch) = pick_open_charge(l, &mut rng, &recent_refundable) {
            l.new_refund(&mut rng, ch, now, now);
        }
    }
    let disputable = recent(l, now, 90 * DAY, 2 * DAY);
    for _ in 0..random_round(&mut rng, charges as f64 * DISPUTE_SHARE) {
        if let Some(ch) = pick_open_charge(l, &mut rng, &disputable) {
            l.new_dispute(&mut rng, ch, now, now);
        }
    }
    settle_pending(l, &mut rng, now, &before, &mut changes);
    progress_disputes(
        l,
        &mut rng,
        now,
        before[ObjectType::Dispute.index()],
        &mut changes,
    );
    settle_payouts(l, now, &mut changes);

    let first_new_txn = before[ObjectType::BalanceTransaction.index()];
    l.unpaid
        .extend(first_new_txn..l.balance_transactions.len() as u32);
    l.run_payouts(now);

    l.now = now;
    for ty in ObjectType::ALL {
        for h in before[ty.index()]..l.count(ty) as u32 {
            history::object_changes(l, ty, h, i64::MIN, &mut changes);
        }
    }
    for ty in ObjectType::ALL {
        l.merge_new(ty, before[ty.index()]);
    }
    changes.sort_by_key(|c| c.created);
    changes
}

/// Handles of charges created between `now - window` and `now - min_age`, newest first.
fn recent(l: &Ledger, now: i64, window: i64, min_age: i64) -> Vec<u32> {
    l.newest_first(ObjectType::Charge)
        .iter()
        .copied()
        .skip_while(|&h| l.charges[h as usize].created > now - min_age)
        .take_while(|&h| l.charges[h as usize].created >= now - window)
        .collect()
}

/// A succeeded charge from `pool` with no refund and no dispute yet (a few tries, then give up).
fn pick_open_charge(l: &Ledger, rng: &mut Rng, pool: &[u32]) -> Option<u32> {
    if pool.is_empty() {
        return None;
    }
    for _ in 0..20 {
        let h = pool[rng.below(pool.len() as u64) as usize];
        let c = &l.charges[h as usize];
        if c.status == ChargeStatus::Succeeded && c.refunds_len == 0 && c.dispute == NONE {
            return Some(h);
        }
    }
    None
}

/// Pending charges clear (with their balance transaction) and pending refunds complete, some time after they
/// were made.
fn settle_pending(
    l: &mut Ledger,
    rng: &mut Rng,
    now: i64,
    before: &[u32],
    changes: &mut Vec<Change>,
) {
    let pending: Vec<u32> = l
        .newest_first(ObjectType::Charge)
        .iter()
        .copied()
        .take_while(|&h| l.charges[h as usize].created >= now - 7 * DAY)
        .filter(|&h| h < before[ObjectType::Charge.index()])
        .filter(|&h| l.charges[h as usize].status == ChargeStatus::Pending)
        .collect();
    for h in pending {
        let c = &l.charges[h as usize];
        if c.created > now - 3_600 || !rng.chance(0.5) {
            continue;
        }
        let intent = c.intent;
        l.charges[h as usize].status = ChargeStatus::Succeeded;
        l.settle_charge(h, now);
        changes.push(plain("charge.succeeded", ObjectType::Charge, h, now));
        changes.push(Change {
            previous_attributes: Some(json!({ "balance_transaction": null })),
            ..plain("charge.updated", ObjectType::Charge, h, now)
        });
        if intent != NONE {
            let pi = &mut l.intents[intent as usize];
            pi.status = IntentStatus::Succeeded;
            pi.settled_at = now;
            changes.push(plain(
                "payment_intent.succeeded",
                ObjectType::PaymentIntent,
                intent,
                now,
            ));
        }
    }
    for h in (0..before[ObjectType::Refund.index()]).rev() {
        let r = &mut l.refunds[h as usize];
        if r.created < now - 7 * DAY {
            break;
        }
        if r.status == RefundStatus::Pending && r.created <= now - 600 {
            r.status = RefundStatus::Succeeded;
            changes.push(Change {
                previous_attributes: Some(json!({ "status": "pending" })),
                ..plain("refund.updated", ObjectType::Refund, h, now)
            });
        }
    }
}

fn plain(event_type: &str, object_type: ObjectType, handle: u32, created: i64) -> Change {
    Change {
        event_type: event_type.to_string(),
        object_type,
        handle,
        created,
        previous_attributes: None,
    }
}

/// Moves open disputes along: responses come in, reviews end in a win or a loss, inquiries close.
fn progress_disputes(
    l: &mut Ledger,
    rng: &mut Rng,
    now: i64,
    existing: u32,
    changes: &mut Vec<Change>,
) {
    for h in 0..existing {
        let d = l.disputes[h as usize].clone();
        // Each step waits at least a minute, so fast bursts do not rush a dispute through its life.
        if d.status.is_closed() || d.status_at > now - 60 || !rng.chance(0.15) {
            continue;
        }
        let age = now - d.created;
        let next = match d.status {
            DisputeStatus::NeedsResponse => DisputeStatus::UnderReview,
            DisputeStatus::WarningNeedsResponse => DisputeStatus::WarningUnderReview,
            DisputeStatus::WarningUnderReview => DisputeStatus::WarningClosed,
            DisputeStatus::UnderReview if age > 10 * DAY => {
                let reason = &super::catalog::DISPUTE_REASONS[d.reason as usize];
                if rng.chance(reason.win_rate) {
                    DisputeStatus::Won
                } else {
                    DisputeStatus::Lost
                }
            }
            _ => continue,
        };
        if next == DisputeStatus::UnderReview || next == DisputeStatus::WarningUnderReview {
            let file = l.files.len() as u32;
            l.files.push(File {
                created: now,
                purpose: FilePurpose::DisputeEvidence,
                size: rng.between(20_000, 900_000) as u32,
                owner: h,
            });
            l.disputes[h as usize].evidence_file = file;
        }
        if next == DisputeStatus::Won {
            let debit = &l.balance_transactions[d.balance_transactions[0] as usize];
            let (amount, fee) = (-debit.amount, -debit.fee);
            l.balance_transactions.push(BalanceTransaction {
                created: now,
                available_on: now,
                amount,
                fee,
                kind: TxnKind::DisputeReversal,
                source: h,
                payout: NONE,
            });
            l.disputes[h as usize].balance_transactions[1] =
                (l.balance_transactions.len() - 1) as u32;
        }
        let d = &mut l.disputes[h as usize];
        let old = d.status.name();
        d.status = next;
        d.status_at = now;
        let kind = if next.is_closed() {
            "charge.dispute.closed"
        } else {
            "charge.dispute.updated"
        };
        changes.push(Change {
            event_type: kind.to_string(),
            object_type: ObjectType::Dispute,
            handle: h,
            created: now,
            previous_attributes: Some(json!({ "status": old })),
        });
        if next == DisputeStatus::Won {
            changes.push(Change {
                event_type: "charge.dispute.funds_reinstated".to_string(),
                object_type: ObjectType::Dispute,
                handle: h,
                created: now,
                previous_attributes: None,
            });
        }
    }
}

/// Payouts that have arrived by `now` become paid; the ones just sent go in transit.
fn settle_payouts(l: &mut Ledger, now: i64, changes: &mut Vec<Change>) {
    for h in (0..l.payouts.len() as u32).rev() {
        let p = &mut l.payouts[h as usize];
        let (next, kind) = match p.status {
            PayoutStatus::Paid => break,
            PayoutStatus::InTransit if p.arrival_date <= now => (PayoutStatus::Paid, "payout.paid"),
            PayoutStatus::Pending if p.arrival_date <= now => (PayoutStatus::Paid, "payout.paid"),
            PayoutStatus::Pending if p.created < now - 3_600 => {
                (PayoutStatus::InTransit, "payout.updated")
            }
            _ => continue,
        };
        let previous = p.status.name();
        p.status = next;
        changes.push(Change {
            event_type: kind.to_string(),
            object_type: ObjectType::Payout,
            handle: h,
            created: now,
            previous_attributes: Some(json!({ "status": previous })),
        });
    }
}
