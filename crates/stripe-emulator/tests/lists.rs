//! List and retrieve endpoints: pagination walks agree with the ledger's ground truth, cursors in both
//! directions, `created` filters, expand passthrough, `status=all`, the unpaginated report types, the balance.

mod support;

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;
use support::{TestEmulator, small_config};

const LISTS: &[(&str, &str, &str)] = &[
    ("/v1/charges", "charge", ""),
    ("/v1/payment_intents", "payment_intent", ""),
    ("/v1/refunds", "refund", ""),
    ("/v1/disputes", "dispute", ""),
    ("/v1/balance_transactions", "balance_transaction", ""),
    ("/v1/payouts", "payout", ""),
    ("/v1/customers", "customer", ""),
    ("/v1/setup_intents", "setup_intent", ""),
    ("/v1/products", "product", ""),
    ("/v1/subscriptions", "subscription", "&status=all"),
    ("/v1/credit_notes", "credit_note", ""),
    ("/v1/files", "file", ""),
    ("/v1/reporting/report_runs", "reporting.report_run", ""),
];

#[tokio::test]
async fn walking_every_list_with_starting_after_returns_each_object_once_as_many_as_the_truth_says()
{
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let truth = emulator.truth().await;
    for (path, object, query) in LISTS {
        let ids = emulator.walk(path, &key, query).await;
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{path} repeated an id");
        assert_eq!(
            ids.len() as u64,
            truth["types"][object]["count"].as_u64().unwrap(),
            "{path} walk disagrees with the truth"
        );
    }
    assert!(truth["types"]["charge"]["count"].as_u64().unwrap() >= 600);
}

#[tokio::test]
async fn pages_are_newest_first_and_ending_before_walks_back_to_the_same_pages() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let forward = emulator.walk("/v1/charges", &key, "").await;

    let mut created = Vec::new();
    let reply = emulator.get("/v1/charges?limit=100", &key).await;
    for charge in reply.body["data"].as_array().unwrap() {
        created.push(charge["created"].as_i64().unwrap());
    }
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "not newest first");

    // From the oldest object, page backwards to the newest with ending_before.
    let mut backward: Vec<String> = Vec::new();
    let mut cursor = forward.last().unwrap().clone();
    loop {
        let reply = emulator
            .get(
                &format!("/v1/charges?limit=100&ending_before={cursor}"),
                &key,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let page: Vec<String> = reply.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        let mut combined = page.clone();
        combined.extend(backward);
        backward = combined;
        if !reply.body["has_more"].as_bool().unwrap() {
            break;
        }
        cursor = page[0].clone();
    }
    backward.push(forward.last().unwrap().clone());
    assert_eq!(backward, forward);
}

#[tokio::test]
async fn created_filters_select_exactly_the_days_the_truth_counts() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let truth = emulator.truth().await;
    let days = truth["types"]["charge"]["by_day"].as_object().unwrap();
    assert!(days.len() > 10);
    for (day, entry) in days.iter().step_by(7) {
        let start = day_start(day);
        let query = format!("&created[gte]={start}&created[lt]={}", start + 86_400);
        let ids = emulator.walk("/v1/charges", &key, &query).await;
        assert_eq!(ids.len() as u64, entry["count"].as_u64().unwrap(), "{day}");
        let query = format!("&created[gt]={}&created[lte]={}", start - 1, start + 86_399);
        let ids = emulator.walk("/v1/charges", &key, &query).await;
        assert_eq!(
            ids.len() as u64,
            entry["count"].as_u64().unwrap(),
            "{day} (gt/lte)"
        );
    }
}

/// Unix seconds of 00:00 UTC of a `YYYY-MM-DD` date (days-from-civil).
fn day_start(day: &str) -> i64 {
    let parts: Vec<i64> = day.split('-').map(|p| p.parse().unwrap()).collect();
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

#[tokio::test]
async fn a_created_integer_selects_that_second() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let reply = emulator.get("/v1/charges?limit=1", &key).await;
    let newest = &reply.body["data"][0];
    let reply = emulator
        .get(&format!("/v1/charges?created={}", newest["created"]), &key)
        .await;
    let data = reply.body["data"].as_array().unwrap();
    assert!(data.iter().any(|c| c["id"] == newest["id"]));
    assert!(data.iter().all(|c| c["created"] == newest["created"]));
}

