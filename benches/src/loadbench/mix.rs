//! Query mixes: what loadbench asks, read from a file or drawn from a corpus.
//!
//! Query file format, one query per line:
//! - a URL query string when the line starts with a search parameter name and `=`
//!   (`q=курс доллара&lang=ru&sort=date`), percent-decoded like a browser's;
//! - otherwise the whole line is the raw `q` (`"exact phrase" -word`, `#tag`);
//! - blank lines and lines that are `#` alone or start with `# ` are comments (`#tag` is a
//!   query);
//! - `pages=N` (loadbench's own parameter, never sent) makes a deep-cursor query: before the
//!   run, loadbench follows `next_cursor` for N-1 pages and the run then asks page N.
//!
//! Each query gets a kind from its parameters ([`classify`]) so results break down per kind
//! whether the mix came from a file or from a corpus.

use anyhow::{Context, bail};
use indexer::post::{Op, parse_line};
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// The parameters `GET /v1/search` knows (contract section 4).
pub const SEARCH_PARAMS: [&str; 9] = [
    "q", "lang", "channel", "from", "to", "media", "sort", "limit", "cursor",
];

/// What sort of query a request is, for the per-kind breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// One word.
    Word,
    /// Two words.
    TwoWords,
    /// Three or more words.
    Words,
    /// A quoted phrase.
    Phrase,
    /// A `#hashtag` or `$CASHTAG`.
    Hashtag,
    /// Any query with a lang, channel, media or date filter.
    Filtered,
    /// `sort=date`.
    SortDate,
    /// A page after the first (`cursor` or `pages`).
    DeepCursor,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::Word,
        Kind::TwoWords,
        Kind::Words,
        Kind::Phrase,
        Kind::Hashtag,
        Kind::Filtered,
        Kind::SortDate,
        Kind::DeepCursor,
    ];

    /// The snake_case name used in JSON and in `--mix`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Word => "word",
            Kind::TwoWords => "two_words",
            Kind::Words => "words",
            Kind::Phrase => "phrase",
            Kind::Hashtag => "hashtag",
            Kind::Filtered => "filtered",
            Kind::SortDate => "sort_date",
            Kind::DeepCursor => "deep_cursor",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One query of the mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Its kind.
    pub kind: Kind,
    /// Search parameters, in order, unencoded.
    pub params: Vec<(String, String)>,
    /// The page the run asks (1 = first page); pages before it are walked before the run.
    pub pages: u32,
}

