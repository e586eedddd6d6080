//! Rendering of charges, payment intents, payment methods, customers and setup intents.

use serde_json::{Value, json};

use super::super::cards::{COUNTRIES, ThreeDs, Wallet, card_table};
use super::super::catalog::{FIRST_NAMES, LAST_NAMES};
use super::super::currencies::CURRENCIES;
use super::super::declines::decline;
use super::super::records::{ChargeStatus, IntentStatus, NONE, PaymentMethod, SetupStatus};
use super::super::rng::mix;
use super::{Renderer, empty_address, opt_str};
use crate::data::ObjectType;

const CHECKS: [Option<&str>; 4] = [
    Some("pass"),
    Some("fail"),
    Some("unavailable"),
    Some("unchecked"),
];

/// A buyer's name, stable for a customer.
pub(super) fn customer_name(h: u32) -> (String, String) {
    let m = mix(u64::from(h), 0x4E41_4D45);
    let first = FIRST_NAMES[(m % FIRST_NAMES.len() as u64) as usize];
    let last = LAST_NAMES[((m >> 20) % LAST_NAMES.len() as u64) as usize];
    let email = format!(
        "{}.{}{}@example.com",
        first.to_lowercase(),
        last.to_lowercase(),
        (m >> 40) % 100
    );
    (format!("{first} {last}"), email)
}

