//! Rendering of refunds, disputes, balance transactions and payouts.

use serde_json::{Value, json};

use super::super::calendar::{DAY, day_start};
use super::super::cards::{Brand, card_table};
use super::super::catalog::DISPUTE_REASONS;
use super::super::currencies::{CURRENCIES, SETTLEMENT, to_settlement};
use super::super::records::{DisputeStatus, NONE, PayoutStatus, TxnKind};
use super::Renderer;
use crate::data::ObjectType;

impl Renderer<'_> {
    pub(super) fn refund(&self, h: u32) -> Value {
        let r = &self.l.refunds[h as usize];
        let c = &self.l.charges[r.charge as usize];
        let intent = (c.intent != NONE).then_some((ObjectType::PaymentIntent, c.intent));
        json!({
            "id": self.id(ObjectType::Refund, h),
            "object": "refund",
            "amount": r.amount,
            "balance_transaction": self.expandable(
                "balance_transaction",
                Some((ObjectType::BalanceTransaction, r.balance_transaction)),
            ),
            "charge": self.expandable("charge", Some((ObjectType::Charge, r.charge))),
            "created": r.created,
            "currency": CURRENCIES[c.currency as usize].code,
            "customer": self.opt_id(ObjectType::Customer, c.customer),
            "customer_account": null,
            "destination_details": {
                "card": { "type": if r.created - c.created < DAY { "reversal" } else { "refund" } },
                "type": "card",
            },
            "metadata": {},
            "payment_intent": self.expandable("payment_intent", intent),
            "payment_method": self.id(ObjectType::PaymentMethod, c.payment_method),
            "reason": match r.reason {
                1 => json!("requested_by_customer"),
                2 => json!("duplicate"),
                3 => json!("fraudulent"),
                _ => Value::Null,
            },
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": r.status.name(),
            "transfer_reversal": null,
        })
    }

    pub(super) fn dispute(&self, h: u32) -> Value {
        let d = &self.l.disputes[h as usize];
        let c = &self.l.charges[d.charge as usize];
        let pm = &self.l.payment_methods[c.payment_method as usize];
        let brand = card_table().bins[pm.bin as usize].brand;
        let reason = &DISPUTE_REASONS[d.reason as usize];
        let network_reason_code = match brand {
            Brand::Visa | Brand::CartesBancaires => json!(reason.visa),
            Brand::Mastercard => json!(reason.mastercard),
            Brand::Amex => json!(reason.amex),
            _ => Value::Null,
        };
        let due_by = day_start(d.created) + 22 * DAY - 1;
        let has_evidence = d.evidence_file != NONE;
        let evidence_file = self.opt_id(ObjectType::File, d.evidence_file);
        let text = |s: &str| if has_evidence { json!(s) } else { Value::Null };
        let (name, email) = super::payments::customer_name(c.customer);
        let txns: Vec<Value> = d
            .balance_transactions
            .iter()
            .filter(|&&b| b != NONE)
            .map(|&b| self.balance_transaction(b))
            .collect();
        let intent = (c.intent != NONE).then_some((ObjectType::PaymentIntent, c.intent));
        json!({
            "id": self.id(ObjectType::Dispute, h),
            "object": "dispute",
            "amount": d.amount,
            "balance_transactions": txns,
            "charge": self.expandable("charge", Some((ObjectType::Charge, d.charge))),
            "created": d.created,
            "currency": CURRENCIES[c.currency as usize].code,
            "enhanced_eligibility_types": if brand == Brand::Visa && reason.name == "fraudulent" {
                json!(["visa_compelling_evidence_3"])
            } else {
                json!([])
            },
            "evidence": {
                "access_activity_log": null,
                "billing_address": null,
                "cancellation_policy": null,
                "cancellation_policy_disclosure": null,
                "cancellation_rebuttal": null,
                "customer_communication": null,
                "customer_email_address": if has_evidence { json!(email) } else { Value::Null },
                "customer_name": if has_evidence { json!(name) } else { Value::Null },
                "customer_purchase_ip": null,
                "customer_signature": null,
                "duplicate_charge_documentation": null,
                "duplicate_charge_explanation": null,
                "duplicate_charge_id": null,
                "enhanced_evidence": {},
                "product_description": text("Order shipped with tracking; see attached receipt."),
                "receipt": evidence_file.clone(),
                "refund_policy": null,
                "refund_policy_disclosure": text("Refunds within 30 days, stated at checkout."),
                "refund_refusal_explanation": null,
                "service_date": null,
                "service_documentation": null,
                "shipping_address": null,
                "shipping_carrier": null,
                "shipping_date": null,
                "shipping_documentation": null,
                "shipping_tracking_number": null,
                "uncategorized_file": null,
                "uncategorized_text": null,
            },
            "evidence_details": {
                "due_by": due_by,
                "enhanced_eligibility": {},
                "has_evidence": has_evidence,
                "past_due": !has_evidence && d.status == DisputeStatus::Lost,
                "submission_count": i32::from(has_evidence),
            },
            "is_charge_refundable": d.status.is_inquiry() && !d.status.is_closed(),
            "livemode": self.livemode(),
            "metadata": {},
            "payment_intent": self.expandable("payment_intent", intent),
            "payment_method_details": {
                "card": {
                    "brand": brand.name(),
                    "case_type": if d.status.is_inquiry() { "inquiry" } else { "chargeback" },
                    "network": brand.network(),
                    "network_reason_code": network_reason_code,
                },
                "type": "card",
            },
            "reason": reason.name,
            "status": d.status.name(),
        })
    }

    pub(super) fn balance_transaction(&self, h: u32) -> Value {
        let t = &self.l.balance_transactions[h as usize];
        let (source, description, exchange_rate) = match t.kind {
            TxnKind::Charge => {
                let c = &self.l.charges[t.source as usize];
                let (_, rate) = to_settlement(c.amount, c.currency as usize);
                ((ObjectType::Charge, t.source), Value::Null, rate)
            }
            TxnKind::Refund => {
                let r = &self.l.refunds[t.source as usize];
                let c = &self.l.charges[r.charge as usize];
                let (_, rate) = to_settlement(r.amount, c.currency as usize);
                (
                    (ObjectType::Refund, t.source),
                    json!("REFUND FOR CHARGE"),
                    rate,
                )
            }
            TxnKind::Dispute | TxnKind::DisputeReversal => {
                let d = &self.l.disputes[t.source as usize];
                let c = &self.l.charges[d.charge as usize];
                let (_, rate) = to_settlement(d.amount, c.currency as usize);
                let text = if t.kind == TxnKind::Dispute {
                    "Chargeback withdrawal for "
                } else {
                    "Chargeback reversal for "
                };
                (
                    (ObjectType::Dispute, t.source),
                    json!(format!("{text}{}", self.id(ObjectType::Charge, d.charge))),
                    rate,
                )
            }
            TxnKind::Payout => ((ObjectType::Payout, t.source), json!("STRIPE PAYOUT"), None),
        };
        let fee_details = if t.fee == 0 {
            json!([])
        } else {
            json!([{
                "amount": t.fee,
                "application": null,
                "currency": CURRENCIES[SETTLEMENT].code,
                "description": if t.kind == TxnKind::Charge { "Stripe processing fees" } else { "Dispute fee" },
                "type": "stripe_fee",
            }])
        };
        json!({
            "id": self.id(ObjectType::BalanceTransaction, h),
            "object": "balance_transaction",
            "amount": t.amount,
            "available_on": t.available_on,
            "balance_type": "payments",
            "created": t.created,
            "currency": CURRENCIES[SETTLEMENT].code,
            "description": description,
            "exchange_rate": exchange_rate,
            "fee": t.fee,
            "fee_details": fee_details,
            "net": t.amount - t.fee,
            "reporting_category": t.kind.reporting_category(),
            "source": self.expandable("source", Some(source)),
            "status": if t.available_on <= self.l.now { "available" } else { "pending" },
            "type": t.kind.type_name(),
        })
    }

    pub(super) fn payout(&self, h: u32) -> Value {
        let p = &self.l.payouts[h as usize];
        json!({
            "id": self.id(ObjectType::Payout, h),
            "object": "payout",
            "amount": p.amount,
            "application_fee": null,
            "application_fee_amount": null,
            "arrival_date": p.arrival_date,
            "automatic": true,
            "balance_transaction": self.expandable(
                "balance_transaction",
                Some((ObjectType::BalanceTransaction, p.balance_transaction)),
            ),
            "created": p.created,
            "currency": CURRENCIES[SETTLEMENT].code,
            "description": "STRIPE PAYOUT",
            "destination": format!("ba_1{}", self.token(0xBA, 0, 23)),
            "failure_balance_transaction": null,
            "failure_code": null,
            "failure_message": null,
            "livemode": self.livemode(),
            "metadata": {},
            "method": "standard",
            "original_payout": null,
            "payout_method": null,
            "reconciliation_status": if p.status == PayoutStatus::Paid { "completed" } else { "in_progress" },
            "reversed_by": null,
            "source_type": "card",
            "statement_descriptor": null,
            "status": p.status.name(),
            "trace_id": {
                "status": if p.status == PayoutStatus::Paid { "supported" } else { "pending" },
                "value": if p.status == PayoutStatus::Paid {
                    json!(format!("{:015}", super::super::rng::mix(u64::from(h), 0x7CE) % 1_000_000_000_000_000))
                } else {
                    Value::Null
                },
            },
            "type": "bank_account",
        })
    }
}
