//! The matcher for term and phrase rules: one hash probe per word of the normalized text.
//!
//! Why not Aho-Corasick over the text, as the issue first suggested: after full normalization
//! a term is a whole word and a phrase a sequence of whole words, so the boundaries that an
//! automaton would have to find and then check are already there. A hash probe per word costs
//! the same whatever the patterns are, while an automaton's speed depends on them (MEASURED.md:
//! 100k adversarial Cyrillic patterns, 29-38 MB/s as an NFA, 6.6 s to build as a DFA). The
//! `rules` bench runs both on the same 100k terms: 169 MiB/s for this matcher, 141 MiB/s for
//! an overlapping Aho-Corasick NFA (see `benches/RESULTS.md`, "Filters").
//!
//! Layout: every key (a whole word, a phrase's first word, a prefix) is hashed once into a
//! 64-bit value. A bit array of 2^22 bits (a Bloom filter, two bits per key) answers "surely not a key" for most words while
//! staying in cache; only the rare hits probe the hash map and compare strings. Prefix rules
//! are probed at each distinct prefix length, with the word's hash rolled byte by byte.

use rustc_hash::FxHashMap;

/// Bits in the prefilter: 2^22, 512 KiB; two bits per key, so with 100 000 keys a word that
/// is no key gets past it 0.2% of the time.
const BLOOM_SHIFT: u32 = 22;
const BLOOM_BITS: usize = 1 << BLOOM_SHIFT;

/// Rule indices matched by one key.
#[derive(Debug, Default)]
struct Entry {
    /// The key itself, to confirm a hash hit.
    key: Box<str>,
    /// Rules the key matches on its own (a one-word term, or a prefix).
    rules: Vec<u32>,
    /// Phrases starting with this key (indices into `WordMatcher::phrases`).
    phrases: Vec<u32>,
    /// Another key with the same 64-bit hash (practically never).
    next: Option<u32>,
}

/// A phrase: the words after the first, and its rules.
#[derive(Debug)]
struct Phrase {
    rest: Vec<Box<str>>,
    prefix: bool,
    rules: Vec<u32>,
}

/// Matcher for whole words, word prefixes and word sequences.
#[derive(Debug, Default)]
pub(crate) struct WordMatcher {
    bloom: Vec<u64>,
    words: FxHashMap<u64, u32>,
    prefixes: FxHashMap<u64, u32>,
    entries: Vec<Entry>,
    phrases: Vec<Phrase>,
    /// Distinct prefix lengths in bytes, ascending.
    prefix_lens: Vec<usize>,
}

/// FNV-1a, byte by byte so that prefixes roll.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn roll(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(FNV_OFFSET, roll)
}

/// The two prefilter bits of a hash, from one multiply (Fibonacci hashing: the product's high
/// bits are well mixed even where FNV's are not).
#[inline]
fn bloom_bits(h: u64) -> [usize; 2] {
    let m = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    [
        (m >> (64 - BLOOM_SHIFT)) as usize,
        ((m >> (64 - 2 * BLOOM_SHIFT)) as usize) & (BLOOM_BITS - 1),
    ]
}

impl WordMatcher {
    /// Adds rule `rule` matching `words` (normalized, non-empty); `prefix` when the last word
    /// is a prefix.
    pub(crate) fn add(&mut self, rule: u32, words: &[String], prefix: bool) {
        if self.bloom.is_empty() {
            self.bloom = vec![0; BLOOM_BITS / 64];
        }
        match words {
            [] => {}
            [word] => {
                let entry = if prefix {
                    if let Err(at) = self.prefix_lens.binary_search(&word.len()) {
                        self.prefix_lens.insert(at, word.len());
                    }
                    self.entry(word, true)
                } else {
                    self.entry(word, false)
                };
                self.entries[entry].rules.push(rule);
            }
            [first, rest @ ..] => {
                let rest: Vec<Box<str>> = rest.iter().map(|w| w.as_str().into()).collect();
                let entry = self.entry(first, false);
                let existing = self.entries[entry].phrases.iter().copied().find(|&p| {
                    self.phrases[p as usize].rest == rest
                        && self.phrases[p as usize].prefix == prefix
                });
                match existing {
                    Some(p) => self.phrases[p as usize].rules.push(rule),
                    None => {
                        let p = self.phrases.len() as u32;
                        self.phrases.push(Phrase {
                            rest,
                            prefix,
                            rules: vec![rule],
                        });
                        self.entries[entry].phrases.push(p);
                    }
                }
            }
        }
    }

