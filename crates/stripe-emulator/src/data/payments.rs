//! Generation of buyers, cards, payment intents and their charges: approval, declines, 3-D Secure, retries,
//! pending charges, and the balance transaction of each succeeded charge.

use super::Ledger;
use super::calendar::{DAY, civil, day_start};
use super::cards::{COUNTRIES, MERCHANT_COUNTRY, ThreeDs, Wallet, card_table, sca_country};
use super::currencies::{CURRENCIES, for_country, to_settlement};
use super::declines::{AUTHENTICATION_REQUIRED, BLOCKED_INDEX, decline, issuer_weights};
use super::records::*;
use super::rng::Rng;

/// A price in minor units: log-normal around the currency's median, rounded like real prices.
pub(super) fn draw_amount(rng: &mut Rng, currency: usize) -> i64 {
    let c = &CURRENCIES[currency];
    let raw = c.median * (0.95 * rng.normal()).exp();
    if c.zero_decimal {
        return ((raw / 10.0).round() as i64 * 10).clamp(100, 2_000_000);
    }
    let major = (raw / 100.0).round().max(1.0) as i64;
    let cents = match rng.below(4) {
        0 => 99 - 100,
        1 => 50 - 100,
        _ => 0,
    };
    (major * 100 + cents).clamp(50, 5_000_000)
}

/// The fee Stripe takes on a charge: 2.9% + 30¢, plus 1.5% for international cards and 1% for conversion.
pub(super) fn charge_fee(settled: i64, cross_border: bool, converted: bool) -> i64 {
    let mut rate = 0.029;
    if cross_border {
        rate += 0.015;
    }
    if converted {
        rate += 0.01;
    }
    (settled as f64 * rate).round() as i64 + 30
}

/// Funds from card payments become available two days after the payment, at midnight UTC.
pub(super) fn available_after_charge(created: i64) -> i64 {
    day_start(created) + 2 * DAY
}

impl Ledger {
    pub(super) fn new_customer(&mut self, rng: &mut Rng, t: i64) -> u32 {
        let weights: Vec<f64> = COUNTRIES.iter().map(|c| c.1).collect();
        let country = rng.weighted(&weights);
        let currency = for_country(COUNTRIES[country].0) as u8;
        let h = self.customers.len() as u32;
        self.customers.push(Customer {
            created: t,
            country: country as u8,
            currency,
            default_payment_method: NONE,
        });
        self.new_card(rng, h, t);
        h
    }

    pub(super) fn new_card(&mut self, rng: &mut Rng, customer: u32, t: i64) -> u32 {
        let country = self.customers[customer as usize].country as usize;
        let bin = card_table().pick(rng, country);
        let (year, _, _) = civil(t);
        let h = self.payment_methods.len() as u32;
        self.payment_methods.push(PaymentMethod {
            created: t,
            customer,
            bin,
            last4: rng.below(10_000) as u16,
            exp_month: rng.between(1, 12) as u8,
            exp_year: (year + rng.between(1, 5)) as u16,
            wallet: Wallet::pick(rng),
        });
        self.customers[customer as usize].default_payment_method = h;
        h
    }

    /// A buyer for a new payment at `t`: often a new customer with a new card, otherwise a returning one.
    pub(super) fn pick_buyer(&mut self, rng: &mut Rng, t: i64) -> (u32, u32) {
        if self.customers.is_empty() || rng.chance(0.32) {
            let at = (t - rng.between(5, 600)).max(self.floor).min(t);
            let c = self.new_customer(rng, at);
            return (c, self.customers[c as usize].default_payment_method);
        }
        let c = rng.below(self.customers.len() as u64) as u32;
        if rng.chance(0.05) {
            let at = (t - rng.between(5, 120)).max(self.floor).min(t);
            let pm = self.new_card(rng, c, at);
            return (c, pm);
        }
        (c, self.customers[c as usize].default_payment_method)
    }

