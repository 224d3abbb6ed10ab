//! Language detection for post text: which analysis chain (stemmer) a post gets.
//!
//! Eleven languages are supported ([`Lang`]). Any other language is reported by its ISO 639-1
//! code when whatlang is sure of it (`lang` is then `None`), and `"und"` when nobody can tell.
//!
//! # Why not simply whatlang
//! whatlang costs 57 us on a whole Telegram post and 28 us on its first 160 characters
//! (`MEASURED.md`), while all of Tantivy's indexing costs about 30 us per post. It does not
//! know Kazakh at all (every Kazakh post comes out Russian, Ukrainian or Bulgarian), calls
//! many short Russian posts Bulgarian and gets two thirds of Russian word pairs right. lingua
//! is accurate but slower still: 30 to 300 us per short text even restricted to three
//! languages. So the detector decides from cheap evidence whenever the text carries it, and
//! pays for a statistical model only when it does not: 1 to 3 us for a typical post. The
//! figures, and the accuracy beside whatlang's, come from `indexer langid-eval` (module
//! `langid_eval`).
//!
//! # Decision procedure
//! 1. **Census**, one pass over the first [`LETTER_BUDGET`] letters (the rest of a long post
//!    adds cost, not evidence). Tokens are split on ASCII whitespace; URLs, domains, e-mail
//!    addresses, `@mentions`, `#hashtags`, `$cashtags`, bot commands and Markdown link
//!    targets are skipped; digits and punctuation are not letters. Letters are counted per
//!    script, and so are the letters that tell related languages apart. Small Latin
//!    look-alikes inside a Cyrillic word count as the Cyrillic letters they imitate (`вiн`
//!    with a Latin `i` is Ukrainian).
//! 2. **Script**: the one with most letters, except that Latin needs twice as many as the
//!    runner-up (Latin in a Russian or Persian post is mostly names, terms and code). A Han or
//!    kana character counts twice, standing for a syllable. Han is Chinese unless kana make up
//!    5% of it (Japanese); Hangul is Korean. Scripts without a language of ours go to whatlang
//!    (step 6).
//! 3. **Letters**, counted as evidence once they make 1% of the script's letters, so that one
//!    Kazakh or Ukrainian name in a Russian post does not count. Cyrillic: `ә ғ қ ң ұ һ` are
//!    Kazakh; `і ї є ґ` without `ы э ё` Ukrainian (or, in a short text with `і` alone, Kazakh);
//!    `ы э ё` without them Russian or Kazakh, and Kazakh is ruled out once the text is long
//!    enough ([`LONG_LETTERS`]) to have shown a Kazakh letter. Not ours: other Cyrillic
//!    letters (`ў ј љ ђ җ` ...), `ъ` before a consonant (Bulgarian; Russian writes it only
//!    before `е ё ю я`), `і` with `ы` but no `и` (Belarusian), `ө ү` alone in a long text
//!    (Mongolian). Arabic script: `پ چ ژ گ ک ی` are Persian, `ي ك ة ى` Arabic, Urdu,
//!    Pashto and Kurdish letters neither. Latin: `ı ğ` (and their Windows-1254 mojibake
//!    `ý ð þ`) are Turkish, and each language has an alphabet: a text with more than 2% of
//!    its letters outside it (`ñ` for English, `ł ã ə å` for all five) is not that language.
//! 4. **Function words** (a hash lookup per short word, only when the letters left a choice):
//!    a hundred frequent words per language; a word listed for two languages counts for
//!    neither. Lists for Italian, Portuguese, Dutch, Indonesian, Polish, Scandinavian,
//!    Bulgarian and Belarusian exist to take such shared words away and to recognise texts
//!    that are not ours. In Latin script two hits and twice the runner-up's decide; in a short
//!    Cyrillic text one more hit than the rival does.
//! 5. **Prior**. A text still open between languages of its script takes the channel's usual
//!    language ([`ChannelPriors`]) when it is one of the candidates. That settles most short
//!    posts and skips every expensive step below; it never overrides letters or words.
//! 6. **Statistics**, on the cleaned text, at most [`PREFIX_CHARS`] characters. A long Cyrillic
//!    text with no marker and no function word is Russian (non-confident). Short texts (fewer
//!    than [`LONG_LETTERS`] letters): lingua restricted to the remaining candidates, one
//!    detector per script built on first need (its models are embedded in the binary and
//!    shared). Long Latin texts: whatlang unrestricted, whose answer stands when it is one of
//!    the candidates, or an unsupported language it is sure of; otherwise whatlang restricted
//!    to the candidates (non-confident). Texts the letters or words called "not ours": whatlang
//!    unrestricted, its language when it is sure; `"und"` when it is unsure, or when it names
//!    one of ours although the letters ruled ours out (whatlang knows no Mongolian or Tatar
//!    and says Russian).
//!
//! [`Detected::confident`] says whether the text itself proved the answer (marker letters,
//! function words, a clear statistical answer). Answers from the prior or a default are not
//! confident, and [`ChannelPriors`] never learns from answers the prior made.
//!
//! Known limits: Kyrgyz (`ң ө ү`) is taken for Kazakh; a short text in an unsupported
//! language of our scripts gets one of our languages; a post is judged by its first
//! [`LETTER_BUDGET`] letters, so a bilingual post gets the language it starts with.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{LazyLock, OnceLock};

/// Letters looked at by the census; the rest of a long post adds cost, not evidence.
pub const LETTER_BUDGET: u32 = 160;

/// From this many letters a text is "long": a language's marker letters would have shown up
/// (in Kazakh one letter in ten is one of `ә ғ қ ң ө ұ ү һ`, in Ukrainian one in fourteen
/// one of `і ї є ґ`).
pub const LONG_LETTERS: u32 = 40;

/// Characters of cleaned text handed to whatlang or lingua.
pub const PREFIX_CHARS: usize = 200;

/// Languages with their own analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// Russian
    Ru,
    /// Ukrainian
    Uk,
    /// Kazakh
    Kk,
    /// English
    En,
    /// German
    De,
    /// French
    Fr,
    /// Spanish
    Es,
    /// Turkish
    Tr,
    /// Persian
    Fa,
    /// Arabic
    Ar,
    /// Chinese
    Zh,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 11] = [
        Lang::Ru,
        Lang::Uk,
        Lang::Kk,
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::Tr,
        Lang::Fa,
        Lang::Ar,
        Lang::Zh,
    ];

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Uk => "uk",
            Lang::Kk => "kk",
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Tr => "tr",
            Lang::Fa => "fa",
            Lang::Ar => "ar",
            Lang::Zh => "zh",
        }
    }

    /// From an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    fn index(self) -> usize {
        self as usize
    }

    fn lingua(self) -> lingua::Language {
        use lingua::Language as L;
        match self {
            Lang::Ru => L::Russian,
            Lang::Uk => L::Ukrainian,
            Lang::Kk => L::Kazakh,
            Lang::En => L::English,
            Lang::De => L::German,
            Lang::Fr => L::French,
            Lang::Es => L::Spanish,
            Lang::Tr => L::Turkish,
            Lang::Fa => L::Persian,
            Lang::Ar => L::Arabic,
            Lang::Zh => L::Chinese,
        }
    }
}

