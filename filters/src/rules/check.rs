//! Checking one rule and reducing its pattern to what the matchers need.
//!
//! Every refusal is a sentence a moderator can act on; the API returns it as `invalid_rule`.

use super::{Kind, Rule, RuleAction, regions};
use crate::normalize;

/// Longest pattern accepted, in bytes, for every kind but regex.
pub const MAX_PATTERN_BYTES: usize = 1024;
/// Longest regex accepted, in bytes.
pub const MAX_REGEX_BYTES: usize = 4096;
/// Shortest prefix for a `term*` rule, in characters after normalization: `a*` would match a
/// large part of any language.
pub const MIN_PREFIX_CHARS: usize = 3;
/// Compiled size limit of one regex (the `regex` crate's `size_limit`).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Lazy DFA cache limit of one regex.
const REGEX_DFA_LIMIT: usize = 2 << 20;

/// A checked rule reduced to its matchable form.
#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    /// Term or phrase: normalized words; `prefix` when the last word is a prefix.
    Words { words: Vec<String>, prefix: bool },
    /// A regex that compiled within the limits.
    Regex(regex::Regex),
    /// Lowercased channel username.
    ChannelName(String),
    /// Numeric channel id.
    ChannelId(u64),
    /// Lowercased domain without `www.`.
    Domain(String),
    /// Lowercased hashtag or cashtag with its sign.
    Hashtag(String),
    /// Lowercase hex SHA-256.
    Media(String),
}

/// Checks `rule` and reduces its pattern.
pub(crate) fn compile(rule: &Rule) -> Result<Compiled, String> {
    check_regions(rule)?;
    let pattern = rule.pattern.trim();
    if pattern.is_empty() {
        return Err("the pattern is empty".into());
    }
    let limit = match rule.kind {
        Kind::Regex => MAX_REGEX_BYTES,
        _ => MAX_PATTERN_BYTES,
    };
    if pattern.len() > limit {
        return Err(format!(
            "the pattern is {} bytes long; the limit is {limit}",
            pattern.len()
        ));
    }
    match rule.kind {
        Kind::Term => words(pattern, true),
        Kind::Phrase => words(pattern, false),
        Kind::Regex => regex(pattern),
        Kind::Channel => channel(pattern),
        Kind::Domain => domain(pattern),
        Kind::Hashtag => hashtag(pattern),
        Kind::MediaSha256 => media(pattern),
    }
}

fn check_regions(rule: &Rule) -> Result<(), String> {
    if !rule.regions.is_empty() && rule.action != RuleAction::Hide {
        return Err(format!(
            "regions apply to `hide` only; a `{}` rule applies everywhere",
            rule.action.as_str()
        ));
    }
    match rule.regions.iter().find(|r| !regions::is_region(r)) {
        Some(bad) => Err(format!(
            "region `{bad}` is not an ISO 3166-1 alpha-2 code in uppercase (such as KZ or DE)"
        )),
        None => Ok(()),
    }
}

fn words(pattern: &str, term: bool) -> Result<Compiled, String> {
    let (body, prefix) = match pattern.strip_suffix('*') {
        Some(body) if term => (body, true),
        Some(_) => {
            return Err("a phrase has no wildcard; use a term rule for `word*`".into());
        }
        None => (pattern, false),
    };
    if body.contains('*') {
        return Err("`*` is allowed only at the end of a term".into());
    }
    let normalized = normalize::full(body);
    let words: Vec<String> = normalized
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let Some(last) = words.last() else {
        return Err(format!("`{pattern}` has no letters or digits to match"));
    };
    if prefix && last.chars().count() < MIN_PREFIX_CHARS {
        return Err(format!(
            "the prefix `{body}` is too short: at least {MIN_PREFIX_CHARS} letters before `*`"
        ));
    }
    Ok(Compiled::Words { words, prefix })
}

/// The one place regexes are built, so that checking and the rule set agree on the flags.
pub(crate) fn regex_builder(pattern: &str) -> regex::RegexBuilder {
    let mut builder = regex::RegexBuilder::new(pattern);
    builder
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT);
    builder
}

fn regex(pattern: &str) -> Result<Compiled, String> {
    match regex_builder(pattern).build() {
        Ok(regex) => Ok(Compiled::Regex(regex)),
        Err(regex::Error::CompiledTooBig(limit)) => Err(format!(
            "the regex compiles to more than {limit} bytes; make it simpler (fewer repetitions or \
             alternatives)"
        )),
        Err(e) => Err(format!("the regex does not compile: {e}")),
    }
}

fn channel(pattern: &str) -> Result<Compiled, String> {
    let name = pattern
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("t.me/")
        .trim_start_matches('@');
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name
            .parse()
            .map(Compiled::ChannelId)
            .map_err(|_| format!("channel id `{name}` is too large"));
    }
    let valid = (4..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(Compiled::ChannelName(name.to_ascii_lowercase()))
    } else {
        Err(format!(
            "`{pattern}` is neither a channel username ([A-Za-z0-9_], 4 to 32 characters) nor a \
             numeric channel id"
        ))
    }
}

fn domain(pattern: &str) -> Result<Compiled, String> {
    let lower = pattern.to_lowercase();
    let host = lower
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .trim_start_matches("*.")
        .trim_start_matches("www.")
        .trim_end_matches('.');
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if host.contains('.') && host.len() <= 253 && host.split('.').all(label_ok) {
        Ok(Compiled::Domain(host.to_string()))
    } else {
        Err(format!("`{pattern}` is not a domain such as example.com"))
    }
}

fn hashtag(pattern: &str) -> Result<Compiled, String> {
    let mut chars = pattern.chars();
    let sign = chars.next();
    let rest = chars.as_str();
    let body_ok = !rest.is_empty() && rest.chars().all(|c| c.is_alphanumeric() || c == '_');
    if matches!(sign, Some('#' | '$')) && body_ok {
        Ok(Compiled::Hashtag(pattern.to_lowercase()))
    } else {
        Err(format!(
            "`{pattern}` is not a hashtag or cashtag: write it with its sign, such as #tag or $TON"
        ))
    }
}

fn media(pattern: &str) -> Result<Compiled, String> {
    if pattern.len() == 64 && pattern.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(Compiled::Media(pattern.to_ascii_lowercase()))
    } else {
        Err(format!(
            "`{pattern}` is not a SHA-256 in hex (64 characters 0-9a-f)"
        ))
    }
}