    /// A checkout the buyer left before entering a card: an intent without charges.
    pub(super) fn abandoned_intent(&mut self, rng: &mut Rng, t: i64, now: i64) {
        let (customer, _) = self.pick_buyer(rng, t);
        let currency = self.customers[customer as usize].currency;
        let canceled = rng.chance(0.4);
        let settled_at = if canceled {
            (t + rng.between(3_600, 2 * DAY)).min(now)
        } else {
            t
        };
        self.intents.push(PaymentIntent {
            created: t,
            amount: draw_amount(rng, currency as usize),
            currency,
            customer,
            payment_method: NONE,
            latest_charge: NONE,
            status: if canceled {
                IntentStatus::Canceled
            } else {
                IntentStatus::RequiresPaymentMethod
            },
            settled_at,
            attempts: 0,
            cancellation_reason: if canceled { 1 } else { 0 },
        });
    }

    /// One payment intent started at `t` and its 1–4 charges (at most `budget`); returns how many charges.
    pub(super) fn new_payment(&mut self, rng: &mut Rng, t: i64, now: i64, budget: usize) -> usize {
        let (customer, mut pm) = self.pick_buyer(rng, t);
        let currency = self.customers[customer as usize].currency;
        let amount = draw_amount(rng, currency as usize);
        let intent = self.intents.len() as u32;
        self.intents.push(PaymentIntent {
            created: t,
            amount,
            currency,
            customer,
            payment_method: pm,
            latest_charge: NONE,
            status: IntentStatus::RequiresPaymentMethod,
            settled_at: t,
            attempts: 0,
            cancellation_reason: 0,
        });
        let max = budget.clamp(1, 4);
        let mut at = t;
        let mut made = 0;
        loop {
            let ch = self.new_charge(rng, intent, customer, pm, amount, currency, at, now);
            made += 1;
            let c = &self.charges[ch as usize];
            let (status, failed_with) = (c.status, c.decline);
            let pi = &mut self.intents[intent as usize];
            pi.latest_charge = ch;
            pi.attempts = made as u8;
            pi.settled_at = at;
            pi.payment_method = pm;
            match status {
                ChargeStatus::Succeeded => {
                    pi.status = IntentStatus::Succeeded;
                    break;
                }
                ChargeStatus::Pending => {
                    pi.status = IntentStatus::Processing;
                    break;
                }
                ChargeStatus::Failed => {}
            }
            let retry = if made == 1 { 0.5 } else { 0.35 };
            if made >= max || !rng.chance(retry) {
                if rng.chance(0.3) {
                    pi.status = IntentStatus::Canceled;
                    pi.settled_at = (at + rng.between(3_600, 2 * DAY)).min(now);
                    pi.cancellation_reason = 1;
                }
                break;
            }
            if decline(failed_with).needs_new_card || rng.chance(0.3) {
                pm = self.new_card(rng, customer, at);
            }
            at = (at + rng.between(20, 900)).min(now);
        }
        made
    }

