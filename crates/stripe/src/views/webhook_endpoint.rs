//! The WebhookEndpoint view: an endpoint registered on the merchant's account.

use serde::Deserialize;

use super::Metadata;
use crate::open_enum::open_enum;

/// A webhook endpoint (`we_…`). Its signing secret is not here: Stripe returns it only when the endpoint is created
/// (see [`crate::CreatedWebhookEndpoint`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_…`
    pub id: Option<String>,
    /// The API version events are rendered with; null means the account default.
    pub api_version: Option<String>,
    /// The Connect application that created it.
    pub application: Option<String>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Free text; payscope writes its own marker here to recognise its endpoints.
    pub description: Option<String>,
    /// Event types sent, `*` for all.
    pub enabled_events: Option<Vec<String>>,
    /// Live or test.
    pub livemode: Option<bool>,
    /// Metadata.
    pub metadata: Option<Metadata>,
    /// Enabled or disabled.
    pub status: Option<WebhookEndpointStatus>,
    /// Where events are sent.
    pub url: Option<String>,
}

open_enum! {
    /// `webhook_endpoint.status`.
    pub enum WebhookEndpointStatus {
        Enabled => "enabled",
        Disabled => "disabled",
    }
}
