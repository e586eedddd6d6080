//! The `/_emulator/` control API: accounts and keys (editing a key's permissions included), the card-details
//! switch, the default API version, activity bursts and the background activity loop, ground truth.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use stripe_emulator::EmulatorConfig;
use support::{TestEmulator, small_config};

#[tokio::test]
async fn accounts_are_listed_with_working_keys_for_both_modes() {
    let emulator = TestEmulator::start(EmulatorConfig {
        accounts: 2,
        ..small_config()
    })
    .await;
    let accounts = emulator.control_get("/accounts").await;
    let data = accounts["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_ne!(data[0]["id"], data[1]["id"]);
    for account in data {
        assert!(account["id"].as_str().unwrap().starts_with("acct_"));
        for (mode, prefix) in [("test", "_test_"), ("live", "_live_")] {
            let keys = &account[mode];
            for (kind, letter) in [
                ("secret", "sk"),
                ("publishable", "pk"),
                ("restricted", "rk"),
            ] {
                let key = keys[kind].as_str().unwrap();
                assert!(
                    key.starts_with(&format!("{letter}{prefix}")),
                    "{mode} {kind}: {key}"
                );
            }
            let reply = emulator
                .get("/v1/charges?limit=1", keys["restricted"].as_str().unwrap())
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.body["data"][0]["livemode"], mode == "live");
        }
    }
    // Each account's keys read its own history: the 403 of a missing permission names the key's account.
    let other = data[1]["test"]["restricted"].as_str().unwrap();
    let reply = emulator.get("/v1/customers", other).await;
    assert!(reply.message().contains(data[1]["id"].as_str().unwrap()));
}

