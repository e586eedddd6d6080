//! The Webhook Endpoints API: CRUD, the secret only on creation, the 16-endpoint limit, live mode's https rule.

mod support;

use reqwest::StatusCode;
use support::{TestEmulator, small_config};

#[tokio::test]
async fn an_endpoint_is_created_listed_retrieved_updated_and_deleted() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.restricted.clone();
    let created = emulator
        .post_form(
            "/v1/webhook_endpoints",
            &key,
            &[
                ("url", "https://example.com/hook"),
                ("enabled_events[]", "charge.succeeded"),
                ("enabled_events[]", "charge.refunded"),
                ("api_version", "2026-07-29.dahlia"),
                ("description", "payscope"),
                ("metadata[connection]", "42"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("we_"));
    assert!(
        created.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert_eq!(created.body["object"], "webhook_endpoint");
    assert_eq!(created.body["status"], "enabled");
    assert_eq!(created.body["api_version"], "2026-07-29.dahlia");
    assert_eq!(created.body["metadata"]["connection"], "42");
    assert_eq!(created.body["enabled_events"][1], "charge.refunded");

    let listed = emulator.get("/v1/webhook_endpoints", &key).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["url"], "/v1/webhook_endpoints");
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], id.as_str());
    assert!(
        data[0].get("secret").is_none(),
        "list must not reveal the secret"
    );

    let fetched = emulator
        .get(&format!("/v1/webhook_endpoints/{id}"), &key)
        .await;
    assert_eq!(fetched.body["id"], id.as_str());
    assert!(fetched.body.get("secret").is_none());

    let updated = emulator
        .post_form(
            &format!("/v1/webhook_endpoints/{id}"),
            &key,
            &[("disabled", "true"), ("enabled_events[0]", "*")],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["status"], "disabled");
    assert_eq!(updated.body["enabled_events"], serde_json::json!(["*"]));

    let refused = emulator
        .post_form(
            &format!("/v1/webhook_endpoints/{id}"),
            &key,
            &[("api_version", "2024-04-10")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["error"]["code"], "parameter_unknown");
    assert_eq!(refused.body["error"]["param"], "api_version");

    let deleted = emulator
        .delete(&format!("/v1/webhook_endpoints/{id}"), &key)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        deleted.body,
        serde_json::json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    let gone = emulator
        .get(&format!("/v1/webhook_endpoints/{id}"), &key)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn enabled_events_is_required() {
    let emulator = TestEmulator::start(small_config()).await;
    let reply = emulator
        .post_form(
            "/v1/webhook_endpoints",
            &emulator.keys.test.secret,
            &[("url", "https://example.com/hook")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"]["code"], "parameter_missing");
    assert_eq!(reply.message(), "Missing required param: enabled_events.");
}

#[tokio::test]
async fn an_account_holds_at_most_sixteen_endpoints() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    for n in 0..16 {
        let url = format!("https://example.com/hook/{n}");
        let reply = emulator
            .post_form(
                "/v1/webhook_endpoints",
                &key,
                &[("url", &url), ("enabled_events[]", "*")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "endpoint {n}: {}", reply.body);
    }
    let reply = emulator
        .post_form(
            "/v1/webhook_endpoints",
            &key,
            &[
                ("url", "https://example.com/hook/17"),
                ("enabled_events[]", "*"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.message().contains("16"), "{}", reply.body);

    let all = emulator.walk("/v1/webhook_endpoints", &key, "").await;
    assert_eq!(all.len(), 16);
    let page = emulator.get("/v1/webhook_endpoints?limit=5", &key).await;
    assert_eq!(page.body["has_more"], true);
}

#[tokio::test]
async fn live_mode_requires_https_urls_but_test_mode_accepts_http() {
    let emulator = TestEmulator::start(small_config()).await;
    let form = [
        ("url", "http://example.com/hook"),
        ("enabled_events[]", "*"),
    ];
    let live = emulator
        .post_form("/v1/webhook_endpoints", &emulator.keys.live.secret, &form)
        .await;
    assert_eq!(live.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        live.message(),
        "Invalid URL: http://example.com/hook. URLs in livemode must begin with \"https://\""
    );
    assert_eq!(live.body["error"]["param"], "url");

    let test = emulator
        .post_form("/v1/webhook_endpoints", &emulator.keys.test.secret, &form)
        .await;
    assert_eq!(test.status, StatusCode::OK);
    assert_eq!(test.body["livemode"], false);

    let live_list = emulator
        .get("/v1/webhook_endpoints", &emulator.keys.live.secret)
        .await;
    assert_eq!(
        live_list.body["data"].as_array().unwrap().len(),
        0,
        "modes are separate"
    );
}

#[tokio::test]
async fn a_create_retried_with_the_same_idempotency_key_is_replayed_not_repeated() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let create = |url: &'static str| {
        emulator
            .http
            .post(format!("{}/v1/webhook_endpoints", emulator.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", "payscope-create-1")
            .form(&[("url", url), ("enabled_events[]", "*")])
            .send()
    };
    let first = create("https://example.com/a").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();

    let again = create("https://example.com/a").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert!(
        again.headers()["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["secret"], first["secret"]);
    assert_eq!(
        emulator.walk("/v1/webhook_endpoints", &key, "").await.len(),
        1
    );

    let other = create("https://example.com/b").await.unwrap();
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(other["error"]["type"], "idempotency_error");
    assert!(
        other["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'payscope-create-1'")
    );
}
