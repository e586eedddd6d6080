//! A running emulator on 127.0.0.1:0 for integration tests, with helpers named for what a client does.
#![allow(dead_code)] // reason: each test binary uses a different subset of the helpers

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use stripe_emulator::{AccountKeys, Emulator, EmulatorConfig, serve};
use tokio_util::sync::CancellationToken;

/// Quiet unless `TEST_LOG=1`.
pub fn init_logging() {
    if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_test_writer()
            .try_init();
    }
}

/// A small, fast history; rate limits off unless a test is about them.
pub fn small_config() -> EmulatorConfig {
    EmulatorConfig {
        charges: 600,
        days: 60,
        rate_limits: false,
        ..EmulatorConfig::default()
    }
}

/// A response as the tests look at it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// `error.message`.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

/// The emulator under test.
pub struct TestEmulator {
    pub base: String,
    pub emulator: Emulator,
    pub keys: AccountKeys,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestEmulator {
    /// Starts an emulator with `config` and returns once it accepts requests.
    pub async fn start(config: EmulatorConfig) -> TestEmulator {
        init_logging();
        let emulator = tokio::task::spawn_blocking(move || Emulator::new(config))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, emulator.clone(), shutdown.clone()));
        let keys = emulator.accounts().remove(0);
        TestEmulator {
            base,
            emulator,
            keys,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `GET {path}` with `Authorization: Bearer {key}`.
    pub async fn get(&self, path: &str, key: &str) -> Reply {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        Self::reply(response).await
    }

    /// `POST {path}` with a form body.
    pub async fn post_form(&self, path: &str, key: &str, form: &[(&str, &str)]) -> Reply {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .form(form)
            .send()
            .await
            .unwrap();
        Self::reply(response).await
    }

    /// `DELETE {path}`.
    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        Self::reply(response).await
    }

    /// `GET /_emulator{path}`.
    pub async fn control_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/_emulator{path}", self.base))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET /_emulator{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// `POST /_emulator{path}` with a JSON body; returns status and body.
    pub async fn control_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/_emulator{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// A restricted key with exactly `permissions`.
    pub async fn restricted_key(&self, mode: &str, permissions: &[&str]) -> String {
        let (status, body) = self
            .control_post(
                &format!("/accounts/{}/keys", self.keys.id),
                json!({ "mode": mode, "permissions": permissions }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["key"].as_str().unwrap().to_string()
    }

    /// Ground truth of the first account.
    pub async fn truth(&self) -> Value {
        self.control_get(&format!("/accounts/{}/truth", self.keys.id))
            .await
    }

    /// Changes behaviour settings; panics if refused.
    pub async fn settings(&self, patch: Value) {
        let (status, body) = self.control_post("/settings", patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Follows `starting_after` from the newest object and returns every id of the list at `path`.
    pub async fn walk(&self, path: &str, key: &str, query: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}?limit=100{query}");
            if let Some(after) = &cursor {
                url.push_str(&format!("&starting_after={after}"));
            }
            let reply = self.get(&url, key).await;
            assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.body);
            let data = reply.body["data"].as_array().unwrap();
            ids.extend(data.iter().map(|o| o["id"].as_str().unwrap().to_string()));
            if !reply.body["has_more"].as_bool().unwrap() {
                return ids;
            }
            cursor = ids.last().cloned();
        }
    }
}

/// One webhook POST as a receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub signature: String,
    pub body: Bytes,
}

/// A webhook receiver on 127.0.0.1:0 that records every POST and answers with the statuses in `script`
/// (then 200 for ever).
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver; the first `failures` requests get a 500.
    pub async fn start(failures: usize) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let log = Arc::clone(&log);
                async move {
                    let mut log = log.lock().unwrap();
                    log.push(Received {
                        signature: headers
                            .get("stripe-signature")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string(),
                        body,
                    });
                    if log.len() <= failures {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{address}/hook"),
            received,
        }
    }

    /// What was received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "receiver got {} requests, expected at least {n}",
            self.received().len()
        );
    }
}
