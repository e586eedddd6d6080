//! Managing webhook endpoints on the merchant's account: list, create (with the pinned API version), delete.

use futures::TryStreamExt;
use serde::Deserialize;

use crate::API_VERSION;
use crate::client::Client;
use crate::error::Error;
use crate::form::Params;
use crate::list::ListParams;
use crate::signature::WebhookSecret;
use crate::views::{Metadata, WebhookEndpoint};

/// What to register. The API version is not a field: it is always [`API_VERSION`], so event payloads have the shape
/// this client's views expect regardless of the merchant's account default.
#[derive(Debug, Clone, Default)]
pub struct NewWebhookEndpoint {
    /// The public HTTPS address Stripe delivers to.
    pub url: String,
    /// Event types to send, e.g. `charge.succeeded`; `*` for all.
    pub enabled_events: Vec<String>,
    /// Shown in the Dashboard; lets the merchant (and payscope) recognise the endpoint.
    pub description: Option<String>,
    /// Stored with the endpoint, e.g. payscope's connection id.
    pub metadata: Metadata,
}

/// The endpoint Stripe created, with its signing secret — returned only this once, so persist it immediately.
#[derive(Debug, Clone)]
pub struct CreatedWebhookEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret; `None` only if Stripe broke its contract, in which case deliveries cannot be verified and
    /// the endpoint should be deleted.
    pub secret: Option<WebhookSecret>,
}

#[derive(Deserialize)]
struct SecretOnly {
    secret: Option<String>,
}

impl Client {
    /// Every webhook endpoint on the account (all pages; Stripe allows at most 16).
    pub async fn list_webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, Error> {
        let pages: Vec<_> = self
            .list_pages("/v1/webhook_endpoints", ListParams::default())
            .try_collect()
            .await?;
        let mut endpoints = Vec::new();
        for page in pages {
            endpoints.extend(page.parse::<WebhookEndpoint>()?);
        }
        Ok(endpoints)
    }

    /// Creates an endpoint with the pinned `api_version`.
    pub async fn create_webhook_endpoint(
        &self,
        new: &NewWebhookEndpoint,
    ) -> Result<CreatedWebhookEndpoint, Error> {
        let mut form = Params::new()
            .text("url", new.url.as_str())
            .list("enabled_events", new.enabled_events.iter().cloned())
            .text("api_version", API_VERSION);
        if let Some(description) = &new.description {
            form = form.text("description", description.as_str());
        }
        if !new.metadata.is_empty() {
            form = form.map("metadata", new.metadata.clone());
        }
        let response = self.post("/v1/webhook_endpoints", &form).await?;
        let endpoint: WebhookEndpoint = response.json("a webhook endpoint")?;
        let secret: SecretOnly = response.json("a webhook endpoint")?;
        Ok(CreatedWebhookEndpoint {
            endpoint,
            secret: secret.secret.map(WebhookSecret::new),
        })
    }

    /// Deletes an endpoint by id (`we_…`). Deleting one that no longer exists is an
    /// [`Error::InvalidRequest`] with code `resource_missing`, which callers cleaning up may treat as done.
    pub async fn delete_webhook_endpoint(&self, id: &str) -> Result<(), Error> {
        // The id becomes a path segment: escape it so a malformed id cannot address another endpoint.
        let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        self.delete(&format!("/v1/webhook_endpoints/{id}")).await?;
        Ok(())
    }
}
