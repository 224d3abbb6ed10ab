//! The Unicode steps: compatibility and case folding, format characters, diacritics.
//!
//! Folding goes through `unicode-normalization` and `caseless` (Unicode's own tables). Those
//! iterator chains cost several passes per character, and most characters of most posts
//! (ASCII, Cyrillic, accented Latin, Arabic, Chinese...) fold to their lowercase; [`fold`]
//! takes that fast path for the characters where the two agree (derived from the chain
//! itself, see `fast_bmp`, and checked by the tests below).

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Appends the light form of `text` (NFKC, full case folding, no format characters) to `out`.
///
/// Runs of fast characters are lowercased (ASCII in bulk, the others one by one); every
/// other run goes through the Unicode chain together with the fast character before it,
/// which it may compose with (`и` + breve is `й`). The character after such a run is a fast
/// one, which never composes with what precedes it, so the runs are independent.
pub(super) fn fold(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let table = FAST_BMP.get_or_init(fast_bmp);
    // Byte offset in `text` and length of `out` before the last fast character.
    let mut last_fast: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii() {
            // A run of ASCII: short ones (the spaces and punctuation between words of other
            // scripts) byte by byte, long ones lowercased in bulk.
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii() {
                i += 1;
            }
            if i - start < 16 {
                out.extend(
                    bytes[start..i]
                        .iter()
                        .map(|b| char::from(b.to_ascii_lowercase())),
                );
            } else {
                let from = out.len();
                out.push_str(&text[start..i]);
                out[from..].make_ascii_lowercase();
            }
            last_fast = Some((i - 1, out.len() - 1));
            continue;
        }
        // Two- and three-byte characters (Cyrillic, Greek, Arabic, accented Latin, CJK...)
        // are decoded and looked up here rather than through `chars()` and `fast_lower`:
        // this loop is most of a regex rule's scan of the stored posts.
        let b0 = bytes[i];
        let bmp = match (b0, bytes.get(i + 1), bytes.get(i + 2)) {
            (0xC0..=0xDF, Some(&b1), _) => {
                Some((u32::from(b0 & 0x1F) << 6 | u32::from(b1 & 0x3F), 2))
            }
            (0xE0..=0xEF, Some(&b1), Some(&b2)) => Some((
                u32::from(b0 & 0x0F) << 12 | u32::from(b1 & 0x3F) << 6 | u32::from(b2 & 0x3F),
                3,
            )),
            _ => None,
        };
        if let Some((u, len)) = bmp
            && let Some(lower) = char::from_u32(u32::from(table[u as usize]))
            && lower != '\0'
        {
            last_fast = Some((i, out.len()));
            out.push(lower);
            i += len;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break; // unreachable: `i` is on a character boundary before the end
        };
        if let Some(lower) = fast_lower(c) {
            last_fast = Some((i, out.len()));
            out.push(lower);
            i += c.len_utf8();
            continue;
        }
        let mut end = i + c.len_utf8();
        for d in text[end..].chars() {
            if is_fast(d) {
                break;
            }
            end += d.len_utf8();
        }
        let start = match last_fast.take() {
            Some((at, len)) if text[at..i].chars().count() == 1 => {
                out.truncate(len);
                at
            }
            _ => i,
        };
        slow(&text[start..end], out);
        i = end;
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
/// neighbour (checked for each of them by a test below): ASCII, then a table of the Basic
/// Multilingual Plane, then the emoji blocks.
fn is_fast(c: char) -> bool {
    fast_lower(c).is_some()
}

/// The light form of a fast character (its lowercase), `None` for any other.
#[inline]
fn fast_lower(c: char) -> Option<char> {
    let u = c as u32;
    if u < 0x80 {
        return Some(c.to_ascii_lowercase());
    }
    if u < 0x1_0000 {
        let table = FAST_BMP.get_or_init(fast_bmp);
        return match table[u as usize] {
            0 => None,
            lower => char::from_u32(u32::from(lower)),
        };
    }
    matches!(u, 0x1F300..=0x1F5FF | 0x1F600..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F900..=0x1F9FF)
        .then_some(c)
}

/// For each BMP character, its lowercase if it is fast, else 0 (128 KiB, looked up once per
/// character of every post folded).
static FAST_BMP: std::sync::OnceLock<Box<[u16]>> = std::sync::OnceLock::new();

/// Derives the fast characters of the BMP from the Unicode chain itself, once per process
/// (8 ms in a release build, 70 ms in a debug one), rather than from a hand-kept list: a list
/// covered ASCII and Cyrillic only, and every accented Latin letter, Arabic or Chinese
/// character then took the chain, which was most of the cost of a regex rule's scan of the
/// stored posts.
///
/// A character is fast when it is assigned, not a format character, its light form is the
/// one character its lowercase is, and it starts (after compatibility decomposition) with
/// a starter that composes with nothing before it: combining class 0, not a mark, not a
/// conjoining Hangul jamo (the only starters that compose with a preceding one). Then the
/// light form of a text is the concatenation of its fast characters' lowercase and its
/// other runs' chain (property test below).
fn fast_bmp() -> Box<[u16]> {
    use unicode_normalization::char::{canonical_combining_class, decompose_compatible};
    let mut table = vec![0u16; 0x1_0000].into_boxed_slice();
    let mut folded = String::new();
    for u in 0x80u32..0x1_0000 {
        let Some(c) = char::from_u32(u) else {
            continue; // surrogates
        };
        if !unicode_normalization::char::is_public_assigned(c) || is_format(c) {
            continue;
        }
        let mut first = None;
        decompose_compatible(c, |d| {
            first.get_or_insert(d);
        });
        let Some(first) = first else { continue };
        let jamo = matches!(first as u32, 0x1100..=0x11FF | 0xA960..=0xA97F | 0xD7B0..=0xD7FF);
        if canonical_combining_class(first) != 0 || is_combining_mark(first) || jamo {
            continue;
        }
        let mut lower = c.to_lowercase();
        let (Some(l), None) = (lower.next(), lower.next()) else {
            continue;
        };
        let Ok(l16) = u16::try_from(u32::from(l)) else {
            continue;
        };
        folded.clear();
        slow(c.encode_utf8(&mut [0; 4]), &mut folded);
        let mut it = folded.chars();
        if it.next() == Some(l) && it.next().is_none() && l16 != 0 {
            table[u as usize] = l16;
        }
    }
    table
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

    proptest::proptest! {
        // Any characters, with the neighbours that compose or reorder made likely: the
        // runs stay independent wherever the fast ones fall.
        #[test]
        fn fold_agrees_with_the_unicode_chain_on_any_text(
            s in "(\\PC|[\u{300}-\u{36f}\u{1100}-\u{11ff}\u{ac00}-\u{ac20}\u{9be}\u{9c7}\u{b3e}\u{b47}\u{ff9e}\u{3099}eéEÉиИ])*"
        ) {
            let mut fast = String::new();
            fold(&s, &mut fast);
            let mut whole = String::new();
            slow(&s, &mut whole);
            proptest::prop_assert_eq!(fast, whole);
        }
    }

    #[test]
    fn the_usual_scripts_take_the_fast_path() {
        for c in "aZжЖәҚéÉçÇüÜğışŞñÑßàœΩωعربي中文日本語ქართ".chars()
        {
            assert_eq!(is_fast(c), c != 'ß', "{c}");
        }
        for c in ['\u{301}', '\u{200d}', '\u{1161}', 'ﬁ', 'Ａ', '\u{130}'] {
            assert!(!is_fast(c), "U+{:04X}", c as u32);
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
            assert_eq!(fast_lower(c), c.to_lowercase().next(), "U+{:04X}", c as u32);
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
