//! The `stripe-emulator` binary: it prints the account id and ready keys, and those keys work against the
//! address it prints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Ends the emulator process however the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_its_address_account_and_keys_that_work() {
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_stripe-emulator"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--seed",
                "7",
                "--charges",
                "120",
                "--days",
                "15",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("control API");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .await
    .unwrap();

    let base = lines[0].rsplit(' ').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{lines:?}");
    let account = lines[1].strip_prefix("account ").unwrap();
    assert!(account.starts_with("acct_"), "{lines:?}");
    let key_of = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|rest| rest.split_whitespace().next().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {label} line in {lines:?}"))
    };
    let restricted = key_of("test restricted");
    assert!(restricted.starts_with("rk_test_"));
    assert!(key_of("live secret").starts_with("sk_live_"));
    assert!(key_of("test publishable").starts_with("pk_test_"));

    let response = reqwest::Client::new()
        .get(format!("{base}/v1/charges?limit=100"))
        .bearer_auth(&restricted)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
}