    /// The entry for `key` in the word or prefix map, created when missing.
    fn entry(&mut self, key: &str, prefix: bool) -> usize {
        let h = hash(key);
        for bit in bloom_bits(h) {
            self.bloom[bit / 64] |= 1 << (bit % 64);
        }
        let map = if prefix {
            &mut self.prefixes
        } else {
            &mut self.words
        };
        let new = self.entries.len() as u32;
        let mut at = match map.get(&h) {
            None => {
                map.insert(h, new);
                self.entries.push(Entry {
                    key: key.into(),
                    ..Entry::default()
                });
                return new as usize;
            }
            Some(&first) => first as usize,
        };
        loop {
            if &*self.entries[at].key == key {
                return at;
            }
            match self.entries[at].next {
                Some(next) => at = next as usize,
                None => {
                    self.entries[at].next = Some(new);
                    self.entries.push(Entry {
                        key: key.into(),
                        ..Entry::default()
                    });
                    return new as usize;
                }
            }
        }
    }

    #[inline]
    fn maybe(&self, h: u64) -> bool {
        let [a, b] = bloom_bits(h);
        self.bloom[a / 64] & (1 << (a % 64)) != 0 && self.bloom[b / 64] & (1 << (b % 64)) != 0
    }

    fn find(&self, map: &FxHashMap<u64, u32>, h: u64, key: &str) -> Option<&Entry> {
        let mut at = *map.get(&h)? as usize;
        loop {
            let entry = &self.entries[at];
            if &*entry.key == key {
                return Some(entry);
            }
            at = entry.next? as usize;
        }
    }

    /// Whether no rule was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends the rules matching the space-separated normalized `text` to `out`.
    pub(crate) fn scan(&self, text: &str, out: &mut Vec<u32>) {
        if self.is_empty() {
            return;
        }
        let mut rest = text;
        while !rest.is_empty() {
            let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
            rest = after;
            if word.is_empty() {
                continue;
            }
            let bytes = word.as_bytes();
            let mut h = FNV_OFFSET;
            let mut done = 0;
            for &len in &self.prefix_lens {
                if len > bytes.len() {
                    break;
                }
                h = bytes[done..len].iter().fold(h, |h, &b| roll(h, b));
                done = len;
                if self.maybe(h)
                    && word.is_char_boundary(len)
                    && let Some(entry) = self.find(&self.prefixes, h, &word[..len])
                {
                    out.extend_from_slice(&entry.rules);
                }
            }
            h = bytes[done..].iter().fold(h, |h, &b| roll(h, b));
            if !self.maybe(h) {
                continue;
            }
            let Some(entry) = self.find(&self.words, h, word) else {
                continue;
            };
            out.extend_from_slice(&entry.rules);
            for &p in &entry.phrases {
                let phrase = &self.phrases[p as usize];
                if phrase_matches(phrase, rest) {
                    out.extend_from_slice(&phrase.rules);
                }
            }
        }
    }
}

/// Whether the words of `following` (the text after the phrase's first word) start with the
/// rest of `phrase`.
fn phrase_matches(phrase: &Phrase, following: &str) -> bool {
    let mut words = following.split(' ').filter(|w| !w.is_empty());
    let last = phrase.rest.len() - 1;
    phrase
        .rest
        .iter()
        .enumerate()
        .all(|(i, want)| match words.next() {
            Some(got) if phrase.prefix && i == last => got.starts_with(&**want),
            Some(got) => **want == *got,
            None => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(rules: &[(&str, bool)]) -> WordMatcher {
        let mut m = WordMatcher::default();
        for (i, (pattern, prefix)) in rules.iter().enumerate() {
            let words: Vec<String> = pattern.split(' ').map(String::from).collect();
            m.add(i as u32, &words, *prefix);
        }
        m
    }

    fn scan(m: &WordMatcher, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        m.scan(text, &mut out);
        out.sort();
        out
    }

    #[test]
    fn whole_words_prefixes_and_phrases() {
        let m = matcher(&[
            ("ass", false),
            ("klad", true),
            ("buy salt", false),
            ("buy sa", true),
        ]);
        assert_eq!(scan(&m, "class assassin essex"), Vec::<u32>::new());
        assert_eq!(scan(&m, "an ass"), vec![0]);
        assert_eq!(scan(&m, "kladmen klad"), vec![1, 1]);
        assert_eq!(scan(&m, "buy salt now"), vec![2, 3]);
        assert_eq!(scan(&m, "buy"), Vec::<u32>::new());
        assert_eq!(scan(&m, "buy sugar"), Vec::<u32>::new());
    }

    #[test]
    fn prefixes_respect_char_boundaries() {
        let m = matcher(&[("жа", true)]);
        assert_eq!(scan(&m, "жар ж"), vec![0]);
    }
}