/// How a detection was reached (for statistics and debugging).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// The script alone (Han, kana, Hangul).
    Script,
    /// Letters only some languages use.
    Letters,
    /// Frequent function words.
    Words,
    /// The channel's prior.
    Prior,
    /// whatlang.
    Whatlang,
    /// lingua.
    Lingua,
    /// The script's default language, for lack of any evidence.
    Default,
    /// Nothing to detect from (no letters).
    Nothing,
}

/// Result of detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// ISO 639-1 code, or "und" when unknown.
    pub code: &'static str,
    /// The supported language, when it is one.
    pub lang: Option<Lang>,
    /// Whether the text itself gave clear evidence (not a prior, default or unsure guess).
    pub confident: bool,
    /// How the answer was reached.
    pub via: Via,
}

impl Detected {
    /// Code of an undetermined language.
    pub const UND: &'static str = "und";

    fn supported(lang: Lang, confident: bool, via: Via) -> Detected {
        Detected {
            code: lang.code(),
            lang: Some(lang),
            confident,
            via,
        }
    }

    fn unsupported(code: &'static str, via: Via) -> Detected {
        Detected {
            code,
            lang: None,
            confident: true,
            via,
        }
    }

    fn undetermined(via: Via) -> Detected {
        Detected {
            code: Detected::UND,
            lang: None,
            confident: false,
            via,
        }
    }

    /// Whether the text itself gave clear evidence for the answer.
    pub fn is_confident(&self) -> bool {
        self.confident
    }
}

/// A set of supported languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LangSet(u16);

impl LangSet {
    const EMPTY: LangSet = LangSet(0);

    fn of(langs: &[Lang]) -> LangSet {
        LangSet(langs.iter().fold(0, |bits, l| bits | 1 << l.index()))
    }

    fn contains(self, lang: Lang) -> bool {
        self.0 & 1 << lang.index() != 0
    }

    fn insert(&mut self, lang: Lang) {
        self.0 |= 1 << lang.index();
    }

    fn iter(self) -> impl Iterator<Item = Lang> {
        Lang::ALL.into_iter().filter(move |l| self.contains(*l))
    }
}

/// The Latin-script languages we support, in the order of [`Census::not_in_alphabet`].
const LATIN: [Lang; 5] = [Lang::En, Lang::De, Lang::Fr, Lang::Es, Lang::Tr];

/// Script groups with more than one supported language, each with its own lingua detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Cyrillic,
    Latin,
    Arabic,
}

impl Group {
    fn langs(self) -> &'static [Lang] {
        match self {
            Group::Cyrillic => &[Lang::Ru, Lang::Uk, Lang::Kk],
            Group::Latin => &LATIN,
            Group::Arabic => &[Lang::Fa, Lang::Ar],
        }
    }
}

/// What the cheap evidence says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// Settled by the text; the flag says whether the evidence was strong.
    Decided(Lang, Via, bool),
    /// Still open between `candidates`; for a long text `default` applies when set.
    Open {
        group: Group,
        candidates: LangSet,
        default: Option<Lang>,
    },
    /// The letters rule our languages out, or the script has none: whatlang may name another.
    NotOurs,
    /// Function words of languages we do not support dominate: whatlang decides.
    LikelyNotOurs,
    /// Decided without a supported language (Japanese, Korean).
    Other(&'static str),
}

/// Detects the language of post text. Cheap to create, `Send + Sync`: one detector serves all
/// rayon threads through `&self`.
#[derive(Debug, Default)]
pub struct LangDetector {
    cyrillic: OnceLock<Lingua>,
    latin: OnceLock<Lingua>,
    arabic: OnceLock<Lingua>,
}

/// A lingua detector (it has no `Debug`).
struct Lingua(lingua::LanguageDetector);

impl std::fmt::Debug for Lingua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lingua")
    }
}

impl LangDetector {
    /// A detector for the supported languages.
    pub fn new() -> LangDetector {
        LangDetector::default()
    }

    /// Detects the language of `text`; `prior` is the channel's usual language, if known.
    pub fn detect(&self, text: &str, prior: Option<Lang>) -> Detected {
        let census = Census::of(text);
        let evidence = match census.main_script() {
            None => {
                return match prior {
                    Some(p) => Detected::supported(p, false, Via::Prior),
                    None => Detected::undetermined(Via::Nothing),
                };
            }
            Some(Script::Cjk) => census.cjk(),
            Some(Script::Cyrillic) => census.cyrillic(text),
            Some(Script::Latin) => census.latin(text),
            Some(Script::Arabic) => census.arabic(text),
            Some(Script::Other) => Evidence::NotOurs,
        };
        let long = census.main_letters() >= LONG_LETTERS;
        match evidence {
            Evidence::Decided(lang, via, confident) => Detected::supported(lang, confident, via),
            Evidence::Other(code) => Detected::unsupported(code, Via::Script),
            Evidence::NotOurs => whatlang_foreign(&cleaned_prefix(text), false),
            Evidence::LikelyNotOurs => whatlang_foreign(&cleaned_prefix(text), true),
            Evidence::Open {
                group,
                candidates,
                default,
            } => {
                if let Some(p) = prior.filter(|p| candidates.contains(*p)) {
                    return Detected::supported(p, false, Via::Prior);
                }
                match default {
                    Some(lang) if long => Detected::supported(lang, false, Via::Default),
                    _ if long && group == Group::Latin => {
                        whatlang_latin(&cleaned_prefix(text), candidates)
                    }
                    _ => self.lingua(group, candidates, &cleaned_prefix(text)),
                }
            }
        }
    }

    /// lingua over `group`, best of `candidates`.
    fn lingua(&self, group: Group, candidates: LangSet, text: &str) -> Detected {
        let cell = match group {
            Group::Cyrillic => &self.cyrillic,
            Group::Latin => &self.latin,
            Group::Arabic => &self.arabic,
        };
        // lingua's models are embedded in the binary and shared by all its detectors, so
        // building one costs little; it is still done once per group, on first need.
        let detector = cell.get_or_init(|| {
            let langs: Vec<_> = group.langs().iter().map(|l| l.lingua()).collect();
            Lingua(lingua::LanguageDetectorBuilder::from_languages(&langs).build())
        });
        let values = detector.0.compute_language_confidence_values(text);
        let mut best: Option<(Lang, f64)> = None;
        let mut total = 0.0;
        for (language, value) in values {
            let Some(lang) = candidates.iter().find(|l| l.lingua() == language) else {
                continue;
            };
            total += value;
            if best.is_none_or(|(_, v)| value > v) {
                best = Some((lang, value));
            }
        }
        match best {
            // Confident: clearly ahead of the other candidates together.
            Some((lang, value)) if value > 0.0 => {
                Detected::supported(lang, value >= 0.7 * total, Via::Lingua)
            }
            _ => Detected::undetermined(Via::Lingua),
        }
    }
}

/// whatlang, unrestricted, for texts that look like none of ours: the language whatlang is
/// sure of. When the letters ruled ours out and whatlang names one of ours anyway (it does not
/// know Mongolian, Tatar or Kyrgyz and says Russian), the letters know better: undetermined.
/// Function words are weaker evidence: then whatlang's sure answer stands (non-confident).
fn whatlang_foreign(text: &str, ours_possible: bool) -> Detected {
    let Some(info) = whatlang::detect(text).filter(|i| i.is_reliable()) else {
        return Detected::undetermined(Via::Whatlang);
    };
    match from_whatlang(info.lang()) {
        None => Detected::unsupported(iso639_1(info.lang()), Via::Whatlang),
        Some(lang) if ours_possible => Detected::supported(lang, false, Via::Whatlang),
        Some(_) => Detected::undetermined(Via::Whatlang),
    }
}

