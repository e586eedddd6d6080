//! The Webhook Endpoints API: create (secret returned only here), list, retrieve, update, delete; at most 16 per
//! account and mode; live mode only accepts `https://` URLs.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::json;

use crate::api::{json_response, list_envelope};
use crate::api_error::ApiError;
use crate::delivery::now_ms;
use crate::gate::{Caller, is_api_version};
use crate::keys::{Mode, random_alphanumeric};
use crate::pagination::{LIST_PARAMS, ListRequest, Listing, select};
use crate::params::Params;
use crate::webhook_endpoint::{MAX_ENDPOINTS, WebhookEndpoint};

const NOUN: &str = "webhook_endpoint";

fn params_of(query: Option<String>, body: &Bytes) -> Params {
    let mut params = Params::from_query(query.as_deref());
    params.extend_from(body);
    params
}

fn check_url(url: &str, mode: Mode) -> Result<(), ApiError> {
    let invalid = |message: String| ApiError::InvalidRequest {
        message,
        param: Some("url".into()),
        code: Some("url_invalid"),
    };
    let has_host = |rest: &str| !rest.is_empty() && !rest.starts_with('/');
    let shape_ok = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(has_host);
    if !shape_ok {
        return Err(invalid(format!("Invalid URL: {url}")));
    }
    if mode == Mode::Live && !url.starts_with("https://") {
        return Err(invalid(format!(
            "Invalid URL: {url}. URLs in livemode must begin with \"https://\""
        )));
    }
    Ok(())
}

fn enabled_events(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    if !params.has("enabled_events") {
        return Ok(None);
    }
    let events: Vec<String> = params
        .array("enabled_events")
        .into_iter()
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    if events.is_empty() {
        return Err(ApiError::InvalidRequest {
            message: "Invalid array: enabled_events must contain at least one event type".into(),
            param: Some("enabled_events".into()),
            code: Some("parameter_invalid_empty"),
        });
    }
    Ok(Some(events))
}

fn apply_metadata(metadata: &mut BTreeMap<String, String>, params: &Params) {
    for (key, value) in params.hash("metadata") {
        // Stripe deletes a metadata key when it is set to an empty string.
        if value.is_empty() {
            metadata.remove(key);
        } else {
            metadata.insert(key.to_string(), value.to_string());
        }
    }
}

fn no_such(id: String) -> ApiError {
    ApiError::NoSuchObject {
        noun: NOUN,
        id,
        param: "id".into(),
    }
}

/// `POST /v1/webhook_endpoints`.
pub async fn create(
    caller: Caller,
    query: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require("webhook_write")?;
    let params = params_of(query, &body);
    params.reject_unknown(&[
        "url",
        "enabled_events",
        "api_version",
        "description",
        "metadata",
        "connect",
        "expand",
    ])?;
    let url = params
        .get("url")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::MissingParam("url".into()))?;
    let events =
        enabled_events(&params)?.ok_or_else(|| ApiError::MissingParam("enabled_events".into()))?;
    check_url(url, caller.mode())?;
    let api_version = params.get("api_version").filter(|v| !v.is_empty());
    if let Some(version) = api_version.filter(|v| !is_api_version(v)) {
        return Err(ApiError::InvalidRequest {
            message: format!("Invalid api_version: {version}"),
            param: Some("api_version".into()),
            code: None,
        });
    }
    params.boolean("connect")?;
    let mut metadata = BTreeMap::new();
    apply_metadata(&mut metadata, &params);

    let mut endpoints = caller
        .account
        .webhook_endpoints
        .lock()
        .expect("endpoint lock poisoned");
    if endpoints.iter().filter(|e| e.mode == caller.mode()).count() >= MAX_ENDPOINTS {
        return Err(ApiError::InvalidRequest {
            message: format!(
                "You have reached the maximum of {MAX_ENDPOINTS} webhook endpoints on this account. Delete an unused endpoint before creating a new one."
            ),
            param: None,
            code: None,
        });
    }
    let mut rng = rand::thread_rng();
    let endpoint = WebhookEndpoint {
        id: format!("we_1{}", random_alphanumeric(&mut rng, 23)),
        mode: caller.mode(),
        url: url.to_string(),
        enabled_events: events,
        api_version: api_version.map(str::to_string),
        description: params
            .get("description")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        metadata,
        disabled: false,
        created: now_ms() / 1000,
        secret: format!("whsec_{}", random_alphanumeric(&mut rng, 32)),
        previous_secret: None,
    };
    let response = json_response(&endpoint.to_json(true));
    endpoints.push(endpoint);
    Ok(response)
}

