//! `TestApp`: a real payscope server on 127.0.0.1:0 over a temp SQLite file, with the Stripe emulator in-process as
//! Stripe, and methods named for what a user does (add a connection over the API, run the CLI, …).

use std::process::{Output, Stdio};

use tokio::io::AsyncWriteExt;

use payscope::connections::ConnectionService;
use payscope::crypto::{MasterKey, api_token_digest, new_api_token};
use payscope::stripe_access::StripeAccess;
use payscope::web::{AppState, serve};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;
use stripe_emulator::{AccountKeys, Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

use super::{SqliteStore, sqlite_store};

/// The public URL test apps register webhooks under (nothing listens there; deliveries fail harmlessly).
pub const PUBLIC_URL: &str = "https://payscope.test";

/// How to start a test app.
pub struct Options {
    /// `PAYSCOPE_PUBLIC_URL`; `None` is polling mode.
    pub public_url: Option<&'static str>,
    /// `PAYSCOPE_ALLOW_SECRET_KEYS`.
    pub allow_secret_keys: bool,
    /// Injected emulator latency per request.
    pub latency_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            public_url: Some(PUBLIC_URL),
            allow_secret_keys: false,
            latency_ms: 0,
        }
    }
}

/// A running payscope with its emulator.
pub struct TestApp {
    /// payscope's base URL.
    pub url: String,
    /// The emulator's base URL.
    pub stripe_url: String,
    /// The emulated Stripe accounts (two).
    pub stripe_accounts: Vec<AccountKeys>,
    /// The database.
    pub db: SqliteStore,
    /// The default account's id.
    pub account_id: String,
    /// An API token of the default account.
    pub token: String,
    master_key_hex: String,
    options: Options,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// Starts an app with a public URL.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    /// Starts an app as `options` say.
    pub async fn spawn_with(options: Options) -> TestApp {
        let shutdown = CancellationToken::new();
        let emulator = Emulator::new(EmulatorConfig {
            accounts: 2,
            charges: 200,
            days: 30,
            latency_ms: options.latency_ms,
            ..EmulatorConfig::default()
        });
        let stripe_accounts = emulator.accounts();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stripe_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(stripe_emulator::serve(listener, emulator, shutdown.clone()));

        let db = sqlite_store().await;
        let account_id = db.store.ensure_account("default").await.unwrap().id;
        let master_key_hex = "11".repeat(32);
        let master_key = MasterKey::parse(&master_key_hex.clone().into()).unwrap();
        let access = StripeAccess::new(&stripe_url, 80);
        let public_url = options.public_url.map(|u| u.parse().unwrap());
        let connections = ConnectionService::new(
            db.store.clone(),
            access,
            master_key.clone(),
            public_url,
            options.allow_secret_keys,
        );
        let token = new_api_token();
        db.store
            .create_api_token(
                &account_id,
                "tests",
                &api_token_digest(token.expose_secret()),
            )
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(db.store.clone(), master_key, connections);
        tokio::spawn(serve(listener, state, shutdown.clone()));
        TestApp {
            url,
            stripe_url,
            stripe_accounts,
            db,
            account_id,
            token: token.expose_secret().to_owned(),
            master_key_hex,
            options,
            http: reqwest::Client::new(),
            shutdown,
        }
    }

    /// The guide's restricted test key of emulated account `i`.
    pub fn guide_key(&self, i: usize) -> String {
        self.stripe_accounts[i].test.restricted.clone()
    }

    /// A new restricted key of emulated account `i` with exactly `permissions`.
    pub async fn mint_key(&self, i: usize, mode: &str, permissions: &[&str]) -> String {
        let response: Value = self
            .http
            .post(format!(
                "{}/_emulator/accounts/{}/keys",
                self.stripe_url, self.stripe_accounts[i].id
            ))
            .json(&serde_json::json!({"mode": mode, "permissions": permissions}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["key"]
            .as_str()
            .expect("the emulator minted a key")
            .to_owned()
    }

    /// The guide's permission set without `left_out`.
    pub async fn guide_key_without(&self, i: usize, left_out: &[&str]) -> String {
        let permissions: Vec<&str> = stripe_emulator::GUIDE_PERMISSIONS
            .iter()
            .copied()
            .filter(|p| !left_out.contains(p))
            .collect();
        self.mint_key(i, "test", &permissions).await
    }

    /// Makes `key` expired on the emulator.
    pub async fn expire_key(&self, key: &str) {
        let status = self
            .http
            .post(format!("{}/_emulator/keys/{key}/expire", self.stripe_url))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "expiring a key: {status}");
    }

    /// A Stripe API call on emulated account `i` with its secret test key, as the merchant's own tools would.
    pub async fn stripe(
        &self,
        i: usize,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> Value {
        self.http
            .request(method, format!("{}{path}", self.stripe_url))
            .bearer_auth(&self.stripe_accounts[i].test.secret)
            .form(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The webhook endpoints on emulated account `i`.
    pub async fn stripe_endpoints(&self, i: usize) -> Vec<Value> {
        let list = self
            .stripe(i, Method::GET, "/v1/webhook_endpoints?limit=100", &[])
            .await;
        list["data"].as_array().cloned().unwrap_or_default()
    }

    /// A JSON API call with the default account's token.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api_as(&self.token, method, path, body).await
    }

    /// A JSON API call with `token`.
    pub async fn api_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Adds a connection through the JSON API.
    pub async fn add_connection(
        &self,
        name: &str,
        key: &str,
        replace_webhook: bool,
    ) -> (u16, Value) {
        let body = serde_json::json!({"name": name, "processor": "stripe", "api_key": key, "replace_webhook": replace_webhook});
        self.api(Method::POST, "/api/v1/connections", Some(body))
            .await
    }

    /// Runs the `payscope` binary against this app's database and emulator, feeding `stdin`. Async, so the
    /// in-process emulator keeps serving while the child runs.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_payscope"));
        command
            .args(args)
            .env(
                "PAYSCOPE_DATABASE_URL",
                format!("sqlite://{}", self.db.path().display()),
            )
            .env("PAYSCOPE_DATA_DIR", self.db.dir.path())
            .env("PAYSCOPE_MASTER_KEY", &self.master_key_hex)
            .env("PAYSCOPE_STRIPE_API_BASE", &self.stripe_url)
            .env("PAYSCOPE_LOG", "warn")
            .env_remove("PAYSCOPE_PUBLIC_URL")
            .env_remove("PAYSCOPE_ALLOW_SECRET_KEYS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(public_url) = self.options.public_url {
            command.env("PAYSCOPE_PUBLIC_URL", public_url);
        }
        if self.options.allow_secret_keys {
            command.env("PAYSCOPE_ALLOW_SECRET_KEYS", "true");
        }
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        child.wait_with_output().await.unwrap()
    }

    /// Runs the CLI with `--json` and parses its standard output.
    pub async fn cli_json(&self, args: &[&str], stdin: &str) -> (Option<i32>, Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let output = self.cli(&all, stdin).await;
        let body = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "not json: {}\nstderr: {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), body)
    }
}
