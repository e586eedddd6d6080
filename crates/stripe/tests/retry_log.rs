//! Retry logging over real HTTP: one warning per retry carrying the request id, never the key. Alone in its own test
//! binary because tracing caches per-callsite interest process-wide: another test thread emitting the same warning
//! without a subscriber could make the thread-local capture below miss it.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Reply, ScriptedStripe, init_test_log, test_key};
use stripe::{Client, Params, RetryPolicy};

fn client(server: &ScriptedStripe) -> Client {
    init_test_log();
    Client::builder(test_key())
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(2),
            max_backoff: Duration::from_millis(10),
            max_retry_after: Duration::from_secs(60),
        })
        .build()
        .unwrap()
}

/// A writer that collects log output for assertions.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_retry_is_logged_once_with_the_request_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = ScriptedStripe::start(vec![
        Reply::error(500, None, "boom"),
        Reply::error(429, Some("rate_limit"), "slow"),
        Reply::json(200, "{}"),
    ])
    .await;
    client(&server)
        .get("/v1/charges", &Params::new())
        .await
        .unwrap();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let retries: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("retrying stripe request"))
        .collect();
    assert_eq!(retries.len(), 2, "{log}");
    assert!(retries[0].contains("req_scripted1"), "{log}");
    assert!(retries[1].contains("req_scripted2"), "{log}");
    assert!(
        !log.contains("rk_test_51ScriptedKey0000abcd"),
        "the key never reaches the log"
    );
}