impl Query {
    /// A query of `params`, classified.
    pub fn new(params: Vec<(String, String)>, pages: u32) -> Query {
        Query {
            kind: classify(&params, pages),
            params,
            pages: pages.max(1),
        }
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The kind of a query: the most specific feature wins (deep cursor, then sort by date, then
/// filters, then the shape of `q`).
pub fn classify(params: &[(String, String)], pages: u32) -> Kind {
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    if pages > 1 || has("cursor") {
        return Kind::DeepCursor;
    }
    if params.iter().any(|(k, v)| k == "sort" && v == "date") {
        return Kind::SortDate;
    }
    if ["lang", "channel", "media", "from", "to"]
        .iter()
        .any(|f| has(f))
    {
        return Kind::Filtered;
    }
    let q = params
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if q.contains('"') {
        return Kind::Phrase;
    }
    let words: Vec<&str> = q.split_whitespace().collect();
    if words
        .iter()
        .any(|w| w.starts_with('#') || w.starts_with('$'))
    {
        return Kind::Hashtag;
    }
    match words.len() {
        0 | 1 => Kind::Word,
        2 => Kind::TwoWords,
        _ => Kind::Words,
    }
}

/// Parses one line of a query file; `None` for blank and comment lines.
pub fn parse_line_query(line: &str) -> anyhow::Result<Option<Query>> {
    let line = line.trim();
    if line.is_empty() || line == "#" || line.starts_with("# ") {
        return Ok(None);
    }
    let is_url_form = line
        .split_once('=')
        .is_some_and(|(name, _)| SEARCH_PARAMS.contains(&name) || name == "pages");
    if !is_url_form {
        return Ok(Some(Query::new(vec![("q".into(), line.into())], 1)));
    }
    let mut params = Vec::new();
    let mut pages = 1;
    for (k, v) in url::form_urlencoded::parse(line.as_bytes()) {
        if k == "pages" {
            pages = v
                .parse()
                .ok()
                .filter(|&p| p >= 1)
                .with_context(|| format!("pages={v:?} is not a page number"))?;
        } else if SEARCH_PARAMS.contains(&k.as_ref()) {
            params.push((k.into_owned(), v.into_owned()));
        } else {
            bail!(
                "unknown parameter {k:?}; known: {}, pages",
                SEARCH_PARAMS.join(", ")
            );
        }
    }
    if !params.iter().any(|(k, _)| k == "q") {
        bail!("no q parameter");
    }
    Ok(Some(Query::new(params, pages)))
}

/// Parses a whole query file's text.
pub fn parse_queries(text: &str) -> anyhow::Result<Vec<Query>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(q) = parse_line_query(line).with_context(|| format!("line {}", i + 1))? {
            out.push(q);
        }
    }
    if out.is_empty() {
        bail!("no queries");
    }
    Ok(out)
}

/// Reads a query file.
pub fn read_queries(path: &Path) -> anyhow::Result<Vec<Query>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    parse_queries(&text).with_context(|| format!("queries file {}", path.display()))
}

/// The mix used when neither `--queries` nor `--corpus` is given: common words of the
/// generator's languages, so a run against `search-api demo` finds posts.
pub fn builtin() -> Vec<Query> {
    parse_queries(include_str!("builtin_queries.txt")).expect("the built-in mix parses")
}

/// Weights of each kind in a generated mix, parsed from `word=30,two_words=20,...`.
pub fn parse_weights(spec: &str) -> anyhow::Result<BTreeMap<Kind, u32>> {
    let mut out = BTreeMap::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, w) = part
            .split_once('=')
            .with_context(|| format!("{part:?}: expected kind=weight"))?;
        let kind = Kind::from_name(name.trim()).with_context(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown kind {name:?}; known: {}", names.join(", "))
        })?;
        let w: u32 = w
            .trim()
            .parse()
            .with_context(|| format!("{part:?}: weight is not a whole number"))?;
        out.insert(kind, w);
    }
    if out.values().all(|&w| w == 0) {
        bail!("every weight is zero");
    }
    Ok(out)
}

/// The default generated mix.
pub const DEFAULT_WEIGHTS: &str =
    "word=30,two_words=20,words=5,phrase=10,hashtag=10,filtered=12,sort_date=8,deep_cursor=5";

/// Posts sampled from a corpus: the material queries are cut from.
#[derive(Debug, Default)]
pub struct Vocabulary {
    posts: Vec<SampledPost>,
}

#[derive(Debug)]
struct SampledPost {
    channel: String,
    date: time::OffsetDateTime,
    lang: Option<String>,
    media: Option<String>,
    /// Words of at least 4 letters, in text order.
    words: Vec<String>,
    /// `#tags` and `$TAGS` as written.
    tags: Vec<String>,
}

