//! Deterministic generation of an account's history: buyers and cards, payment intents with their charges
//! (declines, 3DS, retries), refunds, disputes, balance transactions, payouts and the billing side (products,
//! subscriptions, setup intents, credit notes), files and report runs.

use super::calendar::{DAY, civil, day_start, midnight_of, weekday};
use super::cards::{COUNTRIES, MERCHANT_COUNTRY, ThreeDs, Wallet, card_table, sca_country};
use super::catalog::{DISPUTE_REASONS, PRODUCTS, REPORT_TYPES};
use super::currencies::{CURRENCIES, for_country, to_settlement};
use super::declines::{AUTHENTICATION_REQUIRED, BLOCKED_INDEX, decline, issuer_weights};
use super::records::*;
use super::rng::Rng;
use super::{GenerateOptions, IdCodec, Ledger, ObjectType};

/// Random streams, one per purpose, so changing one part of generation leaves the others' draws unchanged.
const STREAM_PAYMENTS: u64 = 1;
const STREAM_PRODUCTS: u64 = 2;
const STREAM_DAYS: u64 = 3;
const STREAM_BILLING: u64 = 4;

/// Relative traffic per UTC hour: the buyers are mostly in the Americas and Europe.
const HOURLY: [f64; 24] = [
    6.0, 4.5, 3.0, 2.0, 1.5, 1.2, 1.2, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 8.5, 8.5, 8.5, 8.5,
    8.5, 8.0, 8.0, 7.5, 7.0,
];

/// Relative traffic per weekday, Monday first: Friday peaks, the weekend dips.
const WEEKLY: [f64; 7] = [1.0, 1.02, 1.03, 1.05, 1.12, 0.92, 0.86];

/// Payouts are automatic every few days.
pub(super) const PAYOUT_INTERVAL: i64 = 3 * DAY;

pub(super) fn generate(opts: &GenerateOptions) -> Ledger {
    let days = i64::from(opts.days.max(1));
    let now = opts.now;
    let start = now - days * DAY;
    let n = opts.charges;
    let mut l = Ledger {
        account_id: opts.account_id.clone(),
        seed: opts.seed,
        codec: IdCodec::new(&opts.account_id, opts.seed),
        now,
        start,
        floor: start,
        bursts: 0,
        customers: Vec::with_capacity(n / 3 + 16),
        payment_methods: Vec::with_capacity(n / 3 + 16),
        intents: Vec::with_capacity(n * 9 / 10 + 16),
        charges: Vec::with_capacity(n),
        refunds: Vec::with_capacity(n / 18 + 16),
        disputes: Vec::with_capacity(n / 120 + 16),
        balance_transactions: Vec::with_capacity(n + n / 10 + 16),
        payouts: Vec::new(),
        setup_intents: Vec::new(),
        products: Vec::new(),
        subscriptions: Vec::new(),
        credit_notes: Vec::new(),
        files: Vec::new(),
        report_runs: Vec::new(),
        order: vec![Vec::new(); ObjectType::ALL.len()],
        unpaid: Vec::new(),
        next_payout_at: day_start(start) + DAY + 2 * 3_600,
    };
    l.generate_products(&mut Rng::new(opts.seed, STREAM_PRODUCTS));
    let quotas = daily_quotas(&mut Rng::new(opts.seed, STREAM_DAYS), start, days, n);
    let mut rng = Rng::new(opts.seed, STREAM_PAYMENTS);
    for (d, quota) in quotas.iter().enumerate() {
        let bucket = start + d as i64 * DAY;
        let mut left = *quota;
        while left > 0 {
            let t = intraday_time(&mut rng, bucket).min(now);
            if rng.chance(0.04) {
                l.abandoned_intent(&mut rng, t, now);
            }
            left -= l.new_payment(&mut rng, t, now, left);
        }
    }
    let mut billing = Rng::new(opts.seed, STREAM_BILLING);
    l.generate_setup_intents(&mut billing);
    l.generate_subscriptions(&mut billing);
    l.generate_credit_notes(&mut billing, n);
    l.unpaid = (0..l.balance_transactions.len() as u32).collect();
    l.run_payouts(now);
    l.generate_report_runs();
    for ty in ObjectType::ALL {
        l.order[ty.index()] = l.sorted_handles(ty, 0);
    }
    l
}