/// whatlang for a long Latin text the words did not settle: unrestricted first, so an
/// unsupported language can be named when whatlang is sure of it; restricted to `candidates`
/// (a non-confident answer) when it names one of ours outside them, or is unsure.
fn whatlang_latin(text: &str, candidates: LangSet) -> Detected {
    let Some(info) = whatlang::detect(text) else {
        return Detected::undetermined(Via::Whatlang);
    };
    match from_whatlang(info.lang()) {
        Some(lang) if candidates.contains(lang) => {
            return Detected::supported(lang, info.is_reliable(), Via::Whatlang);
        }
        None if info.is_reliable() => {
            return Detected::unsupported(iso639_1(info.lang()), Via::Whatlang);
        }
        _ => {}
    }
    let allow = candidates
        .iter()
        .filter_map(to_whatlang)
        .collect::<Vec<_>>();
    match whatlang::Detector::with_allowlist(allow)
        .detect(text)
        .and_then(|i| from_whatlang(i.lang()))
    {
        Some(lang) => Detected::supported(lang, false, Via::Whatlang),
        None => Detected::undetermined(Via::Whatlang),
    }
}

fn to_whatlang(lang: Lang) -> Option<whatlang::Lang> {
    use whatlang::Lang as W;
    Some(match lang {
        Lang::Ru => W::Rus,
        Lang::Uk => W::Ukr,
        Lang::Kk => return None,
        Lang::En => W::Eng,
        Lang::De => W::Deu,
        Lang::Fr => W::Fra,
        Lang::Es => W::Spa,
        Lang::Tr => W::Tur,
        Lang::Fa => W::Pes,
        Lang::Ar => W::Ara,
        Lang::Zh => W::Cmn,
    })
}

fn from_whatlang(lang: whatlang::Lang) -> Option<Lang> {
    Lang::from_code(iso639_1(lang))
}

/// ISO 639-1 code of a whatlang language (whatlang uses ISO 639-3).
pub fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang as W;
    match lang {
        W::Epo => "eo",
        W::Eng => "en",
        W::Rus => "ru",
        W::Cmn => "zh",
        W::Spa => "es",
        W::Por => "pt",
        W::Ita => "it",
        W::Ben => "bn",
        W::Fra => "fr",
        W::Deu => "de",
        W::Ukr => "uk",
        W::Kat => "ka",
        W::Ara => "ar",
        W::Hin => "hi",
        W::Jpn => "ja",
        W::Heb => "he",
        W::Yid => "yi",
        W::Pol => "pl",
        W::Amh => "am",
        W::Jav => "jv",
        W::Kor => "ko",
        W::Nob => "nb",
        W::Dan => "da",
        W::Swe => "sv",
        W::Fin => "fi",
        W::Tur => "tr",
        W::Nld => "nl",
        W::Hun => "hu",
        W::Ces => "cs",
        W::Ell => "el",
        W::Bul => "bg",
        W::Bel => "be",
        W::Mar => "mr",
        W::Kan => "kn",
        W::Ron => "ro",
        W::Slv => "sl",
        W::Hrv => "hr",
        W::Srp => "sr",
        W::Mkd => "mk",
        W::Lit => "lt",
        W::Lav => "lv",
        W::Est => "et",
        W::Tam => "ta",
        W::Vie => "vi",
        W::Urd => "ur",
        W::Tha => "th",
        W::Guj => "gu",
        W::Uzb => "uz",
        W::Pan => "pa",
        W::Aze => "az",
        W::Ind => "id",
        W::Tel => "te",
        W::Pes => "fa",
        W::Mal => "ml",
        W::Ori => "or",
        W::Mya => "my",
        W::Nep => "ne",
        W::Sin => "si",
        W::Khm => "km",
        W::Tuk => "tk",
        W::Aka => "ak",
        W::Zul => "zu",
        W::Sna => "sn",
        W::Afr => "af",
        W::Lat => "la",
        W::Slk => "sk",
        W::Cat => "ca",
        W::Tgl => "tl",
        W::Hye => "hy",
        W::Cym => "cy",
    }
}

/// Small ASCII letters that look like Cyrillic ones, as a bit set indexed by byte. (Capitals
/// are left out: `IT-обучение`, `USB-кабель` are real Latin.)
const LOOKALIKES: u128 = {
    let mut set = 0u128;
    let letters = b"aceiopxy";
    let mut i = 0;
    while i < letters.len() {
        set |= 1 << letters[i];
        i += 1;
    }
    set
};

/// What the census needs to know about a whitespace-separated token.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// A Cyrillic word with Latin look-alikes in it (`вiн`, typed on the wrong layout or to
    /// dodge filters): its Latin letters are read as the Cyrillic ones they imitate.
    /// (`iPhone-ом` is not one: `h`, `n` look like no Cyrillic letter, and it has a hyphen.)
    lookalikes: bool,
}

/// One pass over a token's bytes, which runs for every token the census sees: `None` for
/// tokens that are not prose (links, domains, e-mail addresses, mentions, tags, bot commands).
fn scan_token(token: &str) -> Option<Token> {
    let bytes = token.as_bytes();
    if matches!(bytes.first(), Some(b'@' | b'#' | b'$' | b'/')) {
        return None;
    }
    let (mut latin, mut lookalikes, mut cyrillic) = (0, 0, 0);
    let mut ascii = true;
    let mut dot_then_letter = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'@' | b'#' => return None,
            b':' if bytes[i + 1..].starts_with(b"//") => return None,
            b'.' if i > 0 && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => {
                dot_then_letter = true
            }
            b'a'..=b'z' | b'A'..=b'Z' => {
                latin += 1;
                lookalikes += (LOOKALIKES >> b) as u32 & 1;
            }
            // Lead bytes of U+0400..U+04FF.
            0xD0..=0xD3 => {
                ascii = false;
                cyrillic += 1;
            }
            0x80.. => ascii = false,
            _ => {}
        }
    }
    // `t.me/x`, `example.com`: ASCII with a letter right after an inner dot. (This also drops
    // "e.g." and "U.S.", which carry no evidence anyway.)
    if ascii && dot_then_letter {
        return None;
    }
    let hyphenated = bytes.contains(&b'-');
    Some(Token {
        lookalikes: latin > 0 && lookalikes == latin && cyrillic > latin && !hyphenated,
    })
}

/// The prose tokens of `text`. Only ASCII whitespace separates them: splitting on bytes is
/// several times cheaper than on Unicode whitespace, and a no-break space inside a token
/// costs nothing but a missed function word.
fn prose_tokens(text: &str) -> impl Iterator<Item = (&str, Token)> {
    text.split_ascii_whitespace()
        // A Markdown link, `[Подписаться](https://t.me/x)`: its words are prose, its target
        // is not.
        .map(|t| t.find("](").map_or(t, |at| &t[..at]))
        .filter_map(|t| Some((t, scan_token(t)?)))
}

