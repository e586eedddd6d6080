//! The set of PaymentMethod ids an import run has already stored from inside other objects' pages (see
//! `StepContext::stored_payment_methods`), kept as 128-bit keyed hashes rather than strings: at 1M charges it
//! holds about 363,000 ids. As `String`s that is about 30 MB by count (a table of 2¹⁹ 25-byte slots, plus a
//! 48-byte heap block per id), near the end of the import where its memory peaks; as hashes about 9 MB (2¹⁹ 17-byte
//! slots).

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use crate::store::RawObject;

/// Ids stored by this run, as hashes. Two ids share a hash with a probability of about n²/2¹²⁹ (below 10⁻²⁷ at a
/// million ids), and the keys are random per run, so no id list can aim at a collision; a collision would only
/// leave one embedded copy of a PaymentMethod out of this run's pages.
#[derive(Debug, Default)]
pub struct StoredIds {
    keys: (RandomState, RandomState),
    hashes: Mutex<HashSet<u128>>,
}

impl StoredIds {
    fn hash(&self, id: &str) -> u128 {
        (u128::from(self.keys.0.hash_one(id)) << 64) | u128::from(self.keys.1.hash_one(id))
    }

    /// Keeps the objects of `found` whose ids this run has not stored yet, each id once.
    pub fn retain_new(&self, found: &mut Vec<RawObject>) {
        let stored = self.hashes.lock().expect("stored-id set poisoned");
        let mut on_page = HashSet::new();
        found.retain(|o| {
            let hash = self.hash(&o.id);
            !stored.contains(&hash) && on_page.insert(hash)
        });
    }

    /// Records ids whose objects are now committed.
    pub fn extend(&self, ids: impl IntoIterator<Item = String>) {
        let hashes: Vec<u128> = ids.into_iter().map(|id| self.hash(&id)).collect();
        self.hashes
            .lock()
            .expect("stored-id set poisoned")
            .extend(hashes);
    }

    /// How many ids are recorded.
    pub fn len(&self) -> usize {
        self.hashes.lock().expect("stored-id set poisoned").len()
    }

    /// Whether no id is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(id: &str) -> RawObject {
        RawObject {
            object_type: "payment_method".into(),
            id: id.into(),
            created: 0,
            version: 0,
            deleted: false,
            json: "{}".into(),
        }
    }

    fn ids(objects: &[RawObject]) -> Vec<&str> {
        objects.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn keeps_each_new_id_once_and_drops_stored_ones() {
        let set = StoredIds::default();
        let mut page = vec![pm("pm_a"), pm("pm_b"), pm("pm_a"), pm("pm_c")];
        set.retain_new(&mut page);
        assert_eq!(ids(&page), ["pm_a", "pm_b", "pm_c"]);
        set.extend(["pm_a".to_owned(), "pm_c".to_owned()]);
        assert_eq!(set.len(), 2);

        let mut next = vec![pm("pm_c"), pm("pm_d"), pm("pm_a"), pm("pm_b")];
        set.retain_new(&mut next);
        assert_eq!(ids(&next), ["pm_d", "pm_b"]);
    }

    #[test]
    fn distinct_ids_stay_distinct_at_scale() {
        let set = StoredIds::default();
        let all: Vec<String> = (0..200_000).map(|i| format!("pm_{i:024}")).collect();
        set.extend(all.iter().cloned());
        assert_eq!(set.len(), all.len(), "two ids shared a hash");
        let mut page: Vec<RawObject> = (199_990..200_010)
            .map(|i| pm(&format!("pm_{i:024}")))
            .collect();
        set.retain_new(&mut page);
        assert_eq!(page.len(), 10, "only the ten ids never stored remain");
    }
}
