//! `payscope connections …` end to end: the real binary, against the emulator, on the test app's database.

mod support;

use reqwest::Method;
use serde_json::Value;
use support::app::{Options, TestApp};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test]
async fn add_reads_the_key_from_stdin_or_a_named_variable_and_never_from_arguments() {
    let app = TestApp::spawn().await;
    let key = app.guide_key(0);
    let (exit, body) = app
        .cli_json(
            &["connections", "add", "--name", "EU Stripe"],
            &format!("{key}\n"),
        )
        .await;
    assert_eq!(exit, Some(0), "{body}");
    let id = body["connection"]["id"].as_str().unwrap();
    assert!(id.starts_with("con_"));
    assert_eq!(body["connection"]["status"], "importing");
    assert_eq!(app.stripe_endpoints(0).await.len(), 1);

    let output = app.cli(&["connections", "list"], "").await;
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        listing.contains("EU Stripe") && listing.contains(id),
        "{listing}"
    );
    assert!(!listing.contains(&key), "the key is masked");

    let (exit, shown) = app
        .cli_json(&["connections", "show", "EU Stripe"], "")
        .await;
    assert_eq!(
        (exit, &shown["connection"]["id"]),
        (Some(0), &Value::from(id))
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_payscope"))
        .args(["connections", "add", "--name", "x", "--api-key", &key])
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "a key as an argument is not accepted"
    );
}

#[tokio::test]
async fn add_with_an_environment_variable_works_and_refusals_exit_non_zero_with_the_api_codes() {
    let app = TestApp::spawn().await;
    let missing = app.guide_key_without(0, &["event_read"]).await;
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "EU"], &missing)
        .await;
    assert_eq!(
        (exit, code(&body)),
        (Some(2), "missing_permissions"),
        "{body}"
    );
    assert_eq!(
        body["error"]["missing_permissions"][0]["permission"],
        "rak_event_read"
    );

    let output = app
        .cli(&["connections", "add", "--name", "EU"], &missing)
        .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Events (rak_event_read)") && stderr.contains("dashboard.stripe.com"),
        "{stderr}"
    );

    let publishable = app.stripe_accounts[0].test.publishable.clone();
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "EU"], &publishable)
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "publishable_key"));
    let expired = app
        .mint_key(0, "test", stripe_emulator::GUIDE_PERMISSIONS)
        .await;
    app.expire_key(&expired).await;
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "EU"], &expired)
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "expired_api_key"));
    let (exit, body) = app
        .cli_json(
            &["connections", "add", "--name", "EU"],
            "rk_test_bogusbogusbogusbogus0000",
        )
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "invalid_api_key"));
    let secret = app.stripe_accounts[0].test.secret.clone();
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "EU"], &secret)
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "secret_key_not_allowed"));

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_payscope"))
        .args([
            "connections",
            "add",
            "--name",
            "EU",
            "--api-key-env",
            "PAYSCOPE_TEST_KEY",
            "--json",
        ])
        .env(
            "PAYSCOPE_DATABASE_URL",
            format!("sqlite://{}", app.db.path().display()),
        )
        .env("PAYSCOPE_DATA_DIR", app.db.dir.path())
        .env("PAYSCOPE_MASTER_KEY", "11".repeat(32))
        .env("PAYSCOPE_STRIPE_API_BASE", &app.stripe_url)
        .env("PAYSCOPE_PUBLIC_URL", support::app::PUBLIC_URL)
        .env("PAYSCOPE_TEST_KEY", app.guide_key(0))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        app.db
            .store
            .connections(&app.account_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_cli_reports_a_webhook_conflict_and_replaces_only_when_asked() {
    let app = TestApp::spawn().await;
    let key = app.guide_key(0);
    assert_eq!(
        app.cli_json(&["connections", "add", "--name", "Old"], &key)
            .await
            .0,
        Some(0)
    );
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "New"], &key)
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "webhook_conflict"), "{body}");
    let old = body["error"]["endpoint"]["id"].as_str().unwrap().to_owned();
    let (exit, body) = app
        .cli_json(
            &["connections", "add", "--name", "New", "--replace-webhook"],
            &key,
        )
        .await;
    assert_eq!(exit, Some(0), "{body}");
    assert_eq!(body["replaced_webhook_endpoint_id"], old.as_str());
    assert_eq!(app.stripe_endpoints(0).await.len(), 1);
}

#[tokio::test]
async fn the_cli_refuses_an_account_full_of_endpoints() {
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
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "EU"], &app.guide_key(0))
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "webhook_limit"));
}

#[tokio::test]
async fn the_cli_adds_in_polling_mode_without_a_public_url() {
    let app = TestApp::spawn_with(Options {
        public_url: None,
        ..Options::default()
    })
    .await;
    let (exit, body) = app
        .cli_json(&["connections", "add", "--name", "EU"], &app.guide_key(0))
        .await;
    assert_eq!(exit, Some(0), "{body}");
    assert_eq!(body["connection"]["sync_mode"], "polling");
    assert!(app.stripe_endpoints(0).await.is_empty());
}

#[tokio::test]
async fn the_cli_renames_rotates_and_removes() {
    let app = TestApp::spawn().await;
    let (_, added) = app
        .cli_json(&["connections", "add", "--name", "EU"], &app.guide_key(0))
        .await;
    let id = added["connection"]["id"].as_str().unwrap().to_owned();

    let (exit, renamed) = app
        .cli_json(&["connections", "rename", &id, "Europe"], "")
        .await;
    assert_eq!((exit, &renamed["name"]), (Some(0), &Value::from("Europe")));

    let (exit, body) = app
        .cli_json(&["connections", "rotate-key", "Europe"], &app.guide_key(1))
        .await;
    assert_eq!((exit, code(&body)), (Some(2), "different_account"));
    let fresh = app
        .mint_key(0, "test", stripe_emulator::GUIDE_PERMISSIONS)
        .await;
    let (exit, body) = app
        .cli_json(&["connections", "rotate-key", "Europe"], &fresh)
        .await;
    assert_eq!(exit, Some(0), "{body}");
    assert!(
        body["api_key"]
            .as_str()
            .unwrap()
            .ends_with(&fresh[fresh.len() - 4..])
    );

    let (exit, body) = app
        .cli_json(&["connections", "remove", "Europe", "--delete-data"], "")
        .await;
    assert_eq!(
        (exit, &body["webhook_deleted"]),
        (Some(0), &Value::from(true)),
        "{body}"
    );
    assert!(app.stripe_endpoints(0).await.is_empty());
    let (exit, body) = app.cli_json(&["connections", "show", &id], "").await;
    assert_eq!((exit, code(&body)), (Some(2), "not_found"));
}
