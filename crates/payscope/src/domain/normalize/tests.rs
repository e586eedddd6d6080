//! Normalisation checked on every charge in Stripe's reference fixtures (both API versions we hold) and on charges
//! derived from them: declines, Radar blocks, wallets, 3-D Secure, expanded balance transactions, and the gated
//! card fields present and absent.

use serde_json::{Value, json};
use stripe::views::BalanceTransaction;

use super::*;

fn fixtures(file: &str) -> Value {
    let path = format!(
        "{}/../../../shared/stripe-openapi/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Every object whose `object` is `charge`, wherever it sits in the fixture file.
fn charges_in(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map.get("object") == Some(&json!("charge")) {
                found.push(value.clone());
            }
            map.values().for_each(|v| charges_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| charges_in(v, found)),
        _ => {}
    }
}

fn fixture_charge() -> Value {
    let mut found = Vec::new();
    charges_in(&fixtures("fixtures3.json"), &mut found);
    found.remove(0)
}

/// The fields of a payment that come straight from the charge JSON, read independently of the views.
fn check_direct_fields(charge: &Value, payment: &Payment) {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    assert_eq!(payment.charge_id, charge["id"].as_str().unwrap());
    assert_eq!(payment.created, charge["created"].as_i64().unwrap());
    assert_eq!(payment.amount, charge["amount"].as_i64().unwrap());
    assert_eq!(payment.currency, charge["currency"].as_str().unwrap());
    assert_eq!(payment.status, charge["status"].as_str().unwrap());
    assert_eq!(payment.captured, charge["captured"].as_bool().unwrap());
    assert_eq!(
        payment.amount_refunded,
        charge["amount_refunded"].as_i64().unwrap()
    );
    assert_eq!(payment.disputed, charge["disputed"].as_bool().unwrap());
    assert_eq!(payment.failure_code, text(&charge["failure_code"]));
    assert_eq!(payment.outcome_type, text(&charge["outcome"]["type"]));
    assert_eq!(payment.outcome_reason, text(&charge["outcome"]["reason"]));
    assert_eq!(
        payment.network_status,
        text(&charge["outcome"]["network_status"])
    );
    let details = &charge["payment_method_details"];
    let card = &details["card"];
    assert_eq!(payment.payment_method_type, text(&details["type"]));
    assert_eq!(payment.card_brand, text(&card["brand"]));
    assert_eq!(payment.card_funding, text(&card["funding"]));
    assert_eq!(payment.card_country, text(&card["country"]));
    assert_eq!(payment.card_iin, text(&card["iin"]));
    assert_eq!(payment.card_issuer, text(&card["issuer"]));
    assert_eq!(payment.wallet, text(&card["wallet"]["type"]));
    assert_eq!(
        payment.three_d_secure,
        text(&card["three_d_secure"]["result"])
    );
    assert_eq!(
        payment.payment_intent_id,
        text(&charge["payment_intent"]).or_else(|| text(&charge["payment_intent"]["id"]))
    );
    let id = |v: &Value| text(v).or_else(|| text(&v["id"]));
    assert_eq!(payment.customer_id, id(&charge["customer"]));
}

#[test]
fn every_charge_in_both_fixture_files_normalises_field_for_field() {
    for file in ["fixtures3.json", "fixtures3.2024-04-12.json"] {
        let mut found = Vec::new();
        charges_in(&fixtures(file), &mut found);
        assert!(!found.is_empty(), "{file} has no charge");
        for charge in found {
            let payment = payment_from_charge(&charge.to_string(), None, Some(1), 77)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            check_direct_fields(&charge, &payment);
            assert_eq!((payment.version, payment.attempt_number), (77, Some(1)));
            assert_eq!(
                (payment.fee, payment.net),
                (None, None),
                "{file}: the balance transaction is only an id"
            );
        }
    }
}

/// The fixture charge with `edit` applied, normalised with no balance transaction passed.
fn normalise_edited(edit: impl FnOnce(&mut Value)) -> (Value, Payment) {
    let mut charge = fixture_charge();
    edit(&mut charge);
    let payment = payment_from_charge(&charge.to_string(), None, None, 1).unwrap();
    (charge, payment)
}

#[test]
fn generated_charges_normalise_with_and_without_the_gated_card_fields() {
    struct Case {
        name: &'static str,
        edit: fn(&mut Value),
        expect: fn(&Payment),
    }
    let cases = [
        Case {
            name: "gated fields absent, as for most accounts",
            edit: |c| {
                let card = c["payment_method_details"]["card"].as_object_mut().unwrap();
                card.remove("iin");
                card.remove("issuer");
                card.remove("description");
            },
            expect: |p| {
                assert_eq!(
                    (p.card_iin.as_deref(), p.card_issuer.as_deref()),
                    (None, None)
                )
            },
        },
        Case {
            name: "gated fields null",
            edit: |c| {
                c["payment_method_details"]["card"]["iin"] = Value::Null;
                c["payment_method_details"]["card"]["issuer"] = Value::Null;
            },
            expect: |p| {
                assert_eq!(
                    (p.card_iin.as_deref(), p.card_issuer.as_deref()),
                    (None, None)
                )
            },
        },
        Case {
            name: "gated fields enabled for the account",
            edit: |c| {
                c["payment_method_details"]["card"]["iin"] = json!("424242");
                c["payment_method_details"]["card"]["issuer"] = json!("Stripe Test Bank");
                c["payment_method_details"]["card"]["description"] = json!("Visa Classic");
            },
            expect: |p| {
                assert_eq!(
                    (p.card_iin.as_deref(), p.card_issuer.as_deref()),
                    (Some("424242"), Some("Stripe Test Bank"))
                )
            },
        },
        Case {
            name: "an issuer decline carries its decline code",
            edit: |c| {
                c["status"] = json!("failed");
                c["paid"] = json!(false);
                c["failure_code"] = json!("card_declined");
                c["outcome"] = json!({"type": "issuer_declined", "network_status": "declined_by_network",
                    "reason": "insufficient_funds", "risk_level": "normal", "advice_code": "try_again_later",
                    "network_advice_code": "02", "network_decline_code": "51", "seller_message": "declined"});
            },
            expect: |p| {
                assert_eq!(p.status, "failed");
                assert_eq!(p.decline_code.as_deref(), Some("insufficient_funds"));
                assert_eq!(p.advice_code.as_deref(), Some("try_again_later"));
                assert_eq!(p.network_decline_code.as_deref(), Some("51"));
                assert_eq!(p.risk_level.as_deref(), Some("normal"));
            },
        },
        Case {
            name: "a radar block has a risk reason but no decline code",
            edit: |c| {
                c["status"] = json!("failed");
                c["outcome"] = json!({"type": "blocked", "network_status": "not_sent_to_network",
                    "reason": "highest_risk_level", "risk_level": "highest"});
            },
            expect: |p| {
                assert_eq!(p.outcome_reason.as_deref(), Some("highest_risk_level"));
                assert_eq!(p.decline_code, None);
                assert_eq!(p.outcome_type.as_deref(), Some("blocked"));
            },
        },
        Case {
            name: "an unknown enum value is kept verbatim",
            edit: |c| {
                c["payment_method_details"]["card"]["brand"] = json!("bancomat_2031");
                c["outcome"]["type"] = json!("some_future_type");
            },
            expect: |p| {
                assert_eq!(p.card_brand.as_deref(), Some("bancomat_2031"));
                assert_eq!(p.outcome_type.as_deref(), Some("some_future_type"));
            },
        },
        Case {
            name: "wallet, 3-D Secure, intent and customer",
            edit: |c| {
                c["payment_method_details"]["card"]["wallet"] =
                    json!({"type": "apple_pay", "apple_pay": {}});
                c["payment_method_details"]["card"]["three_d_secure"]["result"] =
                    json!("authenticated");
                c["payment_intent"] = json!("pi_123");
                c["customer"] = json!({"id": "cus_9", "object": "customer"});
            },
            expect: |p| {
                assert_eq!(p.wallet.as_deref(), Some("apple_pay"));
                assert_eq!(p.three_d_secure.as_deref(), Some("authenticated"));
                assert_eq!(p.payment_intent_id.as_deref(), Some("pi_123"));
                assert_eq!(p.customer_id.as_deref(), Some("cus_9"));
            },
        },
        Case {
            name: "an expanded balance transaction gives fee and net",
            edit: |c| {
                c["balance_transaction"] = json!({"id": "txn_1", "object": "balance_transaction",
                    "amount": 100, "fee": 33, "net": 67, "currency": "usd"});
            },
            expect: |p| assert_eq!((p.fee, p.net), (Some(33), Some(67))),
        },
        Case {
            name: "a non-card payment has no card fields",
            edit: |c| {
                c["payment_method_details"] =
                    json!({"type": "sepa_debit", "sepa_debit": {"last4": "3000"}});
            },
            expect: |p| {
                assert_eq!(p.payment_method_type.as_deref(), Some("sepa_debit"));
                assert_eq!((p.card_brand.as_deref(), p.wallet.as_deref()), (None, None));
            },
        },
    ];
    for case in cases {
        let (charge, payment) = normalise_edited(case.edit);
        check_direct_fields(&charge, &payment);
        let checked = std::panic::catch_unwind(|| (case.expect)(&payment));
        assert!(checked.is_ok(), "case failed: {}", case.name);
    }
}

#[test]
fn a_separately_fetched_balance_transaction_is_used_only_when_it_is_the_charges_own() {
    let charge = fixture_charge();
    let own: BalanceTransaction = serde_json::from_value(json!({
        "id": charge["balance_transaction"], "fee": 62, "net": 938
    }))
    .unwrap();
    let other: BalanceTransaction =
        serde_json::from_value(json!({"id": "txn_other", "fee": 1, "net": 2})).unwrap();
    let text = charge.to_string();
    let with_own = payment_from_charge(&text, Some(&own), None, 1).unwrap();
    assert_eq!((with_own.fee, with_own.net), (Some(62), Some(938)));
    let with_other = payment_from_charge(&text, Some(&other), None, 1).unwrap();
    assert_eq!((with_other.fee, with_other.net), (None, None));
}

#[test]
fn a_charge_without_its_identity_is_refused_with_a_reason() {
    let mut charge = fixture_charge();
    charge.as_object_mut().unwrap().remove("id");
    let error = payment_from_charge(&charge.to_string(), None, None, 1).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the stored charge has no id; it is not a stripe charge"
    );
    assert!(matches!(
        payment_from_charge("not json", None, None, 1),
        Err(NormalizeError::Json(_))
    ));
}
