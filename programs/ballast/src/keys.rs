//! Key comparisons for the hot paths. `==` on `Pubkey` is a `memcmp` call on SBF (about 20
//! compute units); as four 64-bit words it is a few loads and compares. The slot scans compare
//! every one of a position's 16 slots, the pricing every remaining account (docs/decisions.md,
//! issue 28).
use anchor_lang::prelude::Pubkey;

#[inline(always)]
fn words(bytes: &[u8; 32]) -> [u64; 4] {
    core::array::from_fn(|i| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes")))
}

/// `a == b`, word by word.
#[inline(always)]
pub fn same_bytes(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let (a, b) = (words(a), words(b));
    (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) == 0
}

/// `a == b` for keys, word by word.
#[inline(always)]
pub fn same_key(a: &Pubkey, b: &Pubkey) -> bool {
    same_bytes(a.as_array(), b.as_array())
}

/// `require_keys_eq!` word by word: `error` with both keys when they differ.
#[inline(always)]
pub fn require_same_key(
    a: &Pubkey,
    b: &Pubkey,
    error: crate::error::BallastError,
) -> anchor_lang::Result<()> {
    if same_key(a, b) {
        return Ok(());
    }
    Err(anchor_lang::error::Error::from(error).with_pubkeys((*a, *b)))
}

/// `key == Pubkey::default()`, word by word.
#[inline(always)]
pub fn is_default_key(key: &Pubkey) -> bool {
    let w = words(key.as_array());
    w[0] | w[1] | w[2] | w[3] == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::PositionSlot;

    #[test]
    fn keys_compare_word_by_word_as_they_do_byte_by_byte() {
        let mut keys = vec![Pubkey::default(), Pubkey::new_unique(), Pubkey::new_unique()];
        for byte in [0, 7, 8, 15, 16, 31] {
            let mut k = [0u8; 32];
            k[byte] = 1;
            keys.push(Pubkey::new_from_array(k));
        }
        for a in &keys {
            assert_eq!(PositionSlot { reserve: *a, ..Default::default() }.is_free(), *a == Pubkey::default());
            for b in &keys {
                assert_eq!(same_key(a, b), a == b, "{a} {b}");
            }
        }
    }
}
