//! The client's error type, built from Stripe's status codes, error bodies and headers.

use serde::Deserialize;

use crate::open_enum::open_enum;

open_enum! {
    /// Which of Stripe's limiters refused a request (`Stripe-Rate-Limited-Reason` on a 429); tells an import whether
    /// to slow down globally or only on one endpoint.
    pub enum RateLimitReason {
        GlobalRate => "global-rate",
        EndpointRate => "endpoint-rate",
        GlobalConcurrency => "global-concurrency",
        EndpointConcurrency => "endpoint-concurrency",
        ResourceSpecific => "resource-specific",
    }
}

/// Everything that can go wrong talking to Stripe. Callers branch on the variant (a missing permission is shown to
/// the merchant, a rate limit slows the import, an expired key pauses the connection); every message says what
/// happened and what to do. `request_id` is Stripe's `Request-Id`, which Stripe support asks for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401: the key is unknown, deleted, publishable, or (when `expired`) expired or rolled.
    #[error("{}", authentication_message(*.expired, message))]
    Authentication {
        /// Stripe said `api_key_expired`: the key was rolled or its expiry passed.
        expired: bool,
        /// Stripe's message (it masks the key).
        message: String,
        /// Stripe's `Request-Id`.
        request_id: Option<String>,
    },
    /// 403: a restricted key lacks a permission.
    #[error("{}", permission_message(permission.as_deref(), account_id.as_deref()))]
    Permission {
        /// The permission Stripe named, e.g. `rak_charge_read`.
        permission: Option<String>,
        /// The account id Stripe revealed in the message, e.g. `acct_1PJB…`.
        account_id: Option<String>,
        /// Stripe's message.
        message: String,
        /// Stripe's `Request-Id`.
        request_id: Option<String>,
    },
    /// 429: too many requests (`lock_timeout` false) or object-lock contention (`lock_timeout` true).
    #[error(
        "stripe refused the request as too many ({}); lower the request rate or retry later",
        reason.as_ref().map(RateLimitReason::as_str).unwrap_or(if *lock_timeout { "lock_timeout" } else { "rate_limit" })
    )]
    RateLimited {
        /// `Stripe-Rate-Limited-Reason`, when sent.
        reason: Option<RateLimitReason>,
        /// The error code was `lock_timeout`: another request held the object; retrying is the cure.
        lock_timeout: bool,
        /// Stripe's message.
        message: String,
        /// Stripe's `Request-Id`.
        request_id: Option<String>,
    },
    /// 400, 402, 404 and other 4xx: the request itself is wrong (or the object does not exist).
    #[error("stripe refused the request (http {status}{}{}): {message}",
        code.as_deref().map(|c| format!(", code {c}")).unwrap_or_default(),
        param.as_deref().map(|p| format!(", param {p}")).unwrap_or_default())]
    InvalidRequest {
        /// The HTTP status.
        status: u16,
        /// Stripe's `type`, e.g. `invalid_request_error` or `idempotency_error`.
        error_type: Option<String>,
        /// Stripe's `code`, e.g. `resource_missing` or `parameter_missing`.
        code: Option<String>,
        /// The parameter at fault, e.g. `url`.
        param: Option<String>,
        /// Stripe's message.
        message: String,
        /// Stripe's `Request-Id`.
        request_id: Option<String>,
    },
    /// 409 and 5xx after the retries ran out: Stripe had a problem; try again later.
    #[error("stripe failed to answer (http {status}): {message}; try again later")]
    Api {
        /// The HTTP status.
        status: u16,
        /// Stripe's `code`, if any.
        code: Option<String>,
        /// Stripe's message, or a description of the body when it was not JSON.
        message: String,
        /// Stripe's `Request-Id`.
        request_id: Option<String>,
    },
    /// The connection failed or broke; the retries ran out.
    #[error("could not reach stripe: {source}; check the network and the configured base url")]
    Network {
        /// What the HTTP stack reported.
        #[source]
        source: reqwest::Error,
    },
    /// No complete answer within the configured connect or request timeout; the retries ran out.
    #[error("stripe did not answer in time: {source}; try again later")]
    Timeout {
        /// What the HTTP stack reported.
        #[source]
        source: reqwest::Error,
    },
    /// Stripe answered 2xx with a body that does not have the expected shape.
    #[error("stripe's answer could not be read as {what}: {source}")]
    Decode {
        /// What we expected, e.g. `a list page`.
        what: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
        /// Stripe's `Request-Id`.
        request_id: Option<String>,
    },
}

