//! The Unicode steps: compatibility and case folding, format characters, diacritics.
//!
//! Folding goes through `unicode-normalization` and `caseless` (Unicode's own tables). Those
//! iterator chains cost several passes per character, and most posts are plain ASCII or
//! Cyrillic, where folding is a per-character lowercase; [`fold`] takes that fast path when
//! every character of the text is one for which the two agree (checked for every such
//! character by a test below).

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Appends the light form of `text` (NFKC, full case folding, no format characters) to `out`.
///
/// Runs of fast characters are lowercased one by one; every other run goes through the Unicode
/// chain together with the fast character before it, which it may compose with (`и` + breve
/// is `й`). The character after such a run is a fast one, which never composes with what
/// precedes it, so the runs are independent.
pub(super) fn fold(text: &str, out: &mut String) {
    let mut chars = text.char_indices().peekable();
    // Byte offset in `text` and length of `out` before the last fast character.
    let mut last_fast: Option<(usize, usize)> = None;
    while let Some((i, c)) = chars.next() {
        if is_fast(c) {
            last_fast = Some((i, out.len()));
            out.push(lower_fast(c));
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if is_fast(d) {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        let start = match last_fast.take() {
            Some((at, len)) if text[at..i].chars().count() == 1 => {
                out.truncate(len);
                at
            }
            _ => i,
        };
        slow(&text[start..end], out);
    }
}

/// Unicode D146 (compatibility caseless match): NFD, fold, NFKD, fold; then compose. The
/// second fold and the outer NFKD make the form closed, so folding it again changes nothing.
fn slow(text: &str, out: &mut String) {
    let folded = text
        .chars()
        .filter(|&c| !is_format(c))
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkc()
        .filter(|&c| !is_format(c));
    out.extend(folded);
}

/// Characters whose light form is their simple lowercase, and that never compose with a
/// neighbour (checked for each of them by a test below).
fn is_fast(c: char) -> bool {
    c.is_ascii()
        || matches!(c as u32,
            0x400..=0x482 | 0x48A..=0x52F // Cyrillic, without combining marks
            | 0xA7 | 0xA9 | 0xAB | 0xAE | 0xB0 | 0xB1 | 0xB6 | 0xB7 | 0xBB | 0xD7 | 0xF7
            | 0x2013 | 0x2014 | 0x2018..=0x201E | 0x2020..=0x2022 | 0x2030 | 0x20AC | 0x20B8 | 0x20BD
            | 0x2190..=0x21FF | 0x2600..=0x27BF | 0x2B00..=0x2BFF
            | 0x1F300..=0x1F5FF | 0x1F600..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F900..=0x1F9FF)
}

fn lower_fast(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else if ('\u{410}'..='\u{42F}').contains(&c) {
        // А..Я → а..я
        char::from_u32(c as u32 + 0x20).unwrap_or(c)
    } else if ('\u{430}'..='\u{44F}').contains(&c) {
        c
    } else {
        // Single-character for every fast character (the test checks it).
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// `Default_Ignorable_Code_Point` (Unicode 16 DerivedCoreProperties.txt): zero-width space,
/// joiners, soft hyphen, word joiner, bidi marks and embeddings, BOM, variation selectors,
/// Hangul fillers, tags. Invisible, so used to split words for the eye but not for a matcher.
pub(super) fn is_format(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Combining marks that are diacritics: the combining diacritical blocks, Cyrillic titlo and
/// friends, Hebrew points, Arabic harakat. Indic vowel signs are marks too but not in here.
fn is_diacritic(c: char) -> bool {
    matches!(c,
        '\u{300}'..='\u{36F}' | '\u{483}'..='\u{489}' | '\u{591}'..='\u{5BD}' | '\u{5BF}'
        | '\u{5C1}'..='\u{5C2}' | '\u{5C4}'..='\u{5C5}' | '\u{5C7}' | '\u{610}'..='\u{61A}'
        | '\u{64B}'..='\u{65F}' | '\u{670}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Appends `light` without diacritics to `out`; `й` and `ў` keep their breve.
pub(super) fn strip_diacritics(light: &str, out: &mut String) {
    for c in light.chars() {
        // ASCII and the basic Cyrillic letters have no diacritic to lose.
        if c.is_ascii() || ('\u{410}'..='\u{44F}').contains(&c) || matches!(c, 'й' | 'ў') {
            out.push(c);
        } else if is_diacritic(c) {
            // A stray mark (after a space, or stacked): dropped.
        } else if is_combining_mark(c) {
            out.push(c);
        } else {
            let mut parts = ['\0'; 4];
            let mut n = 0;
            let mut has_diacritic = false;
            decompose_canonical(c, |d| {
                has_diacritic |= is_diacritic(d);
                if n < parts.len() {
                    parts[n] = d;
                }
                n += 1;
            });
            if has_diacritic && n <= parts.len() {
                out.extend(parts[..n].iter().filter(|&&d| !is_diacritic(d)));
            } else {
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn fast_runs_agree_with_the_unicode_chain(s in "[a-zA-Zа-яА-ЯёйЙ\u{300}-\u{30f}\u{200b}-\u{200f}\u{ad}«»—…😀 .,ﬁＡ１]{0,40}") {
            let mut fast = String::new();
            fold(&s, &mut fast);
            let mut whole = String::new();
            slow(&s, &mut whole);
            proptest::prop_assert_eq!(fast, whole);
        }
    }

    #[test]
    fn fast_path_agrees_with_unicode_for_every_fast_character() {
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| is_fast(c))
        {
            let s = c.to_string();
            let mut fast = String::new();
            fold(&s, &mut fast);
            let mut whole = String::new();
            slow(&s, &mut whole);
            assert_eq!(fast, whole, "U+{:04X}", c as u32);
            assert_eq!(c.to_lowercase().count(), 1, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn format_characters_are_default_ignorable() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{AD}', '\u{2060}', '\u{FEFF}', '\u{200E}',
        ] {
            assert!(is_format(c), "U+{:04X}", c as u32);
        }
        assert!(!is_format(' ') && !is_format('a') && !is_format('ж'));
    }

    #[test]
    fn strips_diacritics_but_keeps_short_i() {
        let mut out = String::new();
        strip_diacritics("éёїйўñz\u{301}\u{301}", &mut out);
        assert_eq!(out, "eеійўnz");
    }
}