/// How many charges each day gets: growth over the period, weekly rhythm, holiday season, day-to-day noise.
fn daily_quotas(rng: &mut Rng, start: i64, days: i64, n: usize) -> Vec<usize> {
    let weights: Vec<f64> = (0..days)
        .map(|d| {
            let t = start + d * DAY;
            let growth = (2.2f64).ln() * d as f64 / days as f64;
            let (_, m, day) = civil(t);
            let season = match (m, day) {
                (11, 20..=30) => 1.45,
                (12, 1..=20) => 1.2,
                (1, 1..=15) => 0.85,
                _ => 1.0,
            };
            growth.exp() * WEEKLY[weekday(t)] * season * (1.0 + 0.08 * rng.normal()).max(0.5)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(weights.len());
    let mut cum = 0.0;
    let mut given = 0usize;
    for w in &weights {
        cum += w;
        // Rounding the running total keeps the sum exact and the quotas monotone.
        let upto = (((cum / total) * n as f64).round() as usize).clamp(given, n);
        out.push(upto - given);
        given = upto;
    }
    if let Some(last) = out.last_mut() {
        *last += n - given;
    }
    out
}

/// A second within the 24 hours from `bucket`, following the hourly traffic curve.
fn intraday_time(rng: &mut Rng, bucket: i64) -> i64 {
    loop {
        let t = bucket + rng.below(DAY as u64) as i64;
        let hour = (t.rem_euclid(DAY) / 3_600) as usize;
        if rng.unit() * 8.5 < HOURLY[hour] {
            return t;
        }
    }
}

/// A price in minor units: log-normal around the currency's median, rounded like real prices.
fn draw_amount(rng: &mut Rng, currency: usize) -> i64 {
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
fn charge_fee(settled: i64, cross_border: bool, converted: bool) -> i64 {
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
fn available_after_charge(created: i64) -> i64 {
    day_start(created) + 2 * DAY
}

impl Ledger {
    fn generate_products(&mut self, rng: &mut Rng) {
        for (i, _) in PRODUCTS.iter().enumerate() {
            let created = self.start - (60 - i as i64) * DAY + rng.between(0, DAY - 1);
            let unit_amount = match i {
                0 => 1_900,
                1 => 4_900,
                2 => 14_900,
                _ => draw_amount(rng, 0),
            };
            self.products.push(Product {
                created,
                name: i as u16,
                active: rng.chance(0.9) || i < 3,
                unit_amount,
            });
        }
    }

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
    fn pick_buyer(&mut self, rng: &mut Rng, t: i64) -> (u32, u32) {
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
    fn new_charge(
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

    fn push_txn(&mut self, txn: BalanceTransaction) -> u32 {
        self.balance_transactions.push(txn);
        (self.balance_transactions.len() - 1) as u32
    }

    /// What happens to a succeeded charge later in the history: a dispute, or a refund, or nothing.
    fn after_success(&mut self, rng: &mut Rng, ch: u32, risk: u8, cross: bool, now: i64) {
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

    fn generate_setup_intents(&mut self, rng: &mut Rng) {
        for pm in 0..self.payment_methods.len() as u32 {
            let p = &self.payment_methods[pm as usize];
            let (created, customer) = (p.created, p.customer);
            if rng.chance(0.22) {
                self.setup_intents.push(SetupIntent {
                    created: (created - rng.between(5, 60)).max(self.start).min(created),
                    customer,
                    payment_method: pm,
                    status: SetupStatus::Succeeded,
                });
            } else if rng.chance(0.03) {
                self.setup_intents.push(SetupIntent {
                    created: (created - rng.between(60, 3_600)).max(self.start),
                    customer,
                    payment_method: NONE,
                    status: if rng.chance(0.5) {
                        SetupStatus::Canceled
                    } else {
                        SetupStatus::RequiresPaymentMethod
                    },
                });
            }
        }
    }

    fn generate_subscriptions(&mut self, rng: &mut Rng) {
        for c in 0..self.customers.len() as u32 {
            if !rng.chance(0.12) {
                continue;
            }
            let created = self.customers[c as usize].created;
            let age = self.now - created;
            let product = rng.weighted(&[60.0, 30.0, 10.0]) as u32;
            let (status, canceled_at) = if rng.chance(0.3) && age > 2 * DAY {
                (
                    SubscriptionStatus::Canceled,
                    created + rng.between(DAY, age),
                )
            } else if age < 14 * DAY && rng.chance(0.4) {
                (SubscriptionStatus::Trialing, 0)
            } else {
                let s = match rng.weighted(&[90.0, 4.0, 1.5, 2.0, 1.0]) {
                    0 => SubscriptionStatus::Active,
                    1 => SubscriptionStatus::PastDue,
                    2 => SubscriptionStatus::Unpaid,
                    3 => SubscriptionStatus::Incomplete,
                    _ => SubscriptionStatus::IncompleteExpired,
                };
                (s, 0)
            };
            self.subscriptions.push(Subscription {
                created,
                customer: c,
                product,
                status,
                canceled_at,
                quantity: if product == 1 {
                    rng.between(2, 10) as u8
                } else {
                    1
                },
                yearly: rng.chance(0.2),
            });
        }
    }

    fn generate_credit_notes(&mut self, rng: &mut Rng, charges: usize) {
        if self.customers.is_empty() {
            return;
        }
        let count = charges / 400 + 3;
        let mut notes: Vec<CreditNote> = (0..count)
            .map(|_| {
                let customer = rng.below(self.customers.len() as u64) as u32;
                let from = self.customers[customer as usize].created;
                CreditNote {
                    created: rng.between(from, self.now),
                    customer,
                    amount: rng.between(5, 200) * 100,
                    void: rng.chance(0.05),
                    reason: rng.below(5) as u8,
                }
            })
            .collect();
        notes.sort_by_key(|n| n.created);
        self.credit_notes = notes;
    }

    /// Monthly finance reports for the last twelve months, alternating the two most used types.
    fn generate_report_runs(&mut self) {
        let (mut y, mut m, _) = civil(self.now);
        for k in 0..12u8 {
            let month_start = midnight_of(y, m, 1);
            let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
            let created = month_start + DAY + 3 * 3_600;
            if created + 300 <= self.now && month_start > self.start {
                let report_type = if k % 2 == 0 { 0 } else { 4 };
                let h = self.report_runs.len() as u32;
                let file = self.files.len() as u32;
                let succeeded_at = created + 300;
                self.files.push(File {
                    created: succeeded_at,
                    purpose: FilePurpose::FinanceReportRun,
                    size: 4_000 + 150 * u32::from(k),
                    owner: h,
                });
                self.report_runs.push(ReportRun {
                    created,
                    report_type,
                    interval_start: midnight_of(py, pm, 1),
                    interval_end: month_start,
                    file,
                    succeeded_at,
                });
            }
            (y, m) = (py, pm);
        }
        debug_assert!(REPORT_TYPES.len() > 4);
    }

    /// Handles `from..count` of `ty` sorted in Stripe list order.
    pub(super) fn sorted_handles(&self, ty: ObjectType, from: u32) -> Vec<u32> {
        let mut hs: Vec<u32> = (from..self.count(ty) as u32).collect();
        if ty == ObjectType::ReportType {
            return hs;
        }
        let created: Vec<i64> = hs.iter().map(|&h| self.created(ty, h)).collect();
        hs.sort_unstable_by(|&a, &b| {
            let (ca, cb) = (created[(a - from) as usize], created[(b - from) as usize]);
            cb.cmp(&ca)
                .then_with(|| self.id(ty, b).cmp(&self.id(ty, a)))
        });
        hs
    }

    /// Re-establishes list order after objects `from..count` of `ty` were appended.
    pub(super) fn merge_new(&mut self, ty: ObjectType, from: u32) {
        if from as usize >= self.count(ty) {
            return;
        }
        let new = self.sorted_handles(ty, from);
        let old = std::mem::take(&mut self.order[ty.index()]);
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let (mut i, mut j) = (0, 0);
        while i < old.len() && j < new.len() {
            let (a, b) = (old[i], new[j]);
            let newer = self
                .created(ty, b)
                .cmp(&self.created(ty, a))
                .then_with(|| self.id(ty, b).cmp(&self.id(ty, a)));
            if newer == std::cmp::Ordering::Greater {
                merged.push(b);
                j += 1;
            } else {
                merged.push(a);
                i += 1;
            }
        }
        merged.extend_from_slice(&old[i..]);
        merged.extend_from_slice(&new[j..]);
        self.order[ty.index()] = merged;
    }
}

#[cfg(test)]
pub(super) fn options(charges: usize) -> GenerateOptions {
    GenerateOptions::new("acct_1TestLedger00001", 7, charges, 1_785_283_200)
}
