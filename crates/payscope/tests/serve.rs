//! `payscope serve`: health reporting, and a graceful stop on SIGTERM that reaches the server.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use payscope::connections::ConnectionService;
use payscope::crypto::MasterKey;
use payscope::stripe_access::StripeAccess;
use payscope::web::{AppState, serve};
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