/// Lowercase of a letter, without the table search of `char::to_lowercase` for the scripts
/// that matter here (it dominated the cost of the function-word lookup).
fn to_lower(c: char) -> char {
    let shifted = |delta: u32| char::from_u32(c as u32 + delta).unwrap_or(c);
    match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        'a'..='z' | 'а'..='я' | 'ѐ'..='џ' | '\u{600}'..='\u{6FF}' => c,
        'А'..='Я' => shifted(0x20),
        'Ѐ'..='Џ' => shifted(0x50),
        // Pairs of capital (even) and small (odd), Kazakh and Ukrainian letters among them.
        '\u{460}'..='\u{4BF}' | '\u{4D0}'..='\u{4FF}' => char::from_u32(c as u32 | 1).unwrap_or(c),
        'İ' => 'i',
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// The prose tokens of `text`, at most [`PREFIX_CHARS`] characters, for whatlang and lingua.
fn cleaned_prefix(text: &str) -> String {
    let mut out = String::with_capacity(PREFIX_CHARS * 2);
    let mut chars = 0;
    for (token, _) in prose_tokens(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in token.chars() {
            out.push(c);
            chars += 1;
            if chars >= PREFIX_CHARS {
                return out;
            }
        }
        chars += 1;
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Arabic,
    Cjk,
    Other,
}

/// Letter counts of the first [`LETTER_BUDGET`] letters of prose.
#[derive(Debug, Default)]
struct Census {
    letters: u32,
    latin: u32,
    cyrillic: u32,
    arabic: u32,
    han: u32,
    kana: u32,
    hangul: u32,
    other: u32,
    /// Byte length of the text prefix the census covered.
    end: usize,
    // Cyrillic.
    /// `ә ғ қ ң ұ һ`: Kazakh (among the languages that matter here).
    kk_only: u32,
    /// `ө ү`: Kazakh, but also Mongolian, Kyrgyz, Tatar.
    kk_shared: u32,
    /// `ї є ґ`: Ukrainian only.
    uk_only: u32,
    /// `і`: Ukrainian, Kazakh, Belarusian.
    dotted_i: u32,
    /// `ы э ё`: never Ukrainian or Bulgarian.
    not_uk: u32,
    /// `и`: Russian, Ukrainian, Kazakh, Bulgarian, but never Belarusian.
    plain_i: u32,
    /// `ъ` as a vowel (before a consonant or at the end of a word), which is Bulgarian:
    /// Russian writes it only before `е ё ю я`.
    vowel_hard_sign: u32,
    /// The previous letter was `ъ`.
    after_hard_sign: bool,
    /// Cyrillic letters of languages we do not support (`ў ј љ ђ җ` ...).
    cyrillic_foreign: u32,
    // Latin.
    /// `ı ğ` (and their mojibake `ý ð þ`): Turkish, or Azerbaijani, which `ə` rules out.
    turkish: u32,
    /// Per language of [`LATIN`]: letters outside its alphabet.
    not_in_alphabet: [u32; 5],
    // Arabic script.
    /// `پ چ ژ گ ک ی`.
    persian: u32,
    /// `ي ك ة ى`.
    arabic_only: u32,
    /// Urdu, Pashto, Kurdish, Uyghur letters.
    arabic_foreign: u32,
}

impl Census {
    fn of(text: &str) -> Census {
        let mut census = Census::default();
        for (token, info) in prose_tokens(text) {
            census.token(token, info);
            if census.letters >= LETTER_BUDGET {
                // Where the token ends, as an offset into `text`.
                census.end = token.as_ptr() as usize - text.as_ptr() as usize + token.len();
                return census;
            }
        }
        census.end = text.len();
        census
    }

    fn token(&mut self, token: &str, info: Token) {
        for c in token.chars() {
            if self.letters >= LETTER_BUDGET {
                return;
            }
            match c {
                'i' if info.lookalikes => self.cyrillic_letter('і'),
                'a'..='z' if info.lookalikes => self.cyrillic_letter('а'),
                c => self.char(c),
            }
        }
        if std::mem::take(&mut self.after_hard_sign) {
            self.vowel_hard_sign += 1;
        }
    }

    fn char(&mut self, c: char) {
        match c {
            'a'..='z' | 'A'..='Z' => {
                self.letters += 1;
                self.latin += 1;
            }
            // Latin-1, Extended A and B, IPA (Azerbaijani ə), Extended Additional (Vietnamese).
            '\u{C0}'..='\u{2AF}' | '\u{1E00}'..='\u{1EFF}' if c != '×' && c != '÷' => {
                self.latin_letter(c)
            }
            '\u{400}'..='\u{52F}' => self.cyrillic_letter(c),
            '\u{621}'..='\u{63A}'
            | '\u{641}'..='\u{64A}'
            | '\u{671}'..='\u{6D5}'
            | '\u{750}'..='\u{77F}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFF}' => self.arabic_letter(c),
            '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' => {
                self.letters += 1;
                self.han += 1;
            }
            '\u{3041}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' => {
                self.letters += 1;
                self.kana += 1;
            }
            '\u{AC00}'..='\u{D7AF}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' => {
                self.letters += 1;
                self.hangul += 1;
            }
            c if c.is_alphabetic() && !c.is_ascii() => {
                self.letters += 1;
                self.other += 1;
            }
            _ => {}
        }
    }

    fn latin_letter(&mut self, c: char) {
        self.letters += 1;
        self.latin += 1;
        let lower = to_lower(c);
        // ý þ ð are ı ş ğ of Turkish text in Windows-1254 read as Windows-1252, common on
        // older Turkish sites.
        if matches!(lower, 'ı' | 'ğ' | 'ý' | 'þ' | 'ð') || c == 'İ' {
            self.turkish += 1;
        }
        // Which of the LATIN languages write this letter, one bit each; bit 0, English,
        // is never set.
        const DE: u8 = 1 << 1;
        const FR: u8 = 1 << 2;
        const ES: u8 = 1 << 3;
        const TR: u8 = 1 << 4;
        let alphabets: u8 = match lower {
            'ä' | 'ß' => DE,
            'ö' => DE | TR,
            'ü' => DE | FR | ES | TR,
            'é' => FR | ES,
            'à' | 'è' | 'ê' | 'ë' | 'ï' | 'ô' | 'ù' | 'œ' | 'æ' | 'ÿ' => FR,
            'â' | 'î' | 'û' | 'ç' => FR | TR,
            'á' | 'í' | 'ó' | 'ú' | 'ñ' => ES,
            // 'i' is the lowercase of the Turkish 'İ'.
            'ı' | 'ğ' | 'ş' | 'i' | 'ý' | 'þ' | 'ð' => TR,
            _ => 0,
        };
        for (i, count) in self.not_in_alphabet.iter_mut().enumerate() {
            if alphabets & 1 << i == 0 {
                *count += 1;
            }
        }
    }

    fn cyrillic_letter(&mut self, c: char) {
        self.letters += 1;
        self.cyrillic += 1;
        if std::mem::take(&mut self.after_hard_sign) && !matches!(c, 'е' | 'ю' | 'я' | 'ё') {
            self.vowel_hard_sign += 1;
        }
        match c {
            'а'..='я' | 'А'..='Я' => {
                if matches!(c, 'ы' | 'Ы' | 'э' | 'Э') {
                    self.not_uk += 1;
                } else if matches!(c, 'и' | 'И') {
                    self.plain_i += 1;
                } else if c == 'ъ' {
                    self.after_hard_sign = true;
                }
            }
            'ё' | 'Ё' => self.not_uk += 1,
            'ә' | 'Ә' | 'ғ' | 'Ғ' | 'қ' | 'Қ' | 'ң' | 'Ң' | 'ұ' | 'Ұ' | 'һ' | 'Һ' => {
                self.kk_only += 1
            }
            'ө' | 'Ө' | 'ү' | 'Ү' => self.kk_shared += 1,
            'і' | 'І' => self.dotted_i += 1,
            'ї' | 'Ї' | 'є' | 'Є' | 'ґ' | 'Ґ' => self.uk_only += 1,
            _ => self.cyrillic_foreign += 1,
        }
    }

    fn arabic_letter(&mut self, c: char) {
        self.letters += 1;
        self.arabic += 1;
        match c {
            'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی' => self.persian += 1,
            'ي' | 'ك' | 'ة' | 'ى' => self.arabic_only += 1,
            // Alef wasla (Quranic Arabic) and heh with yeh (Persian) are ours.
            '\u{671}' | '\u{6C0}' => {}
            '\u{672}'..='\u{6D5}' | '\u{750}'..='\u{77F}' => self.arabic_foreign += 1,
            _ => {}
        }
    }

    fn cjk_weight(&self) -> u32 {
        2 * (self.han + self.kana + self.hangul)
    }

    fn main_script(&self) -> Option<Script> {
        let others = [
            (self.cyrillic, Script::Cyrillic),
            (self.arabic, Script::Arabic),
            (self.cjk_weight(), Script::Cjk),
            (self.other, Script::Other),
        ];
        let (most, script) = others.into_iter().max_by_key(|(n, _)| *n)?;
        // Latin in a Russian, Persian or Chinese post is mostly names, terms and code, the
        // reverse is rare: another script with half as many letters as Latin wins.
        if self.latin > 0 && self.latin > 2 * most {
            Some(Script::Latin)
        } else {
            (most > 0).then_some(script)
        }
    }

    fn main_letters(&self) -> u32 {
        match self.main_script() {
            Some(Script::Latin) => self.latin,
            Some(Script::Cyrillic) => self.cyrillic,
            Some(Script::Arabic) => self.arabic,
            Some(Script::Cjk) => self.han + self.kana + self.hangul,
            Some(Script::Other) => self.other,
            None => 0,
        }
    }

    fn cjk(&self) -> Evidence {
        if self.hangul >= self.han + self.kana {
            Evidence::Other("ko")
        } else if self.kana > 0 && self.kana * 20 >= self.han + self.kana {
            Evidence::Other("ja")
        } else {
            Evidence::Decided(Lang::Zh, Via::Script, true)
        }
    }

    fn cyrillic(&self, text: &str) -> Evidence {
        let n = self.cyrillic;
        let long = n >= LONG_LETTERS;
        // At least 1% of the letters, so a stray name does not count.
        let share = |count: u32| count > 0 && count * 100 >= n;
        let open = |candidates: &[Lang], default| Evidence::Open {
            group: Group::Cyrillic,
            candidates: LangSet::of(candidates),
            default,
        };
        if share(self.cyrillic_foreign) {
            return Evidence::NotOurs;
        }
        if self.kk_only > 0 && share(self.kk_only + self.kk_shared) {
            return Evidence::Decided(Lang::Kk, Via::Letters, true);
        }
        if share(self.kk_shared) {
            // Only ө ү: a short Kazakh text, or a long Mongolian or Kyrgyz one.
            return if long {
                Evidence::NotOurs
            } else {
                Evidence::Decided(Lang::Kk, Via::Letters, false)
            };
        }
        let ukrainian = self.uk_only + self.dotted_i;
        let words = || Words::of(&text[..self.end]);
        match (share(ukrainian), share(self.not_uk)) {
            (true, false) if self.uk_only > 0 || long => {
                Evidence::Decided(Lang::Uk, Via::Letters, true)
            }
            // і alone is Kazakh as much as Ukrainian in a short text.
            (true, false) => words().between(Lang::Uk, Lang::Kk),
            (false, true) if long => Evidence::Decided(Lang::Ru, Via::Letters, true),
            // ы э ё are Kazakh letters too.
            (false, true) => words().between(Lang::Ru, Lang::Kk),
            (true, true) => {
                // і and ы, but no и nor any Kazakh letter in a long text: Belarusian.
                if long && self.plain_i == 0 && self.uk_only == 0 {
                    return Evidence::NotOurs;
                }
                // A Ukrainian name in a Russian text, or the reverse.
                let words = words();
                let (ru, uk) = (words.hits(Lang::Ru), words.hits(Lang::Uk));
                if words.hits_other() >= 2 && words.hits_other() > ru.max(uk) {
                    Evidence::LikelyNotOurs
                } else if ru != uk && (long || ru.max(uk) >= 2) {
                    let lang = if ru > uk { Lang::Ru } else { Lang::Uk };
                    Evidence::Decided(lang, Via::Words, true)
                } else if long {
                    // і ї є ґ are about 7% of Ukrainian letters, ы э ё 2% of Russian ones.
                    let lang = if ukrainian > 3 * self.not_uk {
                        Lang::Uk
                    } else {
                        Lang::Ru
                    };
                    Evidence::Decided(lang, Via::Letters, false)
                } else {
                    open(&[Lang::Ru, Lang::Uk, Lang::Kk], None)
                }
            }
            (false, false) => {
                if share(self.vowel_hard_sign) {
                    return Evidence::NotOurs; // Bulgarian
                }
                match words().winner(&[Lang::Ru, Lang::Uk, Lang::Kk]) {
                    Some((Bucket::Lang(lang), hits)) => {
                        Evidence::Decided(lang, Via::Words, long || hits >= 2)
                    }
                    Some((Bucket::Other, hits)) if hits >= 2 => Evidence::LikelyNotOurs,
                    // A long text would have shown a Kazakh letter; Ukrainian and Russian
                    // can both go on without theirs.
                    _ if long => open(&[Lang::Ru, Lang::Uk], Some(Lang::Ru)),
                    _ => open(&[Lang::Ru, Lang::Uk, Lang::Kk], None),
                }
            }
        }
    }

    fn latin(&self, text: &str) -> Evidence {
        let n = self.latin;
        let mut candidates = LangSet::EMPTY;
        for (lang, foreign) in LATIN.iter().zip(self.not_in_alphabet) {
            // Up to 2% of letters from elsewhere: names, loanwords.
            if foreign * 50 <= n {
                candidates.insert(*lang);
            }
        }
        if candidates == LangSet::EMPTY {
            return Evidence::NotOurs;
        }
        if self.turkish > 0 && self.turkish * 100 >= n {
            return if candidates.contains(Lang::Tr) {
                Evidence::Decided(Lang::Tr, Via::Letters, true)
            } else {
                Evidence::NotOurs
            };
        }
        let words = Words::of(&text[..self.end]);
        match words.winner(&LATIN) {
            Some((Bucket::Lang(lang), hits)) if hits >= 2 && candidates.contains(lang) => {
                return Evidence::Decided(lang, Via::Words, true);
            }
            Some((Bucket::Other, hits)) if hits >= 2 => return Evidence::LikelyNotOurs,
            _ => {}
        }
        Evidence::Open {
            group: Group::Latin,
            candidates,
            default: None,
        }
    }

    fn arabic(&self, text: &str) -> Evidence {
        if self.arabic_foreign > 0 && self.arabic_foreign * 100 >= self.arabic {
            return Evidence::NotOurs; // Urdu, Pashto, Kurdish, Uyghur
        }
        let (mut persian, mut arabic) = (self.persian, self.arabic_only);
        // Function words only when the letters are few or mixed: they cost more.
        if persian.max(arabic) < 2 || persian.min(arabic) > 0 {
            let words = Words::of(&text[..self.end]);
            persian += 3 * words.hits(Lang::Fa);
            arabic += 3 * words.hits(Lang::Ar);
        }
        if persian > 0 && persian >= 3 * arabic {
            Evidence::Decided(Lang::Fa, Via::Letters, persian >= 2)
        } else if arabic > 0 && arabic >= 3 * persian {
            Evidence::Decided(Lang::Ar, Via::Letters, arabic >= 2)
        } else {
            Evidence::Open {
                group: Group::Arabic,
                candidates: LangSet::of(&[Lang::Fa, Lang::Ar]),
                default: None,
            }
        }
    }
}

/// What a function word tells: one of our languages, or one we only list to rule out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Lang(Lang),
    Other,
}

const OTHER: usize = Lang::ALL.len();

/// The most frequent words of each language. A word listed for two buckets counts for
/// neither, so the lists stay natural instead of hand-deduplicated; the `Other` lists are
/// there to take such words away, and to recognise texts that are not ours.
const WORD_LISTS: &[(Bucket, &str)] = &[
    (
        Bucket::Lang(Lang::En),
        "the of and to a in is that for it with as was on be by at this are from or have has \
         had not but an they which you we his her their its were been will would can there \
         all one more also if about when who what said after into other than only new so up \
         out over some such these them those then our your he she him my me i do does did no \
         may could should just like very how most us any because now even well many where \
         while each both through before between being under never same here much own why must \
         still back off again down get got made see know think time people year years way \
         first two good go going",
    ),
    (
        Bucket::Lang(Lang::De),
        "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als \
         auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem \
         über einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei \
         ihr ihre ihren wir ich können kann schon wenn was diese dieser dieses unter beim \
         sehr wieder gegen immer jetzt hier dann da denn doch mir mich uns euch ihm ihn ihnen \
         keine kein nichts alle viele seine seiner seinen seinem habe hatte hatten waren wäre \
         würde soll sollte muss müssen ob weil also heute gibt ganz zwei ja nein seit ohne \
         etwa bereits sowie worden",
    ),
    (
        Bucket::Lang(Lang::Fr),
        "le la les de des du et est un une en que qui dans pour pas sur au aux il elle ce \
         cette sont avec par plus ne se son sa ses ont été mais ou où leur leurs nous vous je \
         tout aussi comme fait être peut entre après depuis lors sans sous très deux bien \
         alors donc ainsi dont était avait selon encore qu' d' l' n' c' j' s' y a on ils \
         elles ces cet moi toi lui eux mon ma mes ton ta tes notre votre nos vos ceux celle \
         celui quand même autre autres toujours faire dit fois à peu tous toutes rien jamais \
         ici chez avoir déjà puis non oui car quelque cela ça afin",
    ),
    (
        Bucket::Lang(Lang::Es),
        "el la los las de del y en que un una por con para es se no lo al su sus como más \
         pero fue son este esta está ha han muy también sobre entre hay ya cuando sin desde \
         todo le me ser era había porque donde puede todos otros otra otro así tiene hasta \
         nos mi estos él ella ellos les yo tu tú te usted ustedes nosotros eso esto ese esa \
         esos esas aquí ahora siempre nunca nada algo alguien dos años año vez hace hacer \
         dijo están estaba fueron sido tienen tenía qué cómo cuál quién mucho muchos poco \
         cada mismo misma parte según durante antes después bien sólo solo aunque o u e ni",
    ),
    (
        Bucket::Lang(Lang::Tr),
        "bir ve bu da de için ile çok olarak daha gibi kadar sonra olan en ne o değil var yok \
         ama her şey ben sen biz siz onlar onun bunu ise mi mı mu mü diye olduğu göre \
         arasında ancak ki şu ya hem veya tüm böyle nasıl neden oldu olması yeni büyük önce \
         şimdi zaman bunun şekilde olduğunu değildir bile hiç sadece artık yani hemen ilk iki \
         üç ayrıca bunlar şöyle tarafından üzerinde içinde yılında ardından bana beni sana \
         seni bize onu ona benim senin bizim",
    ),
    (
        Bucket::Other,
        // Italian.
        "il lo la i gli le di del della delle dei degli e è che in un una per con non si sono \
         da al alla anche più ma come questo questa nel nella ha hanno essere stato stata \
         molto tutti tutto quando ci se suo sua loro dell' all' nell' un' l' sul sulla dal \
         dalla era erano può ancora già sempre perché così ogni dopo fra tra mi ti lui lei \
         noi voi io tu mio mia quello quella anni solo",
    ),
    (
        Bucket::Other,
        // Portuguese.
        "o os as a do da dos das em no na nos nas não um uma é com para por que se mais mas \
         ao à foi são ele ela seu sua também pelo pela isso este esta muito já quando há ou \
         eles elas seus suas ser está estão tem têm foram mesmo sobre entre até depois ainda \
         então pode onde qual sem eu você nós vocês isto aquele aquela",
    ),
    (
        Bucket::Other,
        // Dutch.
        "de het een van en in is dat op te zijn met voor niet aan er die ook maar als bij \
         door om wordt worden naar heeft hij zij ze wij nog dit deze kan over uit tot wel \
         geen meer al was werd waren hebben heb veel nu dan toch omdat wat wie waar hoe mijn \
         jouw onze haar hun zo ik je jij u",
    ),
    (
        Bucket::Other,
        // Indonesian and Malay.
        "yang dan di ini itu dengan untuk dari dalam tidak akan pada ada juga ke oleh saya \
         kami kita mereka atau sudah bisa telah karena tersebut sebagai adalah lebih harus \
         dapat seperti banyak hanya masih belum setelah sangat agar namun jika",
    ),
    (
        Bucket::Other,
        // Polish.
        "i w z na się nie do to że jest o od jak po co ale za tak przez dla czy być jego jej \
         już tylko może które który która oraz jako są był była było były także gdy bardzo \
         tego tym ten ta te tej jednak również mnie nas",
    ),
    (
        Bucket::Other,
        // Scandinavian.
        "och att det som är på av för med till inte og er ikke jeg har til af den de en ett \
         var kan om så vi han hon",
    ),
    (
        Bucket::Other,
        // Romanian and Catalan.
        "și şi în să nu este pentru sau fost acest această sunt care amb els dels és més però \
         aquest aquesta seva",
    ),
    (
        Bucket::Lang(Lang::Ru),
        "и в не на что с по как это к из у за от для о но а так же его она он они мы вы был \
         была было были только уже или также после который которые которая которых года году \
         может будет если когда чтобы где нет еще ещё есть при все всё их со во ко об этот \
         эта эти этом того там тут меня мне себя себе свою свои очень даже чем надо можно до \
         про тому я ты вам нам вас нас тебе тебя мой моя твой всю весь вся сам сама кто кому \
         чего ничего сейчас здесь тоже потом хорошо просто ли бы ну вот какой какая какие \
         всех всего более сегодня нужно нее неё него ним ней них лет раз много",
    ),
    (
        Bucket::Lang(Lang::Uk),
        "а і й та що як це не на в у з із до за від для про по але або так же його її він \
         вона вони ми ви був була було були тільки вже також після який яка які року може \
         буде якщо коли щоб де ні ще є при всі їх цей ця ці тому там тут мене мені себе свою \
         свої дуже навіть ніж треба можна чи хто я ти вам нам вас нас тебе мій моя твій весь \
         вся сам сама кому чого нічого зараз теж потім добре просто ну ось бути більш більше \
         сьогодні потрібно неї нього них років раз",
    ),
    (
        Bucket::Lang(Lang::Kk),
        "мен және бұл деп бар жоқ бір осы сол ол бен пен үшін деген болып еді екен туралы \
         арқылы бойынша қазір кейін дейін тағы да де та те ғана сияқты барлық біз сіз олар \
         оның бірақ немесе ретінде болады болды мені сені оны біздің сіздің жылы жыл жаңа \
         енді әр өз өте тек ал ма ме ба бе па пе",
    ),
    (
        Bucket::Other,
        // Bulgarian and Macedonian.
        "во од со кои кој која околу меѓу преку е са че ще това към през който които която \
         което също тя те ни му ги й от за да се на и в с не по как но или още има бе бяха \
         беше защото където когато може бил била било били съм си сме сте ако вече трябва \
         много там тук тези този тази нещо нищо обаче като поради",
    ),
    (
        Bucket::Other,
        // Belarusian.
        "што гэта ад ён яна яны быў была было калі таму таксама толькі каб вельмі пасля ці \
         яго ўсе мы вы як але на не у з і па пра вось аб яе адзін усё усе якія",
    ),
    (
        Bucket::Lang(Lang::Fa),
        "در به از که این را با است آن برای یک خود تا می شد شده بود های ها کرد کند نیز بر هم \
         او ما اند باید شود دارد وی پس اما یا هر همه چه ولی نمی هستند بودند شوند کنند داد \
         دارند گفت کرده بوده توسط روی چون اگر البته بسیار چند",
    ),
    (
        Bucket::Lang(Lang::Ar),
        "في من على إلى أن التي الذي هذا هذه عن مع كان ما لا قد ذلك بين كل أو بعد حيث عام حتى \
         الى ان وقد كما لم لن هو هي نحو عند أي إن ثم الذين كانت يكون تم منذ غير أكثر عليه فيه \
         وفي ومن وهو وهي لقد ولا بعض عندما",
    ),
];

/// FNV-1a: the words are a few bytes long, where SipHash's setup dominates.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = self.0 ^ 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash ^ 0xcbf2_9ce4_8422_2325;
    }
}