impl Renderer<'_> {
    /// The gated fields (`iin`, `issuer`, `description`) of a card, null unless the account has card details.
    fn gated(&self, pm: &PaymentMethod) -> (Value, Value, Value) {
        if !self.opts.card_details {
            return (Value::Null, Value::Null, Value::Null);
        }
        let bin = &card_table().bins[pm.bin as usize];
        (json!(bin.iin), json!(bin.bank), json!(bin.description))
    }

    fn wallet(&self, pm: &PaymentMethod, pm_h: u32) -> Value {
        match pm.wallet {
            Wallet::None => Value::Null,
            w => {
                // Apple Pay and Google Pay charge a device token whose own last four digits differ.
                let dynamic = match w {
                    Wallet::ApplePay | Wallet::GooglePay => {
                        json!(format!("{:04}", mix(u64::from(pm_h), 0xD7) % 10_000))
                    }
                    _ => Value::Null,
                };
                json!({ "dynamic_last4": dynamic, "type": w.name() })
            }
        }
    }

    fn billing_details(&self, customer: u32, pm: &PaymentMethod) -> Value {
        let bin = &card_table().bins[pm.bin as usize];
        let country = if customer == NONE {
            bin.country
        } else {
            COUNTRIES[self.l.customers[customer as usize].country as usize].0
        };
        let (name, email) = customer_name(customer);
        let postal = format!("{:05}", mix(u64::from(customer), 0x21F) % 100_000);
        json!({
            "address": {
                "city": null, "country": country, "line1": null, "line2": null,
                "postal_code": postal, "state": null
            },
            "email": email,
            "name": name,
            "phone": null,
            "tax_id": null,
        })
    }

    pub(super) fn charge(&self, h: u32) -> Value {
        let c = &self.l.charges[h as usize];
        let pm = &self.l.payment_methods[c.payment_method as usize];
        let bin = &card_table().bins[pm.bin as usize];
        let cur = &CURRENCIES[c.currency as usize];
        let d = decline(c.decline);
        let id = self.id(ObjectType::Charge, h);
        let succeeded = c.status != ChargeStatus::Failed;
        let risk_level = if c.decline == super::super::declines::BLOCKED_INDEX {
            "highest"
        } else if c.risk_score >= 65 {
            "elevated"
        } else {
            "normal"
        };
        let manual_review = succeeded && c.risk_score >= 70;
        let outcome = json!({
            "advice_code": opt_str(d.advice_code),
            "network_advice_code": opt_str(d.network_advice_code),
            "network_decline_code": opt_str(d.network_decline_code),
            "network_status": d.network_status,
            "reason": if c.decline == 0 {
                if manual_review { json!("elevated_risk_level") } else { Value::Null }
            } else {
                json!(d.reason)
            },
            "risk_level": risk_level,
            "risk_score": c.risk_score,
            "rule": null,
            "seller_message": if manual_review {
                "Stripe evaluated this payment as having elevated risk, and placed it in your manual review queue."
            } else {
                d.seller_message
            },
            "type": if manual_review { "manual_review" } else { d.outcome_type },
        });
        let three_d_secure = match c.three_ds {
            ThreeDs::None => Value::Null,
            t => json!({
                "authentication_flow": if mix(u64::from(h), 3).is_multiple_of(3) { "challenge" } else { "frictionless" },
                "electronic_commerce_indicator": match t {
                    ThreeDs::Authenticated | ThreeDs::Exempted => "05",
                    ThreeDs::AttemptAcknowledged => "06",
                    _ => "07",
                },
                "exemption_indicator": if t == ThreeDs::Exempted { json!("low_risk") } else { Value::Null },
                "result": t.result(),
                "result_reason": if t == ThreeDs::Failed { json!("rejected") } else { Value::Null },
                "transaction_id": uuid_like(mix(u64::from(h), 0x3D5)),
                "version": "2.2.0",
            }),
        };
        let (iin, issuer, description) = self.gated(pm);
        let authorized = c.decline == 0;
        let card = json!({
            "amount_authorized": if authorized { json!(c.amount) } else { Value::Null },
            "authorization_code": if authorized {
                json!(format!("{:06}", mix(u64::from(h), 0xA0) % 1_000_000))
            } else {
                Value::Null
            },
            "brand": bin.brand.name(),
            "checks": {
                "address_line1_check": null,
                "address_postal_code_check": CHECKS.get(c.postal_check as usize).copied().flatten(),
                "cvc_check": CHECKS[c.cvc_check as usize],
            },
            "country": bin.country,
            "description": description,
            "exp_month": pm.exp_month,
            "exp_year": pm.exp_year,
            "extended_authorization": { "status": "disabled" },
            "fingerprint": self.token(0xF1, c.payment_method, 16),
            "funding": bin.funding.name(),
            "iin": iin,
            "incremental_authorization": { "status": "unavailable" },
            "installments": null,
            "issuer": issuer,
            "last4": format!("{:04}", pm.last4),
            "mandate": null,
            "multicapture": { "status": "unavailable" },
            "network": bin.brand.network(),
            "network_token": { "used": pm.wallet != Wallet::None },
            "network_transaction_id": if d.network_status == "not_sent_to_network" {
                Value::Null
            } else {
                json!(format!("{:015}", mix(u64::from(h), 0x7E) % 1_000_000_000_000_000))
            },
            "overcapture": { "maximum_amount_capturable": c.amount, "status": "unavailable" },
            "regulated_status": if bin.funding == super::super::cards::Funding::Debit { "regulated" } else { "unregulated" },
            "three_d_secure": three_d_secure,
            "transaction_link_id": null,
            "wallet": self.wallet(pm, c.payment_method),
        });
        let refunds: Vec<Value> = (0..c.refunds_len as u32)
            .map(|k| self.refund(c.refunds_start + k))
            .collect();
        let intent = (c.intent != NONE).then_some((ObjectType::PaymentIntent, c.intent));
        let customer = (c.customer != NONE).then_some((ObjectType::Customer, c.customer));
        let bt = (c.balance_transaction != NONE)
            .then_some((ObjectType::BalanceTransaction, c.balance_transaction));
        json!({
            "id": id,
            "object": "charge",
            "amount": c.amount,
            "amount_captured": if succeeded { c.amount } else { 0 },
            "amount_refunded": c.amount_refunded,
            "application": null,
            "application_fee": null,
            "application_fee_amount": null,
            "balance_transaction": self.expandable("balance_transaction", bt),
            "billing_details": self.billing_details(c.customer, pm),
            "calculated_statement_descriptor": "PAYSCOPE DEMO SHOP",
            "captured": succeeded,
            "created": c.created,
            "currency": cur.code,
            "customer": self.expandable("customer", customer),
            "description": null,
            "disputed": c.dispute != NONE,
            "failure_balance_transaction": null,
            "failure_code": if c.decline == 0 { Value::Null } else { json!(d.failure_code) },
            "failure_message": if c.decline == 0 { Value::Null } else { json!(d.failure_message) },
            "fraud_details": {},
            "livemode": self.livemode(),
            "metadata": {},
            "on_behalf_of": null,
            "outcome": outcome,
            "paid": c.status == ChargeStatus::Succeeded,
            "payment_intent": self.expandable("payment_intent", intent),
            "payment_method": self.id(ObjectType::PaymentMethod, c.payment_method),
            "payment_method_details": { "card": card, "type": "card" },
            "receipt_email": null,
            "receipt_number": null,
            "receipt_url": if succeeded {
                json!(format!("https://pay.stripe.com/receipts/payment/{}", self.token(0x8EC, h, 48)))
            } else {
                Value::Null
            },
            "refunded": c.amount_refunded > 0 && c.amount_refunded == c.amount,
            "refunds": self.list(format!("/v1/charges/{id}/refunds"), refunds),
            "review": null,
            "shipping": null,
            "source": null,
            "source_transfer": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": c.status.name(),
            "transfer_data": null,
            "transfer_group": null,
        })
    }

    pub(super) fn payment_intent(&self, h: u32) -> Value {
        let p = &self.l.intents[h as usize];
        let id = self.id(ObjectType::PaymentIntent, h);
        let last = (p.latest_charge != NONE).then(|| &self.l.charges[p.latest_charge as usize]);
        let last_payment_error = match last {
            Some(c)
                if p.status == IntentStatus::RequiresPaymentMethod
                    || p.status == IntentStatus::Canceled =>
            {
                if c.status == ChargeStatus::Failed {
                    let d = decline(c.decline);
                    json!({
                        "advice_code": opt_str(d.advice_code),
                        "charge": self.id(ObjectType::Charge, p.latest_charge),
                        "code": d.failure_code,
                        "decline_code": if d.failure_code == "card_declined" { json!(d.reason) } else { Value::Null },
                        "doc_url": format!("https://stripe.com/docs/error-codes/{}", d.failure_code.replace('_', "-")),
                        "message": d.failure_message,
                        "network_advice_code": opt_str(d.network_advice_code),
                        "network_decline_code": opt_str(d.network_decline_code),
                        "param": null,
                        "payment_method": self.payment_method(c.payment_method),
                        "type": "card_error",
                    })
                } else {
                    Value::Null
                }
            }
            _ => Value::Null,
        };
        let received = match last {
            Some(c) if c.status == ChargeStatus::Succeeded => c.amount,
            _ => 0,
        };
        let pm = match p.status {
            IntentStatus::Succeeded | IntentStatus::Processing if p.payment_method != NONE => {
                Some((ObjectType::PaymentMethod, p.payment_method))
            }
            _ => None,
        };
        let customer = (p.customer != NONE).then_some((ObjectType::Customer, p.customer));
        let latest = (p.latest_charge != NONE).then_some((ObjectType::Charge, p.latest_charge));
        json!({
            "id": id,
            "object": "payment_intent",
            "amount": p.amount,
            "amount_capturable": 0,
            "amount_details": { "tip": {} },
            "amount_received": received,
            "application": null,
            "application_fee_amount": null,
            "automatic_payment_methods": { "enabled": true },
            "canceled_at": if p.status == IntentStatus::Canceled { json!(p.settled_at) } else { Value::Null },
            "cancellation_reason": match (p.status, p.cancellation_reason) {
                (IntentStatus::Canceled, 1) => json!("abandoned"),
                (IntentStatus::Canceled, 2) => json!("requested_by_customer"),
                (IntentStatus::Canceled, 3) => json!("duplicate"),
                _ => Value::Null,
            },
            "capture_method": "automatic_async",
            "client_secret": format!("{id}_secret_{}", self.token(0xC5, h, 25)),
            "confirmation_method": "automatic",
            "created": p.created,
            "currency": CURRENCIES[p.currency as usize].code,
            "customer": self.expandable("customer", customer),
            "customer_account": null,
            "description": null,
            "excluded_payment_method_types": null,
            "last_payment_error": last_payment_error,
            "latest_charge": self.expandable("latest_charge", latest),
            "livemode": self.livemode(),
            "managed_payments": { "enabled": false },
            "metadata": {},
            "next_action": null,
            "on_behalf_of": null,
            "payment_method": self.expandable("payment_method", pm),
            "payment_method_configuration_details": null,
            "payment_method_options": {
                "card": {
                    "installments": null, "mandate_options": null, "network": null,
                    "request_three_d_secure": "automatic"
                }
            },
            "payment_method_types": ["card"],
            "processing": if p.status == IntentStatus::Processing { json!({ "type": "card" }) } else { Value::Null },
            "receipt_email": null,
            "review": null,
            "setup_future_usage": null,
            "shipping": null,
            "source": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": p.status.name(),
            "transfer_data": null,
            "transfer_group": null,
        })
    }

    pub(super) fn payment_method(&self, h: u32) -> Value {
        let pm = &self.l.payment_methods[h as usize];
        let bin = &card_table().bins[pm.bin as usize];
        let (iin, issuer, description) = self.gated(pm);
        let customer = (pm.customer != NONE).then_some((ObjectType::Customer, pm.customer));
        json!({
            "id": self.id(ObjectType::PaymentMethod, h),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": self.billing_details(pm.customer, pm),
            "card": {
                "brand": bin.brand.name(),
                "checks": { "address_line1_check": null, "address_postal_code_check": "pass", "cvc_check": "pass" },
                "country": bin.country,
                "description": description,
                "display_brand": bin.brand.name(),
                "exp_month": pm.exp_month,
                "exp_year": pm.exp_year,
                "fingerprint": self.token(0xF1, h, 16),
                "funding": bin.funding.name(),
                "generated_from": null,
                "iin": iin,
                "issuer": issuer,
                "last4": format!("{:04}", pm.last4),
                "networks": { "available": [bin.brand.network()], "preferred": null },
                "regulated_status": if bin.funding == super::super::cards::Funding::Debit { "regulated" } else { "unregulated" },
                "three_d_secure_usage": { "supported": true },
                "wallet": self.wallet(pm, h),
            },
            "created": pm.created,
            "customer": self.expandable("customer", customer),
            "customer_account": null,
            "livemode": self.livemode(),
            "metadata": {},
            "type": "card",
        })
    }

    pub(super) fn customer(&self, h: u32) -> Value {
        let c = &self.l.customers[h as usize];
        let (name, email) = customer_name(h);
        let country = COUNTRIES[c.country as usize].0;
        let mut address = empty_address();
        address["country"] = json!(country);
        json!({
            "id": self.id(ObjectType::Customer, h),
            "object": "customer",
            "address": address,
            "balance": 0,
            "created": c.created,
            "currency": CURRENCIES[c.currency as usize].code,
            "default_source": null,
            "delinquent": false,
            "description": null,
            "discount": null,
            "email": email,
            "invoice_prefix": self.token(0x1F, h, 8).to_uppercase(),
            "invoice_settings": {
                "custom_fields": null,
                "default_payment_method": self.expandable(
                    "invoice_settings.default_payment_method",
                    (c.default_payment_method != NONE)
                        .then_some((ObjectType::PaymentMethod, c.default_payment_method)),
                ),
                "footer": null,
                "rendering_options": null,
            },
            "livemode": self.livemode(),
            "metadata": {},
            "name": name,
            "next_invoice_sequence": 1 + (mix(u64::from(h), 0x11) % 12),
            "phone": null,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }

    pub(super) fn setup_intent(&self, h: u32) -> Value {
        let s = &self.l.setup_intents[h as usize];
        let id = self.id(ObjectType::SetupIntent, h);
        let customer = (s.customer != NONE).then_some((ObjectType::Customer, s.customer));
        let pm =
            (s.payment_method != NONE).then_some((ObjectType::PaymentMethod, s.payment_method));
        json!({
            "id": id,
            "object": "setup_intent",
            "application": null,
            "automatic_payment_methods": { "enabled": true },
            "cancellation_reason": if s.status == SetupStatus::Canceled { json!("abandoned") } else { Value::Null },
            "client_secret": format!("{id}_secret_{}", self.token(0x5E, h, 32)),
            "created": s.created,
            "customer": self.expandable("customer", customer),
            "description": null,
            "excluded_payment_method_types": null,
            "flow_directions": null,
            "last_setup_error": null,
            "latest_attempt": null,
            "livemode": self.livemode(),
            "mandate": null,
            "metadata": {},
            "next_action": null,
            "on_behalf_of": null,
            "payment_method": self.expandable("payment_method", pm),
            "payment_method_configuration_details": null,
            "payment_method_options": {
                "card": { "mandate_options": null, "network": null, "request_three_d_secure": "automatic" }
            },
            "payment_method_types": ["card"],
            "single_use_mandate": null,
            "status": s.status.name(),
            "usage": "off_session",
        })
    }
}

/// A UUID-shaped string (3DS transaction ids look like this).
fn uuid_like(v: u64) -> String {
    let w = mix(v, 1);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        v >> 32,
        (v >> 16) & 0xFFFF,
        v & 0xFFF,
        w >> 52,
        w & 0xFFFF_FFFF_FFFF
    )
}