fn authentication_message(expired: bool, message: &str) -> String {
    if expired {
        format!(
            "the stripe api key expired or was rolled ({message}); create a new restricted key in the Stripe Dashboard → Developers → API keys and update the connection"
        )
    } else {
        format!(
            "stripe did not accept the api key ({message}); check that the whole key was pasted and that it was not deleted"
        )
    }
}

fn permission_message(permission: Option<&str>, account_id: Option<&str>) -> String {
    let what = permission.map_or_else(
        || "a permission this request needs".to_owned(),
        |p| format!("the {p} permission"),
    );
    let on = account_id
        .map(|a| format!(" on account {a}"))
        .unwrap_or_default();
    format!(
        "the key lacks {what}{on}; edit the key in the Stripe Dashboard → Developers → API keys"
    )
}

impl Error {
    /// Stripe's `Request-Id` of the response that caused this error, when there was a response.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Authentication { request_id, .. }
            | Error::Permission { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::InvalidRequest { request_id, .. }
            | Error::Api { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            Error::Network { .. } | Error::Timeout { .. } => None,
        }
    }

    /// The HTTP status Stripe answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Authentication { .. } => Some(401),
            Error::Permission { .. } => Some(403),
            Error::RateLimited { .. } => Some(429),
            Error::InvalidRequest { status, .. } | Error::Api { status, .. } => Some(*status),
            Error::Network { .. } | Error::Timeout { .. } | Error::Decode { .. } => None,
        }
    }

    /// Stripe's error `code`, when it sent one (`resource_missing`, `parameter_missing`, `api_key_expired`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Authentication { expired: true, .. } => Some("api_key_expired"),
            Error::RateLimited { lock_timeout, .. } => Some(if *lock_timeout {
                "lock_timeout"
            } else {
                "rate_limit"
            }),
            Error::InvalidRequest { code, .. } | Error::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Builds the error for a non-2xx response from its status, headers and body.
    pub(crate) fn from_response(
        status: u16,
        request_id: Option<String>,
        rate_limited_reason: Option<&str>,
        body: &str,
    ) -> Error {
        let envelope: Option<ErrorEnvelope> = serde_json::from_str(body).ok();
        let detail = envelope.map(|e| e.error).unwrap_or_default();
        let message = detail.message.clone().unwrap_or_else(|| {
            let snippet: String = body.chars().take(200).collect();
            format!("http {status} without a stripe error body: {snippet:?}")
        });
        match status {
            401 => Error::Authentication {
                expired: detail.code.as_deref() == Some("api_key_expired"),
                message,
                request_id,
            },
            403 => {
                let (permission, account_id) = parse_permission_message(&message);
                Error::Permission {
                    permission,
                    account_id,
                    message,
                    request_id,
                }
            }
            429 => Error::RateLimited {
                reason: rate_limited_reason.map(RateLimitReason::from),
                lock_timeout: detail.code.as_deref() == Some("lock_timeout"),
                message,
                request_id,
            },
            400..=499 if status != 409 => Error::InvalidRequest {
                status,
                error_type: detail.error_type,
                code: detail.code,
                param: detail.param,
                message,
                request_id,
            },
            _ => Error::Api {
                status,
                code: detail.code,
                message,
                request_id,
            },
        }
    }
}

/// Stripe's `{"error": {...}}` envelope.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<String>,
    message: Option<String>,
    param: Option<String>,
}