type WordMap = HashMap<&'static str, usize, BuildHasherDefault<Fnv>>;

static WORDS: LazyLock<WordMap> = LazyLock::new(|| {
    const AMBIGUOUS: usize = usize::MAX;
    let mut map = WordMap::default();
    for (bucket, list) in WORD_LISTS {
        let index = match bucket {
            Bucket::Lang(lang) => lang.index(),
            Bucket::Other => OTHER,
        };
        for word in list.split_whitespace() {
            let entry = map.entry(word).or_insert(index);
            if *entry != index {
                *entry = AMBIGUOUS;
            }
        }
    }
    map.retain(|_, index| *index != AMBIGUOUS);
    map
});

/// Function-word hits per bucket.
#[derive(Debug, Default)]
struct Words {
    hits: [u32; OTHER + 1],
}

impl Words {
    /// Longest word looked up, in bytes: function words are short.
    const MAX_BYTES: usize = 20;

    fn of(text: &str) -> Words {
        let mut words = Words::default();
        let mut lower = String::new();
        for (token, _) in prose_tokens(text) {
            let word = token.trim_matches(|c: char| !c.is_alphanumeric());
            // French elision (qu'il, d'un) and the Persian joiner (می‌شود) end the word.
            let cut = word
                .char_indices()
                .find(|(_, c)| matches!(c, '\'' | '’' | '\u{200C}'));
            let word = match cut {
                Some((at, '\u{200C}')) => &word[..at],
                Some((at, c)) => &word[..at + c.len_utf8()],
                None => word,
            };
            // An initial (`К.`) is no preposition.
            let initial = token.ends_with('.') && word.chars().nth(1).is_none();
            if word.is_empty() || word.len() > Words::MAX_BYTES || initial {
                continue;
            }
            lower.clear();
            for c in word.chars().map(to_lower) {
                // Letters only Spanish or German writes count like their words.
                match c {
                    'ñ' => words.hits[Lang::Es.index()] += 1,
                    'ß' => words.hits[Lang::De.index()] += 1,
                    _ => {}
                }
                lower.push(if c == '’' { '\'' } else { c });
            }
            if let Some(index) = WORDS.get(lower.as_str()) {
                words.hits[*index] += 1;
            }
        }
        words
    }

