//! Rendering compact records to Stripe's JSON (API version 2026-07-29.dahlia), including `expand`.

mod billing;
mod money;
mod payments;

use serde_json::{Value, json};

use super::{Ledger, ObjectType, RenderOptions};

/// Stripe's documented maximum expansion depth.
const MAX_DEPTH: u8 = 4;

pub(super) fn render(l: &Ledger, ty: ObjectType, h: u32, opts: &RenderOptions, depth: u8) -> Value {
    let r = Renderer { l, opts, depth };
    match ty {
        ObjectType::Charge => r.charge(h),
        ObjectType::PaymentIntent => r.payment_intent(h),
        ObjectType::PaymentMethod => r.payment_method(h),
        ObjectType::Customer => r.customer(h),
        ObjectType::SetupIntent => r.setup_intent(h),
        ObjectType::Refund => r.refund(h),
        ObjectType::Dispute => r.dispute(h),
        ObjectType::BalanceTransaction => r.balance_transaction(h),
        ObjectType::Payout => r.payout(h),
        ObjectType::Product => r.product(h),
        ObjectType::Subscription => r.subscription(h),
        ObjectType::CreditNote => r.credit_note(h),
        ObjectType::File => r.file(h, true),
        ObjectType::ReportType => r.report_type(h),
        ObjectType::ReportRun => r.report_run(h),
    }
}

/// One rendering call: the ledger, the options and how deep inside an expansion we are.
struct Renderer<'a> {
    l: &'a Ledger,
    opts: &'a RenderOptions<'a>,
    depth: u8,
}

impl Renderer<'_> {
    /// An expandable reference: the id, or the object when `field` (or `field.…`) is in `expand`.
    fn expandable(&self, field: &str, target: Option<(ObjectType, u32)>) -> Value {
        let Some((ty, h)) = target else {
            return Value::Null;
        };
        let mut wanted = false;
        let mut nested = Vec::new();
        for path in self.opts.expand {
            if path == field {
                wanted = true;
            } else if let Some(rest) = path.strip_prefix(field).and_then(|r| r.strip_prefix('.')) {
                wanted = true;
                nested.push(rest.to_string());
            }
        }
        if !wanted || self.depth >= MAX_DEPTH {
            return Value::String(self.l.id(ty, h));
        }
        let opts = RenderOptions {
            expand: &nested,
            ..*self.opts
        };
        render(self.l, ty, h, &opts, self.depth + 1)
    }

    fn id(&self, ty: ObjectType, h: u32) -> String {
        self.l.id(ty, h)
    }

    fn opt_id(&self, ty: ObjectType, h: u32) -> Value {
        if h == super::records::NONE {
            Value::Null
        } else {
            Value::String(self.l.id(ty, h))
        }
    }

    fn livemode(&self) -> bool {
        self.opts.livemode
    }

    /// A token derived from this account's id codec, for fingerprints and secrets.
    fn token(&self, salt: u64, index: u32, len: usize) -> String {
        self.l.codec.token(salt, u64::from(index), len)
    }

    /// Stripe's list envelope around already-rendered items.
    fn list(&self, url: String, data: Vec<Value>) -> Value {
        json!({ "object": "list", "data": data, "has_more": false, "url": url })
    }
}

/// The email a customer is rendered with (also what the `email` list filter compares).
pub(super) fn customer_email(h: u32) -> String {
    payments::customer_name(h).1
}

/// Option-valued string fields render as JSON null when absent.
fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// An empty postal address (every key present, all null), as Stripe renders unknown addresses.
fn empty_address() -> Value {
    json!({ "city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null })
}