#[tokio::test]
async fn the_list_envelope_is_stripes_and_expand_passes_through() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let reply = emulator.get("/v1/charges", &key).await;
    assert_eq!(reply.body["object"], "list");
    assert_eq!(reply.body["url"], "/v1/charges");
    assert_eq!(reply.body["has_more"], true);
    assert_eq!(
        reply.body["data"].as_array().unwrap().len(),
        10,
        "default limit is 10"
    );
    assert_eq!(reply.headers["content-type"], "application/json");

    let succeeded = "/v1/charges?limit=20&expand[]=data.balance_transaction";
    let reply = emulator.get(succeeded, &key).await;
    let with_txn: Vec<&Value> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["balance_transaction"].is_null())
        .collect();
    assert!(!with_txn.is_empty());
    for charge in with_txn {
        assert_eq!(
            charge["balance_transaction"]["object"], "balance_transaction",
            "{charge}"
        );
    }

    let reply = emulator
        .get("/v1/charges?expand[]=balance_transaction", &key)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.message().contains("'data.balance_transaction'"),
        "{}",
        reply.body
    );

    let id = emulator.get("/v1/charges?limit=1", &key).await.body["data"][0]["id"].clone();
    let id = id.as_str().unwrap();
    let reply = emulator
        .get(&format!("/v1/charges/{id}?expand[]=payment_intent"), &key)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], id);
    assert_eq!(reply.body["payment_intent"]["object"], "payment_intent");
}

#[tokio::test]
async fn subscriptions_leave_out_canceled_ones_unless_status_is_all() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let default = emulator.walk("/v1/subscriptions", &key, "").await;
    let all = emulator
        .walk("/v1/subscriptions", &key, "&status=all")
        .await;
    let canceled = emulator
        .walk("/v1/subscriptions", &key, "&status=canceled")
        .await;
    assert_eq!(default.len() + canceled.len(), all.len());
    assert!(!all.is_empty());
}

#[tokio::test]
async fn report_types_come_in_one_unpaginated_list() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let reply = emulator.get("/v1/reporting/report_types", &key).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["has_more"], false);
    let truth = emulator.truth().await;
    assert_eq!(
        reply.body["data"].as_array().unwrap().len() as u64,
        truth["types"]["reporting.report_type"]["count"]
            .as_u64()
            .unwrap()
    );
    let reply = emulator
        .get("/v1/reporting/report_types?limit=1", &key)
        .await;
    assert_eq!(reply.body["error"]["code"], "parameter_unknown");
    let reply = emulator
        .get("/v1/reporting/report_types/balance.summary.1", &key)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["object"], "reporting.report_type");
}

#[tokio::test]
async fn the_balance_has_available_and_pending_funds() {
    let emulator = TestEmulator::start(small_config()).await;
    let reply = emulator
        .get("/v1/balance", &emulator.keys.test.secret)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["object"], "balance");
    assert_eq!(reply.body["livemode"], false);
    let available = reply.body["available"].as_array().unwrap();
    assert!(!available.is_empty());
    assert!(available[0]["amount"].is_i64());
    assert!(reply.body["pending"].is_array());
}

#[tokio::test]
async fn list_filters_narrow_results_to_matching_objects() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let reply = emulator.get("/v1/refunds?limit=1", &key).await;
    let refund = &reply.body["data"][0];
    let charge = refund["charge"].as_str().unwrap();
    let reply = emulator
        .get(&format!("/v1/refunds?charge={charge}"), &key)
        .await;
    let data = reply.body["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(data.iter().all(|r| r["charge"] == charge));
    let reply = emulator.get("/v1/refunds?transfer_group=x", &key).await;
    assert_eq!(reply.body["error"]["code"], "parameter_unknown");
}

