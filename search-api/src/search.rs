//! Ranked search over the post index: query building, blended ranking, tiers, cursors.
//!
//! A request runs in up to two tiers (the contract's "all words first, then most of them"):
//! tier 1 requires every non-stop word; when it cannot fill the page, tier 2 takes posts that
//! contain at least half of the words but not all (so no post appears in both). Phrases,
//! exclusions, tags, `@channel`, the filters and the user's visibility are strict in both.
//!
//! Ranking (see the README for a worked example):
//! `score = bm25 * (1 + recency_weight * 2^(-age_h / half_life_h)) * (1 + engagement_weight * E)`
//! with `E = min(1, (a*ln(1+views) + b*ln(1+reactions) + c*ln(1+forwards) + d*ln(1+subscribers)) / (a+b+c+d) / ln(1+10^7))`.
//! Posts are ordered by `(score, channel_id, post_id)` descending, a total order, so a cursor
//! is just the last key of a page plus the tier and the snapshot it came from.
//!
//! Cursors stay exact while posts arrive: a cursor names the searcher generation (snapshot) of
//! its first page, and [`Snapshots`] keeps recent generations alive, so later pages are cut
//! from the same snapshot, with the same `now` for recency: no duplicates, no gaps. A cursor
//! whose snapshot has expired (10 minutes, or 32 newer snapshots) continues on the current
//! index from the same key.

use crate::config::Ranking;
use crate::error::ApiError;
use crate::query::ParsedQuery;
use crate::rank::{Collect, Key, Ranker};
use crate::safe_seek::SafeSeek;
use crate::snippet;
use crate::stored_text::{self, Stored};
use base64::Engine as _;
use indexer::analysis::query_variants;
use indexer::schema::{self, Fields};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, IndexReader, Searcher, TantivyDocument, Term};

/// Stop words never required by tier 1 (they still count when present). Short lists of the
/// commonest function words of the supported languages; a word is a stop word in any of them.
const STOP_WORDS: &[&str] = &[
    // ru
    "и",
    "в",
    "во",
    "не",
    "что",
    "он",
    "на",
    "я",
    "с",
    "со",
    "как",
    "а",
    "то",
    "все",
    "она",
    "так",
    "его",
    "но",
    "да",
    "ты",
    "к",
    "у",
    "же",
    "вы",
    "за",
    "бы",
    "по",
    "только",
    "ее",
    "мне",
    "было",
    "вот",
    "от",
    "меня",
    "еще",
    "нет",
    "о",
    "из",
    "ему",
    "ли",
    "для",
    "это",
    "при",
    "где",
    "есть",
    "или",
    // uk
    "і",
    "й",
    "та",
    "що",
    "це",
    "як",
    "до",
    "від",
    "для",
    "про",
    "чи",
    "але",
    "або",
    "ще",
    // kk
    "және",
    "мен",
    "бен",
    "пен",
    "бұл",
    "осы",
    "да",
    "де",
    "та",
    "те",
    "ма",
    "ме",
    "үшін",
    "деп",
    "бір",
    "ол",
    // en
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "for",
    "is",
    "are",
    "was",
    "be",
    "by",
    "with",
    "at",
    "it",
    "this",
    "that",
    "as",
    "from",
    "how",
    "what",
    "who",
    "why",
    "do",
    "does",
    // de, fr, es, tr
    "der",
    "die",
    "das",
    "und",
    "ist",
    "im",
    "zu",
    "den",
    "le",
    "la",
    "les",
    "de",
    "des",
    "et",
    "un",
    "une",
    "est",
    "el",
    "los",
    "las",
    "y",
    "en",
    "que",
    "ve",
    "bir",
    "bu",
    "için",
    "ile",
];

/// How posts are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Blended relevance (default).
    Relevance,
    /// Newest first.
    Date,
}

/// A validated search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The parsed `q`.
    pub query: ParsedQuery,
    /// `lang` filter.
    pub lang: Option<String>,
    /// `channel` filter (lowercased username).
    pub channel: Option<String>,
    /// `from` (Unix seconds, inclusive).
    pub from: Option<i64>,
    /// `to` (Unix seconds, inclusive).
    pub to: Option<i64>,
    /// `media` filter: a kind or `none`.
    pub media: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Page size.
    pub limit: usize,
    /// Raw `cursor` parameter.
    pub cursor: Option<String>,
    /// The user's country (for region-scoped hides).
    pub country: Option<String>,
}

