//! Generation of the billing side of the account: products, saved cards (with setup intents, and a few attached
//! without one), subscriptions, credit notes, and the monthly finance report runs with their files.

use super::Ledger;
use super::calendar::{DAY, civil, midnight_of};
use super::catalog::{PRODUCTS, REPORT_TYPES};
use super::payments::draw_amount;
use super::records::*;
use super::rng::Rng;

impl Ledger {
    pub(super) fn generate_products(&mut self, rng: &mut Rng) {
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

    pub(super) fn generate_setup_intents(&mut self, rng: &mut Rng) {
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

    /// Cards customers saved after their last payment and made their invoice default without a SetupIntent
    /// (attached through the API), so no intent names them: `charges / 200 + 1` of them (fewer only if fewer
    /// customers have paid), each for another customer whose current default an intent names. Every history
    /// with a charge thus has PaymentMethods a client reaches only through customers, whatever `now` and the
    /// draws are (the import tests rely on it). Runs after the setup intents, so none of those names these cards.
    pub(super) fn generate_saved_cards(&mut self, rng: &mut Rng, charges: usize) {
        let by_intents = self.referenced_by_intents();
        let mut last_seen: Vec<i64> = self.customers.iter().map(|c| c.created).collect();
        for p in &self.intents {
            let seen = &mut last_seen[p.customer as usize];
            *seen = (*seen).max(p.created).max(p.settled_at);
        }
        let mut eligible: Vec<u32> = (0..self.customers.len() as u32)
            .filter(|&c| {
                let pm = self.customers[c as usize].default_payment_method;
                pm != NONE && by_intents[pm as usize]
            })
            .collect();
        let count = (charges / 200 + 1).min(eligible.len());
        for i in 0..count {
            let j = i + rng.below((eligible.len() - i) as u64) as usize;
            eligible.swap(i, j);
            let customer = eligible[i];
            let after = (last_seen[customer as usize] + 60).min(self.now);
            let at = rng.between(after, self.now);
            self.new_card(rng, customer, at);
        }
    }

    pub(super) fn generate_subscriptions(&mut self, rng: &mut Rng) {
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

    pub(super) fn generate_credit_notes(&mut self, rng: &mut Rng, charges: usize) {
        if self.customers.is_empty() {
            return;
        }
        let count = charges / 400 + 3;
        let mut notes: Vec<CreditNote> = (0..count)
            .map(|_| {
                let customer = rng.below(self.customers.len() as u64) as u32;
                let from = self.customers[customer as usize].created;
                let created = rng.between(from, self.now);
                CreditNote {
                    created,
                    customer,
                    amount: rng.between(5, 200) * 100,
                    // Voiding happens an hour later, which must not be in the future.
                    void: rng.chance(0.05) && created + 3_600 <= self.now,
                    reason: rng.below(5) as u8,
                }
            })
            .collect();
        notes.sort_by_key(|n| n.created);
        self.credit_notes = notes;
    }

    /// Monthly finance reports for the last twelve months, alternating the two most used types.
    pub(super) fn generate_report_runs(&mut self) {
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
}
