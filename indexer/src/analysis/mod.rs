//! Text analysis: post text to index tokens, and query words to the tokens they may match.
//!
//! Why our own analysis instead of one Tantivy tokenizer per field: a Tantivy analyzer is fixed
//! per field, while the right analysis depends on each post's language. Rather than one body
//! field per language (every query would then fan out over a dozen fields), the indexer
//! analyzes each post with its own language's chain on the rayon threads and hands Tantivy a
//! `PreTokenizedString` for the single `body` field. Query words are expanded to the set of
//! forms the analyzers of the languages sharing the word's script could have produced
//! ([`query_forms`]), so a Russian query matches every Russian word form and a Kazakh one
//! every Kazakh form without knowing the query's language.
//!
//! The chain for one chunk of text:
//! 1. whitespace chunks that are URLs, e-mail addresses or `@mentions` are skipped (entities
//!    are indexed in their own fields, see [`entities`]);
//! 2. words are maximal runs of letters, digits and marks; an apostrophe between letters stays
//!    inside the word (Ukrainian `м'ясо`, English `don't`); `#` and `$` signs fall away so
//!    that `#выборы` is also the word `выборы`;
//! 3. runs of Han or kana characters become overlapping bigrams (CJK has no spaces; bigrams
//!    are what Lucene's CJK analyzer does, and they make phrase queries work);
//! 4. lowercase (Turkish dotted/dotless i handled), `ё` read as `е`, Arabic-script letter
//!    variants unified (`ي`/`ی`, `ك`/`ک`), Arabic diacritics removed;
//! 5. stemming: Snowball for ru, en, de, fr, es, tr, ar; our light stemmer for Kazakh
//!    ([`kazakh`]); Ukrainian and Persian lowercased only (no stemmer is available for them in
//!    rust-stemmers);
//! 6. tokens longer than [`MAX_TOKEN_CHARS`] are dropped (they are noise: base64, hashes).

pub mod entities;
pub mod kazakh;

use crate::lang::Lang;
use rust_stemmers::{Algorithm, Stemmer};
use std::borrow::Cow;
use std::sync::OnceLock;
use tantivy::tokenizer::Token;

/// Tokens longer than this (in chars) are not indexed.
pub const MAX_TOKEN_CHARS: usize = 40;

/// Analyzes `text` written in `lang` (None: unknown language, lowercased only) into tokens with
/// byte offsets into `text` and consecutive positions.
pub fn analyze(text: &str, lang: Option<Lang>) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 6);
    visit(text, lang, |from, to, token| {
        out.push(Token {
            offset_from: from,
            offset_to: to,
            position: out.len(),
            text: token.to_string(),
            position_length: 1,
        })
    });
    out
}

/// The body field's index text: the analyzed tokens of `text` joined by single spaces, which
/// the field's whitespace tokenizer splits back with consecutive positions.
///
/// Why not Tantivy's `PreTokenizedString`: a `TantivyDocument` serializes pre-tokenized values
/// to JSON when they are added and parses them back in the writer, which cost more than the
/// rest of the pipeline together. Tokens never contain whitespace, so the join is lossless.
pub fn index_text(text: &str, lang: Option<Lang>, out: &mut String) {
    visit(text, lang, |_, _, token| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    });
}

/// Calls `emit(from, to, token)` for each index token of `text`, in order; `from..to` is the
/// token's byte range in `text`. What [`analyze`] collects, without a `String` per token
/// (snippets scan every hit's text on the search path).
pub fn for_each_token(text: &str, lang: Option<Lang>, emit: impl FnMut(usize, usize, &str)) {
    visit(text, lang, emit)
}

/// See [`for_each_token`].
fn visit(text: &str, lang: Option<Lang>, mut emit: impl FnMut(usize, usize, &str)) {
    let mut word = String::new();
    let mut pieces = Vec::new();
    for (chunk_start, chunk) in chunks(text) {
        if is_skipped_chunk(chunk) {
            continue;
        }
        words_into(chunk, &mut pieces);
        for piece in &pieces {
            let from = chunk_start + piece.start;
            let to = chunk_start + piece.end;
            let raw = &text[from..to];
            if piece.cjk {
                cjk_bigrams(raw, from, &mut emit);
                continue;
            }
            let lang = word_lang(raw, lang);
            word.clear();
            normalize_into(raw, lang, &mut word);
            if word.is_empty() || too_long(&word) {
                continue;
            }
            with_stem(&word, lang, |stemmed| emit(from, to, stemmed));
        }
    }
}