impl SearchRequest {
    /// The first page of `limit` hits for `query` by relevance, with no filter and no country
    /// (change fields with struct update syntax: `SearchRequest { country, ..first_page }`).
    pub fn first_page(query: ParsedQuery, limit: usize) -> SearchRequest {
        SearchRequest {
            query,
            lang: None,
            channel: None,
            from: None,
            to: None,
            media: None,
            sort: Sort::Relevance,
            limit,
            cursor: None,
            country: None,
        }
    }

    /// What a cursor is tied to: everything but the cursor and the user.
    fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            self.query.canonical(),
            &self.lang,
            &self.channel,
            self.from,
            self.to,
            &self.media,
            self.sort,
            &self.country,
        )
            .hash(&mut h);
        h.finish()
    }
}

/// One hit, as the contract shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// Channel id.
    pub channel_id: u64,
    /// Channel username.
    pub channel: String,
    /// Channel title.
    pub channel_title: String,
    /// Post id.
    pub post_id: u64,
    /// `https://t.me/<channel>/<post_id>`.
    pub url: String,
    /// Publication time (RFC 3339).
    pub date: String,
    /// Language (ISO 639-1 or `und`).
    pub lang: String,
    /// Text excerpt, HTML-escaped, matches in `<mark>`.
    pub snippet: String,
    /// Views.
    pub views: u64,
    /// Ranking score (for sort=date: the score is 0).
    pub score: f32,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Hits in order.
    pub hits: Vec<Hit>,
    /// Cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
    /// Matching posts (both tiers), counted on the page's snapshot.
    pub estimated_total: u64,
}

/// The decoded cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    /// Searcher generation of the first page.
    g: u64,
    /// Tier of the last hit.
    t: u8,
    /// Sort key of the last hit.
    k: (f64, u64, u64),
    /// `now` of the first page (Unix seconds), for stable recency.
    n: i64,
    /// Fingerprint of the request it belongs to.
    h: u64,
}

impl Cursor {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serializes");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(s: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::BadCursor("the cursor is not one this server issued".into());
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if !(c.t == 1 || c.t == 2) || !c.k.0.is_finite() {
            return Err(bad());
        }
        Ok(c)
    }
}

/// Recent searcher generations, kept so that cursors page through one snapshot.
pub struct Snapshots {
    by_generation: Mutex<HashMap<u64, (Searcher, Instant)>>,
}

const SNAPSHOT_TTL: Duration = Duration::from_secs(600);
const MAX_SNAPSHOTS: usize = 32;

impl Snapshots {
    fn new() -> Snapshots {
        Snapshots {
            by_generation: Mutex::new(HashMap::new()),
        }
    }

    fn keep(&self, searcher: &Searcher) {
        let mut map = self.by_generation.lock();
        let now = Instant::now();
        map.insert(
            searcher.generation().generation_id(),
            (searcher.clone(), now),
        );
        map.retain(|_, (_, at)| now.duration_since(*at) < SNAPSHOT_TTL);
        while map.len() > MAX_SNAPSHOTS {
            let oldest = map.iter().min_by_key(|(_, (_, at))| *at).map(|(g, _)| *g);
            if let Some(g) = oldest {
                map.remove(&g);
            }
        }
    }

    fn get(&self, generation: u64) -> Option<Searcher> {
        let mut map = self.by_generation.lock();
        let entry = map.get_mut(&generation)?;
        entry.1 = Instant::now();
        Some(entry.0.clone())
    }
}

/// A word's query, and its forms as single terms when they all are (see `word_query`).
type WordQuery = (Box<dyn Query>, Option<Vec<Term>>);

/// The search engine over one index reader.
pub struct Engine {
    ranker: Ranker,
    reader: IndexReader,
    fields: Fields,
    ranking: Ranking,
    snapshots: Snapshots,
    takedown: crate::takedown::Takedown,
}

/// Most tier-1 matches remembered for tier 2's fast form (tier 2 runs only when tier 1 is
/// short of a page, so this is rarely reached).
const TIER1_MATCHES_CAP: usize = 256;

