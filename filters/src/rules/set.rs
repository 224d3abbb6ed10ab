//! [`RuleSet`]: every enabled rule compiled once into matchers for many patterns.
//!
//! Terms and phrases go to the word matcher (one hash probe per word of the fully normalized
//! text), regexes to a literal prefilter and then one by one over the lightly normalized text, and channels, domains,
//! hashtags and media hashes to hash maps. Deciding a post costs the same with ten rules or a
//! hundred thousand; the `rules` bench measures it.

use super::Rule;
use super::check::{self, Compiled};
use super::regexes::RegexMatcher;
use super::words::WordMatcher;
use crate::error::{Error, Result, RuleError};
use crate::normalize::Normalized;
use crate::verdict::{Policy, Reason, Subject, Verdict};
use regex::Regex;
use rustc_hash::FxHashMap;

/// A compiled, immutable set of rules; a [`Policy`] on its own.
///
/// ```
/// use filters::rules::{Kind, Rule, RuleAction, RuleSet};
/// use filters::{Action, Policy, Subject};
/// let rules = RuleSet::build(vec![Rule::new("1", Kind::Term, "ass", RuleAction::Hide)]).unwrap();
/// let verdict = |text| rules.verdict(&Subject { text, ..Subject::default() }).action;
/// assert_eq!(verdict("what an A55"), Action::Hide { regions: vec![] });
/// assert_eq!(verdict("a classic from Essex"), Action::Index);
/// ```
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Reason of each rule: `rule:<id>`.
    sources: Vec<String>,
    words: WordMatcher,
    regexes: RegexMatcher,
    channel_names: FxHashMap<String, Vec<u32>>,
    channel_ids: FxHashMap<u64, Vec<u32>>,
    domains: FxHashMap<String, Vec<u32>>,
    hashtags: FxHashMap<String, Vec<u32>>,
    media: FxHashMap<String, Vec<u32>>,
}

impl RuleSet {
    /// No rules: every post is indexed.
    pub fn empty() -> RuleSet {
        RuleSet::default()
    }

    /// Checks every rule and compiles the enabled ones. Fails listing every invalid rule
    /// (disabled ones included) and every id used twice; a rule without id is named `#N`.
    pub fn build(rules: Vec<Rule>) -> Result<RuleSet> {
        let mut set = RuleSet::default();
        let mut errors = Vec::new();
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        let mut compiled = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let name = if rule.id.is_empty() {
                format!("#{}", i + 1)
            } else {
                rule.id.clone()
            };
            if !rule.id.is_empty()
                && let Some(first) = seen.insert(&rule.id, i)
            {
                errors.push(RuleError {
                    rule: name.clone(),
                    problem: format!("the id is also used by rule #{}", first + 1),
                });
            }
            match check::compile(rule) {
                Ok(c) => compiled.push(c),
                Err(problem) => errors.push(RuleError {
                    rule: name.clone(),
                    problem,
                }),
            }
            set.sources.push(format!("rule:{name}"));
        }
        if !errors.is_empty() {
            return Err(Error::InvalidRules(errors));
        }
        let mut regexes = Vec::new();
        for (i, (rule, c)) in rules.iter().zip(compiled).enumerate() {
            if rule.enabled {
                set.add(i as u32, c, &mut regexes);
            }
        }
        set.regexes = RegexMatcher::build(regexes)?;
        set.rules = rules;
        Ok(set)
    }

    fn add(&mut self, rule: u32, compiled: Compiled, regexes: &mut Vec<(Regex, u32)>) {
        let push = |map: &mut FxHashMap<String, Vec<u32>>, key: String| {
            map.entry(key).or_default().push(rule);
        };
        match compiled {
            Compiled::Words { words, prefix } => self.words.add(rule, &words, prefix),
            Compiled::Regex(regex) => regexes.push((regex, rule)),
            Compiled::ChannelName(name) => push(&mut self.channel_names, name),
            Compiled::ChannelId(id) => self.channel_ids.entry(id).or_default().push(rule),
            Compiled::Domain(domain) => push(&mut self.domains, domain),
            Compiled::Hashtag(tag) => push(&mut self.hashtags, tag),
            Compiled::Media(hash) => push(&mut self.media, hash),
        }
    }

    /// The rules the set was built from, in order, disabled ones included.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether some enabled rule looks at the text (term, phrase or regex), so the caller
    /// knows whether normalizing is worth it.
    pub fn reads_text(&self) -> bool {
        !self.words.is_empty() || !self.regexes.is_empty()
    }

    /// Indices (into [`RuleSet::rules`]) of the enabled rules matching `post`, ascending,
    /// each once. `text` is `post.text` normalized.
    pub fn matching(&self, post: &Subject<'_>, text: &Normalized) -> Vec<usize> {
        let mut hits: Vec<u32> = Vec::new();
        self.words.scan(&text.full, &mut hits);
        self.regexes.scan(&text.light, &mut hits);
        let mut lookup = |map: &FxHashMap<String, Vec<u32>>, key: &str| {
            if let Some(rules) = map.get(key) {
                hits.extend_from_slice(rules);
            }
        };
        if !self.channel_names.is_empty() {
            lookup(&self.channel_names, &post.channel.to_ascii_lowercase());
        }
        for tag in post.hashtags {
            lookup(&self.hashtags, tag);
        }
        for hash in post.media_sha256 {
            lookup(&self.media, hash);
        }
        if !self.domains.is_empty() {
            for domain in post.domains {
                // The domain and every parent: a.b.example.com, b.example.com, example.com, com.
                let mut d = domain.trim_end_matches('.');
                loop {
                    lookup(&self.domains, d);
                    match d.split_once('.') {
                        Some((_, parent)) => d = parent,
                        None => break,
                    }
                }
            }
        }
        if let Some(rules) = self.channel_ids.get(&post.channel_id) {
            hits.extend_from_slice(rules);
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|i| i as usize).collect()
    }

    /// The verdict of the rules on `post`, whose text is already normalized as `text`.
    pub fn verdict_normalized(&self, post: &Subject<'_>, text: &Normalized) -> Verdict {
        self.matching(post, text)
            .into_iter()
            .fold(Verdict::index(), |verdict, i| {
                let rule = &self.rules[i];
                verdict.merge(Verdict {
                    action: rule.action.to_action(&rule.regions),
                    reasons: vec![Reason {
                        source: self.sources[i].clone(),
                        score: None,
                    }],
                })
            })
    }
}

impl Policy for RuleSet {
    fn verdict(&self, post: &Subject<'_>) -> Verdict {
        let text = if self.reads_text() {
            Normalized::new(post.text)
        } else {
            Normalized::default()
        };
        self.verdict_normalized(post, &text)
    }
}