    fn hits(&self, lang: Lang) -> u32 {
        self.hits[lang.index()]
    }

    fn hits_other(&self) -> u32 {
        self.hits[OTHER]
    }

    /// Decides a short Cyrillic text that the letters left open between `a` and `b` by the
    /// function words of each, or leaves it open.
    fn between(&self, a: Lang, b: Lang) -> Evidence {
        let (hits_a, hits_b) = (self.hits(a), self.hits(b));
        if hits_a != hits_b {
            let lang = if hits_a > hits_b { a } else { b };
            Evidence::Decided(lang, Via::Words, hits_a.abs_diff(hits_b) >= 2)
        } else {
            Evidence::Open {
                group: Group::Cyrillic,
                candidates: LangSet::of(&[a, b]),
                default: None,
            }
        }
    }

    /// The bucket among `langs` and [`Bucket::Other`] with the most hits, when it has at
    /// least twice as many as the runner-up.
    fn winner(&self, langs: &[Lang]) -> Option<(Bucket, u32)> {
        let mut scores: Vec<(Bucket, u32)> = langs
            .iter()
            .map(|l| (Bucket::Lang(*l), self.hits(*l)))
            .collect();
        scores.push((Bucket::Other, self.hits[OTHER]));
        scores.sort_by_key(|(_, hits)| std::cmp::Reverse(*hits));
        let (first, second) = (scores[0], scores[1]);
        (first.1 > 0 && first.1 >= 2 * second.1).then_some(first)
    }
}

