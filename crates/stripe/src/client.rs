//! The HTTP client: authentication, the pinned API version, idempotency keys, timeouts, rate limiting and retries
//! around every request.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::API_VERSION;
use crate::error::Error;
use crate::form::Params;
use crate::key::{ApiKey, Mode};
use crate::limiter::AccountLimiter;
use crate::priority::Priority;
use crate::retry::{Failure, RetryPolicy, parse_retry_after, with_retries};

/// Stripe's API address; tests and the demo point the client at the emulator instead.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";
/// How long to wait for a TCP/TLS connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one attempt may take in total; Stripe's SDKs use 80 s, which is far too patient for an import whose
/// list pages normally arrive in under a second.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Identifies payscope's client in Stripe's request logs.
const USER_AGENT: &str = concat!("payscope-stripe/", env!("CARGO_PKG_VERSION"));

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The base URL is not an `http://` or `https://` address.
    #[error("the stripe base url {0:?} must start with http:// or https://")]
    BaseUrl(String),
    /// The HTTP stack could not be initialised (e.g. no TLS backend).
    #[error("the http client could not be created: {0}")]
    Http(#[from] reqwest::Error),
}

/// Settings for a [`Client`]; start from [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    key: ApiKey,
    base_url: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    limiter: Option<AccountLimiter>,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// Where Stripe is, e.g. the emulator's `http://127.0.0.1:PORT`; default [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The connect timeout; default [`DEFAULT_CONNECT_TIMEOUT`]. Ignored when [`ClientBuilder::http_client`] is
    /// given, because a reqwest client fixes it at construction.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The timeout of one attempt, headers and body; default [`DEFAULT_REQUEST_TIMEOUT`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The retry policy; default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The account's shared limiter. Without one the client gets a private limiter with the default budgets for
    /// its key's mode, which is only right when it is the sole client for that account.
    pub fn limiter(mut self, limiter: AccountLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// A reqwest client to share a connection pool between clients for many accounts.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(BuildError::BaseUrl(self.base_url));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()?,
        };
        let limiter = self
            .limiter
            .unwrap_or_else(|| AccountLimiter::for_mode(self.key.mode()));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                key: self.key,
                base_url,
                request_timeout: self.request_timeout,
                retry: self.retry,
                limiter,
            }),
            priority: Priority::default(),
        })
    }
}

/// A Stripe API client for one key. Cheap to clone (clones share the connection pool and the limiter) and safe to
/// use from many tasks at once: nothing in it serialises requests.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
    /// Where this handle's requests stand in line for the account's global budget.
    priority: Priority,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    key: ApiKey,
    base_url: String,
    request_timeout: Duration,
    retry: RetryPolicy,
    limiter: AccountLimiter,
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Stripe's `Request-Id`, for logs and support.
    pub request_id: Option<String>,
    /// The `Stripe-Version` Stripe rendered the answer with.
    pub stripe_version: Option<String>,
    /// The JSON body exactly as received, so it can be stored losslessly.
    pub body: String,
}

impl Response {
    /// Parses the body; `what` names the expected shape in the error.
    pub fn json<T: DeserializeOwned>(&self, what: &'static str) -> Result<T, Error> {
        serde_json::from_str(&self.body).map_err(|source| Error::Decode {
            what,
            source,
            request_id: self.request_id.clone(),
        })
    }
}

impl Client {
    /// A builder with the defaults for `key`.
    pub fn builder(key: ApiKey) -> ClientBuilder {
        ClientBuilder {
            key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
            limiter: None,
            http: None,
        }
    }

    /// The key this client sends.
    pub fn key(&self) -> &ApiKey {
        &self.inner.key
    }

    /// The key's mode.
    pub fn mode(&self) -> Mode {
        self.inner.key.mode()
    }

