//! A scripted stand-in for Stripe over real HTTP on 127.0.0.1:0: answers each request with the next scripted
//! response and records what the client sent, for the faults the emulator cannot script precisely.

#![allow(dead_code)] // reason: each test binary uses a different subset of these helpers

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    /// Stripe's error envelope with the given type, code and message.
    pub fn error(status: u16, code: Option<&str>, message: &str) -> Reply {
        let code = code
            .map(|c| format!(r#","code":"{c}""#))
            .unwrap_or_default();
        Reply::json(
            status,
            &format!(
                r#"{{"error":{{"type":"invalid_request_error","message":"{message}"{code}}}}}"#
            ),
        )
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// What the client sent.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
    /// When it arrived, on tokio's clock (virtual under a paused clock).
    pub at: tokio::time::Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded query (or form body) pairs.
    pub fn pairs(&self, of_body: bool) -> Vec<(String, String)> {
        let text = if of_body {
            self.body.as_str()
        } else {
            self.query.as_deref().unwrap_or("")
        };
        form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect()
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    recorded: Vec<Recorded>,
    counter: u64,
    in_flight: usize,
    max_in_flight: usize,
}

/// The running server.
#[derive(Clone)]
pub struct ScriptedStripe {
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl ScriptedStripe {
    /// Starts a server that answers with `script` in order, then with 500s.
    pub async fn start(script: Vec<Reply>) -> ScriptedStripe {
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            ..State::default()
        }));
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = handler_state.clone();
                async move { answer(state, method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ScriptedStripe { base_url, state }
    }

    /// The most requests that were being answered at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().recorded.clone()
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (reply, request_id) = {
        let mut state = state.lock().unwrap();
        state.recorded.push(Recorded {
            method: method.to_string(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: tokio::time::Instant::now(),
        });
        state.counter += 1;
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        let reply = state
            .script
            .pop_front()
            .unwrap_or_else(|| Reply::error(500, None, "script exhausted"));
        (reply, format!("req_scripted{}", state.counter))
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    state.lock().unwrap().in_flight -= 1;
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap(),
        [
            ("content-type", "application/json".to_owned()),
            ("request-id", request_id),
        ],
        reply.body,
    )
        .into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Logs to the terminal only when TEST_LOG=1, so test output stays quiet by default.
pub fn init_test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("stripe=debug")
            .with_test_writer()
            .try_init();
    }
}

pub fn test_key() -> stripe::ApiKey {
    stripe::ApiKey::parse("rk_test_51ScriptedKey0000abcd").unwrap()
}
