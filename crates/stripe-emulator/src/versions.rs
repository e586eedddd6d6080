//! Older API versions' object shapes. The ledger renders the version payscope pins (dahlia, the fixtures' version);
//! a request, an account default or a webhook endpoint on an older version gets that JSON projected onto the older
//! shape: fields added since are left out, fields removed since are put back. The tables come from diffing Stripe's
//! own fixtures (`fixtures3.2024-04-12.json` against `fixtures3.json`) plus the outcome fields the 2024-04-10 spec
//! lacks; `tests/versions.rs` re-derives the diff from the fixtures, so the tables cannot drift from them.
//!
//! Supported: dahlia-era versions as rendered, and every version before `2024-09-30.acacia` as the 2024-04-10 shape.
//! Versions in between (acacia … clover) are rendered as dahlia: no fixtures of theirs exist to check against.

use serde_json::{Map, Value};

/// Versions dated before this render the 2024-04-10 shape.
const FIRST_RELEASE_TRAIN: &str = "2024-09-30";

/// Fields (dotted paths) of each object type that 2024-04-10 did not have yet.
pub const ADDED_SINCE_2024_04_10: &[(&str, &[&str])] = &[
    (
        "charge",
        &[
            "billing_details.tax_id",
            "payment_method_details.card.authorization_code",
            "payment_method_details.card.network_transaction_id",
            "payment_method_details.card.regulated_status",
            "payment_method_details.card.transaction_link_id",
            // Not in the 2024-04-10 spec's charge_outcome (the 2024 fixture's outcome is null, so no diff shows it).
            "outcome.advice_code",
            "outcome.network_advice_code",
            "outcome.network_decline_code",
        ],
    ),
    (
        "payment_intent",
        &[
            "customer_account",
            "excluded_payment_method_types",
            "managed_payments",
        ],
    ),
    (
        "refund",
        &["customer", "customer_account", "payment_method"],
    ),
    (
        "dispute",
        &[
            "enhanced_eligibility_types",
            "evidence.enhanced_evidence",
            "evidence_details.enhanced_eligibility",
            "payment_method_details.card.case_type",
            "payment_method_details.card.network",
        ],
    ),
    ("balance_transaction", &["balance_type"]),
    (
        "payout",
        &[
            "application_fee",
            "application_fee_amount",
            "payout_method",
            "trace_id",
        ],
    ),
    (
        "payment_method",
        &[
            "allow_redisplay",
            "billing_details.tax_id",
            "card.generated_from",
            "card.regulated_status",
            "customer_account",
        ],
    ),
    ("setup_intent", &["excluded_payment_method_types"]),
    (
        "subscription",
        &[
            "automatic_tax.disabled_reason",
            "billing_mode",
            "billing_schedules",
            "customer_account",
            "invoice_settings",
            "managed_payments",
        ],
    ),
    (
        "credit_note",
        &[
            "customer_account",
            "post_payment_amount",
            "pre_payment_amount",
            "pretax_credit_amounts",
            "refunds",
            "total_taxes",
        ],
    ),
];

/// Fields (dotted paths) of each object type that 2024-04-10 had and later versions removed.
pub const REMOVED_SINCE_2024_04_10: &[(&str, &[&str])] = &[
    ("charge", &["invoice"]),
    ("payment_intent", &["invoice"]),
    (
        "subscription",
        &["current_period_end", "current_period_start", "discount"],
    ),
    ("credit_note", &["refund", "tax_amounts"]),
    ("reporting.report_run", &["result.links"]),
];

/// Whether `version` renders the 2024-04-10 shape.
pub fn is_pre_release_train(version: &str) -> bool {
    version < FIRST_RELEASE_TRAIN
}

/// Projects `value` (and every Stripe object nested in it, e.g. an expanded `latest_charge`) onto the shape of
/// `version`. A no-op for the rendered version.
pub fn project(value: &mut Value, version: &str) {
    if is_pre_release_train(version) {
        to_2024_04_10(value);
    }
}

fn to_2024_04_10(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                to_2024_04_10(child);
            }
            let Some(object) = map.get("object").and_then(Value::as_str).map(str::to_owned) else {
                return;
            };
            for path in paths(ADDED_SINCE_2024_04_10, &object) {
                remove_path(map, path);
            }
            for path in paths(REMOVED_SINCE_2024_04_10, &object) {
                let restored = restored_value(map, &object, path);
                insert_path(map, path, restored);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_2024_04_10),
        _ => {}
    }
}

fn paths(table: &'static [(&str, &[&str])], object: &str) -> &'static [&'static str] {
    table
        .iter()
        .find(|(name, _)| *name == object)
        .map_or(&[], |(_, paths)| paths)
}

/// What a removed field held, rebuilt from where later versions moved it where that is known.
fn restored_value(map: &Map<String, Value>, object: &str, path: &str) -> Value {
    match (object, path) {
        // Basil moved the billing period onto subscription items.
        ("subscription", "current_period_end" | "current_period_start") => map
            .get("items")
            .and_then(|items| items.get("data"))
            .and_then(|data| data.get(0))
            .and_then(|item| item.get(path))
            .cloned()
            .unwrap_or(Value::Null),
        ("credit_note", "tax_amounts") => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

fn remove_path(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            map.remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(child)) = map.get_mut(head) {
                remove_path(child, rest);
            }
        }
    }
}

fn insert_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.entry(path.to_owned()).or_insert(value);
        }
        Some((head, rest)) => {
            // A null parent (e.g. an absent `result`) stays null: there is nothing to put the field into.
            if let Some(Value::Object(child)) = map.get_mut(head) {
                insert_path(child, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_old_version_loses_new_fields_and_regains_removed_ones_in_nested_objects_too() {
        let mut intent = json!({
            "object": "payment_intent", "id": "pi_1", "managed_payments": null,
            "latest_charge": {"object": "charge", "id": "ch_1", "outcome": {"type": "authorized", "advice_code": null},
                "payment_method_details": {"card": {"brand": "visa", "regulated_status": "unregulated"}}},
        });
        project(&mut intent, "2024-04-10");
        assert!(intent.get("managed_payments").is_none());
        assert_eq!(intent["invoice"], Value::Null);
        let charge = &intent["latest_charge"];
        assert_eq!(charge["invoice"], Value::Null);
        assert!(charge["outcome"].get("advice_code").is_none());
        assert!(
            charge["payment_method_details"]["card"]
                .get("regulated_status")
                .is_none()
        );
        assert_eq!(charge["payment_method_details"]["card"]["brand"], "visa");
    }

    #[test]
    fn the_pinned_version_is_left_as_rendered() {
        let original = json!({"object": "balance_transaction", "balance_type": "payments"});
        let mut value = original.clone();
        project(&mut value, "2026-07-29.dahlia");
        assert_eq!(value, original);
        project(&mut value, "2024-09-30.acacia");
        assert_eq!(value, original);
    }

    #[test]
    fn a_subscription_gets_its_period_back_from_its_first_item() {
        let mut subscription = json!({"object": "subscription",
            "items": {"object": "list", "data": [{"object": "subscription_item", "current_period_start": 10, "current_period_end": 20}]}});
        project(&mut subscription, "2023-10-16");
        assert_eq!(
            (
                subscription["current_period_start"].as_i64(),
                subscription["current_period_end"].as_i64()
            ),
            (Some(10), Some(20))
        );
    }
}