    /// A handle on the same client whose requests wait for the account's global budget at `priority` (the
    /// default is [`Priority::Interactive`]): background work says it can wait, so what a person waits on does not.
    pub fn with_priority(&self, priority: Priority) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            priority,
        }
    }

    /// The limiter this client draws from (clone it to share the budget with another client).
    pub fn limiter(&self) -> &AccountLimiter {
        &self.inner.limiter
    }

    /// `GET path?query`, e.g. `client.get("/v1/balance", &Params::new())`.
    pub async fn get(&self, path: &str, query: &Params) -> Result<Response, Error> {
        self.send(Method::GET, path, query, None).await
    }

    /// `GET` and parse the JSON body.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Params,
        what: &'static str,
    ) -> Result<T, Error> {
        self.get(path, query).await?.json(what)
    }

    /// `POST` a form with a fresh `Idempotency-Key`, kept across this call's retries.
    pub async fn post(&self, path: &str, form: &Params) -> Result<Response, Error> {
        let key = new_idempotency_key();
        self.send(Method::POST, path, form, Some(&key)).await
    }

    /// `POST` a form with the caller's `Idempotency-Key` (at most 255 characters), so a retry after a crash can reuse
    /// the key and get the first result back instead of a duplicate.
    pub async fn post_idempotent(
        &self,
        path: &str,
        form: &Params,
        idempotency_key: &str,
    ) -> Result<Response, Error> {
        self.send(Method::POST, path, form, Some(idempotency_key))
            .await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Response, Error> {
        self.send(Method::DELETE, path, &Params::new(), None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        params: &Params,
        idempotency_key: Option<&str>,
    ) -> Result<Response, Error> {
        let inner = &*self.inner;
        let encoded = params.encode();
        let is_post = method == Method::POST;
        let url = if is_post || encoded.is_empty() {
            format!("{}{}", inner.base_url, path)
        } else {
            format!("{}{}?{}", inner.base_url, path, encoded)
        };
        let label = format!("{method} {path}");
        with_retries(&inner.retry, &label, |_attempt| {
            let method = method.clone();
            let (url, encoded) = (&url, &encoded);
            async move {
                inner
                    .limiter
                    .until_ready_with(method.as_str(), path, self.priority)
                    .await;
                let mut request = inner
                    .http
                    .request(method.clone(), url)
                    .bearer_auth(inner.key.expose_secret())
                    .header("Stripe-Version", API_VERSION)
                    // Per request rather than on the reqwest client, so a shared client passed in keeps it too.
                    .header("User-Agent", USER_AGENT)
                    .timeout(inner.request_timeout);
                if is_post {
                    request = request
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(encoded.clone());
                }
                if let Some(key) = idempotency_key {
                    request = request.header("Idempotency-Key", key);
                }
                let response = request.send().await.map_err(transport_error)?;
                let response = read(response).await?;
                tracing::debug!(%method, path, status = response.status, request_id = ?response.request_id, "stripe answered");
                Ok(response)
            }
        })
        .await
    }
}

/// Reads a response: 2xx becomes a [`Response`], anything else a [`Failure`] with its retry hints.
async fn read(response: reqwest::Response) -> Result<Response, Failure> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(transport_error)?;
    let request_id = header(&headers, "request-id");
    if (200..300).contains(&status) {
        return Ok(Response {
            status,
            request_id,
            stripe_version: header(&headers, "stripe-version"),
            body,
        });
    }
    let reason = header(&headers, "stripe-rate-limited-reason");
    Err(Failure {
        error: Error::from_response(status, request_id, reason.as_deref(), &body),
        retry_after: header(&headers, "retry-after").and_then(|v| parse_retry_after(&v)),
        should_retry: header(&headers, "stripe-should-retry").and_then(|v| match v.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn transport_error(source: reqwest::Error) -> Error {
    if source.is_timeout() {
        Error::Timeout { source }
    } else {
        Error::Network { source }
    }
}

/// A random key unique enough that two payscope POSTs never collide (128 bits).
fn new_idempotency_key() -> String {
    format!("payscope-{:032x}", rand::random::<u128>())
}