#[tokio::test]
async fn payment_methods_list_only_treasury_ones_without_customer_unless_the_account_lists_all() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.restricted.clone();
    let truth = emulator.truth().await;
    let all = truth["types"]["payment_method"]["count"].as_u64().unwrap();
    assert!(all > 100);

    // The spec's reading (the default): without `customer`, only Treasury PaymentMethods, of which there are none.
    assert!(
        emulator
            .walk("/v1/payment_methods", &key, "")
            .await
            .is_empty()
    );

    // A customer's PaymentMethods, by filter and by the per-customer endpoint, are the same list.
    let customer = emulator
        .get("/v1/customers?limit=1", &emulator.keys.test.secret)
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let filtered = emulator
        .walk(
            "/v1/payment_methods",
            &key,
            &format!("&customer={customer}"),
        )
        .await;
    assert!(!filtered.is_empty());
    let nested = emulator
        .walk(
            &format!("/v1/customers/{customer}/payment_methods"),
            &key,
            "",
        )
        .await;
    assert_eq!(filtered, nested);
    for id in &filtered {
        let pm = emulator
            .get(&format!("/v1/payment_methods/{id}"), &key)
            .await;
        assert_eq!(pm.body["customer"], customer.as_str());
    }
    let unknown = emulator
        .get("/v1/customers/cus_nope/payment_methods", &key)
        .await;
    assert!(unknown.status.is_client_error(), "{}", unknown.body);
    assert_eq!(unknown.body["error"]["code"], "resource_missing");

    // The other reading, switched per account: every PaymentMethod.
    let (status, account) = emulator
        .control_post(
            &format!("/accounts/{}/payment_methods_listing", emulator.keys.id),
            serde_json::json!({ "list_all": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["payment_methods_list_all"], true);
    let ids = emulator.walk("/v1/payment_methods", &key, "").await;
    assert_eq!(ids.len() as u64, all);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}

#[tokio::test]
async fn intents_expand_their_payment_method_and_the_truth_counts_what_they_reach() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.restricted.clone();
    let mut reached = HashSet::new();
    for (path, field) in [
        ("/v1/payment_intents", "payment_method"),
        ("/v1/setup_intents", "payment_method"),
    ] {
        let mut cursor: Option<String> = None;
        loop {
            let after = cursor
                .as_ref()
                .map(|c| format!("&starting_after={c}"))
                .unwrap_or_default();
            let page = emulator
                .get(
                    &format!("{path}?limit=100&expand[]=data.{field}{after}"),
                    &key,
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
            let data = page.body["data"].as_array().unwrap();
            for object in data {
                for pm in [
                    &object[field],
                    &object["last_payment_error"]["payment_method"],
                ] {
                    match pm {
                        Value::Null => {}
                        Value::Object(pm) => {
                            assert_eq!(pm["object"], "payment_method");
                            reached.insert(pm["id"].as_str().unwrap().to_string());
                        }
                        other => panic!("{path}: {field} not expanded: {other}"),
                    }
                }
            }
            if !page.body["has_more"].as_bool().unwrap() {
                break;
            }
            cursor = data.last().map(|o| o["id"].as_str().unwrap().to_string());
        }
    }
    let truth = emulator.truth().await;
    let pm = &truth["types"]["payment_method"];
    assert_eq!(
        reached.len() as u64,
        pm["referenced_by_intents"]["count"].as_u64().unwrap()
    );
    assert!(reached.len() as u64 <= pm["count"].as_u64().unwrap());

    // A customer's default PaymentMethod expands too; expanding needs payment_method_read.
    let secret = emulator.keys.test.secret.clone();
    let customers = emulator
        .get(
            "/v1/customers?limit=3&expand[]=data.invoice_settings.default_payment_method",
            &secret,
        )
        .await;
    assert_eq!(
        customers.body["data"][0]["invoice_settings"]["default_payment_method"]["object"],
        "payment_method"
    );
    let (_, minted) = emulator
        .control_post(
            &format!("/accounts/{}/keys", emulator.keys.id),
            serde_json::json!({ "permissions": ["payment_intent_read"] }),
        )
        .await;
    let narrow = minted["key"].as_str().unwrap();
    let refused = emulator
        .get(
            "/v1/payment_intents?limit=1&expand[]=data.payment_method",
            narrow,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.message().contains("payment_method_read"),
        "{}",
        refused.message()
    );
    let plain = emulator.get("/v1/payment_intents?limit=1", narrow).await;
    assert_eq!(plain.status, StatusCode::OK);
}
