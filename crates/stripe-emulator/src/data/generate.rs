//! Deterministic generation of an account's history: the timeline (how many payments each day and hour gets)
//! and the order of the steps; the steps live in `payments`, `refunds_disputes`, `payouts` and `billing`. Also
//! the Stripe list order of each type.

use super::calendar::{DAY, civil, day_start, weekday};
use super::rng::Rng;
use super::{GenerateOptions, IdCodec, Ledger, ObjectType};

/// Random streams, one per purpose, so changing one part of generation leaves the others' draws unchanged.
const STREAM_PAYMENTS: u64 = 1;
const STREAM_PRODUCTS: u64 = 2;
const STREAM_DAYS: u64 = 3;
const STREAM_BILLING: u64 = 4;
const STREAM_SAVED_CARDS: u64 = 5;

/// Relative traffic per UTC hour: the buyers are mostly in the Americas and Europe.
const HOURLY: [f64; 24] = [
    6.0, 4.5, 3.0, 2.0, 1.5, 1.2, 1.2, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 8.5, 8.5, 8.5, 8.5,
    8.5, 8.0, 8.0, 7.5, 7.0,
];

/// Relative traffic per weekday, Monday first: Friday peaks, the weekend dips.
const WEEKLY: [f64; 7] = [1.0, 1.02, 1.03, 1.05, 1.12, 0.92, 0.86];

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
    l.generate_saved_cards(&mut Rng::new(opts.seed, STREAM_SAVED_CARDS), n);
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

impl Ledger {
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