/// The index tokens a query word may match, one set per position: usually one position, or
/// several for a CJK run (bigrams, to be matched as a phrase). Each set holds the word's form
/// under every supported language that writes in the word's script, deduplicated.
pub fn query_forms(word: &str) -> Vec<Vec<String>> {
    let mut positions = Vec::new();
    let mut pieces = Vec::new();
    words_into(word, &mut pieces);
    for piece in &pieces {
        let raw = &word[piece.start..piece.end];
        if piece.cjk {
            cjk_bigrams(raw, 0, |_, _, t| positions.push(vec![t.to_string()]));
            continue;
        }
        let mut forms: Vec<String> = Vec::new();
        for lang in candidate_langs(raw) {
            let mut norm = String::new();
            normalize_into(raw, lang, &mut norm);
            if norm.is_empty() || too_long(&norm) {
                continue;
            }
            let form = stem(&norm, lang).into_owned();
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
        if !forms.is_empty() {
            positions.push(forms);
        }
    }
    positions
}

/// The chain for one word of a post in `lang`: the post's own, unless the word is in another
/// script (a Latin brand name in a Russian post), which gets its script's main language.
fn word_lang(word: &str, lang: Option<Lang>) -> Option<Lang> {
    let Some(first) = word.chars().find(|&c| is_letter(c)) else {
        return lang;
    };
    let script = script_of(first);
    let post_script = match lang {
        Some(Lang::Ru | Lang::Uk | Lang::Kk) => Script::Cyrillic,
        Some(Lang::En | Lang::De | Lang::Fr | Lang::Es | Lang::Tr) => Script::Latin,
        Some(Lang::Ar | Lang::Fa) => Script::Arabic,
        Some(Lang::Zh) | None => Script::Other,
    };
    if script == post_script {
        return lang;
    }
    match script {
        Script::Cyrillic => Some(Lang::Ru),
        Script::Latin => Some(Lang::En),
        Script::Arabic => Some(Lang::Ar),
        Script::Other => None,
    }
}

/// Every way the indexer may have analyzed `text` (a word or a phrase): one token sequence
/// per candidate language chain for the text's script, deduplicated. A query matches a post
/// when one variant matches, as a term (one token) or a phrase (several).
pub fn query_variants(text: &str) -> Vec<Vec<String>> {
    let mut variants: Vec<Vec<String>> = Vec::new();
    for lang in candidate_langs(text) {
        let tokens: Vec<String> = analyze(text, lang).into_iter().map(|t| t.text).collect();
        if !tokens.is_empty() && !variants.contains(&tokens) {
            variants.push(tokens);
        }
    }
    variants
}

/// Languages whose analyzers could have produced the index form of `word`, judged by script.
/// `None` stands for the unknown-language chain (lowercase only), which any post may have had.
fn candidate_langs(word: &str) -> Vec<Option<Lang>> {
    let first_letter = word.chars().find(|&c| is_letter(c));
    let mut langs = vec![None];
    match first_letter.map(script_of) {
        Some(Script::Cyrillic) => langs.extend([Some(Lang::Ru), Some(Lang::Uk), Some(Lang::Kk)]),
        Some(Script::Arabic) => langs.extend([Some(Lang::Ar), Some(Lang::Fa)]),
        Some(Script::Latin) => langs.extend(
            [Lang::En, Lang::De, Lang::Fr, Lang::Es, Lang::Tr]
                .into_iter()
                .map(Some),
        ),
        _ => {}
    }
    langs
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Arabic,
    Other,
}

fn script_of(c: char) -> Script {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' => Script::Latin,
        '\u{0400}'..='\u{052F}' => Script::Cyrillic,
        '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' => {
            Script::Arabic
        }
        _ => Script::Other,
    }
}

