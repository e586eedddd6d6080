//! Fidelity of the ledger's JSON to real Stripe objects: for every object type, the rendered objects have the
//! key sets and JSON value types of `resources.<object>` in Stripe's fixtures3.json (API version
//! 2026-07-29.dahlia, the version the emulator serves), recursively.
//!
//! Rules of the comparison:
//! - `null` on either side is compatible with any type (Stripe's fields are nullable, and the fixtures show
//!   many nulls).
//! - `metadata` is the merchant's own key-value map, and an empty object `{}` in the fixture is a map whose
//!   keys vary (`fraud_details`, `payment_method_options`, …): any keys are accepted there.
//! - Arrays: each element we render is compared with the fixture element of the same `type` when the elements
//!   have one (credit note lines), else with the fixture's first element, when both are non-empty.
//! - An integer is accepted where the fixture has a float (JSON has one number type; Stripe writes whole
//!   numbers without a fraction), not the other way round.
//! - A string in the fixture may be an object in ours when it is an expanded reference (`expand[]`): the
//!   object is then compared with the fixture of its own `object` type.
//! - Any other difference must be listed in [`ALLOWED`] with the reason.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;
use stripe_emulator::data::{GenerateOptions, Ledger, ObjectType, RenderOptions};

/// Whether an allowed difference is a key we render that the fixture lacks, or the reverse.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Difference {
    /// We render the key; the fixture example does not have it.
    Extra,
}

/// Documented differences: (object, key path, difference, why).
const ALLOWED: &[(&str, &str, Difference, &str)] = &[
    (
        "charge",
        "payment_method_details.card.iin",
        Difference::Extra,
        GATED,
    ),
    (
        "charge",
        "payment_method_details.card.issuer",
        Difference::Extra,
        GATED,
    ),
    (
        "charge",
        "payment_method_details.card.description",
        Difference::Extra,
        GATED,
    ),
    ("payment_method", "card.iin", Difference::Extra, GATED),
    ("payment_method", "card.issuer", Difference::Extra, GATED),
    (
        "payment_method",
        "card.description",
        Difference::Extra,
        GATED,
    ),
    ("charge", "outcome.risk_level", Difference::Extra, RADAR),
    ("charge", "outcome.risk_score", Difference::Extra, RADAR),
    ("charge", "outcome.rule", Difference::Extra, RADAR),
    (
        "payment_intent",
        "last_payment_error.advice_code",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.charge",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.code",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.decline_code",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.doc_url",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.message",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.network_advice_code",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.network_decline_code",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.param",
        Difference::Extra,
        API_ERROR,
    ),
    (
        "payment_intent",
        "last_payment_error.payment_method",
        Difference::Extra,
        API_ERROR,
    ),
];

const GATED: &str = "Stripe's gated card fields (stripe-api-facts.md §9): present (null unless the account has card \
                     details) on real objects, missing from the fixture example";
const RADAR: &str =
    "Radar's outcome fields (stripe-api-facts.md §9), missing from the fixture example";
const API_ERROR: &str = "the fixture's example error has only `type`; Stripe's API error object has these fields \
                         (stripe-api-facts.md §1, error envelope)";

fn fixtures() -> &'static Value {
    static FIXTURES: OnceLock<Value> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/stripe-openapi/fixtures3.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {path} (the repo is cloned beside shared/): {e}"));
        serde_json::from_str(&text).expect("fixtures3.json is JSON")
    })
}

fn fixture(object: &str) -> &'static Value {
    fixtures()["resources"]
        .get(object)
        .unwrap_or_else(|| panic!("fixtures3.json has no resources.{object}"))
}

fn allowed(object: &str, path: &str) -> bool {
    ALLOWED
        .iter()
        .any(|(o, p, d, _)| *o == object && *p == path && *d == Difference::Extra)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every difference between `ours` and `theirs` below `path`, as "object: path: what".
fn compare(object: &str, path: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (ours, theirs) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(_), Value::Object(t)) if t.is_empty() || path.ends_with("metadata") => {}
        (Value::Object(o), Value::Object(t)) => {
            let keys: BTreeSet<&String> = o.keys().chain(t.keys()).collect();
            for key in keys {
                let p = join(key);
                match (o.get(key), t.get(key)) {
                    (Some(a), Some(b)) => compare(object, &p, a, b, out),
                    (Some(_), None) if allowed(object, &p) => {}
                    (Some(_), None) => out.push(format!("{object}: {p}: key not in the fixture")),
                    (None, Some(_)) => out.push(format!("{object}: {p}: fixture key missing")),
                    (None, None) => unreachable!(),
                }
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            for (i, item) in o.iter().enumerate() {
                let same_type = t
                    .iter()
                    .find(|f| f.get("type").is_some() && f.get("type") == item.get("type"));
                if let Some(model) = same_type.or(t.first()) {
                    compare(object, &format!("{path}[{i}]"), item, model, out);
                }
            }
        }
        (Value::Object(o), Value::String(_))
            if o.get("object").and_then(Value::as_str).is_some() =>
        {
            // An expanded reference: compare with the fixture of the object it expands to.
            let inner = o["object"].as_str().unwrap_or_default();
            let mut sub = Vec::new();
            compare(inner, "", ours, fixture(inner), &mut sub);
            out.extend(
                sub.into_iter()
                    .map(|m| format!("{object}: {path} (expanded) → {m}")),
            );
        }
        (Value::Number(n), Value::Number(m)) if m.is_f64() || !n.is_f64() => {}
        (a, b) if kind(a) == kind(b) => {}
        (a, b) => out.push(format!(
            "{object}: {path}: {} where the fixture has {}",
            kind(a),
            kind(b)
        )),
    }
}

fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| {
        let mut l = Ledger::generate(&GenerateOptions::new(
            "acct_1FidelityTest0001",
            3,
            20_000,
            1_785_283_200,
        ));
        // A burst too, so objects changed by activity (progressed disputes, paid payouts) are covered.
        l.apply_activity(500, 1_785_283_200 + 3_600);
        l
    })
}

/// A spread of handles of `ty`: the newest, and a stride through the whole history, so every status and
/// optional sub-object (3DS, wallets, refunds, declines) is rendered at least once.
fn sample(l: &Ledger, ty: ObjectType) -> Vec<u32> {
    let order = l.newest_first(ty);
    let stride = (order.len() / 400).max(1);
    order
        .iter()
        .take(100)
        .chain(order.iter().step_by(stride))
        .copied()
        .collect()
}

fn differences(ty: ObjectType, opts: &RenderOptions) -> Vec<String> {
    let l = ledger();
    let theirs = fixture(ty.object_name());
    let mut out = Vec::new();
    for h in sample(l, ty) {
        let ours = l.render(ty, h, opts);
        assert_eq!(
            ours["object"],
            ty.object_name(),
            "{ty:?} renders its object name"
        );
        compare(ty.object_name(), "", &ours, theirs, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_object_type_has_the_fixture_key_set_and_types_without_card_details() {
    let mut all = Vec::new();
    for ty in ObjectType::ALL {
        assert!(ledger().count(ty) > 0, "the ledger has no {ty:?} to check");
        all.extend(differences(ty, &RenderOptions::default()));
    }
    assert!(
        all.is_empty(),
        "differences from fixtures3.json:\n{}",
        all.join("\n")
    );
}

#[test]
fn every_object_type_has_the_fixture_key_set_and_types_with_card_details() {
    let opts = RenderOptions {
        card_details: true,
        livemode: true,
        expand: &[],
    };
    let all: Vec<String> = ObjectType::ALL
        .into_iter()
        .flat_map(|ty| differences(ty, &opts))
        .collect();
    assert!(
        all.is_empty(),
        "differences from fixtures3.json:\n{}",
        all.join("\n")
    );
}

#[test]
fn expanded_references_have_the_fixture_shape_of_the_object_they_expand_to() {
    let expand: Vec<String> = [
        "balance_transaction",
        "customer",
        "payment_intent",
        "latest_charge",
        "source",
        "charge",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let opts = RenderOptions {
        card_details: false,
        livemode: false,
        expand: &expand,
    };
    let l = ledger();
    let charge = l.render(
        ObjectType::Charge,
        l.newest_first(ObjectType::Charge)[0],
        &opts,
    );
    assert!(
        charge["payment_intent"].is_object() && charge["customer"].is_object(),
        "expansion happened"
    );
    let mut all = Vec::new();
    for ty in [
        ObjectType::Charge,
        ObjectType::PaymentIntent,
        ObjectType::Refund,
        ObjectType::BalanceTransaction,
    ] {
        all.extend(differences(ty, &opts));
    }
    assert!(
        all.is_empty(),
        "differences from fixtures3.json:\n{}",
        all.join("\n")
    );
}

#[test]
fn the_comparison_names_the_object_and_key_of_a_missing_key_an_extra_key_and_a_wrong_type() {
    let theirs =
        serde_json::json!({ "id": "ch_1", "amount": 100, "outcome": { "type": "authorized" } });
    let ours =
        serde_json::json!({ "id": "ch_1", "amount": "100", "outcome": { "kind": "authorized" } });
    let mut out = Vec::new();
    compare("charge", "", &ours, &theirs, &mut out);
    assert_eq!(
        out,
        vec![
            "charge: amount: string where the fixture has integer".to_string(),
            "charge: outcome.kind: key not in the fixture".to_string(),
            "charge: outcome.type: fixture key missing".to_string(),
        ]
    );
}

#[test]
fn every_allowed_difference_is_still_needed() {
    // A stale allowance would hide a regression: each one must match a key the fixture lacks.
    for (object, path, _, why) in ALLOWED {
        assert!(!why.is_empty());
        let mut v = fixture(object);
        let mut missing = false;
        for part in path.split('.') {
            match v.get(part) {
                Some(next) => v = next,
                None => {
                    missing = true;
                    break;
                }
            }
        }
        assert!(
            missing,
            "{object}.{path} is in the fixture now; drop it from ALLOWED"
        );
    }
}
