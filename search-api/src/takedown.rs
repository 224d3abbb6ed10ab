//! Takedown of posts already indexed: which documents each enabled hide, review or drop rule
//! matches, found through the index, kept per segment, and excluded at query time.
//!
//! Why query time: a rule change must reach a 1M-post index within a second, and rewriting
//! the matching documents would take longer (and be lost work when the rule is disabled
//! again). Instead each rule becomes a Tantivy query over fields the indexer wrote for this
//! purpose (`norm`: the filters' normalized words; `channel`, `domains`, `tags`,
//! `media_sha256`), run once per segment into a bitset. Searches add "not in the bitset of
//! the user's audience" (everyone, plus the user's country).
//!
//! Invariants:
//! - Doc ids are stable within a segment (deletes only mark), so a segment's sets stay valid
//!   for the segment's whole life; merged segments are new segments and get new sets.
//! - A searcher never waits for a rule change: [`Takedown::update`] builds the new
//!   [`Exclusions`] off to the side (precomputing the current segments) and swaps it in with
//!   one atomic store. A segment the current exclusions have not seen yet (fresh from a
//!   commit) is computed on first use; the committer warms them right after each reload.
//! - Regex rules cannot be answered by an index. They apply at ingest (the stored
//!   `visibility`), and to posts indexed before them through a scan of the stored text in
//!   the background ([`RegexScan`], started by `rules_api`): its matches are kept as post
//!   keys with versions, not doc ids, so that they survive merges, and become part of the
//!   sets at the next rebuild. A disabled regex rule releases what its scan found; the
//!   verdicts it stored at ingest stay until the posts are edited.
//! - The sets hold everything a user must not see, so a search needs one clause (or one
//!   bitset check, for the pruned top-n of `rank.rs`): the rules' matches and the verdicts
//!   stored at ingest (`visibility` `hide`, `hide:CC`, `review`), read from each segment's
//!   term dictionary.
//! - Held for review = (stored `visibility:review` ∪ enabled review rules' matches) minus the
//!   approved posts, an approval naming the post version it judged (an edit is held again).
//!   The held set is part of everyone's set, and it is also what the review queue lists.

use arc_swap::ArcSwapOption;
use filters::rules::{Kind, Rule, RuleAction, Target};
use indexer::schema::Fields;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, ConstScorer, EmptyScorer, EnableScoring, Explanation, PhrasePrefixQuery,
    PhraseQuery, Query, RegexQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, Score, SegmentReader, Term};

/// The index query finding the posts `rule` matches, or `None` for a regex rule.
pub fn rule_query(fields: &Fields, rule: &Rule) -> Result<Option<Box<dyn Query>>, String> {
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    Ok(Some(match rule.target()? {
        Target::Regex => return Ok(None),
        Target::Words { words, prefix } => {
            let terms: Vec<Term> = words
                .iter()
                .map(|w| Term::from_field_text(fields.norm, w))
                .collect();
            match (terms.len(), prefix) {
                (1, false) => term(fields.norm, &words[0]),
                (1, true) => Box::new(
                    RegexQuery::from_pattern(
                        &format!("{}.*", regex_syntax::escape(&words[0])),
                        fields.norm,
                    )
                    .map_err(|e| format!("prefix `{}*`: {e}", words[0]))?,
                ),
                (_, false) => Box::new(PhraseQuery::new(terms)),
                (_, true) => {
                    let mut q = PhrasePrefixQuery::new(terms);
                    // Every expansion: a takedown must not stop at the first 50 words.
                    q.set_max_expansions(u32::MAX);
                    Box::new(q)
                }
            }
        }
        Target::ChannelName(name) => term(fields.channel, &name),
        Target::ChannelId(id) => Box::new(TermQuery::new(
            Term::from_field_u64(fields.channel_id, id),
            IndexRecordOption::Basic,
        )),
        Target::Domain(domain) => term(fields.domains, &domain),
        Target::Hashtag(tag) => term(fields.tags, &tag),
        Target::Media(hash) => term(fields.media_sha256, &hash),
    }))
}

/// The posts moderators approved: `(channel_id, post_id)` to the version approved.
pub type Approvals = HashMap<(u64, u64), i64>;

