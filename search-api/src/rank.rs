//! Blended ranking and the top-n collection that prunes by it.
//!
//! `score = bm25 × recency × engagement` (see the README): both factors are per post and
//! bounded, recency in `[1, 1 + recency_weight]` and engagement in `[1, 1 + engagement_weight]`.
//! So once the page is full with a lowest blended score `θ`, a match whose BM25 is at most
//! `θ / M` cannot enter it, `M` being the largest factor product in the segment. Tantivy's
//! `Weight::for_each_pruning` takes exactly such a BM25 floor, and for a term or a union of
//! terms (a one-word query with its word forms; tier 2 of a two-word query) it skips whole
//! blocks of postings whose block-max BM25 is under it (block-max WAND). The page is the same
//! as when scoring every match; only the work differs. The floor is looser than plain BM25's by
//! the factor `M` (at most 1.95 with the defaults), which is why a BM25 top-K window rescored
//! afterwards (tried before) did worse: it needs a second pass whenever the window's bound does
//! not close, while this floor rises inside the one pass. Other shapes (an intersection with
//! the phrase-boost clause, filters) are scored in full with `Weight::for_each`, counting the
//! matches on the way; a pruned pass counts with a separate pass that does not score.
//!
//! Only the score is computed for every match offered: the two keys of the tie-break are read
//! from their columns when the score can enter the page.

use crate::config::Ranking;
use crate::search::Sort;
use parking_lot::Mutex;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use tantivy::columnar::Column;
use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader};

/// The sort key: (score or date, channel_id, post_id), descending.
pub type Key = (f64, u64, u64);

/// ln(1 + 10^7): engagement signals are scaled so that ten million saturates.
const LN_SATURATION: f64 = 16.118_096;

const SECONDS_PER_HOUR: f64 = 3600.0;

/// The ranking signals of every post of a segment that depend on neither the query nor the
/// time. Segments never change, so they are computed once per segment instead of once per
/// match and query (the logarithms and column reads were the largest part of ranking cost).
struct SegmentStatic {
    /// `2^(-(newest - date) / half_life)`: the recency decay relative to the segment's newest
    /// post; at query time `2^(-age / half_life) = decay × 2^(-(now - newest) / half_life)`.
    decay: Vec<f32>,
    /// `1 + engagement_weight × E`.
    engagement: Vec<f32>,
    /// Date of the newest post, Unix seconds.
    newest: i64,
    /// Largest engagement factor.
    max_engagement: f32,
}

impl SegmentStatic {
    fn compute(segment: &SegmentReader, r: &Ranking) -> SegmentStatic {
        let ff = segment.fast_fields();
        let col = |name: &str| ff.u64(name).ok();
        let (views, reactions, forwards, subscribers) = (
            col("views"),
            col("reactions"),
            col("forwards"),
            col("subscribers"),
        );
        let ln = |c: &Option<Column<u64>>, doc| {
            (c.as_ref().and_then(|c| c.first(doc)).unwrap_or(0) as f64).ln_1p()
        };
        let weights = f64::from(r.views + r.reactions + r.forwards + r.subscribers).max(1e-6);
        let engagement: Vec<f32> = (0..segment.max_doc())
            .map(|doc| {
                let e = (f64::from(r.views) * ln(&views, doc)
                    + f64::from(r.reactions) * ln(&reactions, doc)
                    + f64::from(r.forwards) * ln(&forwards, doc)
                    + f64::from(r.subscribers) * ln(&subscribers, doc))
                    / weights
                    / LN_SATURATION;
                (1.0 + f64::from(r.engagement_weight) * e.min(1.0)) as f32
            })
            .collect();
        let date = ff.date("date").ok();
        let dates: Vec<i64> = (0..segment.max_doc())
            .map(|doc| {
                date.as_ref()
                    .and_then(|c| c.first(doc))
                    .map_or(0, |d| d.into_timestamp_secs())
            })
            .collect();
        let newest = dates.iter().copied().max().unwrap_or(0);
        let half_life = half_life_seconds(r);
        let decay = dates
            .iter()
            .map(|&d| (-((newest - d) as f64) / half_life).exp2() as f32)
            .collect();
        SegmentStatic {
            decay,
            max_engagement: engagement.iter().copied().fold(1.0, f32::max),
            engagement,
            newest,
        }
    }
}

fn half_life_seconds(r: &Ranking) -> f64 {
    f64::from(r.half_life_hours.max(0.01)) * SECONDS_PER_HOUR
}

/// [`SegmentStatic`] per segment. Bounded: cleared past 512 segments.
#[derive(Default)]
pub struct SignalCache {
    by_segment: Mutex<HashMap<tantivy::index::SegmentId, Arc<SegmentStatic>>>,
}

