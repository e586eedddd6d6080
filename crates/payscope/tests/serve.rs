//! `payscope serve`: health reporting, a graceful stop on SIGTERM that reaches the server and the background
//! runtime, and the binary's background runtime importing and applying webhooks on SQLite and PostgreSQL.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use payscope::connections::ConnectionService;
use payscope::crypto::{MasterKey, api_token_digest, new_api_token};
use payscope::store::Store;
use payscope::stripe_access::StripeAccess;
use payscope::web::{AppState, serve};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use support::live::{LiveStripe, until_equal};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn healthz_answers_200_while_the_store_is_reachable_and_503_when_it_is_not() {
    let db = support::sqlite_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let key = MasterKey::from_bytes(&[1; 32]);
    let access = StripeAccess::new("http://127.0.0.1:9", 80);
    let connections = ConnectionService::new(db.store.clone(), access, key.clone(), None, false);
    let state = AppState::new(db.store.clone(), key, connections);
    let server = tokio::spawn(serve(listener, state, shutdown.clone()));

    let ok = reqwest::get(&url).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    db.store.close().await;
    let down = reqwest::get(&url).await.unwrap();
    assert_eq!(down.status(), 503);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once shutdown is signalled")
        .unwrap()
        .unwrap();
}

#[test]
fn the_binary_serves_healthz_and_exits_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_payscope"))
        .arg("serve")
        .env("PAYSCOPE_LISTEN", format!("127.0.0.1:{port}"))
        .env("PAYSCOPE_DATA_DIR", data.path())
        .env_remove("PAYSCOPE_DATABASE_URL")
        .env_remove("PAYSCOPE_MASTER_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(_) => break healthz_status(port),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("payscope serve never listened: {e}"),
        }
    };
    assert_eq!(status, 200);
    assert!(
        data.path().join("payscope.db").exists(),
        "the default SQLite file is created in the data dir"
    );
    assert!(
        data.path().join("master.key").exists(),
        "a master key file is generated on first run"
    );

    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "payscope did not stop within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

fn healthz_status(port: u16) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_binary_imports_a_new_connection_and_applies_its_webhooks_then_stops_cleanly()
{
    imports_and_applies_webhooks(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_binary_imports_a_new_connection_and_applies_its_webhooks_then_stops_cleanly()
 {
    if let Some(url) = support::postgres::fresh_database_url().await {
        imports_and_applies_webhooks(Some(url)).await;
    }
}

/// How long the import and the webhooks may take to reach the store here (a loaded CI machine); the product targets
/// are measured by `payscope bench`.
const SETTLE: Duration = Duration::from_secs(60);

/// Runs the real `payscope serve` (on `database_url`, else its default SQLite file) against the emulator, adds a
/// connection through its JSON API and checks that the process itself imports it and applies the webhooks of new
/// activity — the work of its background runtime — and that SIGTERM stops it cleanly.
async fn imports_and_applies_webhooks(database_url: Option<String>) {
    let stripe = LiveStripe::start(120).await;
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app_url = format!("http://127.0.0.1:{port}");
    let log = data.path().join("serve.log");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_payscope"));
    command
        .arg("serve")
        .env("PAYSCOPE_LISTEN", format!("127.0.0.1:{port}"))
        .env("PAYSCOPE_DATA_DIR", data.path())
        .env("PAYSCOPE_PUBLIC_URL", &app_url)
        .env("PAYSCOPE_STRIPE_API_BASE", &stripe.url)
        .env("PAYSCOPE_LOG", "info,sqlx=warn")
        .env_remove("PAYSCOPE_MASTER_KEY")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true);
    let url = match &database_url {
        Some(url) => {
            command.env("PAYSCOPE_DATABASE_URL", url);
            url.clone()
        }
        None => {
            command.env_remove("PAYSCOPE_DATABASE_URL");
            format!("sqlite://{}", data.path().join("payscope.db").display())
        }
    };
    let mut child = command.spawn().unwrap();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{app_url}/healthz")).send().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "payscope serve never listened: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The test reads the same database; the process did the migrations before it listened.
    let store = Store::open(&url).await.unwrap();
    let account_id = store.ensure_account("default").await.unwrap().id;
    let token = new_api_token();
    store
        .create_api_token(
            &account_id,
            "tests",
            &api_token_digest(token.expose_secret()),
        )
        .await
        .unwrap();
    let added: Value = http
        .post(format!("{app_url}/api/v1/connections"))
        .bearer_auth(token.expose_secret())
        .json(&json!({"name": "Served shop", "processor": "stripe",
                      "api_key": stripe.accounts[0].test.restricted, "replace_webhook": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = added["connection"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the connection is added: {added}"));
    let connection = store.connection(&account_id, id).await.unwrap().unwrap();

    // The import the add queued is run by the process (nothing else imports here).
    let deadline = Instant::now() + SETTLE;
    loop {
        let jobs = store.import_jobs(&account_id, id, 1).await.unwrap();
        if jobs.first().is_some_and(|j| j.job.status == "done") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the serving process did not finish the import: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    until_equal(&store, &connection, &stripe, 0, SETTLE).await;

    // New activity reaches the process as signed webhooks, which it keeps and applies.
    stripe.activity(0, 15).await;
    until_equal(&store, &connection, &stripe, 0, SETTLE).await;
    let delivered = stripe
        .deliveries(0)
        .await
        .iter()
        .filter(|d| d["succeeded"] == json!(true))
        .filter(|d| d["url"].as_str().unwrap_or_default().ends_with(id))
        .count();
    assert!(
        delivered >= 15,
        "webhooks carried the activity ({delivered} delivered)"
    );
    let (pending, _) = store.unapplied_inbox_events(&account_id, id).await.unwrap();
    assert_eq!(pending, 0, "every delivered event is applied");
    store.close().await;

    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().unwrap().to_string())
        .status()
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("payscope stops within 15 s of SIGTERM")
        .unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        exit.success(),
        "graceful shutdown exits 0, got {exit:?}: {logged}"
    );
    assert!(!logged.contains("panicked"), "{logged}");
    assert!(logged.contains("payscope stopped"), "{logged}");
}