/// What a scan of the stored text found for one regex rule.
#[derive(Debug)]
pub struct RegexScan {
    /// The pattern scanned for: a scan is used only while the rule keeps it.
    pub pattern: String,
    /// The matching posts, `(channel_id, post_id)` to the version that matched.
    pub posts: HashMap<(u64, u64), i64>,
    /// How long the scan took.
    pub took: Duration,
}

/// The latest scan of each regex rule, by rule id.
pub type RegexScans = HashMap<String, Arc<RegexScan>>;

/// Who a rule hides posts from.
#[derive(Debug, Clone)]
enum Audience {
    /// Everyone (hide without regions, drop until the deletion lands).
    Everyone,
    /// Held for review: everyone, unless approved.
    Review,
    /// Users in these countries.
    Regions(Vec<String>),
}

struct ActiveRule {
    id: String,
    audience: Audience,
    matcher: Matcher,
}

/// How a rule finds its posts in a segment.
enum Matcher {
    /// An index query.
    Query(Box<dyn Weight>),
    /// A regex rule: the posts its scan found (looked up by key and version).
    Scanned(Arc<RegexScan>),
}

/// One segment's excluded documents.
struct SegmentSets {
    everyone: Option<Arc<BitSet>>,
    /// Everyone's set united with one country's, per country with rules.
    regions: HashMap<String, Arc<BitSet>>,
    /// The posts held for review (a subset of `everyone`).
    held: Option<Arc<BitSet>>,
}

/// The exclusions for one version of the rules and approvals.
pub struct Exclusions {
    rules: Vec<ActiveRule>,
    /// The `visibility` field: verdicts stored at ingest.
    visibility: tantivy::schema::Field,
    approvals: Arc<Approvals>,
    segments: Mutex<HashMap<SegmentId, Arc<SegmentSets>>>,
}

/// Every stored `visibility` value of `segment` but `public`, with its documents.
fn stored_verdicts(
    segment: &SegmentReader,
    field: tantivy::schema::Field,
) -> tantivy::Result<Vec<(String, Vec<DocId>)>> {
    use tantivy::DocSet;
    let index = segment.inverted_index(field)?;
    let mut values = Vec::new();
    let mut stream = index.terms().stream()?;
    while stream.advance() {
        let value = String::from_utf8_lossy(stream.key()).into_owned();
        if value != indexer::schema::VISIBLE_PUBLIC {
            values.push(value);
        }
    }
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        let term = Term::from_field_text(field, &value);
        let mut docs = Vec::new();
        if let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? {
            let mut doc = postings.doc();
            while doc != tantivy::TERMINATED {
                docs.push(doc);
                doc = postings.advance();
            }
        }
        out.push((value, docs));
    }
    Ok(out)
}

/// The documents of a bitset, in order. (Tantivy's `BitSet` has no iterator of its own.)
pub fn docs_of(set: &BitSet) -> impl Iterator<Item = DocId> + '_ {
    (0..set.max_value().div_ceil(64)).flat_map(move |bucket| {
        let mut tiny = set.tinyset(bucket);
        std::iter::from_fn(move || tiny.pop_lowest().map(|low| bucket * 64 + low))
    })
}