    #[allow(clippy::too_many_arguments)] // reason: the charge's whole context; a struct would only rename it
    pub(super) fn new_charge(
        &mut self,
        rng: &mut Rng,
        intent: u32,
        customer: u32,
        pm: u32,
        amount: i64,
        currency: u8,
        t: i64,
        now: i64,
    ) -> u32 {
        let bin = &card_table().bins[self.payment_methods[pm as usize].bin as usize];
        let cross = bin.country != MERCHANT_COUNTRY;
        let (settled, _) = to_settlement(amount, currency as usize);
        let p3ds = if sca_country(bin.country) {
            0.75
        } else if settled > 50_000 {
            0.25
        } else {
            0.07
        };
        let three_ds = if rng.chance(p3ds) {
            match rng.weighted(&[80.0, 7.0, 8.0, 5.0]) {
                0 => ThreeDs::Authenticated,
                1 => ThreeDs::AttemptAcknowledged,
                2 => ThreeDs::Exempted,
                _ => ThreeDs::Failed,
            }
        } else {
            ThreeDs::None
        };
        let mut risk = rng.exponential(14.0) + 3.0;
        if cross {
            risk += 6.0;
        }
        if bin.funding == super::cards::Funding::Prepaid {
            risk += 5.0;
        }
        let risk_score = risk.min(99.0) as u8;
        let decline: u8 = if risk_score > 80 {
            BLOCKED_INDEX
        } else if three_ds == ThreeDs::Failed {
            AUTHENTICATION_REQUIRED
        } else {
            // Issuers are warier of large amounts.
            let amount_factor = if settled < 10_000 {
                1.0
            } else if settled < 50_000 {
                0.985
            } else if settled < 200_000 {
                0.95
            } else {
                0.88
            };
            let p = (bin.brand.base_approval()
                * bin.approval
                * if cross { 0.91 } else { 1.0 }
                * bin.funding.approval_factor()
                * amount_factor
                * three_ds.approval_factor())
            .min(0.995);
            if rng.chance(p) {
                0
            } else {
                thread_local! {
                    static WEIGHTS: Vec<f64> = issuer_weights();
                }
                WEIGHTS.with(|w| rng.weighted(w)) as u8
            }
        };
        let cvc_check = if decline == 6 {
            1
        } else {
            [0u8, 2, 3][rng.weighted(&[94.0, 3.0, 3.0])]
        };
        let postal_check = [0u8, 1, 2, 3][rng.weighted(&[80.0, 1.0, 4.0, 15.0])];
        let status = if decline != 0 {
            ChargeStatus::Failed
        } else if t > now - 2 * DAY && rng.chance(0.03) {
            ChargeStatus::Pending
        } else {
            ChargeStatus::Succeeded
        };
        let h = self.charges.len() as u32;
        self.charges.push(Charge {
            created: t,
            amount,
            amount_refunded: 0,
            intent,
            customer,
            payment_method: pm,
            balance_transaction: NONE,
            dispute: NONE,
            refunds_start: NONE,
            refunds_len: 0,
            currency,
            status,
            decline,
            risk_score,
            three_ds,
            cvc_check,
            postal_check,
        });
        if status == ChargeStatus::Succeeded {
            self.settle_charge(h, t);
            self.after_success(rng, h, risk_score, cross, now);
        }
        h
    }

    /// Books a succeeded charge's funds at `at`: its balance transaction with Stripe's fee.
    pub(super) fn settle_charge(&mut self, h: u32, at: i64) {
        let c = &self.charges[h as usize];
        let bin = &card_table().bins[self.payment_methods[c.payment_method as usize].bin as usize];
        let cross = bin.country != MERCHANT_COUNTRY;
        let (settled, rate) = to_settlement(c.amount, c.currency as usize);
        let bt = self.push_txn(BalanceTransaction {
            created: at,
            available_on: available_after_charge(at),
            amount: settled,
            fee: charge_fee(settled, cross, rate.is_some()),
            kind: TxnKind::Charge,
            source: h,
            payout: NONE,
        });
        self.charges[h as usize].balance_transaction = bt;
    }

    pub(super) fn push_txn(&mut self, txn: BalanceTransaction) -> u32 {
        self.balance_transactions.push(txn);
        (self.balance_transactions.len() - 1) as u32
    }

    /// What happens to a succeeded charge later in the history: a dispute, or a refund, or nothing.
    pub(super) fn after_success(
        &mut self,
        rng: &mut Rng,
        ch: u32,
        risk: u8,
        cross: bool,
        now: i64,
    ) {
        let created = self.charges[ch as usize].created;
        let mut p_dispute = 0.0055;
        if risk > 50 {
            p_dispute *= 3.0;
        }
        if cross {
            p_dispute *= 1.8;
        }
        if rng.chance(p_dispute) {
            let at = created + 2 * DAY + rng.exponential(25.0 * DAY as f64) as i64;
            if at <= now {
                self.new_dispute(rng, ch, at, now);
            }
            return;
        }
        if rng.chance(0.05) {
            let at = created + 600 + rng.exponential(4.0 * DAY as f64) as i64;
            if at <= now {
                self.new_refund(rng, ch, at, now);
            }
        }
    }
}
