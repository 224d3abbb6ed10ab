//! The matcher for regex rules: a literal prefilter, then each candidate regex on its own.
//!
//! Why not one `RegexSet`: with 1 000 regexes using Unicode classes (`\w`, `\b`), its lazy DFA
//! runs out of cache on every post and falls back to the PikeVM; the `rules` bench measured
//! 27 KB/s. Almost every regex a moderator writes contains a word (`закладк\w*`,
//! `купить\s+соль`), so each regex's required literals go into one Aho-Corasick automaton
//! over the light text: its prefix literals (every match starts with one of them) and its
//! suffix literals (every match ends with one). Only the regexes with a prefix *and* a suffix
//! literal in the text run, each as its own small `Regex`; requiring both keeps a common word
//! (`купить` in 250 regexes) from waking them all. A regex with no usable literal on either
//! side (`\d{3}-\d{4}`) runs on every post.
//!
//! The prefilter never hides a match: literals are taken from the pattern, folded the way the
//! light text is (a regex whose literals folding would change in any other way than
//! lowercasing runs unfiltered).

use crate::error::{Error, Result};
use crate::normalize;
use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use rustc_hash::FxHashMap;

/// Regex rules compiled for scanning.
#[derive(Debug, Default)]
pub(crate) struct RegexMatcher {
    /// Each regex and its rule index.
    regexes: Vec<(Regex, u32)>,
    /// Per regex: its prefix and suffix literal ids (`None`: no constraint on that side).
    required: Vec<[Option<Vec<u32>>; 2]>,
    prefilter: Option<AhoCorasick>,
    /// Regexes (indices into `regexes`) that literal `i` may wake.
    by_literal: Vec<Vec<u32>>,
    /// Regexes tried on every text.
    unfiltered: Vec<u32>,
}

impl RegexMatcher {
    /// Builds the matcher for `regexes` (compiled, with their rule index).
    pub(crate) fn build(regexes: Vec<(Regex, u32)>) -> Result<RegexMatcher> {
        let mut literal_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut literals: Vec<String> = Vec::new();
        let mut by_literal: Vec<Vec<u32>> = Vec::new();
        let mut unfiltered = Vec::new();
        let mut required = Vec::with_capacity(regexes.len());
        for (i, (regex, _)) in regexes.iter().enumerate() {
            let sides = [ExtractKind::Prefix, ExtractKind::Suffix].map(|kind| {
                let lits = required_literals(regex.as_str(), kind)?;
                let ids = lits
                    .into_iter()
                    .map(|literal| {
                        *literal_ids.entry(literal.clone()).or_insert_with(|| {
                            literals.push(literal);
                            by_literal.push(Vec::new());
                            (literals.len() - 1) as u32
                        })
                    })
                    .collect::<Vec<u32>>();
                Some(ids)
            });
            // Index the regex under the literals of one constrained side; check both on a hit.
            match sides.iter().flatten().next() {
                Some(ids) => {
                    for &id in ids {
                        let list = &mut by_literal[id as usize];
                        if list.last() != Some(&(i as u32)) {
                            list.push(i as u32);
                        }
                    }
                }
                None => unfiltered.push(i as u32),
            }
            required.push(sides);
        }
        let prefilter = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&literals)
                    .map_err(|e| Error::Internal(format!("regex prefilter: {e}")))?,
            )
        };
        Ok(RegexMatcher {
            regexes,
            required,
            prefilter,
            by_literal,
            unfiltered,
        })
    }

    /// Whether there is no regex.
    pub(crate) fn is_empty(&self) -> bool {
        self.regexes.is_empty()
    }

    /// Appends the rules whose regex matches the light form `light` to `out`.
    pub(crate) fn scan(&self, light: &str, out: &mut Vec<u32>) {
        if self.is_empty() {
            return;
        }
        let mut candidates: Vec<u32> = self.unfiltered.clone();
        if let Some(ac) = &self.prefilter {
            let mut found: Vec<u32> = ac
                .find_overlapping_iter(light)
                .map(|m| m.pattern().as_u32())
                .collect();
            found.sort_unstable();
            found.dedup();
            let present = |ids: &Option<Vec<u32>>| {
                ids.as_ref()
                    .is_none_or(|ids| ids.iter().any(|id| found.binary_search(id).is_ok()))
            };
            for &literal in &found {
                for &r in &self.by_literal[literal as usize] {
                    let [prefix, suffix] = &self.required[r as usize];
                    if present(prefix) && present(suffix) {
                        candidates.push(r);
                    }
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for i in candidates {
            let (regex, rule) = &self.regexes[i as usize];
            if regex.is_match(light) {
                out.push(*rule);
            }
        }
    }
}

/// Literals of which every match of `pattern` starts (`Prefix`) or ends (`Suffix`) with one,
/// folded like the light text; `None` when there is no such finite set of non-empty literals.
fn required_literals(pattern: &str, kind: ExtractKind) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut extractor = Extractor::new();
    extractor.kind(kind);
    let seq = extractor.extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() {
        return None;
    }
    literals
        .iter()
        .map(|l| {
            let text = std::str::from_utf8(l.as_bytes()).ok()?;
            let folded = normalize::light(text);
            (!folded.is_empty() && folded == text.to_lowercase()).then_some(folded)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[&str]) -> RegexMatcher {
        let regexes = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    crate::rules::check::regex_builder(p).build().unwrap(),
                    i as u32,
                )
            })
            .collect();
        RegexMatcher::build(regexes).unwrap()
    }

    fn scan(m: &RegexMatcher, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        m.scan(&normalize::light(text), &mut out);
        out
    }

    #[test]
    fn literals_are_required_prefixes_or_suffixes() {
        let prefix = |p| required_literals(p, ExtractKind::Prefix);
        let suffix = |p| required_literals(p, ExtractKind::Suffix);
        assert_eq!(prefix("закладк\\w*"), Some(vec!["закладк".into()]));
        assert_eq!(suffix("закладк\\w*"), None);
        assert_eq!(suffix("\\w+соль"), Some(vec!["соль".into()]));
        assert_eq!(
            prefix("(Купить|продам) соль"),
            Some(vec!["купить соль".into(), "продам соль".into()])
        );
        assert_eq!(prefix("\\d{3}-\\d+\\w"), None);
    }

    #[test]
    fn prefiltered_and_unfiltered_regexes_match() {
        let m = matcher(&["закладк\\w*\\s+в", "\\d{3}-\\d{4}", "ЦЕНА \\d+"]);
        assert_eq!(scan(&m, "Закладки в городе"), vec![0]);
        assert_eq!(scan(&m, "звоните 555-1234"), vec![1]);
        assert_eq!(scan(&m, "цена 100, закладки в"), vec![0, 2]);
        assert_eq!(scan(&m, "ничего"), Vec::<u32>::new());
    }
}
