//! The Event view: what webhooks deliver and `GET /v1/events` lists; the object inside stays raw JSON because its
//! shape depends on the event type and on the API version it was rendered with.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::Error;

/// An event (`evt_…`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    /// `evt_…`; deduplicate deliveries on it.
    pub id: Option<String>,
    /// The connected account it came from (Connect only).
    pub account: Option<String>,
    /// The API version the object was rendered with.
    pub api_version: Option<String>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// The object and, for `*.updated`, the previous values of changed fields.
    pub data: Option<EventData>,
    /// Live or test data.
    pub livemode: Option<bool>,
    /// Deliveries still pending.
    pub pending_webhooks: Option<i64>,
    /// The API request that caused it; `id` null means Stripe did it on its own.
    pub request: Option<EventRequest>,
    /// e.g. `charge.succeeded` (hundreds exist, so it stays a string).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
}

/// `event.data`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventData {
    /// The object as it was when the event happened, raw.
    pub object: Option<Box<RawValue>>,
    /// Previous values of the changed fields (`*.updated` only).
    pub previous_attributes: Option<serde_json::Value>,
}

impl EventData {
    /// Parses the object into a view, e.g. `data.object_as::<Charge>()`; `None` when there is no object.
    pub fn object_as<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, Error>> {
        self.object.as_ref().map(|raw| {
            serde_json::from_str(raw.get()).map_err(|source| Error::Decode {
                what: "the event's object",
                source,
                request_id: None,
            })
        })
    }
}

/// `event.request`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventRequest {
    /// The request id, null for automatic events.
    pub id: Option<String>,
    /// The request's idempotency key.
    pub idempotency_key: Option<String>,
}
