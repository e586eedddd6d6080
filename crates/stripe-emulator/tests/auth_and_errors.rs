//! Authentication, permissions and Stripe's exact error envelopes, over real HTTP.

mod support;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::json;
use support::{TestEmulator, small_config};

#[tokio::test]
async fn a_request_without_a_key_gets_stripes_401_text_and_the_standard_headers() {
    let emulator = TestEmulator::start(small_config()).await;
    let response = emulator
        .http
        .get(format!("{}/v1/charges", emulator.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(request_id.starts_with("req_"), "{request_id}");
    assert_eq!(response.headers()["stripe-version"], "2026-07-29.dahlia");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {
            "message": "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
            "type": "invalid_request_error"
        }})
    );
}

#[tokio::test]
async fn an_unknown_key_is_refused_with_its_masked_form() {
    let emulator = TestEmulator::start(small_config()).await;
    let reply = emulator
        .get("/v1/charges", "sk_test_thisKeyDoesNotExistAso0")
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // Stripe keeps the prefix and the last 4 characters and stars out the rest (19 characters here).
    assert_eq!(
        reply.message(),
        format!("Invalid API Key provided: sk_test_{}Aso0", "*".repeat(19))
    );
    assert!(reply.body["error"].get("code").is_none());
    assert_eq!(reply.body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn an_expired_key_gets_api_key_expired() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.restricted_key("test", &["charge_read"]).await;
    assert_eq!(
        emulator.get("/v1/charges?limit=1", &key).await.status,
        StatusCode::OK
    );
    let (status, _) = emulator
        .control_post(&format!("/keys/{key}/expire"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let reply = emulator.get("/v1/charges?limit=1", &key).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"]["code"], "api_key_expired");
    assert_eq!(
        reply.body["error"]["doc_url"],
        "https://stripe.com/docs/error-codes/api-key-expired"
    );
    let tail = &key[key.len() - 6..];
    assert_eq!(
        reply.message(),
        format!("Expired API Key provided: rk_test_****…{tail}")
    );
}

#[tokio::test]
async fn a_publishable_key_is_refused_on_server_endpoints() {
    let emulator = TestEmulator::start(small_config()).await;
    let reply = emulator
        .get("/v1/charges", &emulator.keys.test.publishable)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.message(),
        "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
    );
}

#[tokio::test]
async fn a_restricted_key_without_the_permission_gets_stripes_403_naming_it() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.restricted_key("test", &["dispute_read"]).await;
    let reply = emulator.get("/v1/charges", &key).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body["error"].get("code").is_none());
    assert_eq!(reply.body["error"]["type"], "invalid_request_error");
    let expected = format!(
        "The provided key 'rk_test_***…{}' does not have the required permissions for this endpoint on account '{}'. Having the 'rak_charge_read' permission would allow this request to continue.",
        &key[key.len() - 6..],
        emulator.keys.id
    );
    assert_eq!(reply.message(), expected);
    assert_eq!(
        emulator.get("/v1/disputes", &key).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_guide_key_reads_every_guide_resource_but_not_customers() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.restricted.clone();
    for path in [
        "/v1/balance",
        "/v1/balance_transactions?limit=1&expand[]=data.source",
        "/v1/charges?limit=1",
        "/v1/refunds?limit=1",
        "/v1/disputes?limit=1",
        "/v1/events?limit=1",
        "/v1/files?limit=1",
        "/v1/payment_intents?limit=1",
        "/v1/payment_methods?limit=1",
        "/v1/payouts?limit=1",
        "/v1/products?limit=1",
        "/v1/setup_intents?limit=1",
        "/v1/credit_notes?limit=1",
        "/v1/subscriptions?limit=1&status=all",
        "/v1/reporting/report_types",
        "/v1/reporting/report_runs?limit=1",
        "/v1/webhook_endpoints?limit=1",
    ] {
        let reply = emulator.get(path, &key).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let reply = emulator.get("/v1/customers?limit=1", &key).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.message().ends_with(
        "Having the 'rak_customer_read' permission would allow this request to continue."
    ));
    let reply = emulator.get("/v1/account", &key).await;
    assert!(
        reply.message().contains("'rak_connected_account_read'"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn expanding_balance_transaction_sources_needs_its_own_permission() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.restricted_key("test", &["balance_read"]).await;
    assert_eq!(
        emulator
            .get("/v1/balance_transactions?limit=3", &key)
            .await
            .status,
        StatusCode::OK
    );
    for path in [
        "/v1/balance_transactions?limit=3&expand[]=data.source",
        "/v1/balance_transactions?limit=3&expand%5B0%5D=data.source",
    ] {
        let reply = emulator.get(path, &key).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            reply
                .message()
                .contains("'rak_balance_transaction_source_read'")
        );
    }
}

#[tokio::test]
async fn permission_is_checked_before_parameters_and_lookups() {
    let emulator = TestEmulator::start(small_config()).await;
    let without = emulator.restricted_key("test", &["charge_read"]).await;
    let with = emulator
        .restricted_key("test", &["webhook_write", "token_read", "source_read"])
        .await;

    let reply = emulator
        .post_form("/v1/webhook_endpoints", &without, &[])
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.message().contains("'rak_webhook_write'"));
    let reply = emulator
        .post_form("/v1/webhook_endpoints", &with, &[])
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"]["code"], "parameter_missing");
    assert_eq!(reply.body["error"]["param"], "url");
    assert_eq!(reply.message(), "Missing required param: url.");

    for (path, permission, noun) in [
        ("/v1/tokens/tok_doesnotexist", "token_read", "token"),
        ("/v1/sources/src_doesnotexist", "source_read", "source"),
    ] {
        let reply = emulator.get(path, &without).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(reply.message().contains(&format!("'rak_{permission}'")));
        let reply = emulator.get(path, &with).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["error"]["code"], "resource_missing");
        let id = path.rsplit('/').next().unwrap();
        assert_eq!(reply.message(), format!("No such {noun}: '{id}'"));
    }
}