impl Engine {
    /// An engine reading through `reader`.
    pub fn new(reader: IndexReader, fields: Fields, ranking: Ranking) -> Engine {
        Engine {
            ranker: Ranker::new(ranking.clone()),
            reader,
            snapshots: Snapshots::new(),
            takedown: crate::takedown::Takedown::new(fields.clone()),
            fields,
            ranking,
        }
    }

    /// Posts hidden by moderators' rules, applied to every search.
    pub fn takedown(&self) -> &crate::takedown::Takedown {
        &self.takedown
    }

    /// The current searcher.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Field handles.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Runs a search. Blocking: call it off the async runtime.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult, ApiError> {
        let fingerprint = req.fingerprint();
        let cursor = match &req.cursor {
            Some(c) => {
                let c = Cursor::decode(c)?;
                if c.h != fingerprint {
                    return Err(ApiError::BadCursor(
                        "the cursor belongs to another query; send the same q and filters as the first page".into(),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let searcher = cursor
            .as_ref()
            .and_then(|c| self.snapshots.get(c.g))
            .unwrap_or_else(|| self.reader.searcher());
        let now = cursor
            .as_ref()
            .map(|c| c.n)
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
        let plan = self.plan(req);
        let mut hits: Vec<(u8, Key, DocAddress)> = Vec::new();
        let mut total = 0u64;
        let mut more = false;
        // Every tier-1 match, when few: tier 2's fast form leaves them out by address.
        let mut tier1_matches: Option<HashSet<DocAddress>> = None;
        let wants_tier1_matches = plan.tiers.get(1).is_some_and(|t| t.minus_tier1.is_some());
        for (tier, t) in plan.tiers.iter().enumerate() {
            let tier = tier as u8 + 1;
            let after = match &cursor {
                Some(c) if c.t > tier => {
                    if wants_tier1_matches {
                        tier1_matches =
                            crate::rank::matches(&searcher, t.query.as_ref(), TIER1_MATCHES_CAP)
                                .map_err(ApiError::internal)?;
                    }
                    continue;
                }
                Some(c) if c.t == tier => Some(c.k),
                _ => None,
            };
            // A later tier is consulted only when the earlier ones cannot fill the page, so
            // `estimated_total` counts the tiers consulted.
            if hits.len() > req.limit {
                break;
            }
            let mut collect = Collect {
                n: req.limit + 1 - hits.len(),
                after,
                sort: req.sort,
                now,
                prune: t.prune,
                exclude: None,
                hidden: None,
                record: if tier == 1 && wants_tier1_matches {
                    TIER1_MATCHES_CAP
                } else {
                    0
                },
            };
            let (query, excluded) = match (&t.minus_tier1, &tier1_matches) {
                (Some(fast), Some(set)) => {
                    collect.prune = true;
                    collect.exclude = Some(set);
                    (fast.as_ref(), set.len() as u64)
                }
                _ => (t.query.as_ref(), 0),
            };
            // The pruned forms are the bare term unions (see `Plan::hidden`).
            if collect.prune {
                collect.hidden = plan
                    .hidden
                    .as_deref()
                    .map(|e| crate::rank::Hidden::new(e, req.country.as_deref()));
            }
            let found = self
                .ranker
                .top(&searcher, query, &collect)
                .map_err(ApiError::internal)?;
            let count = match found.count {
                Some(count) => count,
                None => crate::rank::count(&searcher, query, collect.hidden.as_ref())
                    .map_err(ApiError::internal)?,
            };
            total += count.saturating_sub(excluded);
            if tier == 1 {
                tier1_matches = found.matches.map(|m| m.into_iter().collect());
            }
            hits.extend(found.top.into_iter().map(|(k, d)| (tier, k, d)));
        }
        if hits.len() > req.limit {
            hits.truncate(req.limit);
            more = true;
        }
        let next_cursor = match hits.last() {
            Some((tier, key, _)) if more => {
                self.snapshots.keep(&searcher);
                Some(
                    Cursor {
                        g: searcher.generation().generation_id(),
                        t: *tier,
                        k: *key,
                        n: now,
                        h: fingerprint,
                    }
                    .encode(),
                )
            }
            _ => None,
        };
        let hits = hits
            .into_iter()
            .map(|(_, key, addr)| self.hit(&searcher, addr, key, req.sort, &plan.highlight))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchResult {
            hits,
            next_cursor,
            estimated_total: total,
        })
    }

    pub(crate) fn hit(
        &self,
        searcher: &Searcher,
        addr: DocAddress,
        key: Key,
        sort: Sort,
        highlight: &[String],
    ) -> Result<Hit, ApiError> {
        let f = &self.fields;
        let doc: TantivyDocument = searcher.doc(addr).map_err(ApiError::internal)?;
        let text_of = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let u64_of = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_u64())
                .unwrap_or_default()
        };
        let channel = text_of(f.channel_name);
        let post_id = u64_of(f.post_id);
        let date = doc
            .get_first(f.date)
            .and_then(|v| v.as_datetime())
            .map(|d| d.into_timestamp_secs())
            .unwrap_or_default();
        let lang = text_of(f.lang);
        let text = text_of(f.text);
        Ok(Hit {
            channel_id: key.1,
            url: format!("https://t.me/{channel}/{post_id}"),
            channel,
            channel_title: text_of(f.channel_title),
            post_id,
            date: rfc3339(date),
            snippet: snippet::make(&text, indexer::lang::Lang::from_code(&lang), highlight),
            lang,
            views: u64_of(f.views),
            score: match sort {
                Sort::Relevance => key.0 as f32,
                Sort::Date => 0.0,
            },
        })
    }

    /// The posts `query` matches (a draft rule's dry run): how many, and the newest
    /// `limit` as hits, snippets marking `highlight`. Ignores visibility: moderators see
    /// everything a rule would catch, including posts already hidden.
    pub fn preview(
        &self,
        query: &dyn Query,
        highlight: &[String],
        limit: usize,
    ) -> Result<(u64, Vec<Hit>), ApiError> {
        let searcher = self.searcher();
        let newest = tantivy::collector::TopDocs::with_limit(limit.max(1))
            .order_by_fast_field::<tantivy::DateTime>("date", tantivy::Order::Desc);
        let (found, count) = searcher
            .search(query, &(newest, tantivy::collector::Count))
            .map_err(ApiError::internal)?;
        let hits = found
            .into_iter()
            .take(limit)
            .map(|(_, addr)| {
                let doc: TantivyDocument = searcher.doc(addr).map_err(ApiError::internal)?;
                let channel_id = doc
                    .get_first(self.fields.channel_id)
                    .and_then(|v| v.as_u64())
                    .unwrap_or_default();
                self.hit(&searcher, addr, (0.0, channel_id, 0), Sort::Date, highlight)
            })
            .collect::<Result<_, _>>()?;
        Ok((count as u64, hits))
    }

    /// Scans the stored text of every live post, segment by segment, for `matches`, until
    /// `budget` is spent: (matches found, the first `limit` as hits, whether the scan
    /// finished). For what no index can answer (a regex rule's preview).
    pub fn scan_text(
        &self,
        budget: Duration,
        limit: usize,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<(u64, Vec<Hit>, bool), ApiError> {
        let started = Instant::now();
        let searcher = self.searcher();
        let mut found = 0u64;
        let mut hits = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let store = segment.get_store_reader(64).map_err(ApiError::internal)?;
            for doc in 0..segment.max_doc() {
                if segment.is_deleted(doc) {
                    continue;
                }
                if doc % 256 == 0 && started.elapsed() > budget {
                    return Ok((found, hits, false));
                }
                let stored: TantivyDocument = store.get(doc).map_err(ApiError::internal)?;
                let Some(text) = stored.get_first(self.fields.text).and_then(|v| v.as_str()) else {
                    continue; // a tombstone
                };
                if !matches(text) {
                    continue;
                }
                found += 1;
                if hits.len() < limit {
                    let channel_id = stored
                        .get_first(self.fields.channel_id)
                        .and_then(|v| v.as_u64())
                        .unwrap_or_default();
                    let addr = DocAddress::new(ord as u32, doc);
                    hits.push(self.hit(&searcher, addr, (0.0, channel_id, 0), Sort::Date, &[])?);
                }
            }
        }
        Ok((found, hits, true))
    }

    /// Every live post whose stored text `matches`, as `(channel_id, post_id)` to its
    /// version: a regex rule's scan of posts indexed before it. Blocking; seconds at 1M
    /// posts.
    ///
    /// Runs on the rayon pool over ranges of documents, not over segments: an index is
    /// mostly one large segment after merges, and a scan per segment kept one core busy.
    /// Each range reads the doc store through its own reader (a reader's block cache is
    /// not shared across threads).
    pub fn scan_posts(
        &self,
        matches: impl Fn(&str) -> bool + Sync,
    ) -> tantivy::Result<HashMap<(u64, u64), i64>> {
        use rayon::prelude::*;
        /// Documents per task: small enough to balance two to a few dozen threads, large
        /// enough that opening a store reader per task costs nothing next to the scan.
        const RANGE: u32 = 16_384;
        let searcher = self.searcher();
        let text_field = self.fields.text;
        let ranges: Vec<(usize, std::ops::Range<DocId>)> = searcher
            .segment_readers()
            .iter()
            .enumerate()
            .flat_map(|(ord, segment)| {
                let max = segment.max_doc();
                (0..max.div_ceil(RANGE)).map(move |i| (ord, i * RANGE..((i + 1) * RANGE).min(max)))
            })
            .collect();
        let found: Vec<Vec<((u64, u64), i64)>> = ranges
            .into_par_iter()
            .map(|(ord, docs)| -> tantivy::Result<Vec<((u64, u64), i64)>> {
                let segment = searcher.segment_reader(ord as u32);
                let store = segment.get_store_reader(16)?;
                let ff = segment.fast_fields();
                let (channel, post, version) = (
                    ff.u64("channel_id")?,
                    ff.u64("post_id")?,
                    ff.i64("version")?,
                );
                let mut out = Vec::new();
                for doc in docs.filter(|&doc| !segment.is_deleted(doc)) {
                    let bytes = store.get_document_bytes(doc)?;
                    let matched = match stored_text::text_of(&bytes, text_field.field_id()) {
                        Stored::Text(text) => matches(text),
                        Stored::Absent => false, // a tombstone
                        Stored::Unknown => {
                            let stored: TantivyDocument = store.get(doc)?;
                            stored
                                .get_first(text_field)
                                .and_then(|v| v.as_str())
                                .is_some_and(&matches)
                        }
                    };
                    if !matched {
                        continue;
                    }
                    if let (Some(c), Some(p), Some(v)) =
                        (channel.first(doc), post.first(doc), version.first(doc))
                    {
                        out.push(((c, p), v));
                    }
                }
                Ok(out)
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(found.into_iter().flatten().collect())
    }

    /// The query of each tier that [`Engine::search`] collects for `req`, in order: the
    /// retrieval alone, for benches that run it through Tantivy's own collector (no blended
    /// ranking, no snippets) to tell the engine's cost from the query's.
    pub fn tier_queries(&self, req: &SearchRequest) -> Vec<Box<dyn Query>> {
        self.plan(req).tiers.into_iter().map(|t| t.query).collect()
    }

    /// Builds the tiers' queries and the tokens to highlight.
    fn plan(&self, req: &SearchRequest) -> Plan {
        let f = &self.fields;
        let q = &req.query;
        // No `kind = post` clause: tombstones carry only their key fields, so no part of a
        // query (words, tags, channels) can match them, and a clause over every document
        // would slow every search.
        let mut strict: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut highlight = Vec::new();
        for phrase in &q.phrases {
            if let Some(pq) = self.text_query(phrase, 0, &mut highlight) {
                strict.push((Occur::Must, pq));
            }
        }
        for tag in &q.tags {
            // The tag's word is also a body word: mark it in snippets.
            highlight.extend(query_variants(&tag[1..]).into_iter().flatten());
            strict.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(term(f.tags, tag), 1.0)),
            ));
        }
        if !q.channels.is_empty() {
            let any: Vec<Box<dyn Query>> = q.channels.iter().map(|c| term(f.channel, c)).collect();
            strict.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(BooleanQuery::union(any)),
                    1.0,
                )),
            ));
        }
        let mut ignored = Vec::new();
        for text in q.excluded_words.iter().chain(&q.excluded_phrases) {
            if let Some(xq) = self.text_query(text, 0, &mut ignored) {
                strict.push((Occur::MustNot, Box::new(SafeSeek(xq))));
            }
        }
        for tag in &q.excluded_tags {
            strict.push((Occur::MustNot, term(f.tags, tag)));
        }
        if let Some(lang) = &req.lang {
            strict.push((Occur::Must, filter(term(f.lang, lang))));
        }
        if let Some(channel) = &req.channel {
            strict.push((Occur::Must, filter(term(f.channel, channel))));
        }
        if let Some(media) = &req.media {
            strict.push((Occur::Must, filter(term(f.media, media))));
        }
        if req.from.is_some() || req.to.is_some() {
            let bound = |t: Option<i64>| match t {
                Some(secs) => Bound::Included(Term::from_field_date(
                    f.date,
                    tantivy::DateTime::from_timestamp_secs(secs),
                )),
                None => Bound::Unbounded,
            };
            strict.push((
                Occur::Must,
                filter(Box::new(RangeQuery::new(bound(req.from), bound(req.to)))),
            ));
        }
        // Only the words and visibility: the shape the pruned fast forms below handle.
        let words_only = strict.is_empty();
        let hidden = self.takedown.current();
        let visibility = match self.takedown.exclusion_query(req.country.as_deref()) {
            // Everything the user must not see: rules' matches, stored verdicts, held posts
            // less the approved ones.
            Some(excluded) => vec![(Occur::MustNot, excluded)],
            // No takedown built yet (an engine without moderation): the stored verdicts, and
            // every held post stays out, approved or not.
            None => {
                let mut clauses = vec![
                    (Occur::MustNot, term(f.visibility, schema::VISIBLE_HIDDEN)),
                    (Occur::MustNot, term(f.visibility, schema::VISIBLE_REVIEW)),
                ];
                if let Some(country) = &req.country {
                    clauses.push((
                        Occur::MustNot,
                        term(f.visibility, &schema::visible_hidden_in(country)),
                    ));
                }
                clauses
            }
        };
        strict.extend(visibility.clone_boxed());

        // Words: tier 1 requires the non-stop words; tier 2 wants at least half of them.
        let mut required = Vec::new();
        let mut optional = Vec::new();
        // Every word's variants as single terms, when they all are (not CJK bigram phrases).
        let mut word_terms: Option<Vec<Term>> = Some(Vec::new());
        let all_stop = q.words.iter().all(|w| is_stop_word(w));
        for w in &q.words {
            let Some((wq, terms)) = self.word_query(w, &mut highlight) else {
                continue;
            };
            match (word_terms.as_mut(), terms) {
                (Some(all), Some(terms)) => all.extend(terms),
                _ => word_terms = None,
            }
            if is_stop_word(w) && !all_stop {
                optional.push(wq);
            } else {
                required.push(wq);
            }
        }
        // A union of terms and nothing else: Tantivy scores it with block-max WAND when
        // pruning, which any exclusion clause would turn off. So with takedown sets the union
        // is bare and the collector leaves out the user's hidden posts (`Plan::hidden`);
        // without them the term clauses stay (they drop out of segments they match nothing
        // in).
        let union_of = |terms: &[Term]| -> Box<dyn Query> {
            let mut clauses = if hidden.is_some() {
                Vec::new()
            } else {
                visibility.clone_boxed()
            };
            clauses.extend(terms.iter().map(|t| {
                let tq: Box<dyn Query> =
                    Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs));
                (Occur::Should, tq)
            }));
            Box::new(BooleanQuery::new(clauses))
        };
        let mut tier1 = strict.clone_boxed();
        tier1.extend(required.iter().map(|q| (Occur::Must, q.box_clone())));
        tier1.extend(optional.iter().map(|q| (Occur::Should, q.box_clone())));
        // The phrase-proximity boost, unless a word is a stop word: the phrase scorer reads
        // the positions of every post holding all the words, and with a stop word that is a
        // tenth of the corpus (15-25 ms for one query at 1M posts, RESULTS.md), for a boost
        // that mostly re-ranks posts that have the rare words anyway.
        if q.words.len() >= 2 && !q.words.iter().any(|w| is_stop_word(w)) {
            let joined = q.words.join(" ");
            if let Some(pq) = self.text_query(&joined, 0, &mut Vec::new()) {
                tier1.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(pq, self.ranking.phrase_boost)),
                ));
            }
        }
        let word_terms = word_terms.filter(|t| words_only && !t.is_empty());
        // One word: tier 1 is the union of its forms.
        let tier1 = match &word_terms {
            Some(terms) if q.words.len() == 1 => TierPlan {
                query: union_of(terms),
                prune: true,
                minus_tier1: None,
            },
            _ => TierPlan {
                query: Box::new(BooleanQuery::new(tier1)),
                prune: false,
                minus_tier1: None,
            },
        };
        let mut tiers = vec![tier1];
        if required.len() >= 2 {
            let mut most = BooleanQuery::new(
                required
                    .iter()
                    .chain(optional.iter())
                    .map(|q| (Occur::Should, q.box_clone()))
                    .collect(),
            );
            most.set_minimum_number_should_match(required.len().div_ceil(2));
            let all = BooleanQuery::intersection(required.iter().map(|q| q.box_clone()).collect());
            let mut tier2 = strict.clone_boxed();
            tier2.push((Occur::Must, Box::new(most)));
            tier2.push((Occur::MustNot, Box::new(all)));
            // Two words: "at least half" is "any", the union of every form of every word,
            // once tier 1's matches are left out (by the collector, when they are known).
            let minus_tier1 = word_terms
                .as_deref()
                .filter(|_| required.len().div_ceil(2) == 1)
                .map(union_of);
            tiers.push(TierPlan {
                query: Box::new(BooleanQuery::new(tier2)),
                prune: false,
                minus_tier1,
            });
        }
        highlight.sort();
        highlight.dedup();
        Plan {
            tiers,
            highlight,
            hidden,
        }
    }

    /// [`Self::text_query`] of a word, with its variants' terms when each is a single term.
    fn word_query(&self, word: &str, highlight: &mut Vec<String>) -> Option<WordQuery> {
        let query = self.text_query(word, 0, highlight)?;
        let variants = query_variants(word);
        let terms = variants.iter().all(|v| v.len() == 1).then(|| {
            variants
                .iter()
                .map(|v| Term::from_field_text(self.fields.body, &v[0]))
                .collect()
        });
        Some((query, terms))
    }

    /// A word or phrase as the OR of its analysis variants; `None` when it has no tokens.
    fn text_query(
        &self,
        text: &str,
        slop: u32,
        highlight: &mut Vec<String>,
    ) -> Option<Box<dyn Query>> {
        let body = self.fields.body;
        let variants = query_variants(text);
        let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
        for tokens in variants {
            highlight.extend(tokens.iter().cloned());
            let terms: Vec<Term> = tokens
                .iter()
                .map(|t| Term::from_field_text(body, t))
                .collect();
            if terms.len() == 1 {
                alternatives.push(Box::new(TermQuery::new(
                    terms[0].clone(),
                    IndexRecordOption::WithFreqs,
                )));
            } else {
                let mut pq = PhraseQuery::new(terms);
                pq.set_slop(slop);
                alternatives.push(Box::new(pq));
            }
        }
        match alternatives.len() {
            0 => None,
            1 => alternatives.pop(),
            _ => Some(Box::new(BooleanQuery::union(alternatives))),
        }
    }
}

