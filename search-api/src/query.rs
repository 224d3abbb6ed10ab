//! The user's query language, parsed by hand into a [`ParsedQuery`].
//!
//! Syntax: words, `"exact phrase"`, `-word`, `-"phrase"`, `#hashtag`, `$CASHTAG`, `-#tag`,
//! `@channel`. Why our own parser rather than Tantivy's `QueryParser`: that one accepts a
//! different language (field:value, boolean operators, ranges, boosts) that users would trip
//! on, and errors we cannot word for them. This one accepts exactly the contract's syntax and
//! reports what is wrong in terms of it. It never panics (a property test feeds it garbage).

use indexer::post::is_username;

/// Most parts (words, phrases, tags, channels, exclusions) in one query.
pub const MAX_PARTS: usize = 32;

/// A parsed query. Words and phrases are as typed; analysis is the search engine's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Plain words.
    pub words: Vec<String>,
    /// Quoted phrases (their text between the quotes).
    pub phrases: Vec<String>,
    /// `-word`.
    pub excluded_words: Vec<String>,
    /// `-"phrase"`.
    pub excluded_phrases: Vec<String>,
    /// `#tag` and `$TICKER`, lowercased, with their sign.
    pub tags: Vec<String>,
    /// `-#tag`, `-$TICKER`.
    pub excluded_tags: Vec<String>,
    /// `@channel` usernames, lowercased (a post from any of them matches).
    pub channels: Vec<String>,
}

impl ParsedQuery {
    /// Whether anything positive is asked for (exclusions alone would match everything).
    pub fn has_positive(&self) -> bool {
        !(self.words.is_empty()
            && self.phrases.is_empty()
            && self.tags.is_empty()
            && self.channels.is_empty())
    }

    /// A canonical string of the query, used to tie cursors to their query.
    pub fn canonical(&self) -> String {
        format!("{self:?}")
    }
}

/// Parses `q`. The error message is meant for the user.
pub fn parse(q: &str, max_chars: usize) -> Result<ParsedQuery, String> {
    let chars = q.chars().count();
    if chars > max_chars {
        return Err(format!(
            "the query is {chars} characters long; the limit is {max_chars}"
        ));
    }
    if q.trim().is_empty() {
        return Err(
            "the query is empty: give at least one word, \"phrase\", #tag or @channel".into(),
        );
    }
    let mut parsed = ParsedQuery::default();
    let mut rest = q;
    let mut parts = 0;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        parts += 1;
        if parts > MAX_PARTS {
            return Err(format!("the query has more than {MAX_PARTS} parts"));
        }
        let negated =
            rest.starts_with('-') && rest.len() > 1 && !rest[1..].starts_with(char::is_whitespace);
        if negated {
            rest = &rest[1..];
        }
        if let Some(after) = rest.strip_prefix('"') {
            let Some(end) = after.find('"') else {
                let at = q.len() - rest.len();
                return Err(format!(
                    "the quote opened at character {} is never closed",
                    q[..at].chars().count() + 1
                ));
            };
            let phrase = after[..end].trim();
            rest = &after[end + 1..];
            if phrase.is_empty() {
                continue;
            }
            if negated {
                parsed.excluded_phrases.push(phrase.to_string());
            } else {
                parsed.phrases.push(phrase.to_string());
            }
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let token = &rest[..end];
        rest = &rest[end..];
        match token.chars().next() {
            Some('#') | Some('$') if token.len() > 1 => {
                let sign = &token[..1];
                let name = token[1..].trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(format!(
                        "{token:?} is not a valid {}",
                        if sign == "#" { "hashtag" } else { "cashtag" }
                    ));
                }
                let tag = format!("{sign}{}", name.to_lowercase());
                if negated {
                    parsed.excluded_tags.push(tag)
                } else {
                    parsed.tags.push(tag)
                }
            }
            Some('@') => {
                let name = token[1..].trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
                if negated {
                    return Err(format!(
                        "excluding a channel ({token}) is not supported; use the channel filter instead"
                    ));
                }
                if !is_username(name) {
                    return Err(format!(
                        "{token:?} is not a channel username (4-32 letters, digits or _)"
                    ));
                }
                parsed.channels.push(name.to_ascii_lowercase());
            }
            _ => {
                // A word with no letters or digits (a lone "-", "#", punctuation) is ignored.
                if !token.chars().any(char::is_alphanumeric) {
                    parts -= 1;
                    continue;
                }
                if negated {
                    parsed.excluded_words.push(token.to_string());
                } else {
                    parsed.words.push(token.to_string());
                }
            }
        }
    }
    if !parsed.has_positive() {
        return Err(if parsed == ParsedQuery::default() {
            "the query has no words to search for".into()
        } else {
            "exclusions alone would match everything: add a word, \"phrase\", #tag or @channel"
                .into()
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_kind() {
        let q = parse(
            r#"кладмен "exact phrase" -spam -"bad words" #News $TON -#ads @KZ_tech"#,
            512,
        )
        .unwrap();
        assert_eq!(q.words, ["кладмен"]);
        assert_eq!(q.phrases, ["exact phrase"]);
        assert_eq!(q.excluded_words, ["spam"]);
        assert_eq!(q.excluded_phrases, ["bad words"]);
        assert_eq!(q.tags, ["#news", "$ton"]);
        assert_eq!(q.excluded_tags, ["#ads"]);
        assert_eq!(q.channels, ["kz_tech"]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse("", 512).unwrap_err().contains("empty"));
        assert!(parse("  ", 512).unwrap_err().contains("empty"));
        assert!(
            parse(r#"a "open"#, 512)
                .unwrap_err()
                .contains("character 3")
        );
        assert!(
            parse("-spam", 512)
                .unwrap_err()
                .contains("exclusions alone")
        );
        assert!(parse("@ab", 512).unwrap_err().contains("username"));
        assert!(parse("-@abcd", 512).unwrap_err().contains("not supported"));
        assert!(parse("#a-b", 512).unwrap_err().contains("hashtag"));
        assert!(parse(&"a ".repeat(40), 512).unwrap_err().contains("parts"));
        assert!(parse(&"a".repeat(600), 512).unwrap_err().contains("limit"));
        assert!(parse("- # !!", 512).unwrap_err().contains("no words"));
    }

    #[test]
    fn trailing_punctuation_on_tags_and_channels_is_dropped() {
        let q = parse("#выборы, @kz_tech.", 512).unwrap();
        assert_eq!(q.tags, ["#выборы"]);
        assert_eq!(q.channels, ["kz_tech"]);
    }

    #[test]
    fn never_panics_on_garbage() {
        let alphabet: Vec<char> = "ab \"-#$@ё中\u{200b}\\".chars().collect();
        let mut state = 12345u64;
        for len in 0..300 {
            let s: String = (0..len % 40)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let _ = parse(&s, 512);
        }
    }
}
