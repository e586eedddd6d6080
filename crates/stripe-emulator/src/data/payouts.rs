//! Automatic payouts: every few days the available balance goes to the merchant's bank.

use super::Ledger;
use super::calendar::{DAY, day_start};
use super::records::*;

/// Payouts are automatic every few days.
pub(super) const PAYOUT_INTERVAL: i64 = 3 * DAY;

impl Ledger {
    /// Automatic payouts every [`PAYOUT_INTERVAL`] up to `until`, each paying out the available balance
    /// (skipped while it is not positive); returns the new payouts.
    pub(super) fn run_payouts(&mut self, until: i64) -> Vec<u32> {
        let mut made = Vec::new();
        let txns = &self.balance_transactions;
        self.unpaid
            .sort_by_key(|&b| (txns[b as usize].available_on, b));
        let mut cursor = 0;
        while self.next_payout_at <= until {
            let at = self.next_payout_at;
            self.next_payout_at += PAYOUT_INTERVAL;
            let mut end = cursor;
            let mut net = 0i64;
            while end < self.unpaid.len() {
                let t = &self.balance_transactions[self.unpaid[end] as usize];
                if t.available_on > at {
                    break;
                }
                net += t.amount - t.fee;
                end += 1;
            }
            if net <= 0 {
                continue;
            }
            let po = self.payouts.len() as u32;
            let arrival_date = day_start(at) + 2 * DAY;
            let status = if arrival_date <= until {
                PayoutStatus::Paid
            } else if at < until - 3_600 {
                PayoutStatus::InTransit
            } else {
                PayoutStatus::Pending
            };
            for &b in &self.unpaid[cursor..end] {
                self.balance_transactions[b as usize].payout = po;
            }
            cursor = end;
            let bt = self.push_txn(BalanceTransaction {
                created: at,
                available_on: at,
                amount: -net,
                fee: 0,
                kind: TxnKind::Payout,
                source: po,
                payout: po,
            });
            self.payouts.push(Payout {
                created: at,
                arrival_date,
                amount: net,
                status,
                balance_transaction: bt,
            });
            made.push(po);
        }
        self.unpaid.drain(..cursor);
        made
    }
}