impl Exclusions {
    /// Exclusions for `rules` (enabled non-regex hide, review and drop rules are used) and
    /// the stored review verdicts, minus `approvals`.
    fn build(
        searcher: &tantivy::Searcher,
        fields: &Fields,
        rules: &[Rule],
        approvals: Arc<Approvals>,
        scans: &RegexScans,
    ) -> tantivy::Result<Exclusions> {
        let scoring = EnableScoring::disabled_from_searcher(searcher);
        let mut active = Vec::new();
        for rule in rules.iter().filter(|r| r.enabled) {
            let audience = match rule.action {
                RuleAction::Hide if !rule.regions.is_empty() => {
                    Audience::Regions(rule.regions.clone())
                }
                RuleAction::Review => Audience::Review,
                _ => Audience::Everyone,
            };
            if rule.kind == Kind::Regex {
                if let Some(scan) = scans.get(&rule.id).filter(|s| s.pattern == rule.pattern)
                    && !scan.posts.is_empty()
                {
                    active.push(ActiveRule {
                        id: rule.id.clone(),
                        audience,
                        matcher: Matcher::Scanned(scan.clone()),
                    });
                }
                continue;
            }
            let query = match rule_query(fields, rule) {
                Ok(Some(q)) => q,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(rule = %rule.id, error = %e, "rule has no index query");
                    continue;
                }
            };
            let weight = match query.weight(scoring) {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!(rule = %rule.id, error = %e, "rule query failed");
                    continue;
                }
            };
            active.push(ActiveRule {
                id: rule.id.clone(),
                audience,
                matcher: Matcher::Query(weight),
            });
        }
        Ok(Exclusions {
            rules: active,
            visibility: fields.visibility,
            approvals,
            segments: Mutex::new(HashMap::new()),
        })
    }

    /// The ids of the enabled review rules matching document `doc` of `segment`.
    pub fn review_rules_matching(
        &self,
        segment: &SegmentReader,
        doc: DocId,
    ) -> tantivy::Result<Vec<String>> {
        let mut ids = Vec::new();
        let scanned = self.scanned_docs(segment)?;
        for (i, rule) in self.rules.iter().enumerate() {
            if !matches!(rule.audience, Audience::Review) {
                continue;
            }
            let hit = match &rule.matcher {
                Matcher::Query(weight) => {
                    let mut scorer = weight.scorer(segment, 1.0)?;
                    scorer.doc() <= doc && scorer.seek(doc) == doc
                }
                Matcher::Scanned(_) => scanned.get(&i).is_some_and(|docs| docs.contains(&doc)),
            };
            if hit {
                ids.push(rule.id.clone());
            }
        }
        Ok(ids)
    }

    /// The posts of `segment` held for review.
    pub fn held(&self, segment: &SegmentReader) -> tantivy::Result<Option<Arc<BitSet>>> {
        Ok(self.sets(segment)?.held.clone())
    }

    /// The documents of `segment` each scanned regex rule matched, by rule index: one pass
    /// over the segment's key columns for all of them.
    fn scanned_docs(&self, segment: &SegmentReader) -> tantivy::Result<HashMap<usize, Vec<DocId>>> {
        let scans: Vec<(usize, &RegexScan)> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.matcher {
                Matcher::Scanned(scan) => Some((i, scan.as_ref())),
                Matcher::Query(_) => None,
            })
            .collect();
        let mut out: HashMap<usize, Vec<DocId>> = HashMap::new();
        if scans.is_empty() {
            return Ok(out);
        }
        let ff = segment.fast_fields();
        let (channel, post, version) = (
            ff.u64("channel_id")?,
            ff.u64("post_id")?,
            ff.i64("version")?,
        );
        for doc in 0..segment.max_doc() {
            let (Some(c), Some(p), Some(v)) =
                (channel.first(doc), post.first(doc), version.first(doc))
            else {
                continue;
            };
            for (i, scan) in &scans {
                if scan.posts.get(&(c, p)) == Some(&v) {
                    out.entry(*i).or_default().push(doc);
                }
            }
        }
        Ok(out)
    }

    fn compute(&self, segment: &SegmentReader) -> tantivy::Result<SegmentSets> {
        let max = segment.max_doc();
        let scanned = self.scanned_docs(segment)?;
        // Adds rule `i`'s documents to `set`.
        let add = |i: usize, set: &mut BitSet| -> tantivy::Result<()> {
            match &self.rules[i].matcher {
                Matcher::Query(weight) => {
                    weight.for_each_no_score(segment, &mut |docs: &[DocId]| {
                        for &doc in docs {
                            set.insert(doc);
                        }
                    })
                }
                Matcher::Scanned(_) => {
                    for &doc in scanned.get(&i).into_iter().flatten() {
                        set.insert(doc);
                    }
                    Ok(())
                }
            }
        };
        let mut everyone: Option<BitSet> = None;
        let mut held = BitSet::with_max_value(max);
        // The verdicts stored at ingest: `hide`, `hide:CC`, `review` (`public` needs nothing).
        let mut stored_regions: HashMap<String, Vec<DocId>> = HashMap::new();
        for (value, docs) in stored_verdicts(segment, self.visibility)? {
            if value == indexer::schema::VISIBLE_REVIEW {
                docs.iter().for_each(|&d| {
                    held.insert(d);
                });
            } else if value == indexer::schema::VISIBLE_HIDDEN {
                let set = everyone.get_or_insert_with(|| BitSet::with_max_value(max));
                docs.iter().for_each(|&d| {
                    set.insert(d);
                });
            } else if let Some(region) = value.strip_prefix("hide:") {
                stored_regions
                    .entry(region.to_string())
                    .or_default()
                    .extend(docs);
            }
        }
        let mut by_region: HashMap<&str, Vec<usize>> = HashMap::new();
        for region in stored_regions.keys() {
            by_region.entry(region).or_default();
        }
        for (i, rule) in self.rules.iter().enumerate() {
            match &rule.audience {
                Audience::Everyone => add(
                    i,
                    everyone.get_or_insert_with(|| BitSet::with_max_value(max)),
                )?,
                Audience::Review => add(i, &mut held)?,
                Audience::Regions(regions) => {
                    for region in regions {
                        by_region.entry(region).or_default().push(i);
                    }
                }
            }
        }
        let held = if held.len() == 0 {
            None
        } else {
            self.subtract_approved(segment, &mut held)?;
            let all = everyone.get_or_insert_with(|| BitSet::with_max_value(max));
            for doc in docs_of(&held) {
                all.insert(doc);
            }
            Some(Arc::new(held))
        };
        // A country's set starts as everyone's, so a search needs one set, not a union.
        let mut regions = HashMap::new();
        for (region, rules) in by_region {
            let mut set = everyone
                .clone()
                .unwrap_or_else(|| BitSet::with_max_value(max));
            for i in rules {
                add(i, &mut set)?;
            }
            for &doc in stored_regions.get(region).into_iter().flatten() {
                set.insert(doc);
            }
            regions.insert(region.to_string(), Arc::new(set));
        }
        Ok(SegmentSets {
            everyone: everyone.map(Arc::new),
            regions,
            held,
        })
    }

    /// Removes from `held` the posts approved at the version indexed.
    fn subtract_approved(&self, segment: &SegmentReader, held: &mut BitSet) -> tantivy::Result<()> {
        if self.approvals.is_empty() {
            return Ok(());
        }
        let ff = segment.fast_fields();
        let (channel, post, version) = (
            ff.u64("channel_id")?,
            ff.u64("post_id")?,
            ff.i64("version")?,
        );
        let approved: Vec<DocId> = docs_of(held)
            .filter(|&doc| {
                let (Some(c), Some(p), Some(v)) =
                    (channel.first(doc), post.first(doc), version.first(doc))
                else {
                    return false;
                };
                self.approvals.get(&(c, p)) == Some(&v)
            })
            .collect();
        for doc in approved {
            held.remove(doc);
        }
        Ok(())
    }

    fn sets(&self, segment: &SegmentReader) -> tantivy::Result<Arc<SegmentSets>> {
        let id = segment.segment_id();
        if let Some(sets) = self.segments.lock().get(&id) {
            return Ok(sets.clone());
        }
        // Computed outside the lock: two searches racing on a fresh segment both compute it
        // (cheap for a fresh segment), instead of every search waiting behind one.
        let sets = Arc::new(self.compute(segment)?);
        self.segments.lock().insert(id, sets.clone());
        Ok(sets)
    }

    /// Computes the sets of every segment of `searcher` that lacks them, and forgets the
    /// segments it no longer has.
    pub fn warm(&self, searcher: &tantivy::Searcher) -> tantivy::Result<()> {
        for segment in searcher.segment_readers() {
            self.sets(segment)?;
        }
        let live: std::collections::HashSet<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|s| s.segment_id())
            .collect();
        self.segments.lock().retain(|id, _| live.contains(id));
        Ok(())
    }

    /// The documents of `segment` hidden from a user in `country`.
    pub fn excluded(
        &self,
        segment: &SegmentReader,
        country: Option<&str>,
    ) -> tantivy::Result<Option<Arc<BitSet>>> {
        let sets = self.sets(segment)?;
        Ok(country
            .and_then(|c| sets.regions.get(c).cloned())
            .or_else(|| sets.everyone.clone()))
    }
}

