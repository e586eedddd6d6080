//! Events (30-day window, type filters, delivery_success) and signed webhook deliveries with retries, checked by
//! a real receiver that recomputes the HMAC.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use stripe_emulator::v1_signature;
use support::{Receiver, TestEmulator, small_config};

async fn create_endpoint(emulator: &TestEmulator, url: &str) -> (String, String) {
    let reply = emulator
        .post_form(
            "/v1/webhook_endpoints",
            &emulator.keys.test.secret,
            &[("url", url), ("enabled_events[]", "*")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (
        reply.body["id"].as_str().unwrap().to_string(),
        reply.body["secret"].as_str().unwrap().to_string(),
    )
}

async fn burst(emulator: &TestEmulator, charges: usize) -> u64 {
    let (status, body) = emulator
        .control_post(
            &format!("/accounts/{}/activity", emulator.keys.id),
            json!({ "charges": charges }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_u64().unwrap()
}

fn event_id(body: &[u8]) -> String {
    let event: Value = serde_json::from_slice(body).unwrap();
    event["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn events_reach_back_thirty_days_and_filter_by_type_pattern() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.restricted.clone();
    let now = emulator.truth().await["now"].as_i64().unwrap();
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(after) => format!("/v1/events?limit=100&starting_after={after}"),
            None => "/v1/events?limit=100".to_string(),
        };
        let reply = emulator.get(&url, &key).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let page = reply.body["data"].as_array().unwrap().clone();
        cursor = page.last().map(|e| e["id"].as_str().unwrap().to_string());
        all.extend(page);
        if reply.body["has_more"] == false {
            break;
        }
    }
    assert!(
        all.len() > 20,
        "a 60-day history has events in its last 30 days"
    );
    for event in &all {
        assert_eq!(event["object"], "event");
        assert!(event["created"].as_i64().unwrap() >= now - 30 * 86_400);
        assert!(event["data"]["object"]["id"].is_string(), "{event}");
        assert_eq!(event["api_version"], "2026-07-29.dahlia");
        assert_eq!(
            event["request"],
            json!({"id": null, "idempotency_key": null})
        );
    }
    assert!(
        all.iter()
            .any(|e| e["type"].as_str().unwrap().starts_with("charge."))
    );

    let charges = emulator
        .get("/v1/events?limit=100&type=charge.*", &key)
        .await;
    let data = charges.body["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(
        data.iter()
            .all(|e| e["type"].as_str().unwrap().starts_with("charge."))
    );

    let two = emulator
        .get(
            "/v1/events?limit=100&types[]=charge.succeeded&types[]=charge.failed",
            &key,
        )
        .await;
    let data = two.body["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(
        data.iter()
            .all(|e| e["type"] == "charge.succeeded" || e["type"] == "charge.failed")
    );

    let both = emulator
        .get("/v1/events?type=charge.*&types[]=charge.failed", &key)
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);

    let newest = &all[0];
    let since = emulator
        .get(
            &format!("/v1/events?limit=100&created[gte]={}", newest["created"]),
            &key,
        )
        .await;
    let data = since.body["data"].as_array().unwrap();
    assert!(data.iter().any(|e| e["id"] == newest["id"]));
    assert!(
        data.iter()
            .all(|e| e["created"].as_i64() >= newest["created"].as_i64())
    );

    let id = newest["id"].as_str().unwrap();
    let one = emulator.get(&format!("/v1/events/{id}"), &key).await;
    assert_eq!(one.body["id"], id);
    let missing = emulator.get("/v1/events/evt_nope", &key).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_delivery_is_a_signed_post_whose_hmac_the_receiver_can_recompute() {
    let emulator = TestEmulator::start(small_config()).await;
    let receiver = Receiver::start(0).await;
    let (_, secret) = create_endpoint(&emulator, &receiver.url).await;
    let events = burst(&emulator, 2).await;
    assert!(events >= 2);
    let received = receiver.wait_for(events as usize).await;
    for delivery in &received {
        let parts: HashMap<&str, &str> = delivery
            .signature
            .split(',')
            .filter_map(|p| p.split_once('='))
            .collect();
        let timestamp = parts["t"];
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&delivery.body);
        assert_eq!(
            parts["v1"],
            hex::encode(mac.finalize().into_bytes()),
            "signature of {:?}",
            delivery.signature
        );
        let event: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(event["object"], "event");
        assert_eq!(event["livemode"], false);
        assert!(event["data"]["object"]["object"].is_string());
    }
    // The delivered events are the ones the Events API lists.
    let id = event_id(&received[0].body);
    let listed = emulator
        .get(&format!("/v1/events/{id}"), &emulator.keys.test.secret)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_the_receiver_accepts_it() {
    let emulator = TestEmulator::start(small_config()).await;
    emulator
        .settings(json!({"delivery": {"retry_base_ms": 50, "retry_factor": 2, "max_attempts": 4}}))
        .await;
    let receiver = Receiver::start(2).await;
    create_endpoint(&emulator, &receiver.url).await;
    let events = burst(&emulator, 1).await as usize;
    // Two 500s, then every delivery succeeds: events + 2 requests in all.
    let received = receiver.wait_for(events + 2).await;
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for delivery in &received {
        *per_event.entry(event_id(&delivery.body)).or_default() += 1;
    }
    assert_eq!(per_event.len(), events);
    assert_eq!(per_event.values().sum::<usize>(), events + 2);

    let log = emulator
        .control_get(&format!("/accounts/{}/deliveries", emulator.keys.id))
        .await;
    let attempts = log["data"].as_array().unwrap();
    assert_eq!(attempts.iter().filter(|a| a["status"] == 500).count(), 2);
    assert!(
        attempts
            .iter()
            .any(|a| a["attempt"].as_u64().unwrap() >= 2 && a["succeeded"] == true)
    );

    // Once every delivery succeeded, no event is pending.
    for _ in 0..100 {
        let failed = emulator
            .get(
                "/v1/events?delivery_success=false&limit=100",
                &emulator.keys.test.secret,
            )
            .await;
        let pending: Vec<&Value> = failed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["pending_webhooks"].as_u64() > Some(0))
            .collect();
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("events still pending after their deliveries succeeded");
}

#[tokio::test]
async fn events_whose_deliveries_all_failed_are_listed_with_delivery_success_false() {
    let emulator = TestEmulator::start(small_config()).await;
    emulator
        .settings(json!({"delivery": {"retry_base_ms": 20, "retry_factor": 1, "max_attempts": 2}}))
        .await;
    let receiver = Receiver::start(usize::MAX).await;
    create_endpoint(&emulator, &receiver.url).await;
    let events = burst(&emulator, 1).await as usize;
    let received = receiver.wait_for(2 * events).await;
    let failed_ids: std::collections::HashSet<String> =
        received.iter().map(|d| event_id(&d.body)).collect();
    let key = emulator.keys.test.secret.clone();
    for _ in 0..100 {
        let failed = emulator
            .get("/v1/events?delivery_success=false&limit=100", &key)
            .await;
        let listed: std::collections::HashSet<String> = failed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect();
        let succeeded = emulator
            .get("/v1/events?delivery_success=true&limit=100", &key)
            .await;
        let ok_listed = succeeded.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| failed_ids.contains(e["id"].as_str().unwrap()));
        if failed_ids.is_subset(&listed) {
            assert!(!ok_listed, "a failed event is listed as delivered");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("failed events never appeared under delivery_success=false");
}

#[tokio::test]
async fn the_duplicate_switch_delivers_each_event_twice() {
    let emulator = TestEmulator::start(small_config()).await;
    emulator
        .settings(json!({"delivery": {"duplicate_rate": 1.0}}))
        .await;
    let receiver = Receiver::start(0).await;
    create_endpoint(&emulator, &receiver.url).await;
    let events = burst(&emulator, 1).await as usize;
    let received = receiver.wait_for(2 * events).await;
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for delivery in &received {
        *per_event.entry(event_id(&delivery.body)).or_default() += 1;
    }
    assert_eq!(per_event.len(), events);
    assert!(per_event.values().all(|&n| n == 2), "{per_event:?}");
}

/// The `v1` signatures of a delivery's `Stripe-Signature` header, in order, and its timestamp.
fn v1_values(header: &str) -> (i64, Vec<String>) {
    let mut timestamp = 0;
    let mut v1 = Vec::new();
    for (key, value) in header.split(',').filter_map(|p| p.split_once('=')) {
        match key {
            "t" => timestamp = value.parse().unwrap(),
            "v1" => v1.push(value.to_owned()),
            _ => {}
        }
    }
    (timestamp, v1)
}

/// Rolls endpoint `id`'s secret through the control API, the old one signing for `expires_in` more seconds.
async fn roll(emulator: &TestEmulator, id: &str, expires_in: Option<i64>) -> Value {
    let body = expires_in.map_or(json!({}), |s| json!({ "expires_in": s }));
    let (status, body) = emulator
        .control_post(&format!("/webhook_endpoints/{id}/roll_secret"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_rolled_secret_signs_deliveries_with_the_new_and_the_old_secret_until_the_old_one_expires()
 {
    let emulator = TestEmulator::start(small_config()).await;
    let receiver = Receiver::start(0).await;
    let (id, old) = create_endpoint(&emulator, &receiver.url).await;
    let rolled = roll(&emulator, &id, None).await;
    let new = rolled["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let now = emulator.truth().await["now"].as_i64().unwrap();
    let expires_at = rolled["previous_secret_expires_at"].as_i64().unwrap();
    assert!(
        (expires_at - now - 86_400).abs() < 3_600,
        "the old secret lives 24 h by default: {rolled}"
    );

    let events = burst(&emulator, 1).await as usize;
    let received = receiver.wait_for(events).await;
    for delivery in &received {
        let (t, v1) = v1_values(&delivery.signature);
        assert_eq!(
            v1,
            [
                v1_signature(&new, t, &delivery.body),
                v1_signature(&old, t, &delivery.body)
            ],
            "the new secret's signature, then the old one's"
        );
    }

    // Rolled again with the old secret expiring at once: only the newest secret signs.
    let newest = roll(&emulator, &id, Some(0)).await;
    assert!(newest["previous_secret_expires_at"].is_null(), "{newest}");
    let newest = newest["secret"].as_str().unwrap().to_owned();
    let more = burst(&emulator, 1).await as usize;
    let received = receiver.wait_for(events + more).await;
    for delivery in &received[events..] {
        let (t, v1) = v1_values(&delivery.signature);
        assert_eq!(v1, [v1_signature(&newest, t, &delivery.body)]);
    }
    // The API never shows a secret after creation, rolled or not.
    let shown = emulator
        .get(
            &format!("/v1/webhook_endpoints/{id}"),
            &emulator.keys.test.secret,
        )
        .await;
    assert!(shown.body.get("secret").is_none(), "{}", shown.body);

    let (status, _) = emulator
        .control_post("/webhook_endpoints/we_nope/roll_secret", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = emulator
        .control_post(
            &format!("/webhook_endpoints/{id}/roll_secret"),
            json!({"expires_in": -1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_disabled_endpoint_receives_nothing() {
    let emulator = TestEmulator::start(small_config()).await;
    let receiver = Receiver::start(0).await;
    let (id, _) = create_endpoint(&emulator, &receiver.url).await;
    let reply = emulator
        .post_form(
            &format!("/v1/webhook_endpoints/{id}"),
            &emulator.keys.test.secret,
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // A second, enabled endpoint proves deliveries happen at all before we look at the first.
    let witness = Receiver::start(0).await;
    create_endpoint(&emulator, &witness.url).await;
    let events = burst(&emulator, 1).await as usize;
    witness.wait_for(events).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn deliveries_carry_the_endpoints_api_version_and_mode() {
    let emulator = TestEmulator::start(small_config()).await;
    let receiver = Receiver::start(0).await;
    let reply = emulator
        .post_form(
            "/v1/webhook_endpoints",
            &emulator.keys.test.secret,
            &[
                ("url", &receiver.url),
                ("enabled_events[]", "*"),
                ("api_version", "2024-04-10"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let events = burst(&emulator, 1).await as usize;
    for delivery in receiver.wait_for(events).await {
        let event: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(event["api_version"], "2024-04-10");
        assert_eq!(event["livemode"], false);
        assert!(
            delivery.signature.contains(",v0="),
            "test-mode deliveries carry a v0 scheme too"
        );
    }
}

#[tokio::test]
async fn a_receiver_that_times_out_is_retried() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let emulator = TestEmulator::start(small_config()).await;
    emulator
        .settings(json!({"delivery": {"timeout_ms": 200, "retry_base_ms": 50, "max_attempts": 3}}))
        .await;
    // The first request hangs past the timeout; later ones answer at once.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::post(move || {
            let counter = Arc::clone(&counter);
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    create_endpoint(&emulator, &url).await;
    burst(&emulator, 1).await;

    for _ in 0..100 {
        let log = emulator
            .control_get(&format!("/accounts/{}/deliveries", emulator.keys.id))
            .await;
        let attempts = log["data"].as_array().unwrap().clone();
        let timed_out = attempts
            .iter()
            .find(|a| a["error"].as_str().is_some_and(|e| e.contains("timed out")));
        if let Some(timed_out) = timed_out {
            let retried = attempts.iter().any(|a| {
                a["event"] == timed_out["event"] && a["attempt"] == 2 && a["succeeded"] == true
            });
            if retried {
                assert!(timed_out["status"].is_null());
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no timed-out delivery was retried successfully");
}

#[tokio::test]
async fn the_reorder_switch_delivers_events_out_of_creation_order() {
    let emulator = TestEmulator::start(small_config()).await;
    emulator
        .settings(json!({"delivery": {"reorder": true, "reorder_window_ms": 800}}))
        .await;
    let receiver = Receiver::start(0).await;
    create_endpoint(&emulator, &receiver.url).await;
    let newest = emulator
        .get("/v1/events?limit=1", &emulator.keys.test.secret)
        .await;
    let events = burst(&emulator, 5).await as usize;
    assert!(events >= 10, "a 5-payment burst makes at least 10 events");
    let received = receiver.wait_for(events).await;
    let arrival: Vec<String> = received.iter().map(|d| event_id(&d.body)).collect();

    // Creation order, oldest first, from the Events API.
    let cursor = newest.body["data"][0]["id"].as_str().unwrap();
    let listed = emulator
        .get(
            &format!("/v1/events?limit=100&ending_before={cursor}"),
            &emulator.keys.test.secret,
        )
        .await;
    let mut created: Vec<String> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    created.reverse();
    let mut sorted_arrival = arrival.clone();
    sorted_arrival.sort();
    let mut sorted_created = created.clone();
    sorted_created.sort();
    assert_eq!(sorted_arrival, sorted_created, "every event arrives once");
    // With ≥ 10 events spread over 800 ms, keeping creation order by chance has probability < 1/10!.
    assert_ne!(arrival, created);
}

#[tokio::test]
async fn a_historical_event_shows_its_object_as_it_was_before_later_changes() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let mut events: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(after) => format!("/v1/events?limit=100&starting_after={after}"),
            None => "/v1/events?limit=100".to_string(),
        };
        let reply = emulator.get(&url, &key).await;
        let page = reply.body["data"].as_array().unwrap().clone();
        cursor = page.last().map(|e| e["id"].as_str().unwrap().to_string());
        events.extend(page);
        if reply.body["has_more"] == false {
            break;
        }
    }
    events.reverse(); // oldest first
    let mut checked = 0;
    for (i, later) in events.iter().enumerate() {
        let Some(previous) = later["data"]["previous_attributes"].as_object() else {
            continue;
        };
        let id = &later["data"]["object"]["id"];
        let Some(earlier) = events[..i]
            .iter()
            .rev()
            .find(|e| &e["data"]["object"]["id"] == id)
        else {
            continue;
        };
        for (field, before) in previous {
            if !before.is_object() {
                assert_eq!(
                    &earlier["data"]["object"][field], before,
                    "{} of {id} in {} should be its value before {}",
                    field, earlier["id"], later["id"]
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 0,
        "the history's last 30 days have updates with previous_attributes"
    );
}