/// Posts a channel needs before its prior is trusted.
pub const PRIOR_MIN_POSTS: u32 = 10;

/// Share of a channel's detections (in percent) its dominant language needs.
pub const PRIOR_MIN_PERCENT: u32 = 80;

/// Per-channel language statistics, used as a prior for short or ambiguous posts.
///
/// Only detections the text made count: those settled by the prior itself would make any
/// early majority permanent, and texts without letters say nothing.
#[derive(Debug, Clone, Default)]
pub struct ChannelPriors {
    channels: HashMap<u64, Tally>,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    total: u32,
    by_lang: [u32; Lang::ALL.len()],
}

impl ChannelPriors {
    /// Records one detection for a channel.
    pub fn observe(&mut self, channel_id: u64, detected: Detected) {
        if matches!(detected.via, Via::Prior | Via::Nothing) {
            return;
        }
        let tally = self.channels.entry(channel_id).or_default();
        tally.total = tally.total.saturating_add(1);
        if let Some(lang) = detected.lang {
            let count = &mut tally.by_lang[lang.index()];
            *count = count.saturating_add(1);
        }
    }

    /// The channel's dominant language, once it is established.
    pub fn prior(&self, channel_id: u64) -> Option<Lang> {
        let tally = self.channels.get(&channel_id)?;
        if tally.total < PRIOR_MIN_POSTS {
            return None;
        }
        let (lang, count) = Lang::ALL
            .into_iter()
            .zip(tally.by_lang)
            .max_by_key(|(_, count)| *count)?;
        (u64::from(count) * 100 >= u64::from(tally.total) * u64::from(PRIOR_MIN_PERCENT))
            .then_some(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Detected {
        LangDetector::new().detect(text, None)
    }

    /// (text, expected code) without a prior.
    const CASES: &[(&str, &str)] = &[
        // Kazakh, with its own letters and without them (і and function words only).
        (
            "Қазақстан Республикасының Президенті бүгін жаңа заңға қол қойды.",
            "kk",
        ),
        ("Ол бір кітап алды деп айтты", "kk"),
        // Short Ukrainian and Russian.
        ("Що це таке?", "uk"),
        ("Де ти був учора?", "uk"),
        ("Привіт, як справи?", "uk"),
        ("Что это такое?", "ru"),
        ("Где ты был вчера?", "ru"),
        // Latin look-alikes in Ukrainian words.
        ("Вiн пiшов додому i не повернувся", "uk"),
        // Persian and Arabic.
        ("این کتاب را دیروز خواندم و خیلی دوست داشتم", "fa"),
        ("هذا الكتاب جميل جدا وقد قرأته في يوم واحد", "ar"),
        // Han, with and without kana.
        ("今天天气很好，我们去公园散步吧。", "zh"),
        ("今日はとてもいい天気ですね。", "ja"),
        // Latin languages.
        (
            "The central bank kept its key rate unchanged, saying that inflation is slowing.",
            "en",
        ),
        (
            "Die Zentralbank hat den Leitzins nicht verändert, weil die Inflation sinkt.",
            "de",
        ),
        (
            "La banque centrale a maintenu son taux directeur, car l'inflation ralentit.",
            "fr",
        ),
        (
            "El banco central mantuvo su tasa de interés porque la inflación se desacelera.",
            "es",
        ),
        (
            "Merkez bankası faiz oranını değiştirmedi, çünkü enflasyon yavaşlıyor.",
            "tr",
        ),
        // Mentions, links, tags and digits are not language: the English in them must not
        // outvote four Russian words.
        (
            "Вы это видели? https://example.com/the/best/news/of/the/world @the_best_news_channel \
             #breaking_news_of_the_day 2024 100%",
            "ru",
        ),
        ("@channel https://t.me/channel #tag 12345", "und"),
        ("", "und"),
    ];

    #[test]
    fn detects_without_prior() {
        for (text, code) in CASES {
            assert_eq!(detect(text).code, *code, "{text}");
        }
    }

    #[test]
    fn supported_languages_carry_their_lang() {
        for (text, code) in CASES {
            assert_eq!(detect(text).lang, Lang::from_code(code), "{text}");
        }
    }

    #[test]
    fn unsupported_languages_are_not_taken_for_ours() {
        let texts = [
            // Polish letters fit none of our Latin alphabets.
            "Wczoraj byłem w sklepie i kupiłem dużo świeżych warzyw oraz owoców dla rodziny.",
            // Bulgarian: ъ as a vowel.
            "Това е първият ден от седмицата и всички са на работа в града.",
            // Belarusian: ў.
            "Учора ў горадзе адбылася вялікая сустрэча з пісьменнікамі.",
        ];
        for text in texts {
            assert_eq!(detect(text).lang, None, "{text}");
        }
    }

    #[test]
    fn prior_settles_short_ambiguous_text() {
        let detector = LangDetector::new();
        // Cyrillic without a marker letter or function word: Russian, Ukrainian or Kazakh.
        for prior in [Lang::Ru, Lang::Uk, Lang::Kk] {
            let found = detector.detect("Доброе утро", Some(prior));
            assert_eq!(found.lang, Some(prior));
            assert_eq!(found.via, Via::Prior);
            assert!(!found.is_confident());
        }
        let found = detector.detect("Hotel Berlin", Some(Lang::De));
        assert_eq!(found.lang, Some(Lang::De));
        // A prior of another script is no candidate.
        let found = detector.detect("Доброе утро", Some(Lang::En));
        assert_ne!(found.via, Via::Prior);
    }

    #[test]
    fn prior_does_not_override_clear_evidence() {
        let detector = LangDetector::new();
        let cases = [
            ("Что это такое? Это новый закон.", Lang::Uk, Lang::Ru),
            ("Що це таке? Це новий закон.", Lang::Ru, Lang::Uk),
            ("Бүгін қалада жаңбыр жауды.", Lang::Ru, Lang::Kk),
            (
                "Центробанк сохранил ключевую ставку на прежнем уровне.",
                Lang::Kk,
                Lang::Ru,
            ),
            (
                "The meeting of the council is scheduled for Friday.",
                Lang::De,
                Lang::En,
            ),
            ("今天天气很好", Lang::Ru, Lang::Zh),
        ];
        for (text, prior, expected) in cases {
            let found = detector.detect(text, Some(prior));
            assert_eq!(found.lang, Some(expected), "{text}");
            assert_ne!(found.via, Via::Prior, "{text}");
        }
    }

    #[test]
    fn text_without_letters_takes_the_prior() {
        let found = LangDetector::new().detect("https://t.me/x 👍 2025", Some(Lang::Ru));
        assert_eq!((found.lang, found.via), (Some(Lang::Ru), Via::Prior));
    }

    #[test]
    fn skipped_tokens() {
        for token in [
            "@user",
            "#tag",
            "$BTC",
            "/start",
            "https://x.org",
            "t.me/x",
            "a@b.kz",
        ] {
            assert!(scan_token(token).is_none(), "{token}");
        }
        for token in ["слово,", "word.", "3.14", "e-mail", "вiн"] {
            assert!(scan_token(token).is_some(), "{token}");
        }
        assert!(scan_token("вiн").is_some_and(|t| t.lookalikes));
        assert!(scan_token("iPhone-ом").is_some_and(|t| !t.lookalikes));
    }

    #[test]
    fn priors_need_enough_posts_and_a_dominant_language() {
        let ru = LangDetector::new().detect("Что это такое?", None);
        let uk = LangDetector::new().detect("Що це таке?", None);
        let mut priors = ChannelPriors::default();
        for _ in 0..PRIOR_MIN_POSTS - 1 {
            priors.observe(1, ru);
        }
        assert_eq!(priors.prior(1), None, "too few posts");
        priors.observe(1, ru);
        assert_eq!(priors.prior(1), Some(Lang::Ru));
        for _ in 0..3 {
            priors.observe(1, uk);
        }
        assert_eq!(priors.prior(1), None, "10 of 13 is under 80%");
        assert_eq!(priors.prior(2), None, "unknown channel");
    }

    #[test]
    fn priors_ignore_their_own_answers() {
        let detector = LangDetector::new();
        let mut priors = ChannelPriors::default();
        for _ in 0..PRIOR_MIN_POSTS {
            priors.observe(1, detector.detect("Доброе утро", Some(Lang::Uk)));
        }
        assert_eq!(priors.prior(1), None);
    }

    #[test]
    fn word_lists_drop_shared_words() {
        // "de" is French, Spanish, Turkish, Portuguese and Dutch: evidence for none of them.
        assert!(!WORDS.contains_key("de"));
        assert_eq!(WORDS.get("the"), Some(&Lang::En.index()));
        assert_eq!(WORDS.get("және"), Some(&Lang::Kk.index()));
    }

    #[test]
    fn lang_codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
        assert_eq!(Lang::from_code("und"), None);
    }

    #[test]
    fn detector_is_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<LangDetector>();
        assert_send_sync::<ChannelPriors>();
    }
}
