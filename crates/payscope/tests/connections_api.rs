//! Adding and managing Data Connections through the JSON API, end to end against the Stripe emulator.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::app::{Options, PUBLIC_URL, TestApp};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test]
async fn the_guides_key_adds_a_connection_with_a_pinned_tagged_webhook_and_starts_the_import() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    assert_eq!(status, 201, "{body}");
    let connection = &body["connection"];
    let id = connection["id"].as_str().unwrap();
    assert_eq!(connection["name"], "EU Stripe");
    assert_eq!(connection["mode"], "test");
    assert_eq!(connection["status"], "importing");
    assert_eq!(connection["sync_mode"], "webhook");
    assert_eq!(
        connection["stripe_account_id"],
        app.stripe_accounts[0].id.as_str()
    );
    let key = app.guide_key(0);
    assert_eq!(
        connection["api_key"],
        format!("rk_test_…{}", &key[key.len() - 4..])
    );
    assert!(!body.to_string().contains(&key), "the key never comes back");

    let endpoints = app.stripe_endpoints(0).await;
    assert_eq!(endpoints.len(), 1);
    let endpoint = &endpoints[0];
    assert_eq!(endpoint["id"], connection["webhook_endpoint_id"]);
    assert_eq!(
        endpoint["url"],
        format!("{PUBLIC_URL}/webhooks/stripe/{id}")
    );
    assert_eq!(endpoint["api_version"], stripe::API_VERSION);
    assert_eq!(endpoint["metadata"]["created_by"], "payscope");
    assert_eq!(endpoint["metadata"]["payscope_connection"], id);
    assert!(
        endpoint["enabled_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "charge.refunded")
    );

    let stored = app
        .db
        .store
        .connection(&app.account_id, id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.webhook_secret_sealed.is_some(),
        "the signing secret is kept, sealed"
    );
    assert!(!stored.api_key_sealed.contains(&key[8..]));

    let (status, listed) = app.api(Method::GET, "/api/v1/connections", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["data"][0]["id"], id);
    let (status, shown) = app
        .api(Method::GET, &format!("/api/v1/connections/{id}"), None)
        .await;
    assert_eq!((status, &shown["name"]), (200, &json!("EU Stripe")));
}