/// The caller's mode's endpoints, newest first.
struct EndpointListing<'a>(Vec<&'a WebhookEndpoint>);

impl Listing for EndpointListing<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn created_at(&self, pos: usize) -> i64 {
        self.0[pos].created
    }
    fn position_of(&self, id: &str) -> Option<usize> {
        self.0.iter().position(|e| e.id == id)
    }
}

/// `GET /v1/webhook_endpoints`.
pub async fn list(caller: Caller, query: Option<String>) -> Result<Response, ApiError> {
    caller.require("webhook_read")?;
    let params = Params::from_query(query.as_deref());
    params.reject_unknown(LIST_PARAMS)?;
    let request = ListRequest::from_params(&params, false)?;
    let endpoints = caller
        .account
        .webhook_endpoints
        .lock()
        .expect("endpoint lock poisoned");
    let listing = EndpointListing(
        endpoints
            .iter()
            .rev()
            .filter(|e| e.mode == caller.mode())
            .collect(),
    );
    let page = select(&listing, &request, NOUN)?;
    let data = page
        .positions
        .iter()
        .map(|&pos| listing.0[pos].to_json(false))
        .collect();
    Ok(json_response(&list_envelope(
        "/v1/webhook_endpoints",
        data,
        page.has_more,
    )))
}

/// `GET /v1/webhook_endpoints/{id}`.
pub async fn retrieve(
    caller: Caller,
    id: String,
    query: Option<String>,
) -> Result<Response, ApiError> {
    caller.require("webhook_read")?;
    Params::from_query(query.as_deref()).reject_unknown(&["expand"])?;
    let endpoint = caller
        .account
        .endpoint(&id)
        .filter(|e| e.mode == caller.mode())
        .ok_or_else(|| no_such(id))?;
    Ok(json_response(&endpoint.to_json(false)))
}

/// `POST /v1/webhook_endpoints/{id}`: `api_version` cannot be changed (Stripe: recreate the endpoint).
pub async fn update(
    caller: Caller,
    id: String,
    query: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require("webhook_write")?;
    let params = params_of(query, &body);
    params.reject_unknown(&[
        "url",
        "enabled_events",
        "description",
        "metadata",
        "disabled",
        "expand",
    ])?;
    let events = enabled_events(&params)?;
    let url = params.get("url");
    if let Some(url) = url {
        check_url(url, caller.mode())?;
    }
    let disabled = params.boolean("disabled")?;
    let mut endpoints = caller
        .account
        .webhook_endpoints
        .lock()
        .expect("endpoint lock poisoned");
    let endpoint = endpoints
        .iter_mut()
        .find(|e| e.id == id && e.mode == caller.mode())
        .ok_or_else(|| no_such(id))?;
    if let Some(url) = url {
        endpoint.url = url.to_string();
    }
    if let Some(events) = events {
        endpoint.enabled_events = events;
    }
    if let Some(description) = params.get("description") {
        endpoint.description = (!description.is_empty()).then(|| description.to_string());
    }
    if let Some(disabled) = disabled {
        endpoint.disabled = disabled;
    }
    apply_metadata(&mut endpoint.metadata, &params);
    Ok(json_response(&endpoint.to_json(false)))
}

/// `DELETE /v1/webhook_endpoints/{id}`.
pub async fn delete(caller: Caller, id: String) -> Result<Response, ApiError> {
    caller.require("webhook_write")?;
    let mut endpoints = caller
        .account
        .webhook_endpoints
        .lock()
        .expect("endpoint lock poisoned");
    let index = endpoints
        .iter()
        .position(|e| e.id == id && e.mode == caller.mode())
        .ok_or_else(|| no_such(id.clone()))?;
    endpoints.remove(index);
    Ok(json_response(
        &json!({ "id": id, "object": "webhook_endpoint", "deleted": true }),
    ))
}