/// The current exclusions, swapped whole when rules or approvals change.
pub struct Takedown {
    /// `None` until the first [`Takedown::update`]: nothing excluded yet.
    current: ArcSwapOption<Exclusions>,
    fields: Fields,
    /// The latest scan of each regex rule (kept across rebuilds).
    scans: Mutex<RegexScans>,
}

impl std::fmt::Debug for Takedown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Takedown")
            .field(
                "rules",
                &self.current.load().as_ref().map(|e| e.rules.len()),
            )
            .finish()
    }
}

impl Takedown {
    /// No exclusions yet.
    pub fn new(fields: Fields) -> Takedown {
        Takedown {
            current: ArcSwapOption::empty(),
            fields,
            scans: Mutex::new(HashMap::new()),
        }
    }

    /// The exclusions in force, once built.
    pub fn current(&self) -> Option<Arc<Exclusions>> {
        self.current.load_full()
    }

    /// Computes the sets of `searcher`'s new segments (after a commit).
    pub fn warm(&self, searcher: &tantivy::Searcher) -> tantivy::Result<()> {
        match self.current.load().as_ref() {
            Some(exclusions) => exclusions.warm(searcher),
            None => Ok(()),
        }
    }

    /// Builds the exclusions of `rules` and `approvals` for `searcher`'s segments and swaps
    /// them in; returns how long the build took (the rule-to-effect latency for posts already
    /// indexed).
    pub fn update(
        &self,
        searcher: &tantivy::Searcher,
        rules: &[Rule],
        approvals: Arc<Approvals>,
    ) -> tantivy::Result<Duration> {
        let started = Instant::now();
        let scans = self.scans.lock().clone();
        let next = Exclusions::build(searcher, &self.fields, rules, approvals, &scans)?;
        next.warm(searcher)?;
        self.current.store(Some(Arc::new(next)));
        Ok(started.elapsed())
    }