#[tokio::test]
async fn a_key_missing_permissions_is_refused_listing_every_one_and_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let key = app
        .guide_key_without(0, &["charge_read", "dispute_read", "webhook_write"])
        .await;
    let (status, body) = app.add_connection("EU Stripe", &key, false).await;
    assert_eq!(
        (status, code(&body)),
        (422, "missing_permissions"),
        "{body}"
    );
    let missing: Vec<(&str, &str, &str)> = body["error"]["missing_permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["resource"].as_str().unwrap(),
                m["permission"].as_str().unwrap(),
                m["access"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        missing,
        [
            ("Charges", "rak_charge_read", "read"),
            ("Disputes", "rak_dispute_read", "read"),
            ("Webhook Endpoints", "rak_webhook_write", "write")
        ]
    );
    let link = body["error"]["key_link"].as_str().unwrap();
    assert!(
        link.starts_with("https://dashboard.stripe.com/test/apikeys/create?"),
        "{link}"
    );
    assert!(link.contains("rak_charge_read") && link.contains("rak_webhook_write"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Read on Charges (rak_charge_read)")
    );
    assert!(
        app.stripe_endpoints(0).await.is_empty(),
        "no endpoint was created"
    );
    assert!(
        app.db
            .store
            .connections(&app.account_id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn unusable_keys_are_refused_each_with_its_own_code() {
    let app = TestApp::spawn().await;
    let keys = &app.stripe_accounts[0].test;
    let expired = app
        .mint_key(0, "test", stripe_emulator::GUIDE_PERMISSIONS)
        .await;
    app.expire_key(&expired).await;
    let cases = [
        (keys.publishable.clone(), "publishable_key"),
        (keys.secret.clone(), "secret_key_not_allowed"),
        (
            "rk_test_thisKeyDoesNotExistAnywhere0000000000".to_owned(),
            "invalid_api_key",
        ),
        (expired, "expired_api_key"),
        ("hello".to_owned(), "malformed_api_key"),
        (String::new(), "malformed_api_key"),
    ];
    for (key, expected) in cases {
        let (status, body) = app.add_connection("EU Stripe", &key, false).await;
        assert_eq!((status, code(&body)), (422, expected), "{body}");
    }
    let (status, body) = app.add_connection("  ", &app.guide_key(0), false).await;
    assert_eq!((status, code(&body)), (422, "invalid_name"));
    assert!(app.stripe_endpoints(0).await.is_empty());
}

#[tokio::test]
async fn a_secret_key_is_accepted_when_the_operator_allows_it() {
    let app = TestApp::spawn_with(Options {
        allow_secret_keys: true,
        ..Options::default()
    })
    .await;
    let (status, body) = app
        .add_connection(
            "EU Stripe",
            &app.stripe_accounts[0].test.secret.clone(),
            false,
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn an_existing_payscope_webhook_is_a_conflict_unless_replacing_and_others_endpoints_are_never_touched()
 {
    let app = TestApp::spawn().await;
    let foreign = app
        .stripe(
            0,
            Method::POST,
            "/v1/webhook_endpoints",
            &[
                ("url", "https://merchant.example.com/hooks"),
                ("enabled_events[]", "*"),
            ],
        )
        .await;
    let (status, first) = app.add_connection("Old", &app.guide_key(0), false).await;
    assert_eq!(status, 201, "{first}");
    let old_endpoint = first["connection"]["webhook_endpoint_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = app.add_connection("New", &app.guide_key(0), false).await;
    assert_eq!((status, code(&body)), (409, "webhook_conflict"), "{body}");
    assert_eq!(body["error"]["endpoint"]["id"], old_endpoint.as_str());
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Developers → Webhooks") && message.contains(&old_endpoint),
        "{message}"
    );
    assert_eq!(
        app.stripe_endpoints(0).await.len(),
        2,
        "nothing created or deleted"
    );

    let (status, body) = app.add_connection("New", &app.guide_key(0), true).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["replaced_webhook_endpoint_id"], old_endpoint.as_str());
    let ids: Vec<String> = app
        .stripe_endpoints(0)
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.contains(&foreign["id"].as_str().unwrap().to_owned()),
        "the merchant's own endpoint stays"
    );
    assert!(
        ids.contains(
            &body["connection"]["webhook_endpoint_id"]
                .as_str()
                .unwrap()
                .to_owned()
        )
    );
    assert!(!ids.contains(&old_endpoint));
}

#[tokio::test]
async fn an_account_with_sixteen_endpoints_is_refused_before_anything_is_created() {
    let app = TestApp::spawn().await;
    for i in 0..16 {
        let url = format!("https://merchant.example.com/hook/{i}");
        app.stripe(
            0,
            Method::POST,
            "/v1/webhook_endpoints",
            &[("url", &url), ("enabled_events[]", "*")],
        )
        .await;
    }
    let (status, body) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    assert_eq!((status, code(&body)), (422, "webhook_limit"), "{body}");
    assert_eq!(body["error"]["endpoint_count"], 16);
    assert_eq!(app.stripe_endpoints(0).await.len(), 16);
    assert!(
        app.db
            .store
            .connections(&app.account_id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn without_a_public_url_the_connection_polls_and_registers_no_endpoint() {
    let app = TestApp::spawn_with(Options {
        public_url: None,
        ..Options::default()
    })
    .await;
    let (status, body) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["connection"]["sync_mode"], "polling");
    assert!(body["message"].as_str().unwrap().contains("polling mode"));
    assert!(app.stripe_endpoints(0).await.is_empty());
}

#[tokio::test]
async fn a_live_key_with_a_plain_http_public_url_is_refused_before_calling_stripe() {
    let app = TestApp::spawn_with(Options {
        public_url: Some("http://payscope.internal"),
        ..Options::default()
    })
    .await;
    let live = app.stripe_accounts[0].live.restricted.clone();
    let (status, body) = app.add_connection("US Stripe", &live, false).await;
    assert_eq!(
        (status, code(&body)),
        (422, "insecure_public_url"),
        "{body}"
    );
}

#[tokio::test]
async fn names_are_unique_per_account_and_renaming_keeps_them_so() {
    let app = TestApp::spawn().await;
    let (_, first) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    let (status, body) = app
        .add_connection("EU Stripe", &app.guide_key(1), false)
        .await;
    assert_eq!((status, code(&body)), (409, "name_taken"));
    assert_eq!(
        app.stripe_endpoints(1).await.len(),
        0,
        "refused before touching stripe"
    );
    let (_, second) = app
        .add_connection("US Stripe", &app.guide_key(1), false)
        .await;
    let second_id = second["connection"]["id"].as_str().unwrap();
    let path = format!("/api/v1/connections/{second_id}");
    let (status, body) = app
        .api(Method::PATCH, &path, Some(json!({"name": "EU Stripe"})))
        .await;
    assert_eq!((status, code(&body)), (409, "name_taken"));
    let (status, body) = app
        .api(Method::PATCH, &path, Some(json!({"name": "Americas"})))
        .await;
    assert_eq!((status, &body["name"]), (200, &json!("Americas")));
    assert_ne!(first["connection"]["id"], second["connection"]["id"]);
}

#[tokio::test]
async fn rotating_the_key_checks_permissions_mode_and_account() {
    let app = TestApp::spawn().await;
    let (_, added) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    let id = added["connection"]["id"].as_str().unwrap();
    let path = format!("/api/v1/connections/{id}/rotate-key");
    let rotate = |key: String| {
        let path = path.clone();
        let app = &app;
        async move {
            app.api(Method::POST, &path, Some(json!({"api_key": key})))
                .await
        }
    };
    let (status, body) = rotate(app.guide_key(1)).await;
    assert_eq!((status, code(&body)), (422, "different_account"), "{body}");
    let (status, body) = rotate(app.guide_key_without(0, &["event_read"]).await).await;
    assert_eq!((status, code(&body)), (422, "missing_permissions"));
    let (status, body) = rotate(app.stripe_accounts[0].live.restricted.clone()).await;
    assert_eq!((status, code(&body)), (422, "mode_mismatch"));

    let fresh = app
        .mint_key(0, "test", stripe_emulator::GUIDE_PERMISSIONS)
        .await;
    let (status, body) = rotate(fresh.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["api_key"],
        format!("rk_test_…{}", &fresh[fresh.len() - 4..])
    );
    assert_eq!(
        app.stripe_endpoints(0).await.len(),
        1,
        "rotation keeps the webhook"
    );
}

#[tokio::test]
async fn removing_deletes_our_endpoint_and_keeps_or_deletes_the_data_as_asked() {
    let app = TestApp::spawn().await;
    let (_, kept) = app
        .add_connection("Keep data", &app.guide_key(0), false)
        .await;
    let kept_id = kept["connection"]["id"].as_str().unwrap();
    let (status, body) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/connections/{kept_id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["webhook_deleted"], &body["data_deleted"]),
        (200, &json!(true), &json!(false)),
        "{body}"
    );
    assert!(app.stripe_endpoints(0).await.is_empty());
    let (_, shown) = app
        .api(Method::GET, &format!("/api/v1/connections/{kept_id}"), None)
        .await;
    assert_eq!(
        (&shown["status"], &shown["sync_mode"]),
        (&json!("disconnected"), &json!("polling"))
    );

    let (_, gone) = app
        .add_connection("Delete data", &app.guide_key(1), false)
        .await;
    let gone_id = gone["connection"]["id"].as_str().unwrap();
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/connections/{gone_id}?delete_data=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .api(Method::GET, &format!("/api/v1/connections/{gone_id}"), None)
        .await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    assert!(app.stripe_endpoints(1).await.is_empty());
}

#[tokio::test]
async fn another_accounts_token_sees_nothing_and_no_token_is_unauthorized() {
    let app = TestApp::spawn().await;
    let (_, added) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    let id = added["connection"]["id"].as_str().unwrap();
    let other = app.db.store.ensure_account("other").await.unwrap();
    let token = payscope::crypto::new_api_token();
    use secrecy::ExposeSecret;
    app.db
        .store
        .create_api_token(
            &other.id,
            "other",
            &payscope::crypto::api_token_digest(token.expose_secret()),
        )
        .await
        .unwrap();
    let token = token.expose_secret();
    let path = format!("/api/v1/connections/{id}");
    for (method, path, body) in [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "mine now"})),
        ),
        (Method::DELETE, path.clone(), None),
        (
            Method::POST,
            format!("{path}/rotate-key"),
            Some(json!({"api_key": app.guide_key(0)})),
        ),
    ] {
        let (status, body) = app.api_as(token, method, &path, body).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}: {body}");
    }
    let (_, listed) = app
        .api_as(token, Method::GET, "/api/v1/connections", None)
        .await;
    assert_eq!(listed["data"], json!([]));
    let (status, body) = app
        .api_as("pst_wrong", Method::GET, "/api/v1/connections", None)
        .await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    assert_eq!(app.stripe_endpoints(0).await.len(), 1);
}

