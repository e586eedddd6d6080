//! Identifiers payscope mints for its own records: a short type prefix and 20 random base32 characters, so ids are
//! unguessable (a connection id appears in its public webhook URL) and portable across both databases.

use rand::Rng;

/// Lowercase base32 without look-alike characters' ambiguity concerns for humans reading logs.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new random id such as `con_5m2qk…`. 20 base32 characters carry 100 bits of randomness.
pub fn new_id(prefix: &str) -> String {
    let mut rng = rand::thread_rng();
    let mut id = String::with_capacity(prefix.len() + 21);
    id.push_str(prefix);
    id.push('_');
    for _ in 0..20 {
        id.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_differ() {
        let a = new_id("con");
        assert!(a.starts_with("con_") && a.len() == 24, "{a}");
        assert_ne!(a, new_id("con"));
    }
}
