//! `payscope demo` end to end on a small history: it prints where and how to sign in, adds two connections through
//! the real add flow, imports them, and serves a populated app.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::web::Browser;
use tokio::io::{AsyncBufReadExt, BufReader};

fn after<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    line.trim().strip_prefix(label).map(str::trim)
}

#[tokio::test]
async fn the_demo_prints_its_sign_in_imports_two_connections_and_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_payscope"))
        .args([
            "demo",
            "--charges",
            "1500",
            "--days",
            "60",
            "--listen",
            "127.0.0.1:0",
            "--demo-dir",
        ])
        .arg(&demo_dir)
        .env("PAYSCOPE_LOG", "warn")
        .env_remove("PAYSCOPE_DATABASE_URL")
        .env_remove("PAYSCOPE_PUBLIC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut email, mut password) = (None, None, None);
    let mut ready = false;
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = after(&line, "payscope demo is running at") {
                url = Some(rest.to_owned());
            } else if let Some(rest) = after(&line, "email:") {
                email = Some(rest.to_owned());
            } else if let Some(rest) = after(&line, "password:") {
                password = Some(rest.to_owned());
            } else if line.contains("import complete") {
                break;
            } else if line.contains("dashboard ready") {
                ready = true;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(240), read)
        .await
        .expect("the demo finishes importing a small history within 4 minutes");
    assert!(ready, "the demo reports when the dashboard is ready");
    let url = url.expect("the demo prints its url");
    let mut browser = Browser::new(&url);
    let page = browser
        .sign_in(&email.expect("an email"), &password.expect("a password"))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let list = browser.get("/connections").await;
    assert!(list.body.contains("Stripe EU"), "{}", list.body);
    assert!(list.body.contains("Stripe US"));
    assert!(
        demo_dir.join("payscope.db").exists(),
        "data stays in the demo directory"
    );
    let overview = browser.get("/dashboards/overview").await;
    assert_eq!(overview.status, 200);
    assert!(
        overview.body.contains("Stripe EU"),
        "charts are labelled with the connection names"
    );
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