/// Extracts the permission and the account id from Stripe's 403 text: `… on account 'acct_…'. Having the
/// 'rak_<perm>' permission would allow this request to continue.` Either part may be absent.
pub(crate) fn parse_permission_message(message: &str) -> (Option<String>, Option<String>) {
    let permission = quoted_after(message, "Having the '")
        .filter(|p| p.starts_with("rak_") && p.len() > 4)
        .filter(|p| {
            p[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    let account_id = quoted_after(message, "on account '").filter(|a| a.starts_with("acct_"));
    (permission.map(str::to_owned), account_id.map(str::to_owned))
}

fn quoted_after<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    let start = message.find(marker)? + marker.len();
    let rest = &message[start..];
    let end = rest.find('\'')?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, expected: (Option<&str>, Option<&str>)) {
        let (permission, account) = parse_permission_message(message);
        assert_eq!(
            (permission.as_deref(), account.as_deref()),
            expected,
            "message {message:?}"
        );
    }

    #[test]
    fn permission_and_account_are_parsed_from_stripes_403_text() {
        check(
            "The provided key 'rk_test_***…qs8Kgd' does not have the required permissions for this endpoint on account 'acct_1PJBxyz'. Having the 'rak_charge_read' permission would allow this request to continue.",
            (Some("rak_charge_read"), Some("acct_1PJBxyz")),
        );
        check(
            "The provided key 'rk_live_***…abcdef' does not have the required permissions for this endpoint on account 'acct_9'. Having the 'rak_report_runs_and_report_types_read' permission would allow this request to continue.",
            (
                Some("rak_report_runs_and_report_types_read"),
                Some("acct_9"),
            ),
        );
    }

    #[test]
    fn unusual_403_texts_yield_what_they_contain_and_nothing_invented() {
        check(
            "This is a restricted API key, but the required permissions are not available for use by restricted keys",
            (None, None),
        );
        check("Having the 'rak_' permission", (None, None));
        check("Having the 'charge_read' permission", (None, None));
        check(
            "on account 'acct_1' and nothing else",
            (None, Some("acct_1")),
        );
        check("Having the 'rak_charge_read", (None, None));
    }

    #[test]
    fn statuses_map_to_the_error_kinds_callers_branch_on() {
        let body = |code: &str| {
            format!(
                r#"{{"error":{{"type":"invalid_request_error","code":"{code}","message":"m","param":"url"}}}}"#
            )
        };
        let e = Error::from_response(401, Some("req_1".into()), None, &body("api_key_expired"));
        assert!(matches!(e, Error::Authentication { expired: true, .. }));
        assert_eq!(e.request_id(), Some("req_1"));
        let e = Error::from_response(
            401,
            None,
            None,
            r#"{"error":{"message":"Invalid API Key provided"}}"#,
        );
        assert!(matches!(e, Error::Authentication { expired: false, .. }));
        let e = Error::from_response(429, None, Some("endpoint-rate"), &body("rate_limit"));
        assert!(matches!(
            e,
            Error::RateLimited {
                reason: Some(RateLimitReason::EndpointRate),
                lock_timeout: false,
                ..
            }
        ));
        let e = Error::from_response(429, None, None, &body("lock_timeout"));
        assert!(matches!(
            e,
            Error::RateLimited {
                lock_timeout: true,
                ..
            }
        ));
        let e = Error::from_response(400, None, None, &body("parameter_missing"));
        assert_eq!(e.code(), Some("parameter_missing"));
        assert!(
            matches!(e, Error::InvalidRequest { status: 400, ref param, .. } if param.as_deref() == Some("url"))
        );
        let e = Error::from_response(409, None, None, &body("idempotency_key_in_use"));
        assert!(matches!(e, Error::Api { status: 409, .. }));
        let e = Error::from_response(502, None, None, "<html>bad gateway</html>");
        assert!(matches!(e, Error::Api { status: 502, .. }));
        assert!(e.to_string().contains("bad gateway"));
    }

    #[test]
    fn permission_error_message_says_what_to_fix() {
        let e = Error::Permission {
            permission: Some("rak_charge_read".into()),
            account_id: Some("acct_1".into()),
            message: String::new(),
            request_id: None,
        };
        assert_eq!(
            e.to_string(),
            "the key lacks the rak_charge_read permission on account acct_1; edit the key in the Stripe Dashboard → Developers → API keys"
        );
    }
}
