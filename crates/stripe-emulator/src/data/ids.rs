//! Stripe-looking ids derived from (account, object kind, index) and decoded back without any lookup table,
//! so a million objects cost no id strings in memory.
//!
//! Layout after the prefix: an optional "lead" digit as Stripe has (`ch_3…`), 9 base62 characters encoding a
//! keyed 48-bit permutation of the index (so consecutive objects get unrelated-looking ids), then characters
//! derived from the account, up to Stripe's usual length.

use super::rng::mix;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Value of each byte as a base62 digit (255 = not a digit), so decoding needs no search.
const DIGIT: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut i = 0;
    while i < 62 {
        table[BASE62[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const BITS: u32 = 48;
const MASK: u64 = (1 << BITS) - 1;
const WIDTH: usize = 9;
const M1: u64 = 0x5DEE_CE66_D1CB; // odd multipliers: multiplication by an odd number is a bijection mod 2^48
const M2: u64 = 0x2545_F491_4F6D;

/// How one kind of id looks: `prefix`, `lead` and the total number of characters after the prefix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IdShape {
    pub prefix: &'static str,
    pub lead: &'static str,
    pub body: usize,
    /// Distinguishes kinds sharing an index space so `ch_` and `pi_` number 0 do not look alike.
    pub kind: u64,
}

impl IdShape {
    pub(crate) const fn new(
        prefix: &'static str,
        lead: &'static str,
        body: usize,
        kind: u64,
    ) -> IdShape {
        IdShape {
            prefix,
            lead,
            body,
            kind,
        }
    }
}

/// Encodes and decodes ids for one account.
#[derive(Clone, Debug)]
pub(crate) struct IdCodec {
    key: u64,
    tag: [u8; 24],
}

fn inverse(m: u64) -> u64 {
    // Newton's iteration for the inverse of an odd number modulo 2^64; five steps suffice for 64 bits.
    let mut x = m;
    for _ in 0..5 {
        x = x.wrapping_mul(2u64.wrapping_sub(m.wrapping_mul(x)));
    }
    x
}

impl IdCodec {
    pub(crate) fn new(account_id: &str, seed: u64) -> IdCodec {
        let mut h = seed;
        for b in account_id.bytes() {
            h = mix(h, b as u64);
        }
        let mut tag = [0u8; 24];
        let mut t = h;
        for (i, slot) in tag.iter_mut().enumerate() {
            if i % 8 == 0 {
                t = mix(h, i as u64);
            }
            *slot = BASE62[(t % 62) as usize];
            t /= 62;
        }
        IdCodec { key: h, tag }
    }

    fn scramble(&self, kind: u64, x: u64) -> u64 {
        let (k1, k2) = self.keys(kind);
        let mut x = (x ^ k1) & MASK;
        x = x.wrapping_mul(M1) & MASK;
        x ^= x >> 24;
        x = x.wrapping_mul(M2) & MASK;
        x ^ k2
    }

    fn unscramble(&self, kind: u64, x: u64) -> u64 {
        let (k1, k2) = self.keys(kind);
        let mut x = (x ^ k2) & MASK;
        x = x.wrapping_mul(inverse(M2)) & MASK;
        x ^= x >> 24; // x ^ (x >> 24) is its own inverse on 48 bits
        x = x.wrapping_mul(inverse(M1)) & MASK;
        x ^ k1
    }

    fn keys(&self, kind: u64) -> (u64, u64) {
        (
            mix(self.key, kind) & MASK,
            mix(self.key, kind + 1000) & MASK,
        )
    }

    /// The id of object number `index` of this shape.
    pub(crate) fn encode(&self, shape: IdShape, index: u32) -> String {
        let mut out = String::with_capacity(shape.prefix.len() + shape.body);
        out.push_str(shape.prefix);
        out.push_str(shape.lead);
        let mut v = self.scramble(shape.kind, index as u64);
        let mut digits = [0u8; WIDTH];
        for d in digits.iter_mut().rev() {
            *d = BASE62[(v % 62) as usize];
            v /= 62;
        }
        out.extend(digits.iter().map(|&b| b as char));
        let rest = shape.body.saturating_sub(shape.lead.len() + WIDTH);
        out.extend(self.tag[..rest.min(24)].iter().map(|&b| b as char));
        out
    }

    /// The index `id` encodes, if it is a well-formed id of this shape and account (not checked against counts).
    pub(crate) fn decode(&self, shape: IdShape, id: &str) -> Option<u32> {
        let body = id.strip_prefix(shape.prefix)?.strip_prefix(shape.lead)?;
        if body.len() + shape.lead.len() != shape.body || body.len() < WIDTH {
            return None;
        }
        let (digits, tag) = body.split_at(WIDTH);
        if tag.as_bytes() != &self.tag[..tag.len()] {
            return None;
        }
        let mut v: u64 = 0;
        for b in digits.bytes() {
            let d = DIGIT[b as usize];
            if d == 255 {
                return None;
            }
            let d = u64::from(d);
            v = v.checked_mul(62)?.checked_add(d)?;
        }
        if v > MASK {
            return None;
        }
        let index = self.unscramble(shape.kind, v);
        u32::try_from(index).ok()
    }

    /// A short deterministic base62 string for derived values (fingerprints, client secrets).
    pub(crate) fn token(&self, salt: u64, index: u64, len: usize) -> String {
        let mut out = String::with_capacity(len);
        let mut v = mix(self.key ^ salt, index);
        for i in 0..len {
            if i % 10 == 9 {
                v = mix(v, i as u64);
            }
            out.push(BASE62[(v % 62) as usize] as char);
            v /= 62;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{IdCodec, IdShape};

    const CH: IdShape = IdShape::new("ch_", "3", 24, 1);
    const CUS: IdShape = IdShape::new("cus_", "", 10, 7);

    #[test]
    fn ids_decode_back_to_their_index_and_have_stripe_lengths() {
        let codec = IdCodec::new("acct_1TestAccount0001", 42);
        for i in [0u32, 1, 2, 999_999, u32::MAX] {
            let id = codec.encode(CH, i);
            assert_eq!(id.len(), 27, "{id}");
            assert!(id.starts_with("ch_3"));
            assert_eq!(codec.decode(CH, &id), Some(i));
            let cus = codec.encode(CUS, i);
            assert_eq!(cus.len(), 14, "{cus}");
            assert_eq!(codec.decode(CUS, &cus), Some(i));
        }
    }

    #[test]
    fn ids_of_another_account_or_kind_do_not_decode() {
        let a = IdCodec::new("acct_A", 1);
        let b = IdCodec::new("acct_B", 1);
        let id = a.encode(CH, 5);
        assert_eq!(b.decode(CH, &id), None);
        assert_eq!(a.decode(CUS, &id), None);
        assert_eq!(a.decode(CH, "ch_3doesnotexist"), None);
        assert_ne!(a.encode(CH, 5), a.encode(CH, 6));
    }
}