#[tokio::test]
async fn replacing_a_deleted_webhook_registers_a_new_endpoint_with_a_new_secret_and_lifts_the_attention()
 {
    use payscope::domain::connection::ConnectionStatus;
    use payscope::domain::stripe_setup::endpoint_attention;
    let app = TestApp::spawn().await;
    let (_, added) = app
        .add_connection("EU Stripe", &app.guide_key(0), false)
        .await;
    let id = added["connection"]["id"].as_str().unwrap().to_owned();
    let old_endpoint = added["connection"]["webhook_endpoint_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = &app.db.store;
    let before = store
        .connection(&app.account_id, &id)
        .await
        .unwrap()
        .unwrap();
    // The merchant deletes the endpoint in the Dashboard; the endpoint check flags the connection.
    app.stripe(
        0,
        Method::DELETE,
        &format!("/v1/webhook_endpoints/{old_endpoint}"),
        &[],
    )
    .await;
    store
        .set_connection_status(
            &app.account_id,
            &id,
            ConnectionStatus::NeedsAttention,
            Some(&endpoint_attention(&old_endpoint, "deleted")),
            1_800_000_000,
        )
        .await
        .unwrap();

    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/connections/{id}/replace-webhook"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let new_endpoint = body["webhook_endpoint_id"].as_str().unwrap();
    assert_ne!(new_endpoint, old_endpoint);
    assert_eq!(
        body["status"], "active",
        "the endpoint's attention is lifted"
    );
    let endpoints = app.stripe_endpoints(0).await;
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(endpoints[0]["id"], new_endpoint);
    assert_eq!(
        endpoints[0]["url"],
        format!("{PUBLIC_URL}/webhooks/stripe/{id}")
    );
    let after = store
        .connection(&app.account_id, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(after.webhook_secret_sealed.is_some());
    assert_ne!(
        after.webhook_secret_sealed, before.webhook_secret_sealed,
        "the new endpoint's secret is stored"
    );

    // Replacing again deletes the endpoint it replaces: never two of ours.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/connections/{id}/replace-webhook"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.stripe_endpoints(0).await.len(), 1);
}

#[tokio::test]
async fn replacing_a_webhook_without_a_public_url_says_how_to_get_one() {
    let app = TestApp::spawn_with(Options {
        public_url: None,
        ..Options::default()
    })
    .await;
    let (_, added) = app
        .add_connection("Polling", &app.guide_key(0), false)
        .await;
    let id = added["connection"]["id"].as_str().unwrap();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/connections/{id}/replace-webhook"),
            None,
        )
        .await;
    assert_eq!((status, code(&body)), (422, "no_public_url"), "{body}");
    assert!(app.stripe_endpoints(0).await.is_empty());
}
