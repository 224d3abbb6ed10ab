//! Text normalization against evasion.
//!
//! People who sell what they must not write `d r u g s`, `m.e.p.h`, `кл@дмен`, `ᴍᴇᴘʜ` or mix
//! Latin letters into Cyrillic words (`нaркотики` with a Latin `a`) so that a plain blocklist
//! misses them. Rules and classifiers therefore never look at the original text but at one of
//! two normalized forms (what is indexed and shown keeps the original):
//!
//! * [`light`]: NFKC, full Unicode case folding, format characters removed (zero-width
//!   joiner/non-joiner/space, soft hyphen, word joiner, BOM, bidi marks and every other
//!   `Default_Ignorable_Code_Point`). Regex rules run on it: a regex is written in real letters,
//!   so mapping letters under it would surprise its author.
//! * [`full`]: the light form, then diacritics removed, words cut out, runs of single letters
//!   joined, leetspeak read as letters and confusable letters mapped to one skeleton. The
//!   result is the words alone, lowercase, separated by one space. Term and phrase rules and
//!   the classifiers run on it.
//!
//! Decisions (each has a case in `testdata/normalize.toml`):
//!
//! * **Case folding** is Unicode full folding (`ß` → `ss`, `ς` → `σ`) done the way Unicode
//!   defines compatibility caseless matching (D146: NFD, fold, NFKD, fold, NFKC), which is
//!   what makes the result stable when applied twice.
//! * **Diacritics**: combining marks of the Latin, Greek, Cyrillic, Hebrew and Arabic
//!   diacritic blocks go (`é` → `e`, `ё` → `е`, `ї` → `і`, stacked "zalgo" marks). `й` and `ў`
//!   keep their breve: they are letters of their own (`мой` is not `мои`). Kazakh `ә ғ қ ң ө ұ
//!   ү һ і` have no decomposition and are never touched. Marks that are vowels of Indic
//!   scripts are not diacritics and stay.
//! * **Confusables** map to one skeleton letter through a table derived from UTS #39
//!   (see [`confusables`]). Letters of the Russian, Kazakh, Ukrainian, Belarusian and Greek
//!   alphabets never merge with each other, only with their Latin lookalike.
//! * **Leetspeak**: in a word that has at least one letter, digits in runs of one or two and the
//!   symbols `@ $` after a letter are read as letters (`a55` → `ass`, `h3r0in` → `heroin`,
//!   `3акладки` → `закладки`: in a mostly Cyrillic word `0 3 4 6 @ $` read as `о з ч б а с`).
//!   A run of three digits or more is a number and stays digits (`1500тг`); a word without
//!   letters is a number and stays one (`1500 тенге`).
//! * **Spaced letters**: three or more single-letter words in a row (separated by spaces or
//!   punctuation), at least two of them letters and more letters than digits, are one word
//!   (`d r u g s`, `m.e.p.h`, `з а к л а д к и`). Two in a row (`я и ты`) are left alone.
//!   Separators are not looked at, since the output keeps one space between words and a
//!   decision taken on separators would come out differently the second time; so a
//!   one-letter word next to spaced letters joins them (`з а к л а д к и в` reads
//!   `закладкив`, which a prefix rule `закладк*` still catches).
//! * **Masks**: `*`, `%`, `…` or two dots or more between a letter and a letter stand for
//!   hidden letters and keep the word whole, written with one `*` (`по%уй` → `по*уй`,
//!   `нае...ли` → `нае*ли`), so the classifiers see a masked word rather than two stumps.
//!
//! Both functions are idempotent, never panic, and [`full`] of any case or NFKC variant of a
//! text is the same string (property tests in `tests/properties.rs`).

use unicode_normalization::UnicodeNormalization;

pub mod confusables;
mod unicode;
mod words;

/// NFKC, full case folding and format characters removed: the form regex rules match.
///
/// ```
/// assert_eq!(filters::normalize::light("Ｍｅｆ\u{200d}Едрон"), "mefедрон");
/// ```
pub fn light(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    unicode::fold(text, &mut out);
    out
}

/// Everything: the form term and phrase rules and the classifiers see.
///
/// ```
/// use filters::normalize::full;
/// assert_eq!(full("D r u g s!"), full("drugs"));
/// assert_eq!(full("a55"), "ass");
/// assert_eq!(full("1500 тенге"), full("1500 ТЕНГЕ"));
/// ```
pub fn full(text: &str) -> String {
    full_from_light(&light(text))
}

/// [`full`] for a text that is already [`light`]: saves folding twice when both are needed.
pub fn full_from_light(light: &str) -> String {
    let mut stripped = String::with_capacity(light.len());
    unicode::strip_diacritics(light, &mut stripped);
    let mut out = String::with_capacity(stripped.len());
    words::rewrite(&stripped, &mut out);
    // Joining spaced letters can put a letter next to a mark it composes with, and
    // composing two marks can make a word of two characters one letter, which joins its
    // spaced neighbours (Indic scripts; found by the fuzz target: `σ [a 𑍇᪰𑍗`). Rewrite and
    // recompose until neither changes anything, so that the next pass finds nothing to
    // change. One round for nearly every text; bounded all the same, and always ending on
    // a recomposition.
    let mut rounds = 0;
    while recompose(&mut out) && rounds < 4 {
        let mut again = String::with_capacity(out.len());
        words::rewrite(&out, &mut again);
        if again == out {
            break;
        }
        out = again;
        rounds += 1;
    }
    out
}

/// NFC of `text` where it can change anything; whether it did.
fn recompose(text: &mut String) -> bool {
    let composable = |c: char| c >= '\u{300}' && !('\u{400}'..='\u{52F}').contains(&c);
    if !text.chars().any(composable)
        || unicode_normalization::is_nfc_quick(text.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        return false;
    }
    let composed: String = text.nfc().collect();
    let changed = composed != *text;
    *text = composed;
    changed
}

/// Both forms of one text, computed once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// See [`light`].
    pub light: String,
    /// See [`full`].
    pub full: String,
}

impl Normalized {
    /// Normalizes `text` both ways.
    pub fn new(text: &str) -> Normalized {
        let light = light(text);
        let full = full_from_light(&light);
        Normalized { light, full }
    }

    /// Only the light form (`full` left empty): enough for a rule set of regex rules alone,
    /// which match the light form, at a fraction of the cost (the scan of indexed posts for a
    /// new regex rule).
    pub fn light_only(text: &str) -> Normalized {
        Normalized {
            light: light(text),
            full: String::new(),
        }
    }
}
