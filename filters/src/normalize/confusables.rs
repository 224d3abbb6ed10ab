//! Confusable letters mapped to one skeleton letter.
//!
//! Why a table of our own rather than `unicode_security::skeleton`: the UTS #39 skeleton is
//! case-sensitive (`Н` → `H` but `н` → `ʜ`), so it is not stable under case folding; it maps
//! letters to digits (`З` → `3`, `б` → `6`), which would turn words into numbers; it maps
//! `m` → `rn`; and it merges letters of one alphabet with each other (`б`, `в` and `ь` all
//! look like `b`), which would make a rule `вес` (weight) match `бес`. The table here is
//! *derived* from UTS #39 by the test at the bottom of this file and keeps only:
//!
//! * single letters whose lowercase or uppercase form is confusable with one ASCII letter,
//!   looked up after our folding (so keys are what [`super::light`] can produce);
//! * for the letters of the Russian, Kazakh, Ukrainian, Belarusian and Greek alphabets, only
//!   [`ALPHABET_LOOKALIKES`]: one letter per Latin lookalike, so no two letters of those
//!   alphabets ever share a skeleton (`н` and `һ` both look like `h`; `н` wins, being
//!   Russian);
//! * Latin small capitals (`ᴍᴇᴘʜ`), from their Unicode names, which UTS #39 leaves out.
//!
//! Letters of scripts with many readers that do not look Latin as a whole (Arabic, Hebrew,
//! Armenian, Georgian, Indic and Southeast Asian scripts, Ethiopic, Hangul, CJK) are left
//! alone: mapping the few of their letters that resemble a Latin one (Arabic alef, `l`) would
//! merge words of those languages and stop no evasion worth the cost.
//!
//! The price of one skeleton for all scripts: a Cyrillic word and a Latin word that look the
//! same are the same word to a rule (`сор` and `cop`). That is the point for evasion, and a
//! moderator sees it in a rule's preview.

mod table;

