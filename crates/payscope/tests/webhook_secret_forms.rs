//! Pasting a webhook signing secret rolled in the Stripe Dashboard, through each door: the JSON API, the connection
//! page (admins only, with CSRF) and `payscope connections set-webhook-secret` (stdin, never argv). The secret is
//! never shown back.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::app::{Options, TestApp};
use support::web::{Browser, create_user};

const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "whsec_Roll3dInTheDashb0ardRoll3dInTheD";

async fn connected(app: &TestApp) -> String {
    let (status, body) = app.add_connection("Shop", &app.guide_key(0), false).await;
    assert_eq!(status, 201, "{body}");
    body["connection"]["id"].as_str().unwrap().to_owned()
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test]
async fn the_api_takes_a_rolled_secret_refuses_malformed_ones_and_never_shows_it() {
    let app = TestApp::spawn().await;
    let id = connected(&app).await;
    let path = format!("/api/v1/connections/{id}/webhook-secret");
    let (status, body) = app
        .api(
            Method::POST,
            &path,
            Some(json!({"secret": "rk_test_notasecret"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "malformed_webhook_secret"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Reveal")
    );
    let (status, body) = app.api(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(status, 400, "{body}");

    let before = app
        .db
        .store
        .connection(&app.account_id, &id)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = app
        .api(Method::POST, &path, Some(json!({ "secret": SECRET })))
        .await;
    assert_eq!((status, &body["id"]), (200, &json!(id)), "{body}");
    assert!(!body.to_string().contains(SECRET));
    let after = app
        .db
        .store
        .connection(&app.account_id, &id)
        .await
        .unwrap()
        .unwrap();
    let sealed = after.webhook_secret_sealed.clone().unwrap();
    assert_ne!(after.webhook_secret_sealed, before.webhook_secret_sealed);
    assert!(!sealed.contains(&SECRET[6..]), "stored sealed");
    let target = app.db.store.webhook_target(&id).await.unwrap().unwrap();
    assert_eq!(
        target.webhook_secrets_sealed,
        [sealed, before.webhook_secret_sealed.unwrap()],
        "the new secret, then the replaced one during its grace period"
    );
    let (status, health) = app
        .api(
            Method::GET,
            &format!("/api/v1/connections/{id}/health"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        health["previous_secret_accepted_until"].is_i64(),
        "{health}"
    );
    assert_eq!(health["signature_refusals"], 0);
    assert!(!health.to_string().contains(SECRET));

    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/connections/con_nope/webhook-secret",
            Some(json!({ "secret": SECRET })),
        )
        .await;
    assert_eq!((status, code(&body)), (404, "not_found"));
}

#[tokio::test]
async fn a_connection_without_a_webhook_has_no_secret_to_set() {
    let app = TestApp::spawn_with(Options {
        public_url: None,
        ..Options::default()
    })
    .await;
    let id = connected(&app).await;
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/connections/{id}/webhook-secret"),
            Some(json!({ "secret": SECRET })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "no_webhook_endpoint"),
        "{body}"
    );
}

#[tokio::test]
async fn only_an_admin_sets_the_secret_on_the_connection_page() {
    let app = TestApp::spawn().await;
    let id = connected(&app).await;
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    let hash = payscope::web::auth::hash_password(PASSWORD).unwrap();
    app.db
        .store
        .create_user(&app.account_id, "bob@example.com", &hash, false)
        .await
        .unwrap();
    let page = format!("/connections/{id}");
    let action = format!("/connections/{id}/webhook-secret");

    let mut bob = Browser::new(&app.url);
    assert_eq!(bob.sign_in("bob@example.com", PASSWORD).await.status, 303);
    assert!(!bob.get(&page).await.body.contains("webhook-secret-form"));
    let refused = bob.submit(&page, &action, &[("secret", SECRET)]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // Deliveries were refused for a bad signature: the page says why and what to do, to members too.
    app.db
        .store
        .record_webhook_signature_refusals(&id, 3, payscope::store::unix_now())
        .await
        .unwrap();
    let warned = bob.get(&page).await;
    assert!(
        warned.body.contains(r#"id="signature-warning""#)
            && warned.body.contains("3 webhook deliveries were refused")
            && warned.body.contains("paste the new one"),
        "{}",
        warned.body
    );

    let mut ann = Browser::new(&app.url);
    assert_eq!(ann.sign_in("ann@example.com", PASSWORD).await.status, 303);
    let shown = ann.get(&page).await;
    assert!(
        shown.body.contains("webhook-secret-form")
            && shown.body.contains("Signing secret → Reveal")
    );
    let no_csrf = ann.post(&action, &[("secret", SECRET)]).await;
    assert_eq!(no_csrf.status, 403);
    let bad = ann
        .submit(&page, &action, &[("secret", "whsec_short")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("not a whole webhook signing secret")
            && !bad.body.contains("whsec_short\"")
    );
    let done = ann.submit(&page, &action, &[("secret", SECRET)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = ann.get(done.location.as_deref().unwrap()).await;
    assert!(after.body.contains("The new signing secret is in use"));
    assert!(!after.body.contains(SECRET));
    assert!(
        !after.body.contains(r#"id="signature-warning""#),
        "the tally starts over with the new secret"
    );
}

#[tokio::test]
async fn the_cli_reads_the_secret_from_stdin_and_show_tells_of_refused_deliveries() {
    let app = TestApp::spawn().await;
    let id = connected(&app).await;
    app.db
        .store
        .record_webhook_signature_refusals(&id, 1, payscope::store::unix_now())
        .await
        .unwrap();
    let shown = app.cli(&["connections", "show", "Shop"], "").await;
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("webhook signatures: 1 webhook delivery was refused")
            && text.contains("set-webhook-secret"),
        "{text}"
    );
    let (code_, body) = app
        .cli_json(
            &["connections", "set-webhook-secret", "Shop"],
            &format!("{SECRET}\n"),
        )
        .await;
    assert_eq!(code_, Some(0), "{body}");
    assert_eq!(body["name"], "Shop");
    assert!(!body.to_string().contains(SECRET));
    let (code_, body) = app
        .cli_json(&["connections", "set-webhook-secret", "Shop"], "whsec_x\n")
        .await;
    assert_eq!((code_, code(&body)), (Some(2), "malformed_webhook_secret"));
    let output = app
        .cli(&["connections", "set-webhook-secret", "Shop"], "")
        .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("standard input"));
}
