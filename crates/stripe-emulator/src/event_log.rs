//! An account's events: compact records made from the ledger's changes, kept for 30 days (Stripe's window), with
//! their delivery state. Events of live activity keep a snapshot of their object taken when the change happened;
//! historical events are rendered lazily from the ledger's current object, rewound to the event's time by
//! overlaying the `previous_attributes` of the object's later events, newest first.

use std::collections::{HashMap, VecDeque};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::data::ObjectType;
use crate::keys::random_alphanumeric;
use crate::pagination::Listing;

/// Stripe's events window: `GET /v1/events` reaches back 30 days.
pub const EVENT_WINDOW_SECONDS: i64 = 30 * 24 * 3600;

/// One event.
#[derive(Debug)]
pub struct EventRecord {
    /// `evt_…`.
    pub id: String,
    /// E.g. `charge.succeeded`.
    pub event_type: String,
    /// Unix seconds.
    pub created: i64,
    /// The account's default version when the event was created; its payload is rendered at that version.
    pub api_version: String,
    /// The object the event is about.
    pub object_type: ObjectType,
    /// Its ledger handle.
    pub handle: u32,
    /// `data.previous_attributes` for `*.updated` events.
    pub previous_attributes: Option<Value>,
    /// `data.object` as it was when the event happened (live activity); `None` = render from the ledger.
    pub snapshot: Option<Value>,
    /// Endpoints that have not yet received it successfully (Stripe's `pending_webhooks`).
    pub pending_webhooks: u32,
    /// Endpoints whose every attempt failed (so `delivery_success=false` keeps listing it).
    pub failed_webhooks: u32,
}

impl EventRecord {
    /// The Event object with `object` as `data.object`.
    pub fn to_json(&self, mut object: Value, api_version: &str, livemode: bool) -> Value {
        crate::versions::project(&mut object, api_version);
        let mut data = json!({ "object": object });
        if let Some(previous) = &self.previous_attributes {
            data["previous_attributes"] = previous.clone();
        }
        json!({
            "id": self.id,
            "object": "event",
            "api_version": api_version,
            "created": self.created,
            "data": data,
            "livemode": livemode,
            "pending_webhooks": self.pending_webhooks,
            // Every change the emulator makes is Stripe-initiated from the client's point of view.
            "request": { "id": null, "idempotency_key": null },
            "type": self.event_type,
        })
    }

    /// Whether every delivery of it succeeded (true when no endpoint wanted it).
    pub fn delivered(&self) -> bool {
        self.pending_webhooks == 0 && self.failed_webhooks == 0
    }
}

/// The events of one account, oldest first, with an id index.
pub struct EventLog {
    events: VecDeque<EventRecord>,
    /// Sequence number of `events[0]`; sequence numbers never repeat, so they survive pruning.
    first_seq: u64,
    by_id: HashMap<String, u64>,
    /// Sequence numbers of each object's events, oldest first.
    by_object: HashMap<(ObjectType, u32), Vec<u64>>,
    rng: StdRng,
}

impl EventLog {
    /// An empty log whose event ids derive from `seed`.
    pub fn new(seed: u64) -> EventLog {
        EventLog {
            events: VecDeque::new(),
            first_seq: 0,
            by_id: HashMap::new(),
            by_object: HashMap::new(),
            rng: StdRng::seed_from_u64(seed ^ 0x6576_656e_7473),
        }
    }

    /// Appends an event (its `created` must not be older than the last one's) and returns its sequence number.
    #[allow(clippy::too_many_arguments)] // reason: a record constructor; a builder would only add ceremony
    pub fn push(
        &mut self,
        event_type: String,
        created: i64,
        api_version: String,
        object_type: ObjectType,
        handle: u32,
        previous_attributes: Option<Value>,
        snapshot: Option<Value>,
    ) -> u64 {
        let id = format!("evt_1{}", random_alphanumeric(&mut self.rng, 23));
        let seq = self.first_seq + self.events.len() as u64;
        // Changes of one burst share a second; keep created non-increasing from newest to oldest for paging.
        let created = self
            .events
            .back()
            .map_or(created, |last| created.max(last.created));
        self.by_id.insert(id.clone(), seq);
        self.by_object
            .entry((object_type, handle))
            .or_default()
            .push(seq);
        self.events.push_back(EventRecord {
            id,
            event_type,
            created,
            api_version,
            object_type,
            handle,
            previous_attributes,
            snapshot,
            pending_webhooks: 0,
            failed_webhooks: 0,
        });
        seq
    }

    /// Drops events created before `cutoff`, keeping memory bounded to Stripe's 30-day window.
    pub fn prune(&mut self, cutoff: i64) {
        while self.events.front().is_some_and(|e| e.created < cutoff) {
            let event = self.events.pop_front().expect("front checked above");
            self.by_id.remove(&event.id);
            let key = (event.object_type, event.handle);
            if let Some(seqs) = self.by_object.get_mut(&key) {
                seqs.retain(|&s| s != self.first_seq);
                if seqs.is_empty() {
                    self.by_object.remove(&key);
                }
            }
            self.first_seq += 1;
        }
    }

    /// The event with sequence number `seq`, if still kept.
    pub fn get(&self, seq: u64) -> Option<&EventRecord> {
        self.events.get(seq.checked_sub(self.first_seq)? as usize)
    }

