//! Snippets: the best window of a post's text, HTML-escaped, with matches in `<mark>`.
//!
//! Tantivy's `SnippetGenerator` re-tokenizes the stored text with the field's tokenizer, but
//! our body is analyzed per language before indexing (see `indexer::analysis`), so the
//! snippet re-runs that same analysis on the stored original: its tokens carry byte offsets
//! into the original, and a token whose analyzed form is one of the query's forms is a match.

use indexer::analysis::for_each_token;
use indexer::lang::Lang;

/// Longest snippet, in chars of original text.
pub const SNIPPET_CHARS: usize = 200;

/// Builds the snippet of `text` (analyzed as `lang`) for the query tokens `highlight`
/// (sorted). Without a match it is the start of the text.
pub fn make(text: &str, lang: Option<Lang>, highlight: &[String]) -> String {
    // CJK bigrams overlap: merge overlapping or touching matches into one mark.
    let mut matches: Vec<(usize, usize)> = Vec::new();
    for_each_token(text, lang, |from, to, token| {
        if highlight
            .binary_search_by(|h| h.as_str().cmp(token))
            .is_err()
        {
            return;
        }
        match matches.last_mut() {
            Some(last) if from < last.1 => last.1 = last.1.max(to),
            _ => matches.push((from, to)),
        }
    });
    let (start, end) = window(text, &matches);
    let mut out = String::with_capacity(end - start + 64);
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(from, to) in matches.iter().filter(|(f, t)| *f >= start && *t <= end) {
        escape_into(&text[at..from], &mut out);
        out.push_str("<mark>");
        escape_into(&text[from..to], &mut out);
        out.push_str("</mark>");
        at = to;
    }
    escape_into(&text[at..end], &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// The byte range of the window with the most matches, starting a little before its first.
fn window(text: &str, matches: &[(usize, usize)]) -> (usize, usize) {
    let limit_bytes = |start: usize| {
        text[start..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(text.len(), |(i, _)| start + i)
    };
    if text.chars().count() <= SNIPPET_CHARS {
        return (0, text.len());
    }
    let mut best = (0usize, 0usize); // (matches in window, start)
    for (i, &(from, _)) in matches.iter().enumerate() {
        let start = back_off(text, from, 40);
        let end = limit_bytes(start);
        let count = matches[i..].iter().take_while(|(_, t)| *t <= end).count();
        if count > best.0 {
            best = (count, start);
        }
    }
    let start = best.1;
    let mut end = limit_bytes(start);
    // End on a word boundary when there is one nearby.
    if end < text.len()
        && let Some(space) = text[start..end].rfind(char::is_whitespace)
        && space > (end - start) / 2
    {
        end = start + space;
    }
    (start, end)
}

/// A start up to `chars` before `at`, on a word boundary when possible.
fn back_off(text: &str, at: usize, chars: usize) -> usize {
    let head = &text[..at];
    let start = head.char_indices().rev().nth(chars).map_or(0, |(i, _)| i);
    if start == 0 {
        return 0;
    }
    match text[start..at].find(char::is_whitespace) {
        Some(sp) => start + sp + text[start + sp..].chars().next().map_or(0, char::len_utf8),
        None => start,
    }
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexer::analysis::query_variants;

    fn forms(q: &str) -> Vec<String> {
        let mut v: Vec<String> = q
            .split_whitespace()
            .flat_map(query_variants)
            .flatten()
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn marks_word_forms_and_escapes_the_rest() {
        let s = make(
            "<b>Новые</b> книги & КНИГА",
            Some(Lang::Ru),
            &forms("книгу"),
        );
        assert_eq!(
            s,
            "&lt;b&gt;Новые&lt;/b&gt; <mark>книги</mark> &amp; <mark>КНИГА</mark>"
        );
    }

    #[test]
    fn long_text_is_cut_around_the_matches() {
        let text = format!(
            "{} needle here {}",
            "word ".repeat(100),
            "tail ".repeat(100)
        );
        let s = make(&text, Some(Lang::En), &forms("needle"));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>needle</mark>"), "{s}");
        assert!(s.chars().count() <= SNIPPET_CHARS + 20);
    }

    #[test]
    fn overlapping_cjk_bigrams_make_one_mark() {
        let s = make("的公民真的", Some(Lang::Zh), &forms("公民真"));
        assert_eq!(s, "的<mark>公民真</mark>的");
    }

    #[test]
    fn no_match_gives_the_start() {
        let s = make("short text", None, &forms("other"));
        assert_eq!(s, "short text");
    }
}
