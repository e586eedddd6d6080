//! A scripted browser for the web shell's tests: plain HTTP with its own cookie jar, no redirects followed (so tests
//! see every 303), and helpers for what a person does on the pages (sign in, fill a form with the page's CSRF token).

use std::collections::BTreeMap;

use payscope::store::{Store, User};
use payscope::web::auth::hash_password;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// One page load or form post as the browser saw it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// Every `Set-Cookie` header, verbatim.
    pub set_cookies: Vec<String>,
    /// `Cache-Control`, for assets.
    pub cache_control: Option<String>,
    /// The body.
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field on the page.
    pub fn csrf(&self) -> String {
        field_value(&self.body, "csrf").unwrap_or_else(|| panic!("no csrf field on: {}", self.body))
    }
}

/// The `value` of the first input named `name` in `html`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The text between `start` and the next `end` in `html`.
pub fn field_between(html: &str, start: &str, end: &str) -> Option<String> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)?;
    Some(html[from..from + to].to_owned())
}

/// A browser with its own cookies.
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A fresh browser (no cookies) pointed at `base`.
    pub fn new(base: &str) -> Self {
        Browser {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for cookie in &set_cookies {
            let first = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = first.split_once('=') {
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Page {
            status,
            location: headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            set_cookies,
            cache_control: headers
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: response.text().await.unwrap_or_default(),
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// `POST path` with a urlencoded form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// Loads `page_path`, takes its CSRF token, and posts `form` plus the token to `action`.
    pub async fn submit(&mut self, page_path: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.get(page_path).await.csrf();
        let mut all: Vec<(&str, &str)> = form.to_vec();
        all.push(("csrf", &csrf));
        self.post(action, &all).await
    }

    /// Signs in through the form; returns the response to the post.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.submit(
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Whether the browser holds a session cookie.
    pub fn has_session(&self) -> bool {
        self.cookies.contains_key("payscope_session")
    }

    /// The session cookie's value, if any.
    pub fn session_value(&self) -> Option<String> {
        self.cookies.get("payscope_session").cloned()
    }

    /// Puts a session cookie into the jar (as a thief who copied it would).
    pub fn set_session(&mut self, value: &str) {
        self.cookies
            .insert("payscope_session".to_owned(), value.to_owned());
    }
}

/// Creates a user of `account_id` with `password` directly in the store (the CLI and setup page have their own
/// tests).
pub async fn create_user(store: &Store, account_id: &str, email: &str, password: &str) -> User {
    let hash = hash_password(password).unwrap();
    store
        .create_user(account_id, email, &hash, true)
        .await
        .unwrap()
}