    /// Mutable access for delivery bookkeeping.
    pub fn get_mut(&mut self, seq: u64) -> Option<&mut EventRecord> {
        self.events
            .get_mut(seq.checked_sub(self.first_seq)? as usize)
    }

    /// The sequence number of the event with `id`.
    pub fn seq_of(&self, id: &str) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// Number of kept events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The sequence number of the event at newest-first position `pos`.
    pub fn seq_at(&self, pos: usize) -> u64 {
        self.first_seq + (self.events.len() - 1 - pos) as u64
    }

    /// `data.object` of event `seq` given its object as it is now (`current`): a snapshot if the event has one,
    /// else `current` with the `previous_attributes` of the object's later events overlaid, newest first.
    pub fn object_at(
        &self,
        seq: u64,
        current: impl FnOnce() -> Value,
        livemode: bool,
    ) -> Option<Value> {
        let event = self.get(seq)?;
        if let Some(snapshot) = &event.snapshot {
            let mut object = snapshot.clone();
            if let Some(flag) = object.get_mut("livemode") {
                *flag = Value::Bool(livemode);
            }
            return Some(object);
        }
        let mut object = current();
        if let Some(seqs) = self.by_object.get(&(event.object_type, event.handle)) {
            for later in seqs.iter().rev().take_while(|&&s| s > seq) {
                if let Some(previous) = self
                    .get(*later)
                    .and_then(|e| e.previous_attributes.as_ref())
                {
                    overlay(&mut object, previous);
                }
            }
        }
        Some(object)
    }

    /// The event at newest-first position `pos`.
    pub fn newest_first(&self, pos: usize) -> &EventRecord {
        &self.events[self.events.len() - 1 - pos]
    }
}

/// The log seen as a newest-first list with the `type`/`types[]` and `delivery_success` filters.
pub struct EventListing<'a> {
    /// The log.
    pub log: &'a EventLog,
    /// Type patterns (`*` wildcard); empty = all types.
    pub types: Vec<String>,
    /// The `delivery_success` filter.
    pub delivery_success: Option<bool>,
}

impl Listing for EventListing<'_> {
    fn len(&self) -> usize {
        self.log.len()
    }

    fn created_at(&self, pos: usize) -> i64 {
        self.log.newest_first(pos).created
    }

    fn position_of(&self, id: &str) -> Option<usize> {
        let seq = self.log.seq_of(id)?;
        let newest = self.log.first_seq + self.log.len() as u64 - 1;
        Some((newest - seq) as usize)
    }

    fn matches(&self, pos: usize) -> bool {
        let event = self.log.newest_first(pos);
        (self.types.is_empty()
            || self
                .types
                .iter()
                .any(|t| type_matches(t, &event.event_type)))
            && self
                .delivery_success
                .is_none_or(|wanted| event.delivered() == wanted)
    }
}

/// Writes `previous` over `target`, merging nested objects key by key.
fn overlay(target: &mut Value, previous: &Value) {
    match (target, previous) {
        (Value::Object(target), Value::Object(previous)) => {
            for (key, value) in previous {
                match target.get_mut(key) {
                    Some(slot) if slot.is_object() && value.is_object() => overlay(slot, value),
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, previous) => *target = previous.clone(),
    }
}

/// Whether `event_type` matches `pattern`, where `*` stands for any run of characters (`charge.*`,
/// `charge.dispute.*`, `*.updated`).
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = event_type.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_historical_event_shows_its_object_before_later_changes() {
        let mut log = EventLog::new(1);
        let succeeded = log.push(
            "charge.succeeded".into(),
            10,
            "v".into(),
            ObjectType::Charge,
            7,
            None,
            None,
        );
        let refunded = log.push(
            "charge.refunded".into(),
            20,
            "v".into(),
            ObjectType::Charge,
            7,
            Some(
                json!({"amount_refunded": 0, "refunded": false, "outcome": {"type": "authorized"}}),
            ),
            None,
        );
        log.push(
            "charge.succeeded".into(),
            30,
            "v".into(),
            ObjectType::Charge,
            8,
            None,
            None,
        );
        let now = || json!({"id": "ch_7", "amount_refunded": 500, "refunded": true, "outcome": {"type": "x", "k": 1}});
        let at_success = log.object_at(succeeded, now, false).unwrap();
        assert_eq!(
            at_success,
            json!({"id": "ch_7", "amount_refunded": 0, "refunded": false, "outcome": {"type": "authorized", "k": 1}})
        );
        assert_eq!(log.object_at(refunded, now, false).unwrap(), now());
        log.prune(15);
        assert!(log.get(succeeded).is_none());
        assert_eq!(log.object_at(refunded, now, false).unwrap(), now());
    }

    #[test]
    fn type_patterns_use_star_as_a_wildcard() {
        assert!(type_matches("charge.*", "charge.succeeded"));
        assert!(type_matches("charge.*", "charge.dispute.created"));
        assert!(type_matches("charge.dispute.*", "charge.dispute.created"));
        assert!(!type_matches("charge.dispute.*", "charge.succeeded"));
        assert!(type_matches("*.updated", "customer.updated"));
        assert!(type_matches("charge.succeeded", "charge.succeeded"));
        assert!(!type_matches("charge.succeeded", "charge.succeeded.x"));
        assert!(!type_matches("payout.*", "charge.succeeded"));
        assert!(type_matches("*", "anything"));
    }
}
