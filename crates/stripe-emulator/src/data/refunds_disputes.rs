//! Generation of what happens to a payment after it succeeded: refunds (full or partial) and disputes with
//! their progress, evidence files and balance transactions.

use super::Ledger;
use super::calendar::DAY;
use super::catalog::DISPUTE_REASONS;
use super::currencies::to_settlement;
use super::records::*;
use super::rng::Rng;

impl Ledger {
    /// A refund of charge `ch` at `at`: full most of the time, else partial; with its balance transaction.
    pub(super) fn new_refund(&mut self, rng: &mut Rng, ch: u32, at: i64, now: i64) -> u32 {
        let c = &self.charges[ch as usize];
        let left = c.amount - c.amount_refunded;
        let amount = if rng.chance(0.72) {
            left
        } else {
            ((left as f64 * (0.1 + 0.7 * rng.unit())).round() as i64).clamp(1, left)
        };
        let currency = c.currency as usize;
        let status = if at > now - DAY && rng.chance(0.08) {
            RefundStatus::Pending
        } else {
            RefundStatus::Succeeded
        };
        let h = self.refunds.len() as u32;
        let (settled, _) = to_settlement(amount, currency);
        let bt = self.push_txn(BalanceTransaction {
            created: at,
            available_on: at,
            amount: -settled,
            fee: 0,
            kind: TxnKind::Refund,
            source: h,
            payout: NONE,
        });
        let reason = rng.weighted(&[30.0, 55.0, 10.0, 5.0]) as u8;
        self.refunds.push(Refund {
            created: at,
            charge: ch,
            amount,
            balance_transaction: bt,
            status,
            reason,
        });
        let c = &mut self.charges[ch as usize];
        if c.refunds_len == 0 {
            c.refunds_start = h;
        }
        c.refunds_len += 1;
        c.amount_refunded += amount;
        h
    }

    /// A dispute on charge `ch` opened at `at`, progressed as far as it would have by `now`.
    pub(super) fn new_dispute(&mut self, rng: &mut Rng, ch: u32, at: i64, now: i64) -> u32 {
        let weights: Vec<f64> = DISPUTE_REASONS.iter().map(|r| r.weight).collect();
        let reason = rng.weighted(&weights);
        let age = now - at;
        let inquiry = rng.chance(0.06);
        let responds = rng.chance(0.8);
        let (status, status_at) = if inquiry {
            if age < 10 * DAY {
                (DisputeStatus::WarningNeedsResponse, at)
            } else if age < 30 * DAY && rng.chance(0.5) {
                (
                    DisputeStatus::WarningUnderReview,
                    at + rng.between(DAY, 7 * DAY),
                )
            } else {
                (
                    DisputeStatus::WarningClosed,
                    (at + rng.between(15 * DAY, 30 * DAY)).min(now),
                )
            }
        } else if age < 7 * DAY {
            (DisputeStatus::NeedsResponse, at)
        } else if !responds {
            if age > 21 * DAY {
                (DisputeStatus::Lost, at + 21 * DAY)
            } else {
                (DisputeStatus::NeedsResponse, at)
            }
        } else if age < 45 * DAY {
            (
                DisputeStatus::UnderReview,
                at + rng.between(3 * DAY, 7 * DAY),
            )
        } else {
            let won = rng.chance(DISPUTE_REASONS[reason].win_rate);
            let closed = (at + rng.between(45 * DAY, 75 * DAY)).min(now);
            (
                if won {
                    DisputeStatus::Won
                } else {
                    DisputeStatus::Lost
                },
                closed,
            )
        };
        let status_at = status_at.min(now);
        let c = &self.charges[ch as usize];
        let amount = c.amount;
        let h = self.disputes.len() as u32;
        let mut bts = [NONE, NONE];
        if !inquiry {
            let (settled, _) = to_settlement(amount, c.currency as usize);
            bts[0] = self.push_txn(BalanceTransaction {
                created: at,
                available_on: at,
                amount: -settled,
                fee: 1_500,
                kind: TxnKind::Dispute,
                source: h,
                payout: NONE,
            });
            if status == DisputeStatus::Won {
                bts[1] = self.push_txn(BalanceTransaction {
                    created: status_at,
                    available_on: status_at,
                    amount: settled,
                    fee: -1_500,
                    kind: TxnKind::DisputeReversal,
                    source: h,
                    payout: NONE,
                });
            }
        }
        let mut evidence_file = NONE;
        if responds
            && status != DisputeStatus::NeedsResponse
            && status != DisputeStatus::WarningNeedsResponse
        {
            evidence_file = self.files.len() as u32;
            self.files.push(File {
                created: (at + rng.between(DAY, 3 * DAY)).min(status_at.max(at)),
                purpose: FilePurpose::DisputeEvidence,
                size: rng.between(20_000, 900_000) as u32,
                owner: h,
            });
        }
        self.disputes.push(Dispute {
            created: at,
            charge: ch,
            amount,
            status,
            reason: reason as u8,
            status_at,
            balance_transactions: bts,
            evidence_file,
        });
        self.charges[ch as usize].dispute = h;
        h
    }
}
