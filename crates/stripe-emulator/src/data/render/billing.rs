//! Rendering of products, subscriptions, credit notes, files, report types and report runs.

use serde_json::{Value, json};

use super::super::calendar::DAY;
use super::super::catalog::{PRODUCTS, REPORT_TYPES};
use super::super::currencies::CURRENCIES;
use super::super::records::{FilePurpose, NONE, SubscriptionStatus};
use super::Renderer;
use crate::data::ObjectType;

impl Renderer<'_> {
    fn price_id(&self, product: u32, yearly: bool) -> String {
        format!(
            "price_1{}",
            self.token(0x9E1 + u64::from(yearly), product, 23)
        )
    }

    pub(super) fn product(&self, h: u32) -> Value {
        let p = &self.l.products[h as usize];
        let (name, description) = PRODUCTS[p.name as usize];
        json!({
            "id": self.id(ObjectType::Product, h),
            "object": "product",
            "active": p.active,
            "created": p.created,
            "default_price": self.price_id(h, false),
            "description": description,
            "images": [],
            "livemode": self.livemode(),
            "marketing_features": [],
            "metadata": {},
            "name": name,
            "package_dimensions": null,
            "shippable": if h < 3 { Value::Null } else { json!(true) },
            "statement_descriptor": null,
            "tax_code": null,
            "type": if h < 3 { "service" } else { "good" },
            "unit_label": null,
            "updated": p.created,
            "url": null,
        })
    }

    pub(super) fn subscription(&self, h: u32) -> Value {
        let s = &self.l.subscriptions[h as usize];
        let id = self.id(ObjectType::Subscription, h);
        let product = &self.l.products[s.product as usize];
        let currency = CURRENCIES[0].code;
        let interval = if s.yearly { "year" } else { "month" };
        let unit_amount = if s.yearly {
            product.unit_amount * 10
        } else {
            product.unit_amount
        };
        let period = if s.yearly { 365 * DAY } else { 30 * DAY };
        let reference = if s.status == SubscriptionStatus::Canceled {
            s.canceled_at
        } else {
            self.l.now
        };
        let elapsed = (reference - s.created).max(0);
        let current_start = s.created + elapsed / period * period;
        let trialing = s.status == SubscriptionStatus::Trialing;
        let price_id = self.price_id(s.product, s.yearly);
        let product_id = self.id(ObjectType::Product, s.product);
        let item = json!({
            "id": format!("si_{}", self.token(0x51, h, 14)),
            "object": "subscription_item",
            "billing_thresholds": null,
            "created": s.created,
            "current_period_end": current_start + period,
            "current_period_start": current_start,
            "discounts": [],
            "metadata": {},
            "plan": {
                "id": price_id,
                "object": "plan",
                "active": true,
                "amount": unit_amount,
                "amount_decimal": unit_amount.to_string(),
                "billing_scheme": "per_unit",
                "created": product.created,
                "currency": currency,
                "interval": interval,
                "interval_count": 1,
                "livemode": self.livemode(),
                "metadata": {},
                "meter": null,
                "nickname": null,
                "product": product_id,
                "tiers_mode": null,
                "transform_usage": null,
                "trial_period_days": null,
                "usage_type": "licensed",
            },
            "price": {
                "id": price_id,
                "object": "price",
                "active": true,
                "billing_scheme": "per_unit",
                "created": product.created,
                "currency": currency,
                "custom_unit_amount": null,
                "livemode": self.livemode(),
                "lookup_key": null,
                "metadata": {},
                "nickname": null,
                "product": product_id,
                "recurring": {
                    "interval": interval,
                    "interval_count": 1,
                    "meter": null,
                    "trial_period_days": null,
                    "usage_type": "licensed",
                },
                "tax_behavior": "unspecified",
                "tiers_mode": null,
                "transform_quantity": null,
                "type": "recurring",
                "unit_amount": unit_amount,
                "unit_amount_decimal": unit_amount.to_string(),
            },
            "quantity": s.quantity,
            "subscription": id,
            "tax_rates": [],
        });
        let canceled = s.status == SubscriptionStatus::Canceled;
        let customer = (s.customer != NONE).then_some((ObjectType::Customer, s.customer));
        let default_pm = self.l.customers[s.customer as usize].default_payment_method;
        json!({
            "id": id,
            "object": "subscription",
            "application": null,
            "application_fee_percent": null,
            "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
            "billing_cycle_anchor": s.created,
            "billing_cycle_anchor_config": null,
            "billing_mode": { "flexible": null, "type": "classic" },
            "billing_schedules": [],
            "billing_thresholds": null,
            "cancel_at": null,
            "cancel_at_period_end": false,
            "canceled_at": if canceled { json!(s.canceled_at) } else { Value::Null },
            "cancellation_details": {
                "comment": null,
                "feedback": if canceled { json!("too_expensive") } else { Value::Null },
                "reason": if canceled { json!("cancellation_requested") } else { Value::Null },
            },
            "collection_method": "charge_automatically",
            "created": s.created,
            "currency": currency,
            "customer": self.expandable("customer", customer),
            "customer_account": null,
            "days_until_due": null,
            "default_payment_method": self.opt_id(ObjectType::PaymentMethod, default_pm),
            "default_source": null,
            "default_tax_rates": [],
            "description": null,
            "discounts": [],
            "ended_at": if canceled { json!(s.canceled_at) } else { Value::Null },
            "invoice_settings": {
                "account_tax_ids": null,
                "custom_fields": null,
                "description": null,
                "footer": null,
                "issuer": { "type": "self" },
            },
            "items": {
                "object": "list",
                "data": [item],
                "has_more": false,
                "url": format!("/v1/subscription_items?subscription={id}"),
            },
            "latest_invoice": format!("in_1{}", self.token(0x1A, h, 23)),
            "livemode": self.livemode(),
            "managed_payments": { "enabled": false },
            "metadata": {},
            "next_pending_invoice_item_invoice": null,
            "on_behalf_of": null,
            "pause_collection": null,
            "payment_settings": {
                "payment_method_options": null,
                "payment_method_types": null,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "schedule": null,
            "start_date": s.created,
            "status": s.status.name(),
            "test_clock": null,
            "transfer_data": null,
            "trial_end": if trialing { json!(s.created + 14 * DAY) } else { Value::Null },
            "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
            "trial_start": if trialing { json!(s.created) } else { Value::Null },
        })
    }

    pub(super) fn credit_note(&self, h: u32) -> Value {
        let n = &self.l.credit_notes[h as usize];
        let id = self.id(ObjectType::CreditNote, h);
        let currency = CURRENCIES[0].code;
        let customer = (n.customer != NONE).then_some((ObjectType::Customer, n.customer));
        let line = json!({
            "id": format!("cnli_1{}", self.token(0xC1, h, 23)),
            "object": "credit_note_line_item",
            "amount": n.amount,
            "description": "Service credit",
            "discount_amount": 0,
            "discount_amounts": [],
            "livemode": self.livemode(),
            "metadata": {},
            "pretax_credit_amounts": [],
            "quantity": 1,
            "tax_rates": [],
            "taxes": [],
            "type": "custom_line_item",
            "unit_amount": n.amount,
            "unit_amount_decimal": n.amount.to_string(),
        });
        json!({
            "id": id,
            "object": "credit_note",
            "amount": n.amount,
            "amount_shipping": 0,
            "created": n.created,
            "currency": currency,
            "customer": self.expandable("customer", customer),
            "customer_account": null,
            "customer_balance_transaction": null,
            "discount_amount": 0,
            "discount_amounts": [],
            "effective_at": n.created,
            "invoice": format!("in_1{}", self.token(0xC2, h, 23)),
            "lines": {
                "object": "list",
                "data": [line],
                "has_more": false,
                "url": format!("/v1/credit_notes/{id}/lines"),
            },
            "livemode": self.livemode(),
            "memo": null,
            "metadata": {},
            "number": format!("{}-CN-{:02}", self.token(0xC3, h, 8).to_uppercase(), 1 + h % 9),
            "out_of_band_amount": null,
            "pdf": format!("https://pay.stripe.com/credit_notes/{}/pdf", self.token(0xC4, h, 40)),
            "post_payment_amount": n.amount,
            "pre_payment_amount": 0,
            "pretax_credit_amounts": [],
            "reason": match n.reason {
                1 => json!("duplicate"),
                2 => json!("fraudulent"),
                3 => json!("order_change"),
                4 => json!("product_unsatisfactory"),
                _ => Value::Null,
            },
            "refunds": [],
            "shipping_cost": null,
            "status": if n.void { "void" } else { "issued" },
            "subtotal": n.amount,
            "subtotal_excluding_tax": n.amount,
            "total": n.amount,
            "total_excluding_tax": n.amount,
            "total_taxes": [],
            "type": "post_payment",
            "voided_at": if n.void { json!(n.created + 3_600) } else { Value::Null },
        })
    }

    /// A file; `with_links` is false where Stripe embeds a file without its links (a report run's `result`).
    pub(super) fn file(&self, h: u32, with_links: bool) -> Value {
        let f = &self.l.files[h as usize];
        let id = self.id(ObjectType::File, h);
        let (filename, kind, expires_at) = match f.purpose {
            FilePurpose::DisputeEvidence => {
                (format!("evidence_{}.pdf", f.owner), "pdf", Value::Null)
            }
            FilePurpose::FinanceReportRun => (
                format!("frr_report_{}.csv", f.owner),
                "csv",
                json!(f.created + 365 * DAY),
            ),
        };
        let mut file = json!({
            "id": id,
            "object": "file",
            "created": f.created,
            "expires_at": expires_at,
            "filename": filename,
            "purpose": f.purpose.name(),
            "size": f.size,
            "title": null,
            "type": kind,
            "url": format!("https://files.stripe.com/v1/files/{id}/contents"),
        });
        if with_links {
            file["links"] = json!({
                "object": "list",
                "data": [],
                "has_more": false,
                "url": format!("/v1/file_links?file={id}"),
            });
        }
        file
    }

    pub(super) fn report_type(&self, h: u32) -> Value {
        let t = &REPORT_TYPES[h as usize];
        let updated = self.l.report_types_updated();
        json!({
            "id": t.id,
            "object": "reporting.report_type",
            "data_available_end": updated,
            "data_available_start": self.l.start - self.l.start.rem_euclid(DAY),
            "default_columns": t.columns,
            "livemode": self.livemode(),
            "name": t.name,
            "updated": updated,
            "version": t.version,
        })
    }

    pub(super) fn report_run(&self, h: u32) -> Value {
        let r = &self.l.report_runs[h as usize];
        json!({
            "id": self.id(ObjectType::ReportRun, h),
            "object": "reporting.report_run",
            "created": r.created,
            "error": null,
            "livemode": self.livemode(),
            "parameters": { "interval_end": r.interval_end, "interval_start": r.interval_start },
            "report_type": REPORT_TYPES[r.report_type as usize].id,
            "result": self.file(r.file, false),
            "status": "succeeded",
            "succeeded_at": r.succeeded_at,
        })
    }
}
