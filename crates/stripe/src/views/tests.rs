//! Parsing tests for the views: Stripe's own fixtures, unknown values, missing fields and expanded relations.

use super::*;

/// `charge` from Stripe's fixtures3.json (2026-07-29.dahlia), trimmed of fields no view reads.
const FIXTURE_CHARGE: &str = r#"{"amount": 100, "amount_captured": 0, "amount_refunded": 0, "application": null,
 "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40", "captured": false, "created": 1234567890, "currency": "usd",
 "customer": null, "disputed": false, "failure_code": null, "id": "ch_1PgafuB7WZ01zgkWXYmPNZs8", "livemode": false,
 "metadata": {}, "object": "charge", "outcome": {"advice_code": null, "network_advice_code": null,
 "network_decline_code": null, "network_status": null, "reason": null, "seller_message": null, "type": "type"},
 "paid": true, "payment_intent": null, "payment_method": "card_1PgaftB7WZ01zgkWm3waTcFp",
 "payment_method_details": {"card": {"amount_authorized": null, "brand": "visa", "checks": {"address_line1_check": null,
 "address_postal_code_check": null, "cvc_check": "pass"}, "country": "US", "exp_month": 8, "exp_year": 2030,
 "fingerprint": "AOB934RVNwzk6xtn", "funding": "credit", "installments": {"plan": {"count": null, "interval": null,
 "type": "fixed_count"}}, "last4": "4242", "mandate": null, "network": "visa", "network_token": {"used": false},
 "three_d_secure": {"authentication_flow": null, "result": null, "version": null}, "wallet": {"dynamic_last4": null,
 "type": "link"}, "regulated_status": null, "network_transaction_id": null}, "type": "card"}, "refunded": false,
 "status": "succeeded", "source": {"id": "obj_123", "object": "source"}}"#;

#[test]
fn stripes_charge_fixture_parses_into_the_view() {
    let charge: Charge = serde_json::from_str(FIXTURE_CHARGE).unwrap();
    assert_eq!(charge.id.as_deref(), Some("ch_1PgafuB7WZ01zgkWXYmPNZs8"));
    assert_eq!(charge.amount, Some(100));
    assert_eq!(charge.status, Some(ChargeStatus::Succeeded));
    assert_eq!(
        charge.balance_transaction.as_ref().and_then(Expandable::id),
        Some("txn_1PgaxNB7WZ01zgkWEV3TLf40")
    );
    // The fixture's placeholder outcome type is a value no real charge has: it must survive as Unknown.
    let outcome = charge.outcome.unwrap();
    assert_eq!(
        outcome.outcome_type,
        Some(OutcomeType::Unknown("type".into()))
    );
    let card = charge.payment_method_details.unwrap().card.unwrap();
    assert_eq!(card.brand, Some(CardBrand::Visa));
    assert_eq!(card.funding, Some(CardFunding::Credit));
    assert_eq!(card.country.as_deref(), Some("US"));
    assert_eq!(card.checks.unwrap().cvc_check, Some(CheckResult::Pass));
    assert_eq!(card.wallet.unwrap().wallet_type, Some(WalletType::Link));
    assert_eq!(card.iin, None);
}

#[test]
fn an_empty_object_parses_with_every_field_absent() {
    let charge: Charge = serde_json::from_str("{}").unwrap();
    assert!(charge.id.is_none() && charge.amount.is_none() && charge.status.is_none());
    let _: PaymentIntent = serde_json::from_str("{}").unwrap();
    let _: Refund = serde_json::from_str("{}").unwrap();
    let _: Dispute = serde_json::from_str("{}").unwrap();
    let _: BalanceTransaction = serde_json::from_str("{}").unwrap();
    let _: Payout = serde_json::from_str("{}").unwrap();
    let _: Event = serde_json::from_str("{}").unwrap();
    let _: WebhookEndpoint = serde_json::from_str("{}").unwrap();
}

#[test]
fn new_enum_values_and_new_fields_are_kept_not_rejected() {
    let dispute: Dispute = serde_json::from_str(
        r#"{"id":"dp_1","status":"escalated_to_mars","reason":"fraudulent","brand_new_field":{"x":1}}"#,
    )
    .unwrap();
    assert_eq!(
        dispute.status,
        Some(DisputeStatus::Unknown("escalated_to_mars".into()))
    );
    assert_eq!(dispute.status.unwrap().as_str(), "escalated_to_mars");
    assert_eq!(dispute.reason, Some(DisputeReason::Fraudulent));
    let card: CardDetails =
        serde_json::from_str(r#"{"brand":"unknown","network":"nova"}"#).unwrap();
    assert_eq!(card.brand, Some(CardBrand::StripeUnknown));
    assert_eq!(card.network, Some(CardNetwork::Unknown("nova".into())));
}

#[test]
fn expanded_relations_give_the_object_and_the_id() {
    let charge: Charge = serde_json::from_str(
        r#"{"balance_transaction":{"id":"txn_1","fee":59,"net":941,"type":"charge",
            "fee_details":[{"amount":59,"type":"stripe_fee","currency":"usd"}]},
            "customer":{"id":"cus_9","object":"customer"}}"#,
    )
    .unwrap();
    let txn = charge.balance_transaction.unwrap();
    assert_eq!(txn.id(), Some("txn_1"));
    let txn = txn.as_object().unwrap();
    assert_eq!(txn.fee, Some(59));
    assert_eq!(txn.transaction_type, Some(BalanceTransactionType::Charge));
    assert_eq!(
        txn.fee_details.as_ref().unwrap()[0].fee_type,
        Some(FeeType::StripeFee)
    );
    assert_eq!(charge.customer.unwrap().as_str(), "cus_9");
}

#[test]
fn an_events_object_parses_into_the_view_of_its_type() {
    let event: Event = serde_json::from_str(
        r#"{"id":"evt_1","type":"charge.refunded","created":1700000000,"api_version":"2026-07-29.dahlia",
            "data":{"object":{"id":"ch_1","object":"charge","amount_refunded":500},
                    "previous_attributes":{"amount_refunded":0}},
            "request":{"id":null,"idempotency_key":null}}"#,
    )
    .unwrap();
    assert_eq!(event.event_type.as_deref(), Some("charge.refunded"));
    let data = event.data.unwrap();
    let charge: Charge = data.object_as().unwrap().unwrap();
    assert_eq!(charge.amount_refunded, Some(500));
    assert_eq!(event.request.unwrap().id, None);
}
