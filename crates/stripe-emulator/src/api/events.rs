//! `GET /v1/events` (last 30 days; `type` with `*`, `types[]`, `created`, `delivery_success`) and
//! `GET /v1/events/{id}`; each event is rendered at its creation-time API version.

use axum::response::Response;
use serde_json::Value;

use crate::api::{json_response, list_envelope};
use crate::api_error::ApiError;
use crate::data::{Ledger, RenderOptions};
use crate::event_log::{EVENT_WINDOW_SECONDS, EventListing, EventLog};
use crate::gate::Caller;
use crate::pagination::{LIST_PARAMS, ListRequest, select};
use crate::params::Params;

/// Stripe accepts at most this many `types[]`.
const MAX_TYPES: usize = 20;

fn render(log: &EventLog, seq: u64, ledger: &Ledger, options: &RenderOptions) -> Option<Value> {
    let event = log.get(seq)?;
    let object = log.object_at(
        seq,
        || ledger.render(event.object_type, event.handle, options),
        options.livemode,
    )?;
    Some(event.to_json(object, &event.api_version, options.livemode))
}

/// `GET /v1/events`.
pub async fn list(caller: Caller, query: Option<String>) -> Result<Response, ApiError> {
    caller.require("event_read")?;
    let params = Params::from_query(query.as_deref());
    let mut allowed = LIST_PARAMS.to_vec();
    allowed.extend_from_slice(&["created", "type", "types", "delivery_success"]);
    params.reject_unknown(&allowed)?;
    let mut request = ListRequest::from_params(&params, true)?;
    let types: Vec<String> = params
        .array("types")
        .into_iter()
        .map(str::to_string)
        .collect();
    let single = params.get("type").filter(|t| !t.is_empty());
    if single.is_some() && !types.is_empty() {
        return Err(ApiError::InvalidRequest {
            message: "You may pass either `type` or `types`, but not both.".into(),
            param: Some("types".into()),
            code: None,
        });
    }
    if types.len() > MAX_TYPES {
        return Err(ApiError::InvalidRequest {
            message: format!("You may pass at most {MAX_TYPES} values in `types`."),
            param: Some("types".into()),
            code: None,
        });
    }
    let types = match single {
        Some(t) => vec![t.to_string()],
        None => types,
    };
    let delivery_success = params.boolean("delivery_success")?;

    // Lock order everywhere: ledger, then events (activity writes them in that order).
    let ledger = caller.account.ledger.read().expect("ledger lock poisoned");
    let log = caller.account.events.read().expect("event lock poisoned");
    // The window follows the emulated clock (the ledger's latest generation or activity time).
    request.created.lo = request.created.lo.max(ledger.now() - EVENT_WINDOW_SECONDS);
    let listing = EventListing {
        log: &log,
        types,
        delivery_success,
    };
    let page = select(&listing, &request, "event")?;
    let options = caller.account.render_options(caller.mode(), &[]);
    let data = page
        .positions
        .iter()
        .filter_map(|&pos| render(&log, log.seq_at(pos), &ledger, &options))
        .collect();
    Ok(json_response(&list_envelope(
        "/v1/events",
        data,
        page.has_more,
    )))
}

/// `GET /v1/events/{id}`.
pub async fn retrieve(
    caller: Caller,
    id: String,
    query: Option<String>,
) -> Result<Response, ApiError> {
    caller.require("event_read")?;
    Params::from_query(query.as_deref()).reject_unknown(&["expand"])?;
    let ledger = caller.account.ledger.read().expect("ledger lock poisoned");
    let log = caller.account.events.read().expect("event lock poisoned");
    let options = caller.account.render_options(caller.mode(), &[]);
    let event = log
        .seq_of(&id)
        .filter(|&seq| {
            log.get(seq)
                .is_some_and(|e| e.created >= ledger.now() - EVENT_WINDOW_SECONDS)
        })
        .and_then(|seq| render(&log, seq, &ledger, &options))
        .ok_or_else(|| ApiError::NoSuchObject {
            noun: "event",
            id: id.clone(),
            param: "id".into(),
        })?;
    Ok(json_response(&event))
}
