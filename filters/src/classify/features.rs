//! Hashed n-gram features of a normalized text.
//!
//! Character n-grams of the fully normalized text (with a space at both ends, so that word
//! starts and ends are n-grams of their own) carry spelling that evades word lists; character
//! n-grams of the light text keep what full normalization throws away but spam loves
//! (digits, `$`, `!!!`, emoji, URLs); word unigrams and bigrams carry phrases. Every n-gram is
//! hashed into `2^bits` buckets (the hashing trick: no vocabulary to store or look up).
//!
//! A text's features are the list of bucket indices, one per n-gram occurrence; each occurrence
//! weighs `1 / sqrt(len)`, which keeps long and short posts on one scale without sorting or
//! counting.

use crate::normalize::Normalized;
use serde::{Deserialize, Serialize};

/// Which n-grams a model uses; stored in the model file so that training and scoring agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Number of hash buckets is `2^bits`.
    pub bits: u8,
    /// Character n-gram lengths of the full form, inclusive (0, 0 for none).
    pub full_chars: (u8, u8),
    /// Character n-gram lengths of the light form, inclusive (0, 0 for none).
    pub light_chars: (u8, u8),
    /// Longest word n-gram of the full form (0 for none).
    pub words: u8,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        FeatureSpec {
            bits: 20,
            full_chars: (1, 5),
            light_chars: (0, 0),
            words: 2,
        }
    }
}

impl FeatureSpec {
    /// Number of buckets.
    pub fn dim(&self) -> usize {
        1 << self.bits
    }

    /// Appends the bucket of every n-gram occurrence of `text` to `out`.
    pub fn features(&self, text: &Normalized, out: &mut Vec<u32>) {
        let mut chars: Vec<char> = Vec::with_capacity(text.full.len() + 2);
        chars.push(' ');
        chars.extend(text.full.chars());
        chars.push(' ');
        self.char_ngrams(&chars, self.full_chars, 0x51, out);
        if self.light_chars.1 > 0 {
            chars.clear();
            chars.extend(text.light.chars());
            self.char_ngrams(&chars, self.light_chars, 0x52, out);
        }
        if self.words > 0 {
            let words: Vec<&str> = text.full.split(' ').filter(|w| !w.is_empty()).collect();
            for i in 0..words.len() {
                let mut h = seed(0x53);
                for (k, word) in words[i..].iter().take(self.words as usize).enumerate() {
                    h = word
                        .bytes()
                        .fold(mix(h, u32::from(b' ')), |h, b| mix(h, u32::from(b)));
                    out.push(self.bucket(h, k as u8 + 1));
                }
            }
        }
    }

    fn char_ngrams(&self, chars: &[char], (min, max): (u8, u8), source: u64, out: &mut Vec<u32>) {
        if max == 0 {
            return;
        }
        for i in 0..chars.len() {
            let mut h = seed(source);
            for (k, &c) in chars[i..].iter().take(max as usize).enumerate() {
                h = mix(h, c as u32);
                let n = k as u8 + 1;
                if n >= min {
                    out.push(self.bucket(h, n));
                }
            }
        }
    }

    fn bucket(&self, h: u64, n: u8) -> u32 {
        let h = finish(h ^ u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (h >> (64 - u32::from(self.bits))) as u32
    }
}

fn seed(source: u64) -> u64 {
    source.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[inline]
fn mix(h: u64, c: u32) -> u64 {
    (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3)
}

/// Murmur3's 64-bit finalizer.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_range() {
        let spec = FeatureSpec {
            bits: 10,
            full_chars: (1, 3),
            light_chars: (0, 0),
            words: 2,
        };
        let mut out = Vec::new();
        spec.features(&Normalized::new("ab cd"), &mut out);
        // " ab cd " has 7 chars: 7 + 6 + 5 char n-grams; 2 words: 2 unigrams + 1 bigram.
        assert_eq!(out.len(), 18 + 3);
        assert!(out.iter().all(|&b| (b as usize) < spec.dim()));
        let mut again = Vec::new();
        spec.features(&Normalized::new("AB  CD!"), &mut again);
        assert_eq!(out, again);
    }
}