impl SignalCache {
    fn get(&self, segment: &SegmentReader, r: &Ranking) -> Arc<SegmentStatic> {
        let id = segment.segment_id();
        if let Some(v) = self.by_segment.lock().get(&id) {
            return v.clone();
        }
        let computed = Arc::new(SegmentStatic::compute(segment, r));
        let mut map = self.by_segment.lock();
        if map.len() > 512 {
            map.clear();
        }
        map.insert(id, computed.clone());
        computed
    }
}

/// One segment's signals at one `now`.
struct SegmentRank {
    signals: Arc<SegmentStatic>,
    /// `2^(-(now - newest) / half_life)`.
    time_shift: f64,
    recency_weight: f64,
    channel_id: Option<Column<u64>>,
    post_id: Option<Column<u64>>,
    date: Option<Column<tantivy::DateTime>>,
    sort: Sort,
}

impl SegmentRank {
    fn open(
        segment: &SegmentReader,
        cache: &SignalCache,
        r: &Ranking,
        sort: Sort,
        now: i64,
    ) -> SegmentRank {
        let signals = cache.get(segment, r);
        let ff = segment.fast_fields();
        SegmentRank {
            time_shift: (-((now - signals.newest) as f64) / half_life_seconds(r)).exp2(),
            signals,
            recency_weight: f64::from(r.recency_weight),
            channel_id: ff.u64("channel_id").ok(),
            post_id: ff.u64("post_id").ok(),
            date: match sort {
                Sort::Date => ff.date("date").ok(),
                Sort::Relevance => None,
            },
            sort,
        }
    }

    /// The first element of the key.
    fn score(&self, doc: DocId, bm25: Score) -> f64 {
        if self.sort == Sort::Date {
            return self
                .date
                .as_ref()
                .and_then(|c| c.first(doc))
                .map_or(0.0, |d| d.into_timestamp_secs() as f64);
        }
        let d = doc as usize;
        // `min(1, ..)`: a post dated after `now` counts as brand new, as age 0 would.
        let decay = (f64::from(self.signals.decay[d]) * self.time_shift).min(1.0);
        let recency = 1.0 + self.recency_weight * decay;
        let score = f64::from(bm25) * recency * f64::from(self.signals.engagement[d]);
        // Rounded so that the cursor's key survives the JSON round trip exactly.
        (score * 1e6).round() / 1e6
    }

    /// The largest `recency × engagement` of the segment.
    fn max_factor(&self) -> f64 {
        (1.0 + self.recency_weight * self.time_shift.min(1.0))
            * f64::from(self.signals.max_engagement)
    }

    fn key(&self, doc: DocId, score: f64) -> Key {
        let u64_of = |c: &Option<Column<u64>>| c.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
        (score, u64_of(&self.channel_id), u64_of(&self.post_id))
    }
}

/// A heap entry, ordered by key (keys are unique: they end with the post's identity).
struct Entry(Key, DocAddress);

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}

/// What to collect.
pub struct Collect<'a> {
    /// Page size (plus one, to know whether there is a next page).
    pub n: usize,
    /// Only keys strictly below this one (the cursor).
    pub after: Option<Key>,
    /// Order.
    pub sort: Sort,
    /// Time of the recency factor, Unix seconds.
    pub now: i64,
    /// Skip pruned blocks (only for term and term-union queries, where it pays).
    pub prune: bool,
    /// Posts to leave out (tier 1's, when collecting tier 2 by its fast path).
    pub exclude: Option<&'a HashSet<DocAddress>>,
    /// Also return every match when there are at most this many (tier 1, for tier 2).
    pub record: usize,
    /// The user's hidden posts, for a query that carries no visibility clause.
    pub hidden: Option<Hidden<'a>>,
}

/// The posts one user must not see, per segment (the takedown sets of the user's audience).
#[derive(Clone, Copy)]
pub struct Hidden<'a> {
    exclusions: &'a crate::takedown::Exclusions,
    country: Option<&'a str>,
}

impl<'a> Hidden<'a> {
    /// The posts hidden from a user in `country`.
    pub fn new(exclusions: &'a crate::takedown::Exclusions, country: Option<&'a str>) -> Self {
        Hidden {
            exclusions,
            country,
        }
    }

    fn of(
        hidden: Option<&Hidden<'_>>,
        reader: &SegmentReader,
    ) -> tantivy::Result<Option<Arc<tantivy::BitSet>>> {
        match hidden {
            Some(h) => h.exclusions.excluded(reader, h.country),
            None => Ok(None),
        }
    }
}