#[tokio::test]
async fn a_new_account_gets_its_own_generated_history() {
    let emulator = TestEmulator::start(small_config()).await;
    let (status, account) = emulator
        .control_post("/accounts", json!({"seed": 99, "charges": 150, "days": 20}))
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    let id = account["id"].as_str().unwrap();
    assert_ne!(id, emulator.keys.id);
    let truth = emulator.control_get(&format!("/accounts/{id}/truth")).await;
    assert_eq!(truth["types"]["charge"]["count"], 150);
    let ids = emulator
        .walk(
            "/v1/charges",
            account["test"]["secret"].as_str().unwrap(),
            "",
        )
        .await;
    assert_eq!(ids.len(), 150);

    let (status, body) = emulator
        .control_post("/accounts", json!({"charges": "many"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn the_card_details_switch_reveals_iin_and_issuer() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let card = |body: &serde_json::Value| body["data"][0]["payment_method_details"]["card"].clone();
    let before = emulator.get("/v1/charges?limit=1", &key).await;
    assert!(
        card(&before.body)["iin"].is_null(),
        "{}",
        card(&before.body)
    );
    assert!(card(&before.body)["issuer"].is_null());

    let path = format!("/accounts/{}/card_details", emulator.keys.id);
    let (status, account) = emulator.control_post(&path, json!({"enabled": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["card_details"], true);
    let after = emulator.get("/v1/charges?limit=1", &key).await;
    assert!(
        card(&after.body)["iin"].is_string(),
        "{}",
        card(&after.body)
    );
    assert!(card(&after.body)["issuer"].is_string());
}

#[tokio::test]
async fn changing_the_default_api_version_changes_the_version_header() {
    let emulator = TestEmulator::start(small_config()).await;
    let path = format!("/accounts/{}/api_version", emulator.keys.id);
    let (status, _) = emulator
        .control_post(&path, json!({"api_version": "2024-04-10"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let reply = emulator
        .get("/v1/charges?limit=1", &emulator.keys.test.secret)
        .await;
    assert_eq!(reply.headers["stripe-version"], "2024-04-10");
    let (status, _) = emulator
        .control_post(&path, json!({"api_version": "yesterday"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_burst_adds_charges_to_the_truth_and_events_to_the_events_api() {
    let emulator = TestEmulator::start(small_config()).await;
    let before = emulator.truth().await["types"]["charge"]["count"]
        .as_u64()
        .unwrap();
    let newest_event = emulator
        .get("/v1/events?limit=1", &emulator.keys.test.secret)
        .await;
    let (status, body) = emulator
        .control_post(
            &format!("/accounts/{}/activity", emulator.keys.id),
            json!({"charges": 25}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = emulator.truth().await["types"]["charge"]["count"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before + 25);
    let ids = emulator
        .walk("/v1/charges", &emulator.keys.test.secret, "")
        .await;
    assert_eq!(ids.len() as u64, after);

    let since = format!(
        "/v1/events?limit=100&ending_before={}",
        newest_event.body["data"][0]["id"].as_str().unwrap()
    );
    let events = emulator.get(&since, &emulator.keys.test.secret).await;
    let data = events.body["data"].as_array().unwrap();
    assert_eq!(data.len() as u64, body["events"].as_u64().unwrap().min(100));
    assert!(
        data.iter()
            .any(|e| e["type"] == "charge.succeeded" || e["type"] == "charge.failed")
    );
}

#[tokio::test]
async fn unknown_accounts_and_keys_are_404s_with_a_hint() {
    let emulator = TestEmulator::start(small_config()).await;
    let (status, body) = emulator
        .control_post("/accounts/acct_nope/activity", json!({"charges": 1}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GET /_emulator/accounts")
    );
    let (status, _) = emulator
        .control_post("/keys/sk_test_nope/expire", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn editing_a_keys_permissions_takes_effect_on_the_next_request() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.restricted.clone();
    assert_eq!(
        emulator.get("/v1/disputes?limit=1", &key).await.status,
        StatusCode::OK
    );
    let (status, body) = emulator
        .control_post(
            &format!("/keys/{key}/permissions"),
            json!({"revoke": ["rak_dispute_read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let effective: Vec<&str> = body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(!effective.contains(&"dispute_read") && effective.contains(&"charge_read"));
    let reply = emulator.get("/v1/disputes?limit=1", &key).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body["error"].get("code").is_none());
    assert_eq!(
        reply.message(),
        format!(
            "The provided key 'rk_test_***…{}' does not have the required permissions for this endpoint on account '{}'. Having the 'rak_dispute_read' permission would allow this request to continue.",
            &key[key.len() - 6..],
            emulator.keys.id
        )
    );
    assert_eq!(
        emulator.get("/v1/charges?limit=1", &key).await.status,
        StatusCode::OK,
        "only the revoked permission goes"
    );

    let (status, _) = emulator
        .control_post(
            &format!("/keys/{key}/permissions"),
            json!({"grant": ["dispute_read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        emulator.get("/v1/disputes?limit=1", &key).await.status,
        StatusCode::OK
    );

    // The whole set at once: a key that reads charges only.
    let (status, _) = emulator
        .control_post(
            &format!("/keys/{key}/permissions"),
            json!({"permissions": ["charge_read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        emulator.get("/v1/charges?limit=1", &key).await.status,
        StatusCode::OK
    );
    assert_eq!(
        emulator.get("/v1/disputes?limit=1", &key).await.status,
        StatusCode::FORBIDDEN
    );

    // A permission another one implies cannot go alone; secret keys have nothing to edit.
    let guide = emulator.keys.live.restricted.clone();
    let (status, body) = emulator
        .control_post(
            &format!("/keys/{guide}/permissions"),
            json!({"revoke": ["balance_read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("balance_transaction_source_read"),
        "{body}"
    );
    let (status, _) = emulator
        .control_post(
            &format!("/keys/{}/permissions", emulator.keys.test.secret),
            json!({"revoke": ["charge_read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = emulator
        .control_post(
            "/keys/rk_test_nope/permissions",
            json!({"revoke": ["charge_read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn background_activity_keeps_adding_payments() {
    let emulator = TestEmulator::start(EmulatorConfig {
        activity_per_minute: 1_200.0,
        ..small_config()
    })
    .await;
    let start = emulator.truth().await["types"]["charge"]["count"]
        .as_u64()
        .unwrap();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = emulator.truth().await["types"]["charge"]["count"]
            .as_u64()
            .unwrap();
        if now > start {
            return;
        }
    }
    panic!("no background activity within 10 s at 1200 payments per minute");
}