#[tokio::test]
async fn implied_permissions_are_honoured() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator
        .restricted_key("test", &["payment_intent_read", "transfer_read"])
        .await;
    assert_eq!(
        emulator.get("/v1/products?limit=1", &key).await.status,
        StatusCode::OK
    );
    assert_eq!(
        emulator.get("/v1/payouts?limit=1", &key).await.status,
        StatusCode::OK
    );
    assert_eq!(
        emulator.get("/v1/charges?limit=1", &key).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn bad_parameters_get_stripes_400_codes() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    let check =
        |query: &'static str, code: &'static str, param: &'static str, message: &'static str| {
            let emulator = &emulator;
            let key = &key;
            async move {
                let reply = emulator.get(&format!("/v1/charges?{query}"), key).await;
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
                assert_eq!(reply.body["error"]["code"], code, "{query}");
                assert_eq!(reply.body["error"]["param"], param, "{query}");
                assert_eq!(reply.message(), message, "{query}");
            }
        };
    check(
        "foo=1",
        "parameter_unknown",
        "foo",
        "Received unknown parameter: foo",
    )
    .await;
    check(
        "limit=abc",
        "parameter_invalid_integer",
        "limit",
        "Invalid integer: abc",
    )
    .await;
    check(
        "limit=0",
        "parameter_invalid_integer",
        "limit",
        "This value must be greater than or equal to 1.",
    )
    .await;
    check(
        "limit=101",
        "parameter_invalid_integer",
        "limit",
        "This value must be less than or equal to 100.",
    )
    .await;
    check(
        "created[gte]=soon",
        "parameter_invalid_integer",
        "created[gte]",
        "Invalid integer: soon",
    )
    .await;
    check(
        "starting_after=ch_nope",
        "resource_missing",
        "starting_after",
        "No such charge: 'ch_nope'",
    )
    .await;

    let reply = emulator.get("/v1/charges/ch_doesnotexist", &key).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["error"]["code"], "resource_missing");
    assert_eq!(reply.body["error"]["param"], "id");
    assert_eq!(reply.message(), "No such charge: 'ch_doesnotexist'");
}

#[tokio::test]
async fn unknown_endpoints_get_unrecognized_request_url() {
    let emulator = TestEmulator::start(small_config()).await;
    let key = emulator.keys.test.secret.clone();
    for (method, path) in [
        ("GET", "/v1/skus"),
        ("GET", "/v1/balance_transfers"),
        ("POST", "/v1/charges"),
    ] {
        let request = emulator
            .http
            .request(method.parse().unwrap(), format!("{}{path}", emulator.base))
            .bearer_auth(&key);
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": {
                "message": format!("Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."),
                "type": "invalid_request_error"
            }})
        );
    }
}

#[tokio::test]
async fn basic_auth_works_and_the_requested_version_is_echoed() {
    let emulator = TestEmulator::start(small_config()).await;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", emulator.keys.test.secret));
    let response = emulator
        .http
        .get(format!("{}/v1/charges?limit=1", emulator.base))
        .header("Authorization", format!("Basic {credentials}"))
        .header("Stripe-Version", "2024-04-10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["stripe-version"], "2024-04-10");
}

#[tokio::test]
async fn live_keys_see_livemode_objects() {
    let emulator = TestEmulator::start(small_config()).await;
    let reply = emulator
        .get("/v1/charges?limit=2", &emulator.keys.live.secret)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["data"][0]["livemode"], true);
    let reply = emulator
        .get("/v1/charges?limit=2", &emulator.keys.test.secret)
        .await;
    assert_eq!(reply.body["data"][0]["livemode"], false);
}