/// Letters of the protected alphabets and the Latin letter each one maps to. Every other
/// letter of these alphabets maps to itself.
pub const ALPHABET_LOOKALIKES: &[(char, char)] = &[
    ('а', 'a'),
    ('в', 'b'),
    ('г', 'r'),
    ('е', 'e'),
    ('і', 'i'),
    ('к', 'k'),
    ('м', 'm'),
    ('н', 'h'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('т', 't'),
    ('у', 'y'),
    ('х', 'x'),
    ('ш', 'w'),
    ('α', 'a'),
    ('β', 'b'),
    ('γ', 'y'),
    ('ε', 'e'),
    ('ζ', 'z'),
    ('η', 'n'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('μ', 'm'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
];

/// Letters of the alphabets whose letters must never merge with each other.
pub const PROTECTED_ALPHABETS: &str =
    "абвгдежзийклмнопрстуфхцчшщъыьэюяәғқңөұүһієґўαβγδεζηθικλμνξοπρστυφχψω";

/// Latin small capitals, by their Unicode names (`LATIN LETTER SMALL CAPITAL M` → `m`).
pub const SMALL_CAPITALS: &[(char, char)] = &[
    ('ɢ', 'g'),
    ('ɪ', 'i'),
    ('ɴ', 'n'),
    ('ʀ', 'r'),
    ('ʏ', 'y'),
    ('ʙ', 'b'),
    ('ʜ', 'h'),
    ('ʟ', 'l'),
    ('ᴀ', 'a'),
    ('ᴄ', 'c'),
    ('ᴅ', 'd'),
    ('ᴇ', 'e'),
    ('ᴊ', 'j'),
    ('ᴋ', 'k'),
    ('ᴍ', 'm'),
    ('ᴏ', 'o'),
    ('ᴘ', 'p'),
    ('ᴛ', 't'),
    ('ᴜ', 'u'),
    ('ᴠ', 'v'),
    ('ᴡ', 'w'),
    ('ᴢ', 'z'),
    ('ꜰ', 'f'),
    ('ꜱ', 's'),
    ('ꞯ', 'q'),
];

/// First and last code point of the dense lookup window (Greek and Cyrillic).
const DENSE_FIRST: u32 = 0x370;
const DENSE_LAST: u32 = 0x52F;
const DENSE_LEN: usize = (DENSE_LAST - DENSE_FIRST + 1) as usize;

/// Direct index for Greek and Cyrillic, the scripts most text here is in: one array read
/// instead of a binary search. Built at compile time from [`table::TABLE`].
const DENSE: [u8; DENSE_LEN] = {
    let mut dense = [0u8; DENSE_LEN];
    let mut i = 0;
    while i < table::TABLE.len() {
        let (from, to) = table::TABLE[i];
        let cp = from as u32;
        if cp >= DENSE_FIRST && cp <= DENSE_LAST {
            dense[(cp - DENSE_FIRST) as usize] = to as u8;
        }
        i += 1;
    }
    dense
};

/// The skeleton letter of `c`: its ASCII lookalike, or `c` itself.
#[inline]
pub fn skeleton(c: char) -> char {
    let cp = c as u32;
    if cp < 0x80 {
        return c;
    }
    if (DENSE_FIRST..=DENSE_LAST).contains(&cp) {
        let to = DENSE[(cp - DENSE_FIRST) as usize];
        return if to == 0 { c } else { to as char };
    }
    match table::TABLE.binary_search_by_key(&c, |&(from, _)| from) {
        Ok(i) => table::TABLE[i].1,
        Err(_) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::fmt::Write;

    /// What our folding makes of a short string.
    fn ours(s: &str) -> String {
        let mut out = String::new();
        super::super::unicode::strip_diacritics(&super::super::light(s), &mut out);
        out
    }

    /// The one ASCII lowercase letter `s` is confusable with, if any.
    fn uts39_letter(s: &str) -> Option<char> {
        let skeleton: String = unicode_security::skeleton(s).collect();
        let folded = ours(&skeleton);
        let mut chars = folded.chars();
        match (chars.next(), chars.next()) {
            (Some(l), None) if l.is_ascii_lowercase() => Some(l),
            _ => None,
        }
    }

    /// Scripts whose letters are left alone (see the module doc).
    fn is_left_alone(c: char) -> bool {
        matches!(c as u32,
            0x530..=0x8FF | 0x900..=0xDFF | 0xE00..=0xEFF | 0x1000..=0x109F | 0x10A0..=0x10FF
            | 0x1100..=0x11FF | 0x1200..=0x139F | 0x1C90..=0x1CBF | 0x2D00..=0x2D2F
            | 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFB1D..=0xFDFF
            | 0xFE70..=0xFEFF | 0x11000..=0x11FFF | 0x16D40..=0x16EFF | 0x20000..)
    }

    /// The table as the rules in the module doc derive it from UTS #39.
    fn derive() -> BTreeMap<char, char> {
        let mut table = BTreeMap::new();
        for c in (0x80..=0x3FFFF).filter_map(char::from_u32) {
            let folded = ours(&c.to_string());
            let mut chars = folded.chars();
            let (Some(f), None) = (chars.next(), chars.next()) else {
                continue;
            };
            if f.is_ascii()
                || !f.is_alphabetic()
                || PROTECTED_ALPHABETS.contains(f)
                || is_left_alone(f)
            {
                continue;
            }
            let target = uts39_letter(&f.to_string())
                .or_else(|| uts39_letter(&f.to_uppercase().to_string()));
            if let Some(t) = target {
                table.insert(f, t);
            }
        }
        for &(from, to) in ALPHABET_LOOKALIKES {
            let lower = uts39_letter(&from.to_string());
            let upper = uts39_letter(&from.to_uppercase().to_string());
            assert!(
                lower == Some(to) || upper == Some(to),
                "{from} is not confusable with {to} in UTS #39"
            );
            table.insert(from, to);
        }
        for &(from, to) in SMALL_CAPITALS {
            table.insert(from, to);
        }
        table
    }

    #[test]
    fn table_is_derived_from_uts39() {
        let derived = derive();
        let current: BTreeMap<char, char> = table::TABLE.iter().copied().collect();
        if derived != current {
            let mut src = String::new();
            for (from, to) in &derived {
                writeln!(src, "    ('\\u{{{:X}}}', '{to}'), // {from}", *from as u32).unwrap();
            }
            panic!("table.rs is out of date; its entries should be:\n{src}");
        }
    }

    #[test]
    fn table_is_sorted_and_maps_to_ascii_letters() {
        assert!(table::TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table::TABLE.iter().all(|&(_, to)| to.is_ascii_lowercase()));
    }

    #[test]
    fn protected_alphabets_never_merge() {
        let mut seen = BTreeMap::new();
        for c in PROTECTED_ALPHABETS.chars() {
            let s = skeleton(c);
            let script = if ('\u{370}'..='\u{3FF}').contains(&c) {
                "greek"
            } else {
                "cyrillic"
            };
            if let Some(other) = seen.insert((script, s), c) {
                panic!("{c} and {other} share the skeleton {s}");
            }
        }
    }

    #[test]
    fn skeleton_maps_lookalikes() {
        let word: String = "нaркотики".chars().map(skeleton).collect();
        let latin: String = "HAPKOTИKИ".to_lowercase().chars().map(skeleton).collect();
        assert_eq!(word, latin);
        assert_eq!(skeleton('ᴍ'), 'm');
        assert_eq!(skeleton('ж'), 'ж');
        assert_eq!(skeleton('q'), 'q');
    }
}
