//! The decision model shared by every stage: what a policy sees of a post ([`Subject`]),
//! what it decides ([`Verdict`], [`Action`], [`Reason`]) and how decisions combine
//! ([`Verdict::merge`]).
//!
//! Kept apart from matching and classification so that the indexer and the server depend on
//! these few types only.

use serde::{Deserialize, Serialize};

/// What a policy sees of a post: the original text and the entities the indexer extracted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// Numeric channel id.
    pub channel_id: u64,
    /// Channel username as written by the producer.
    pub channel: &'a str,
    /// Original post text (not normalized).
    pub text: &'a str,
    /// Hashtags and cashtags with their sign, lowercased (`#news`, `$ton`).
    pub hashtags: &'a [String],
    /// Link domains from `links` and from the text, lowercased, without `www.`.
    pub domains: &'a [String],
    /// Lowercase hex SHA-256 of each media item.
    pub media_sha256: &'a [String],
    /// The post's language (ISO 639-1), given or detected, when known. Classifiers trained on
    /// some languages only score posts in those languages.
    pub lang: Option<&'a str>,
}

/// What happens to a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Searchable by everyone.
    Index,
    /// Excluded from results for users in `regions` (ISO 3166-1 alpha-2, uppercase), or for
    /// everyone when `regions` is empty.
    Hide {
        /// Countries the post is hidden in; empty means everywhere.
        regions: Vec<String>,
    },
    /// Excluded from results until a moderator approves it.
    Review,
    /// Never indexed.
    Drop,
}

impl Action {
    /// The contract's name for the action.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Index => "index",
            Action::Hide { .. } => "hide",
            Action::Review => "review",
            Action::Drop => "drop",
        }
    }

    /// Severity order used when verdicts combine: drop > review > hide > index.
    fn rank(&self) -> u8 {
        match self {
            Action::Index => 0,
            Action::Hide { .. } => 1,
            Action::Review => 2,
            Action::Drop => 3,
        }
    }
}

/// Why a verdict was reached: a rule id or a classifier category, with a score for classifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Rule id (`rule:<id>`) or classifier category (`spam`, `drugs`, ...).
    pub source: String,
    /// Classifier score in 0..=1; `None` for rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// The decision for one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What happens to the post.
    pub action: Action,
    /// Every rule or category that contributed, in the order found.
    pub reasons: Vec<Reason>,
}

impl Verdict {
    /// Index, for no reason: the verdict when nothing matched.
    pub fn index() -> Verdict {
        Verdict {
            action: Action::Index,
            reasons: Vec::new(),
        }
    }

    /// Combines two verdicts on the same post. The more severe action wins; two hides combine
    /// their regions, and a hide for everyone (empty regions) absorbs any regional hide.
    /// Reasons of both are kept, so moderators see everything that matched.
    pub fn merge(mut self, other: Verdict) -> Verdict {
        self.reasons.extend(other.reasons);
        self.action = match (self.action, other.action) {
            (Action::Hide { regions: a }, Action::Hide { regions: b }) => {
                if a.is_empty() || b.is_empty() {
                    Action::Hide {
                        regions: Vec::new(),
                    }
                } else {
                    let mut regions = a;
                    regions.extend(b);
                    regions.sort();
                    regions.dedup();
                    Action::Hide { regions }
                }
            }
            (a, b) if b.rank() > a.rank() => b,
            (a, _) => a,
        };
        self
    }
}

/// Decides the verdict for a post. Implementations must be cheap to call from many threads.
pub trait Policy: Send + Sync {
    /// The verdict on `post`. Never fails: a decision is a value.
    fn verdict(&self, post: &Subject<'_>) -> Verdict;

    /// The verdict on `post` whose text the caller already normalized (the indexer needs the
    /// normalized form too, so it normalizes once). Policies that do not read the text may
    /// ignore `text`.
    fn verdict_normalized(
        &self,
        post: &Subject<'_>,
        text: &crate::normalize::Normalized,
    ) -> Verdict {
        let _ = text;
        self.verdict(post)
    }
}

/// The policy when no rules or classifiers are configured: every post is indexed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRules;

impl Policy for NoRules {
    fn verdict(&self, _post: &Subject<'_>) -> Verdict {
        Verdict::index()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hide(regions: &[&str], rule: &str) -> Verdict {
        Verdict {
            action: Action::Hide {
                regions: regions.iter().map(|r| r.to_string()).collect(),
            },
            reasons: vec![Reason {
                source: rule.into(),
                score: None,
            }],
        }
    }

    #[test]
    fn more_severe_action_wins_and_reasons_accumulate() {
        let review = Verdict {
            action: Action::Review,
            reasons: vec![Reason {
                source: "spam".into(),
                score: Some(0.91),
            }],
        };
        let merged = hide(&["KZ"], "rule:1").merge(review.clone());
        assert_eq!(merged.action, Action::Review);
        assert_eq!(merged.reasons.len(), 2);
        assert_eq!(review.merge(Verdict::index()).action, Action::Review);
    }

    #[test]
    fn regional_hides_union_and_global_hide_absorbs() {
        let both = hide(&["KZ"], "a").merge(hide(&["DE", "KZ"], "b"));
        assert_eq!(
            both.action,
            Action::Hide {
                regions: vec!["DE".into(), "KZ".into()]
            }
        );
        let global = both.merge(hide(&[], "c"));
        assert_eq!(global.action, Action::Hide { regions: vec![] });
    }

    #[test]
    fn action_serializes_as_contract_names() {
        let json = serde_json::to_string(&hide(&["KZ"], "r").action).unwrap();
        assert_eq!(json, r#"{"action":"hide","regions":["KZ"]}"#);
        assert_eq!(Action::Drop.as_str(), "drop");
    }
}
