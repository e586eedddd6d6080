//! The counts and sums every payment breakdown yields, the rates derived from them, and the change against the
//! previous period. Amounts are minor units of one currency: callers keep a `Measures` per currency and never add
//! them across currencies.

use serde::Serialize;

/// Counts and amounts of one group of payments (one day, one brand, one connection, … in one currency).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Measures {
    /// Attempts counted by the approval rules (verifications never; pending per the rules; intents once when
    /// retries are deduplicated).
    pub attempted: i64,
    /// Attempts that succeeded.
    pub approved: i64,
    /// Attempts that failed.
    pub declined: i64,
    /// Attempts still pending.
    pub pending: i64,
    /// Amount attempted.
    pub attempted_amount: i64,
    /// Amount of succeeded attempts (the volume).
    pub approved_amount: i64,
    /// Succeeded payments refunded at least in part.
    pub refunded: i64,
    /// Amount refunded.
    pub refunded_amount: i64,
    /// Succeeded payments disputed.
    pub disputed: i64,
    /// Amount of disputed payments.
    pub disputed_amount: i64,
    /// Stripe fees of succeeded payments whose balance transaction is known.
    pub fees: i64,
    /// Net of succeeded payments whose balance transaction is known.
    pub net: i64,
    /// Amount of succeeded payments whose fee is known: the base of the effective rate.
    pub fee_base: i64,
}

impl Measures {
    /// Adds another group's measures (same currency).
    pub fn add(&mut self, other: &Measures) {
        self.attempted += other.attempted;
        self.approved += other.approved;
        self.declined += other.declined;
        self.pending += other.pending;
        self.attempted_amount += other.attempted_amount;
        self.approved_amount += other.approved_amount;
        self.refunded += other.refunded;
        self.refunded_amount += other.refunded_amount;
        self.disputed += other.disputed;
        self.disputed_amount += other.disputed_amount;
        self.fees += other.fees;
        self.net += other.net;
        self.fee_base += other.fee_base;
    }

    /// Approved ÷ attempted, `None` without attempts.
    pub fn approval_rate(&self) -> Option<f64> {
        ratio(self.approved, self.attempted)
    }

    /// Declined ÷ attempted.
    pub fn decline_rate(&self) -> Option<f64> {
        ratio(self.declined, self.attempted)
    }

    /// Refunded ÷ approved (by count).
    pub fn refund_rate(&self) -> Option<f64> {
        ratio(self.refunded, self.approved)
    }

    /// Disputed ÷ approved (by count).
    pub fn dispute_rate(&self) -> Option<f64> {
        ratio(self.disputed, self.approved)
    }

    /// Average order value: volume ÷ approved payments, in minor units.
    pub fn average_order_value(&self) -> Option<f64> {
        ratio(self.approved_amount, self.approved)
    }

    /// Fees ÷ the volume whose fee is known.
    pub fn effective_rate(&self) -> Option<f64> {
        ratio(self.fees, self.fee_base)
    }
}

/// `n ÷ d`, `None` when `d` is zero.
pub fn ratio(n: i64, d: i64) -> Option<f64> {
    (d != 0).then(|| n as f64 / d as f64)
}

/// The relative change from `previous` to `current` (0.1 = +10 %), `None` when there was nothing before.
pub fn change(current: f64, previous: f64) -> Option<f64> {
    (previous != 0.0).then(|| (current - previous) / previous.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_absent_rather_than_divided_by_zero() {
        let none = Measures::default();
        assert_eq!(none.approval_rate(), None);
        assert_eq!(none.effective_rate(), None);
        let some = Measures {
            attempted: 4,
            approved: 3,
            declined: 1,
            approved_amount: 3000,
            fees: 90,
            fee_base: 3000,
            refunded: 1,
            ..Measures::default()
        };
        assert_eq!(some.approval_rate(), Some(0.75));
        assert_eq!(some.average_order_value(), Some(1000.0));
        assert_eq!(some.effective_rate(), Some(0.03));
        assert_eq!(some.refund_rate(), Some(1.0 / 3.0));
    }

    #[test]
    fn change_is_relative_to_the_previous_value() {
        assert_eq!(change(110.0, 100.0), Some(0.1));
        assert_eq!(change(50.0, 100.0), Some(-0.5));
        assert_eq!(change(5.0, 0.0), None);
    }
}
