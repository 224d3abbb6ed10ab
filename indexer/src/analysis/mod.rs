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
use std::sync::OnceLock;
use tantivy::tokenizer::Token;

/// Tokens longer than this (in chars) are not indexed.
pub const MAX_TOKEN_CHARS: usize = 40;

/// Analyzes `text` written in `lang` (None: unknown language, lowercased only) into tokens with
/// byte offsets into `text` and consecutive positions.
pub fn analyze(text: &str, lang: Option<Lang>) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut position = 0;
    let mut word = String::new();
    for (chunk_start, chunk) in chunks(text) {
        if is_skipped_chunk(chunk) {
            continue;
        }
        for piece in words(chunk) {
            let from = chunk_start + piece.start;
            let to = chunk_start + piece.end;
            let raw = &text[from..to];
            if piece.cjk {
                push_cjk_bigrams(raw, from, &mut position, &mut out);
                continue;
            }
            let lang = word_lang(raw, lang);
            word.clear();
            normalize_into(raw, lang, &mut word);
            if word.is_empty() || word.chars().count() > MAX_TOKEN_CHARS {
                continue;
            }
            let stemmed = stem(&word, lang);
            out.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: stemmed,
                position_length: 1,
            });
            position += 1;
        }
    }
    out
}

/// The index tokens a query word may match, one set per position: usually one position, or
/// several for a CJK run (bigrams, to be matched as a phrase). Each set holds the word's form
/// under every supported language that writes in the word's script, deduplicated.
pub fn query_forms(word: &str) -> Vec<Vec<String>> {
    let mut positions = Vec::new();
    for piece in words(word) {
        let raw = &word[piece.start..piece.end];
        if piece.cjk {
            let mut tokens = Vec::new();
            let mut position = 0;
            push_cjk_bigrams(raw, 0, &mut position, &mut tokens);
            positions.extend(tokens.into_iter().map(|t| vec![t.text]));
            continue;
        }
        let mut forms: Vec<String> = Vec::new();
        for lang in candidate_langs(raw) {
            let mut norm = String::new();
            normalize_into(raw, lang, &mut norm);
            if norm.is_empty() || norm.chars().count() > MAX_TOKEN_CHARS {
                continue;
            }
            let form = stem(&norm, lang);
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
    let Some(first) = word.chars().find(|c| c.is_alphabetic()) else {
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

/// Languages whose analyzers could have produced the index form of `word`, judged by script.
/// `None` stands for the unknown-language chain (lowercase only), which any post may have had.
fn candidate_langs(word: &str) -> Vec<Option<Lang>> {
    let first_letter = word.chars().find(|c| c.is_alphabetic());
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

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Combining marks (diacritics, Arabic harakat) belong to the word they sit on.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Splits a chunk into words and CJK runs (byte ranges within the chunk).
fn words(chunk: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
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
                matches!(iter.peek(), Some((_, n)) if n.is_alphabetic() && !is_cjk(*n))
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
    pieces
}

fn push_cjk_bigrams(run: &str, base: usize, position: &mut usize, out: &mut Vec<Token>) {
    let chars: Vec<(usize, char)> = run.char_indices().collect();
    if chars.len() == 1 {
        out.push(Token {
            offset_from: base,
            offset_to: base + run.len(),
            position: *position,
            text: run.to_string(),
            position_length: 1,
        });
        *position += 1;
        return;
    }
    for pair in chars.windows(2) {
        let from = pair[0].0;
        let to = pair[1].0 + pair[1].1.len_utf8();
        out.push(Token {
            offset_from: base + from,
            offset_to: base + to,
            position: *position,
            text: run[from..to].to_string(),
            position_length: 1,
        });
        *position += 1;
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
fn stem(word: &str, lang: Option<Lang>) -> String {
    // Numbers and mixed tokens (covid19) are not stemmed.
    if word.bytes().any(|b| b.is_ascii_digit()) {
        return word.to_string();
    }
    let algorithm = match lang {
        Some(Lang::Ru) => Algorithm::Russian,
        Some(Lang::En) => Algorithm::English,
        Some(Lang::De) => Algorithm::German,
        Some(Lang::Fr) => Algorithm::French,
        Some(Lang::Es) => Algorithm::Spanish,
        Some(Lang::Tr) => Algorithm::Turkish,
        Some(Lang::Ar) => Algorithm::Arabic,
        Some(Lang::Kk) => return kazakh::stem(word).to_string(),
        Some(Lang::Uk | Lang::Fa | Lang::Zh) | None => return word.to_string(),
    };
    stemmer(algorithm).stem(word).into_owned()
}

#[cfg(test)]
mod tests;