impl Vocabulary {
    /// Samples about `max_posts` posts spread over the first `scan_lines` lines of an NDJSON
    /// corpus (contract posts; deletes and bad lines are skipped).
    pub fn from_corpus(path: &Path, max_posts: usize, scan_lines: usize) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
        let reader = std::io::BufReader::with_capacity(1 << 20, file);
        let every = (scan_lines / max_posts.max(1)).max(1);
        let detector = indexer::lang::LangDetector::new();
        let mut posts = Vec::new();
        for (i, line) in reader.split(b'\n').take(scan_lines).enumerate() {
            let line = line?;
            if i % every != 0 {
                continue;
            }
            if let Ok(Op::Upsert(p)) = parse_line(&line) {
                let words: Vec<String> = p
                    .text
                    .split_whitespace()
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                    .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
                    .map(str::to_string)
                    .collect();
                let tags = p
                    .text
                    .split_whitespace()
                    .filter(|w| (w.starts_with('#') || w.starts_with('$')) && w.len() > 2)
                    .map(|w| {
                        w.trim_end_matches(|c: char| !c.is_alphanumeric())
                            .to_string()
                    })
                    .collect();
                let lang = p.lang.clone().or_else(|| {
                    let d = detector.detect(&p.text, None);
                    d.is_confident().then(|| d.code.to_string())
                });
                posts.push(SampledPost {
                    channel: p.channel.clone(),
                    date: p.date,
                    lang,
                    media: p.media.first().map(|m| m.kind.as_str().to_string()),
                    words,
                    tags,
                });
            }
        }
        posts.retain(|p| p.words.len() >= 3);
        if posts.is_empty() {
            bail!("no posts with words in {}", path.display());
        }
        Ok(Vocabulary { posts })
    }

    /// Posts sampled.
    pub fn len(&self) -> usize {
        self.posts.len()
    }

    /// Whether nothing was sampled.
    pub fn is_empty(&self) -> bool {
        self.posts.is_empty()
    }

    /// `n` queries drawn with `weights` (deterministic for a seed). Words come from random
    /// sampled posts, so common words are asked more often, as in real traffic.
    pub fn generate(&self, weights: &BTreeMap<Kind, u32>, n: usize, seed: u64) -> Vec<Query> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let total: u32 = weights.values().sum();
        let has_tags = self.posts.iter().any(|p| !p.tags.is_empty());
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let mut pick = rng.random_range(0..total);
            let kind = *weights
                .iter()
                .find(|(_, w)| {
                    if pick < **w {
                        true
                    } else {
                        pick -= **w;
                        false
                    }
                })
                .expect("pick < total")
                .0;
            if kind == Kind::Hashtag && !has_tags {
                continue;
            }
            out.push(self.one(kind, &mut rng));
        }
        out
    }

    fn one(&self, kind: Kind, rng: &mut impl rand::Rng) -> Query {
        let q = |s: String| vec![("q".to_string(), s)];
        loop {
            let post = &self.posts[rng.random_range(0..self.posts.len())];
            let w = &post.words;
            let i = rng.random_range(0..w.len() - 2);
            let params = match kind {
                Kind::Word => q(w[i].clone()),
                Kind::TwoWords => q(format!("{} {}", w[i], w[i + 1])),
                Kind::Words => q(format!("{} {} {}", w[i], w[i + 1], w[i + 2])),
                Kind::Phrase => q(format!("\"{} {}\"", w[i], w[i + 1])),
                Kind::Hashtag => {
                    if post.tags.is_empty() {
                        continue;
                    }
                    q(post.tags[rng.random_range(0..post.tags.len())].clone())
                }
                Kind::SortDate => {
                    let mut p = q(w[i].clone());
                    p.push(("sort".into(), "date".into()));
                    p
                }
                Kind::DeepCursor => {
                    return Query {
                        kind,
                        params: q(w[i].clone()),
                        pages: rng.random_range(3..=6),
                    };
                }
                Kind::Filtered => {
                    let mut p = q(w[i].clone());
                    match rng.random_range(0..4) {
                        0 => p.push(("channel".into(), post.channel.clone())),
                        1 => match &post.lang {
                            Some(l) => p.push(("lang".into(), l.clone())),
                            None => continue,
                        },
                        2 => p.push((
                            "media".into(),
                            post.media.clone().unwrap_or_else(|| "none".into()),
                        )),
                        _ => {
                            let day = |d: time::OffsetDateTime| d.date().to_string();
                            let week = time::Duration::days(7);
                            p.push(("from".into(), day(post.date - week)));
                            p.push(("to".into(), day(post.date + week)));
                        }
                    }
                    p
                }
            };
            return Query {
                kind,
                params,
                pages: 1,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Query {
        parse_line_query(s).unwrap().unwrap()
    }

    fn pairs(q: &Query) -> Vec<(&str, &str)> {
        q.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn raw_lines_are_q() {
        let q = line("  курс доллара  ");
        assert_eq!(pairs(&q), [("q", "курс доллара")]);
        assert_eq!(q.kind, Kind::TwoWords);
        assert_eq!(line("#crypto").kind, Kind::Hashtag);
        assert_eq!(line("\"exact phrase\" -spam").kind, Kind::Phrase);
        assert_eq!(line("a=b c").kind, Kind::TwoWords, "a is not a parameter");
        assert_eq!(line("one two three").kind, Kind::Words);
    }

    #[test]
    fn url_lines_are_decoded_and_classified() {
        let q = line("q=%D0%BA%D1%83%D1%80%D1%81+usd&lang=ru");
        assert_eq!(pairs(&q), [("q", "курс usd"), ("lang", "ru")]);
        assert_eq!(q.kind, Kind::Filtered);
        assert_eq!(line("q=news&sort=date&lang=en").kind, Kind::SortDate);
        let deep = line("q=news&pages=4");
        assert_eq!((deep.kind, deep.pages), (Kind::DeepCursor, 4));
        assert_eq!(pairs(&deep), [("q", "news")], "pages is never sent");
    }

    #[test]
    fn comments_blanks_and_errors() {
        assert_eq!(parse_line_query("").unwrap(), None);
        assert_eq!(parse_line_query("# a comment").unwrap(), None);
        assert_eq!(parse_line_query("#").unwrap(), None);
        assert!(parse_line_query("q=x&colour=red").is_err());
        assert!(parse_line_query("lang=ru").is_err(), "q is required");
        assert!(parse_line_query("q=x&pages=0").is_err());
        let err = parse_queries("news\nq=x&bogus=1\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
    }

    #[test]
    fn builtin_mix_covers_kinds() {
        let mix = builtin();
        for kind in [Kind::Word, Kind::TwoWords, Kind::Phrase, Kind::Hashtag] {
            assert!(mix.iter().any(|q| q.kind == kind), "{kind:?}");
        }
    }

    #[test]
    fn weights_parse() {
        let w = parse_weights("word=3, deep_cursor=1").unwrap();
        assert_eq!(w[&Kind::Word], 3);
        assert_eq!(w[&Kind::DeepCursor], 1);
        assert!(parse_weights("wrd=1").is_err());
        assert!(parse_weights("word=0").is_err());
        assert_eq!(parse_weights(DEFAULT_WEIGHTS).unwrap().len(), 8);
    }

    #[test]
    fn generated_mix_follows_weights_and_seed() {
        let vocab = Vocabulary {
            posts: vec![SampledPost {
                channel: "kz_tech".into(),
                date: time::macros::datetime!(2026-11-20 10:00 UTC),
                lang: Some("ru".into()),
                media: None,
                words: ["один", "два", "три", "четыре"].map(String::from).to_vec(),
                tags: vec!["#тег".into()],
            }],
        };
        let weights = parse_weights(DEFAULT_WEIGHTS).unwrap();
        let a = vocab.generate(&weights, 500, 1);
        assert_eq!(a, vocab.generate(&weights, 500, 1));
        for kind in Kind::ALL {
            let got = a.iter().filter(|q| q.kind == kind).count();
            assert!(got > 0, "{kind:?} missing");
            // Every generated query classifies as the kind it was made for.
            for q in a.iter().filter(|q| q.kind == kind) {
                assert_eq!(classify(&q.params, q.pages), kind, "{q:?}");
            }
        }
        let words = a.iter().filter(|q| q.kind == Kind::Word).count();
        assert!((100..200).contains(&words), "word share {words}/500");
    }
}