/// How many live documents `query` matches that are not `hidden`.
pub fn count(
    searcher: &Searcher,
    query: &dyn Query,
    hidden: Option<&Hidden<'_>>,
) -> tantivy::Result<u64> {
    if hidden.is_none() {
        return Ok(query.count(searcher)? as u64);
    }
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut total = 0u64;
    for reader in searcher.segment_readers() {
        let alive = reader.alive_bitset();
        let set = Hidden::of(hidden, reader)?;
        weight.for_each_no_score(reader, &mut |docs| {
            total += docs
                .iter()
                .filter(|&&d| {
                    alive.is_none_or(|a| a.is_alive(d))
                        && !set.as_ref().is_some_and(|s| s.contains(d))
                })
                .count() as u64;
        })?;
    }
    Ok(total)
}

/// What was collected.
pub struct Collected {
    /// The best `n`, best first.
    pub top: Vec<(Key, DocAddress)>,
    /// Matches, when counted on the way (full passes).
    pub count: Option<u64>,
    /// Every match, when asked for and few enough.
    pub matches: Option<Vec<DocAddress>>,
}

/// Ranks the matches of a query.
pub struct Ranker {
    cache: SignalCache,
    ranking: Ranking,
}

impl Ranker {
    /// A ranker with these weights.
    pub fn new(ranking: Ranking) -> Ranker {
        Ranker {
            cache: SignalCache::default(),
            ranking,
        }
    }

    /// The top `c.n` of `query` by the blended key.
    pub fn top(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        c: &Collect<'_>,
    ) -> tantivy::Result<Collected> {
        let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
        let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(c.n + 1);
        let mut count = 0u64;
        let mut matches = (c.record > 0).then(Vec::new);
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let seg = SegmentRank::open(reader, &self.cache, &self.ranking, c.sort, c.now);
            let max_factor = seg.max_factor();
            let alive = reader.alive_bitset();
            let hidden = Hidden::of(c.hidden.as_ref(), reader)?;
            let visible = |doc: DocId| {
                alive.is_none_or(|a| a.is_alive(doc))
                    && !hidden.as_ref().is_some_and(|h| h.contains(doc))
            };
            if c.prune && c.sort == Sort::Relevance {
                let start = bm25_floor(&heap, c.n, max_factor);
                let mut floor = start;
                weight.for_each_pruning(start, reader, &mut |doc, bm25| {
                    if visible(doc) {
                        offer(&mut heap, &seg, c, ord, doc, bm25);
                        floor = bm25_floor(&heap, c.n, max_factor);
                    }
                    floor
                })?;
            } else {
                weight.for_each(reader, &mut |doc, bm25| {
                    if !visible(doc) {
                        return;
                    }
                    count += 1;
                    if let Some(m) = matches.as_mut() {
                        if m.len() < c.record {
                            m.push(DocAddress::new(ord as u32, doc));
                        } else {
                            matches = None;
                        }
                    }
                    offer(&mut heap, &seg, c, ord, doc, bm25);
                })?;
            }
        }
        let mut top: Vec<(Key, DocAddress)> = heap
            .into_iter()
            .map(|Reverse(Entry(k, a))| (k, a))
            .collect();
        top.sort_by_key(|a| Reverse(Entry(a.0, a.1)));
        Ok(Collected {
            top,
            count: (!(c.prune && c.sort == Sort::Relevance)).then_some(count),
            matches,
        })
    }
}

/// Every match of `query`, when there are at most `cap`.
pub fn matches(
    searcher: &Searcher,
    query: &dyn Query,
    cap: usize,
) -> tantivy::Result<Option<HashSet<DocAddress>>> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut out = HashSet::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let alive = reader.alive_bitset();
        let mut docs = weight.scorer(reader, 1.0)?;
        let mut doc = docs.doc();
        while doc != tantivy::TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                if out.len() >= cap {
                    return Ok(None);
                }
                out.insert(DocAddress::new(ord as u32, doc));
            }
            doc = docs.advance();
        }
    }
    Ok(Some(out))
}

/// Puts a match in the page when its key belongs there.
fn offer(
    heap: &mut BinaryHeap<Reverse<Entry>>,
    seg: &SegmentRank,
    c: &Collect<'_>,
    ord: usize,
    doc: DocId,
    bm25: Score,
) {
    let score = seg.score(doc, bm25);
    if heap.len() >= c.n && heap.peek().is_some_and(|m| score < m.0.0.0) {
        return;
    }
    let key = seg.key(doc, score);
    if c.after.is_some_and(|a| key >= a) {
        return;
    }
    let addr = DocAddress::new(ord as u32, doc);
    if c.exclude.is_some_and(|x| x.contains(&addr)) {
        return;
    }
    heap.push(Reverse(Entry(key, addr)));
    if heap.len() > c.n {
        heap.pop();
    }
}