/// Whitespace-separated chunks with their byte offsets.
fn chunks(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace)
        .filter(|c| !c.is_empty())
        .map(move |c| (c.as_ptr() as usize - text.as_ptr() as usize, c))
}

/// URLs, e-mail addresses and mentions are entities, not words.
fn is_skipped_chunk(chunk: &str) -> bool {
    if !chunk.contains(['@', '.', '/']) {
        return false;
    }
    let trimmed = chunk.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '@');
    trimmed.starts_with('@')
        || entities::url_host(chunk).is_some()
        || (chunk.contains('@') && chunk.contains('.'))
}

struct Piece {
    start: usize,
    end: usize,
    cjk: bool,
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}' // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}')
}

/// More than [`MAX_TOKEN_CHARS`] chars (bytes are checked first: most words are short).
fn too_long(word: &str) -> bool {
    word.len() > MAX_TOKEN_CHARS && word.chars().count() > MAX_TOKEN_CHARS
}

/// `char::is_alphabetic` with fast paths for ASCII and Cyrillic (the Unicode table lookup
/// showed up in ingest profiles).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    if ('\u{0400}'..='\u{0481}').contains(&c) || ('\u{048A}'..='\u{04FF}').contains(&c) {
        return true;
    }
    c.is_alphabetic()
}

fn is_word_char(c: char) -> bool {
    // Fast paths for the scripts most posts are in; Unicode tables for the rest.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    if ('\u{0400}'..='\u{0481}').contains(&c) || ('\u{048A}'..='\u{04FF}').contains(&c) {
        return true;
    }
    c.is_alphanumeric() || is_mark(c)
}

/// Combining marks (diacritics, Arabic harakat) belong to the word they sit on.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Splits a chunk into words and CJK runs (byte ranges within the chunk), into `pieces`.
fn words_into(chunk: &str, pieces: &mut Vec<Piece>) {
    pieces.clear();
    let mut current: Option<Piece> = None;
    let mut iter = chunk.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = i + c.len_utf8();
        let cjk = is_cjk(c);
        let joins = match &current {
            Some(p) if p.cjk => cjk,
            Some(_) if cjk => false,
            Some(_) if is_apostrophe(c) => {
                // Keep `м'ясо` whole: an apostrophe followed by a letter continues the word.
                matches!(iter.peek(), Some((_, n)) if is_letter(*n) && !is_cjk(*n))
            }
            Some(_) => is_word_char(c),
            None => false,
        };
        if joins {
            if let Some(p) = current.as_mut() {
                p.end = end;
            }
            continue;
        }
        if let Some(p) = current.take() {
            pieces.push(p);
        }
        if cjk || is_word_char(c) {
            current = Some(Piece { start: i, end, cjk });
        }
    }
    pieces.extend(current);
}

fn cjk_bigrams(run: &str, base: usize, mut emit: impl FnMut(usize, usize, &str)) {
    let mut chars = run.char_indices().peekable();
    let Some(&(_, first)) = chars.peek() else {
        return;
    };
    if first.len_utf8() == run.len() {
        emit(base, base + run.len(), run);
        return;
    }
    while let Some((from, _)) = chars.next() {
        let Some(&(next, c)) = chars.peek() else {
            break;
        };
        let to = next + c.len_utf8();
        emit(base + from, base + to, &run[from..to]);
    }
}

/// Lowercases and unifies letter variants; diacritics and marks are dropped where they carry
/// no meaning for search (Arabic harakat), kept where they are letters (`ё` is folded, `й` is
/// not).
fn normalize_into(raw: &str, lang: Option<Lang>, out: &mut String) {
    let turkish = lang == Some(Lang::Tr);
    for c in raw.chars() {
        match c {
            '\'' | '\u{2019}' | '\u{02BC}' => out.push('\''),
            'I' if turkish => out.push('ı'),
            'İ' => out.push('i'),
            'ё' | 'Ё' => out.push('е'),
            'ي' | 'ى' => out.push('ی'),
            'ك' => out.push('ک'),
            'ة' if lang == Some(Lang::Fa) => out.push('ه'),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            // Basic Cyrillic capitals: А-Я and Ѐ-Џ.
            '\u{0410}'..='\u{042F}' => out.push(char::from_u32(c as u32 + 0x20).unwrap_or(c)),
            '\u{0400}'..='\u{040F}' => out.push(char::from_u32(c as u32 + 0x50).unwrap_or(c)),
            '\u{0430}'..='\u{045F}' => out.push(c),
            c if is_mark(c) => {}
            c if c.is_uppercase() => out.extend(c.to_lowercase()),
            c => out.push(c),
        }
    }
    if lang == Some(Lang::Fr) {
        // French elision: l'homme, d'accord, qu'il -> homme, accord, il.
        if let Some(pos) = out.find('\'') {
            let head = &out[..pos];
            if matches!(head, "l" | "d" | "j" | "m" | "n" | "s" | "t" | "c" | "qu") {
                out.replace_range(..=pos, "");
            }
        }
    }
}

