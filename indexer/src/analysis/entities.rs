//! Entities taken from post text: hashtags, cashtags, mentions and link domains.
//!
//! They are indexed as exact, lowercased keywords in their own fields, so `#tag`, `$TON` and
//! `@channel` queries and the `hashtag`/`domain` rules are exact lookups, not text matches.
//! A hand-written scanner rather than regexes: one pass over the text's whitespace chunks finds
//! all four kinds, which matters on the ingest hot path (every post, every byte).

/// Entities of one post, each list lowercased, deduplicated, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities {
    /// `#word` and `$TICKER`, with their sign, lowercased (`#новости`, `$ton`).
    pub tags: Vec<String>,
    /// `@username`, without the sign, lowercased.
    pub mentions: Vec<String>,
    /// Host names of links in the text and in `links`, lowercased, without `www.`.
    pub domains: Vec<String>,
}

/// Longest hashtag kept, in chars.
const MAX_TAG_CHARS: usize = 64;

/// Top-level domains accepted for bare domains in text (`example.kz` without a scheme). With a
/// scheme or `www.` any TLD is accepted; without one, this list keeps `file.txt` or `v1.2` from
/// being read as domains.
const BARE_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "me", "co", "app", "dev", "xyz", "top", "shop",
    "site", "online", "store", "club", "pro", "ru", "kz", "ua", "by", "uz", "kg", "tj", "am", "az",
    "ge", "tr", "ir", "de", "fr", "es", "it", "uk", "us", "eu", "cn", "ae", "sa", "eg", "su", "рф",
    "қаз", "tv", "fm", "news", "media", "link", "ly", "gg", "to", "cc", "ws",
];

/// Extracts entities from `text` and the post's `links`.
pub fn extract(text: &str, links: &[String]) -> Entities {
    let mut e = Entities::default();
    for chunk in text.split(char::is_whitespace).filter(|c| !c.is_empty()) {
        if let Some(host) = url_host(chunk) {
            push_unique(&mut e.domains, host);
            continue;
        }
        if chunk.contains(['#', '$', '@']) {
            scan_signs(chunk, &mut e);
        }
    }
    for link in links {
        if let Some(host) = url_host(link.trim()) {
            push_unique(&mut e.domains, host);
        }
    }
    e
}

/// Every domain a host belongs to, for subdomain matching: `a.news.kz` -> `a.news.kz`,
/// `news.kz`. The bare TLD is not included.
pub fn domain_and_parents(host: &str) -> impl Iterator<Item = &str> {
    let dots = host.bytes().filter(|&b| b == b'.').count();
    host.match_indices('.')
        .map(|(i, _)| &host[i + 1..])
        .take(dots.saturating_sub(1))
        .chain(std::iter::once(host))
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `#`, `$` and `@` entities inside one whitespace chunk.
fn scan_signs(chunk: &str, e: &mut Entities) {
    let mut prev: Option<char> = None;
    for (i, c) in chunk.char_indices() {
        let after_boundary = prev.is_none_or(|p| !(p.is_alphanumeric() || p == '_'));
        prev = Some(c);
        if !after_boundary || !matches!(c, '#' | '$' | '@') {
            continue;
        }
        let rest = &chunk[i + 1..];
        match c {
            '#' => {
                let word = take_while(rest, |c| c.is_alphanumeric() || c == '_');
                if word.chars().any(char::is_alphabetic) && word.chars().count() <= MAX_TAG_CHARS {
                    push_unique(&mut e.tags, format!("#{}", word.to_lowercase()));
                }
            }
            '$' => {
                // Cashtags are upper-case tickers: $BTC, $TON, $USDT; `$5` or `$var` are not.
                let ticker = take_while(rest, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
                let ends_word = rest[ticker.len()..]
                    .chars()
                    .next()
                    .is_none_or(|n| !n.is_alphanumeric());
                if (2..=10).contains(&ticker.len())
                    && ticker.starts_with(|c: char| c.is_ascii_uppercase())
                    && ends_word
                {
                    push_unique(&mut e.tags, format!("${}", ticker.to_ascii_lowercase()));
                }
            }
            _ => {
                let name = take_while(rest, |c| c.is_ascii_alphanumeric() || c == '_');
                if crate::post::is_username(name) {
                    push_unique(&mut e.mentions, name.to_ascii_lowercase());
                }
            }
        }
    }
}

fn take_while(s: &str, keep: impl Fn(char) -> bool) -> &str {
    let end = s.find(|c: char| !keep(c)).unwrap_or(s.len());
    &s[..end]
}

/// The host of a URL-looking chunk (`https://x.kz/a`, `www.x.kz`, `t.me/name`, `x.kz/a`),
/// lowercased and without `www.`; `None` when the chunk is not a link.
pub fn url_host(chunk: &str) -> Option<String> {
    // Cheap rejection first: this runs on every word of every post.
    let inner = chunk.trim_end_matches(|c: char| !super::is_word_char(c) && c != '/');
    if !inner.contains('.') {
        return None;
    }
    let chunk = chunk.trim_matches(|c: char| {
        matches!(
            c,
            '(' | ')'
                | '['
                | ']'
                | '<'
                | '>'
                | '"'
                | '\''
                | ','
                | '.'
                | '!'
                | '?'
                | ';'
                | ':'
                | '«'
                | '»'
        )
    });
    let lower_prefix: String = chunk.chars().take(8).collect::<String>().to_lowercase();
    let (rest, explicit) = if let Some(p) = ["https://", "http://"]
        .iter()
        .find(|p| lower_prefix.starts_with(*p))
    {
        (&chunk[p.len()..], true)
    } else {
        (chunk, lower_prefix.starts_with("www."))
    };
    let host_end = rest.find(['/', '?', '#', ':']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.contains('@') {
        return None;
    }
    let host = host.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let labels: Vec<&str> = host.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
        });
    if !valid {
        return None;
    }
    let tld = labels[labels.len() - 1];
    if tld.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if explicit || BARE_TLDS.contains(&tld) {
        Some(host.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_all_entity_kinds() {
        let e = extract(
            "Курс $TON растёт! #Крипто #крипто подробнее @kz_tech: https://www.Tengrinews.kz/a?b=1 и t.me/durov.",
            &["https://news.example.com/x".to_string()],
        );
        assert_eq!(e.tags, ["$ton", "#крипто"]);
        assert_eq!(e.mentions, ["kz_tech"]);
        assert_eq!(e.domains, ["tengrinews.kz", "t.me", "news.example.com"]);
    }

    #[test]
    fn near_misses_are_not_entities() {
        let e = extract(
            "цена $5 и $var, mail me@example.com, C#, version v1.2 file.txt #123 a@b",
            &[],
        );
        assert!(e.tags.is_empty(), "{:?}", e.tags);
        assert!(e.mentions.is_empty(), "{:?}", e.mentions);
        assert!(e.domains.is_empty(), "{:?}", e.domains);
    }

    #[test]
    fn parents_of_a_domain() {
        let all: Vec<&str> = domain_and_parents("a.news.kz").collect();
        assert_eq!(all, ["news.kz", "a.news.kz"]);
        assert_eq!(domain_and_parents("kz.kz").collect::<Vec<_>>(), ["kz.kz"]);
    }
}