/// The BM25 at or under which a match cannot enter a full page whose lowest score is `θ`:
/// `θ / max_factor`, lowered a little for the rounding of scores and keys.
fn bm25_floor(heap: &BinaryHeap<Reverse<Entry>>, n: usize, max_factor: f64) -> Score {
    match heap.peek() {
        Some(Reverse(lowest)) if heap.len() >= n => {
            let floor = (lowest.0.0 - 2e-6) / max_factor * (1.0 - 1e-5);
            floor as Score
        }
        _ => Score::MIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{FAST, INDEXED, IndexRecordOption, STORED, Schema, TEXT};
    use tantivy::{Index, TantivyDocument, Term};

    #[test]
    fn floor_is_below_any_bm25_that_could_tie() {
        let mut heap = BinaryHeap::new();
        let addr = DocAddress::new(0, 0);
        heap.push(Reverse(Entry((10.0, 1, 1), addr)));
        let floor = bm25_floor(&heap, 1, 1.95);
        // A match with the largest factor ties at bm25 = 10 / 1.95; it must not be skipped.
        assert!(f64::from(floor) < 10.0 / 1.95);
        assert!(f64::from(floor) > 10.0 / 1.95 * 0.999);
        assert_eq!(bm25_floor(&heap, 2, 1.95), Score::MIN);
    }

    /// An in-memory index of `docs` posts in three segments, words drawn from a skewed
    /// vocabulary of 40, engagement and dates spread over a year.
    fn index(docs: u64) -> (Index, tantivy::schema::Field) {
        let mut b = Schema::builder();
        let body = b.add_text_field("body", TEXT);
        let date = b.add_date_field("date", INDEXED | FAST | STORED);
        let mut u = |name| b.add_u64_field(name, FAST);
        let fields = [
            u("channel_id"),
            u("post_id"),
            u("views"),
            u("reactions"),
            u("forwards"),
            u("subscribers"),
        ];
        let index = Index::create_in_ram(b.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for i in 0..docs {
            let words: Vec<String> = (0..3 + next(20))
                .map(|_| {
                    let skew = next(40) + 1;
                    format!("w{}", next(skew))
                })
                .collect();
            let mut doc = TantivyDocument::new();
            doc.add_text(body, words.join(" "));
            doc.add_date(
                date,
                tantivy::DateTime::from_timestamp_secs(1_700_000_000 + next(31_536_000) as i64),
            );
            let values = [
                next(50),
                i,
                next(1_000_000),
                next(5_000),
                next(300),
                next(200_000),
            ];
            for (f, v) in fields.iter().zip(values) {
                doc.add_u64(*f, v);
            }
            writer.add_document(doc).unwrap();
            if i % (docs / 3) == docs / 3 - 1 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        (index, body)
    }

    fn union(body: tantivy::schema::Field, words: &[&str]) -> BooleanQuery {
        BooleanQuery::new(
            words
                .iter()
                .map(|w| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(body, w),
                        IndexRecordOption::WithFreqs,
                    ));
                    (Occur::Should, q)
                })
                .collect(),
        )
    }

    #[test]
    fn pruned_pages_equal_full_scoring_pages() {
        let (index, body) = index(6_000);
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() >= 3);
        let ranker = Ranker::new(Ranking::default());
        let now = 1_700_000_000 + 31_536_000 - 86_400;
        for words in [&["w0"][..], &["w1", "w2"], &["w3", "w17", "w30"], &["w39"]] {
            let query = union(body, words);
            for n in [1, 5, 21] {
                let mut after = None;
                for page in 0..4 {
                    let collect = |prune| Collect {
                        n,
                        after,
                        sort: Sort::Relevance,
                        now,
                        prune,
                        exclude: None,
                        hidden: None,
                        record: 0,
                    };
                    let full = ranker.top(&searcher, &query, &collect(false)).unwrap();
                    let pruned = ranker.top(&searcher, &query, &collect(true)).unwrap();
                    // Same documents in the same order; scores equal up to float rounding
                    // (block-max WAND sums the same BM25 terms in another order).
                    let docs = |top: &[(Key, DocAddress)]| -> Vec<DocAddress> {
                        top.iter().map(|t| t.1).collect()
                    };
                    assert_eq!(
                        docs(&full.top),
                        docs(&pruned.top),
                        "{words:?} n={n} page {page}"
                    );
                    for (f, p) in full.top.iter().zip(&pruned.top) {
                        assert!(
                            ((f.0).0 - (p.0).0).abs() <= 1e-5 * (f.0).0.abs().max(1.0),
                            "{words:?} n={n} page {page}: {f:?} vs {p:?}"
                        );
                    }
                    after = full.top.last().map(|t| t.0);
                }
            }
        }
    }
}