fn stemmer(algorithm: Algorithm) -> &'static Stemmer {
    // Stemmer construction is cheap, but a static per algorithm keeps the hot path free of it.
    macro_rules! cached {
        ($($alg:ident),*) => {
            match algorithm {
                $(Algorithm::$alg => {
                    static S: OnceLock<Stemmer> = OnceLock::new();
                    S.get_or_init(|| Stemmer::create(Algorithm::$alg))
                })*
                _ => {
                    static EN: OnceLock<Stemmer> = OnceLock::new();
                    EN.get_or_init(|| Stemmer::create(Algorithm::English))
                }
            }
        };
    }
    cached!(Russian, English, German, French, Spanish, Turkish, Arabic)
}

/// The stem of an already normalized word under `lang`'s chain.
fn stem(word: &str, lang: Option<Lang>) -> Cow<'_, str> {
    // Numbers and mixed tokens (covid19) are not stemmed.
    if word.bytes().any(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(word);
    }
    let algorithm = match lang {
        Some(Lang::Ru) => Algorithm::Russian,
        Some(Lang::En) => Algorithm::English,
        Some(Lang::De) => Algorithm::German,
        Some(Lang::Fr) => Algorithm::French,
        Some(Lang::Es) => Algorithm::Spanish,
        Some(Lang::Tr) => Algorithm::Turkish,
        Some(Lang::Ar) => Algorithm::Arabic,
        Some(Lang::Kk) => return Cow::Borrowed(kazakh::stem(word)),
        Some(Lang::Uk | Lang::Fa | Lang::Zh) | None => return Cow::Borrowed(word),
    };
    stemmer(algorithm).stem(word)
}

/// Stems per thread and language remembered before that language's memo is cleared.
const STEM_MEMO_WORDS: usize = 100_000;

type Memo = rustc_hash::FxHashMap<Box<str>, Box<str>>;

thread_local! {
    /// Word -> stem memo of this thread, one map per Snowball language. Words follow Zipf's
    /// law, so most lookups hit, and a hash lookup costs a fraction of a Snowball run (which
    /// was a tenth of ingest CPU). Bounded: a map is cleared when full.
    static STEM_MEMO: std::cell::RefCell<[Memo; 7]> = std::cell::RefCell::new(Default::default());
}

/// Calls `f` with the stem of `word` under `lang`; Snowball results are memoized per thread.
fn with_stem(word: &str, lang: Option<Lang>, f: impl FnOnce(&str)) {
    let slot = match lang {
        Some(Lang::Ru) => 0,
        Some(Lang::En) => 1,
        Some(Lang::De) => 2,
        Some(Lang::Fr) => 3,
        Some(Lang::Es) => 4,
        Some(Lang::Tr) => 5,
        Some(Lang::Ar) => 6,
        _ => return f(&stem(word, lang)),
    };
    if word.bytes().any(|b| b.is_ascii_digit()) {
        return f(word);
    }
    STEM_MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        let map = &mut memo[slot];
        if let Some(stemmed) = map.get(word) {
            return f(stemmed);
        }
        let stemmed: Box<str> = stem(word, lang).into();
        if map.len() >= STEM_MEMO_WORDS {
            map.clear();
        }
        f(&stemmed);
        map.insert(word.into(), stemmed);
    })
}

#[cfg(test)]
mod tests;