struct Plan {
    tiers: Vec<TierPlan>,
    highlight: Vec<String>,
    /// The takedown sets, when built: then the term unions collected with pruning (tier 1
    /// of one word, tier 2's fast form) carry no visibility clause, and the collector and
    /// the count leave out the user's hidden posts by these sets.
    hidden: Option<Arc<crate::takedown::Exclusions>>,
}

/// How to collect one tier.
struct TierPlan {
    /// The tier's query.
    query: Box<dyn Query>,
    /// The query is a union of terms: collect it with pruning.
    prune: bool,
    /// Tier 2's fast form: a union of terms that also matches tier 1's posts, to be left out
    /// by the collector; used when tier 1's matches are known.
    minus_tier1: Option<Box<dyn Query>>,
}

trait CloneClauses {
    fn clone_boxed(&self) -> Vec<(Occur, Box<dyn Query>)>;
}

impl CloneClauses for Vec<(Occur, Box<dyn Query>)> {
    fn clone_boxed(&self) -> Vec<(Occur, Box<dyn Query>)> {
        self.iter().map(|(o, q)| (*o, q.box_clone())).collect()
    }
}

fn term(field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// A clause that filters without adding to the score.
fn filter(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(q, 0.0))
}

fn is_stop_word(word: &str) -> bool {
    let lower = word.to_lowercase();
    STOP_WORDS.contains(&lower.as_str())
}

fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