    /// The scan of regex rule `id`, if one finished.
    pub fn regex_scan(&self, id: &str) -> Option<Arc<RegexScan>> {
        self.scans.lock().get(id).cloned()
    }

    /// Keeps `scan` as rule `id`'s (used from the next [`Takedown::update`]).
    pub fn set_regex_scan(&self, id: &str, scan: Arc<RegexScan>) {
        self.scans.lock().insert(id.to_string(), scan);
    }

    /// Forgets the scans of rules not in `ids` (deleted or disabled rules).
    pub fn retain_regex_scans(&self, ids: &std::collections::HashSet<&str>) {
        self.scans.lock().retain(|id, _| ids.contains(id.as_str()));
    }

    /// The query matching what a user in `country` must not see (every takedown rule of the
    /// user's audience and every post held for review).
    pub fn exclusion_query(&self, country: Option<&str>) -> Option<Box<dyn Query>> {
        Some(Box::new(Excluded {
            exclusions: self.current()?,
            country: country.map(str::to_string),
        }))
    }
}

/// The documents hidden from one user, as a query (used as a `MustNot` clause).
#[derive(Clone)]
struct Excluded {
    exclusions: Arc<Exclusions>,
    country: Option<String>,
}

impl Excluded {
    fn excluded(&self, segment: &SegmentReader) -> tantivy::Result<Option<Arc<BitSet>>> {
        self.exclusions.excluded(segment, self.country.as_deref())
    }
}

impl std::fmt::Debug for Excluded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Excluded({:?})", self.country)
    }
}

impl Query for Excluded {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for Excluded {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        match self.excluded(reader)? {
            Some(set) => Ok(Box::new(ConstScorer::new(
                BitSetDocSet::from((*set).clone()),
                boost,
            ))),
            None => Ok(Box::new(EmptyScorer)),
        }
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let hidden = self.excluded(reader)?.is_some_and(|set| set.contains(doc));
        if hidden {
            Ok(Explanation::new("hidden by a takedown rule", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is not hidden"
            )))
        }
    }
}
