//! Reading a Stripe event (the webhook body or an Events API item) and the pure rule deciding what applying it
//! does to the stored copy of its object.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a body is not a Stripe event; the receiver refuses it with a 400.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or not shaped like an event.
    #[error(
        "the body is not a stripe event ({0}); only stripe's webhook deliveries are accepted here"
    )]
    Shape(#[from] serde_json::Error),
    /// JSON, but its `object` is not `event` or its id is not an `evt_` id.
    #[error("the body is not a stripe v1 event (object {object:?}, id {id:?})")]
    NotAnEvent {
        /// The `object` field sent.
        object: String,
        /// The `id` field sent.
        id: String,
    },
}

/// The parts of a v1 Event payscope uses; `data.object` is kept raw, to be stored exactly as sent.
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    /// `evt_…`
    pub id: String,
    /// Always `event`.
    pub object: String,
    /// `charge.succeeded`, `charge.refunded`, …
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix seconds; the version of the object snapshot it carries.
    pub created: i64,
    /// Whether it is about live data.
    pub livemode: bool,
    /// The object as it was when the event happened.
    pub data: EventData,
}

/// An event's `data`.
#[derive(Debug, Deserialize)]
pub struct EventData {
    /// The object snapshot, raw.
    pub object: Box<RawValue>,
}

/// The few fields of an event's object the applier reads.
#[derive(Debug, Deserialize)]
pub struct ObjectIdentity {
    /// The object's id; some event objects (e.g. `balance`) have none and are not stored.
    #[serde(default)]
    pub id: Option<String>,
    /// Stripe's `object` name.
    pub object: String,
    /// Stripe's `created`.
    #[serde(default)]
    pub created: Option<i64>,
    /// The object's status, when it has one (decides whether the snapshot can be final).
    #[serde(default)]
    pub status: Option<String>,
}

/// Parses and checks a body as a Stripe v1 event.
pub fn parse_event(body: &[u8]) -> Result<StripeEvent, EventError> {
    let event: StripeEvent = serde_json::from_slice(body)?;
    if event.object != "event" || !event.id.starts_with("evt_") {
        return Err(EventError::NotAnEvent {
            object: event.object,
            id: event.id,
        });
    }
    Ok(event)
}

/// What applying an event does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// What is stored is newer: nothing changes.
    Skip,
    /// Store the event's snapshot, versioned by the event's `created`.
    Store,
    /// The object was deleted: leave a tombstone versioned by the event's `created`.
    Tombstone,
    /// The snapshot cannot be trusted to be the latest (same second as the stored copy, or a state that will
    /// still change): fetch the object from Stripe and store that.
    Refetch,
}

/// Decides what an event does, from its type and `created`, its object's type and status, and the version of the
/// stored copy (if any). Pure, so the rule is tested by a table.
pub fn decide(
    event_type: &str,
    event_created: i64,
    object_type: &str,
    status: Option<&str>,
    stored_version: Option<i64>,
) -> Decision {
    if stored_version.is_some_and(|v| v > event_created) {
        return Decision::Skip;
    }
    if event_type.ends_with(".deleted") {
        return Decision::Tombstone;
    }
    if stored_version == Some(event_created) || !is_final(object_type, status) {
        return Decision::Refetch;
    }
    Decision::Store
}

/// Whether an object in this status may still change without a newer event being certain to follow soon: those
/// are refetched so the stored copy is the current one.
fn is_final(object_type: &str, status: Option<&str>) -> bool {
    let non_final: &[&str] = match object_type {
        "charge" => &["pending"],
        "payment_intent" => &["processing", "requires_capture", "requires_action"],
        "refund" => &["pending", "requires_action"],
        "payout" => &["pending", "in_transit"],
        _ => &[],
    };
    !status.is_some_and(|s| non_final.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        (event_type, created, object_type, status, stored): (
            &str,
            i64,
            &str,
            Option<&str>,
            Option<i64>,
        ),
        expected: Decision,
    ) {
        assert_eq!(
            decide(event_type, created, object_type, status, stored),
            expected,
            "{event_type} at {created} on {object_type} {status:?}, stored {stored:?}"
        );
    }

    #[test]
    fn newer_final_snapshots_are_stored_and_older_ones_skipped() {
        use Decision::*;
        let cases = [
            (
                ("charge.succeeded", 100, "charge", Some("succeeded"), None),
                Store,
            ),
            (
                (
                    "charge.refunded",
                    100,
                    "charge",
                    Some("succeeded"),
                    Some(99),
                ),
                Store,
            ),
            (
                (
                    "charge.refunded",
                    100,
                    "charge",
                    Some("succeeded"),
                    Some(101),
                ),
                Skip,
            ),
            (
                (
                    "charge.updated",
                    100,
                    "charge",
                    Some("succeeded"),
                    Some(100),
                ),
                Refetch,
            ),
            (
                ("charge.pending", 100, "charge", Some("pending"), None),
                Refetch,
            ),
            (
                (
                    "payout.created",
                    100,
                    "payout",
                    Some("in_transit"),
                    Some(50),
                ),
                Refetch,
            ),
            (
                ("payout.paid", 100, "payout", Some("paid"), Some(50)),
                Store,
            ),
            (
                ("customer.deleted", 100, "customer", None, Some(50)),
                Tombstone,
            ),
            (("customer.deleted", 100, "customer", None, None), Tombstone),
            (("customer.deleted", 100, "customer", None, Some(200)), Skip),
            (
                (
                    "charge.dispute.created",
                    100,
                    "dispute",
                    Some("needs_response"),
                    None,
                ),
                Store,
            ),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn only_stripe_v1_events_parse() {
        let event = parse_event(
            br#"{"id":"evt_1","object":"event","type":"charge.succeeded","created":5,"livemode":false,
                "data":{"object":{"id":"ch_1","object":"charge"}}}"#,
        )
        .unwrap();
        assert_eq!((event.id.as_str(), event.created), ("evt_1", 5));
        assert!(parse_event(b"not json").is_err());
        assert!(parse_event(br#"{"id":"evt_1","object":"event"}"#).is_err());
        assert!(
            parse_event(
                br#"{"id":"ch_1","object":"charge","type":"x","created":5,"livemode":false,"data":{"object":{}}}"#
            )
            .is_err()
        );
    }
}
