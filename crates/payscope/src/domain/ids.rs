//! Identifiers payscope mints for its own records: a short type prefix and 20 random base32 characters, so ids are
//! unguessable (a connection id appears in its public webhook URL) and portable across both databases.

use rand::Rng;

/// Lowercase base32 without look-alike characters' ambiguity concerns for humans reading logs.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new random id such as `con_5m2qk…`. 20 base32 characters carry 100 bits of randomness.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base32(20))
}

/// `len` random base32 characters (5 bits each) from the thread's cryptographically secure generator.
pub fn random_base32(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
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
