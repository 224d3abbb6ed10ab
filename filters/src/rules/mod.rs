//! Moderators' blocklist rules (contract section 5) and the matchers they compile into.
//!
//! A [`Rule`] is what moderators write and the server stores; [`RuleSet::build`] checks every
//! rule ([`Rule::check`] says what is wrong with one, for the API's `invalid_rule`) and
//! compiles the enabled ones once into matchers made for many patterns, so that deciding a
//! post costs the same with 10 rules or 100 000. A `RuleSet` is immutable: a rule change
//! builds a new one and the caller swaps it in (see [`crate::SwappablePolicy`]).

mod check;
mod regexes;
mod regions;
mod set;
mod words;

pub use check::{MAX_PATTERN_BYTES, MAX_REGEX_BYTES, MIN_PREFIX_CHARS};
pub use regions::is_region;
pub use set::RuleSet;

use crate::error::{Error, Result, RuleError};
use crate::verdict::Action;
use serde::{Deserialize, Serialize};

/// What a rule matches (contract section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A whole word after full normalization; a trailing `*` matches any word with that prefix.
    Term,
    /// Words in sequence after full normalization.
    Phrase,
    /// A Rust regex over the lightly normalized text, case-insensitive.
    Regex,
    /// A channel username (`@` optional) or numeric id.
    Channel,
    /// A link domain or any subdomain of it.
    Domain,
    /// A hashtag or cashtag with its sign (`#tag`, `$TON`), whole, case-insensitive.
    Hashtag,
    /// The lowercase hex SHA-256 of a media item.
    #[serde(rename = "media_sha256")]
    MediaSha256,
}

impl Kind {
    /// Every kind, in the contract's order.
    pub const ALL: [Kind; 7] = [
        Kind::Term,
        Kind::Phrase,
        Kind::Regex,
        Kind::Channel,
        Kind::Domain,
        Kind::Hashtag,
        Kind::MediaSha256,
    ];

    /// The contract's name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Term => "term",
            Kind::Phrase => "phrase",
            Kind::Regex => "regex",
            Kind::Channel => "channel",
            Kind::Domain => "domain",
            Kind::Hashtag => "hashtag",
            Kind::MediaSha256 => "media_sha256",
        }
    }
}

/// What a matching rule does to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Hide from users in the rule's regions (everyone when none).
    Hide,
    /// Hold until a moderator approves.
    Review,
    /// Never index; delete when indexed.
    Drop,
}

impl RuleAction {
    /// Every action a rule may take.
    pub const ALL: [RuleAction; 3] = [RuleAction::Hide, RuleAction::Review, RuleAction::Drop];

    /// The contract's name of the action.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Hide => "hide",
            RuleAction::Review => "review",
            RuleAction::Drop => "drop",
        }
    }

    /// The verdict's action, with `regions` for a hide.
    pub fn to_action(self, regions: &[String]) -> Action {
        match self {
            RuleAction::Hide => Action::Hide {
                regions: regions.to_vec(),
            },
            RuleAction::Review => Action::Review,
            RuleAction::Drop => Action::Drop,
        }
    }
}

fn enabled_by_default() -> bool {
    true
}

/// A rule reduced to what an index of stored posts can look up (see [`Rule::target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Consecutive words of the fully normalized text ([`crate::normalize::full`], split on
    /// spaces); with `prefix`, the last word is a prefix.
    Words {
        /// The normalized words.
        words: Vec<String>,
        /// Whether the last word is a prefix.
        prefix: bool,
    },
    /// A regex over the lightly normalized text: no index can answer it, only a scan.
    Regex,
    /// A lowercased channel username.
    ChannelName(String),
    /// A numeric channel id.
    ChannelId(u64),
    /// A lowercased domain (its subdomains match too).
    Domain(String),
    /// A lowercased hashtag or cashtag with its sign.
    Hashtag(String),
    /// A lowercase hex SHA-256.
    Media(String),
}

/// One blocklist rule, as in `RULES.json` and the rules API. Server fields are optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Assigned by the server; may be empty in a file, then the rule is named `#N` after its
    /// 1-based position.
    #[serde(default)]
    pub id: String,
    /// What the rule matches.
    pub kind: Kind,
    /// The word, phrase, regex, channel, domain, hashtag or hash to match.
    pub pattern: String,
    /// What happens to a matching post.
    pub action: RuleAction,
    /// For `hide`: ISO 3166-1 alpha-2 codes (uppercase) of the countries it applies in;
    /// empty means everywhere.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Free-form category for moderators (`drugs`, `weapons`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Why the rule exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Disabled rules are kept but match nothing.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Server field: who created the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Server field: when (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Server field: revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl Rule {
    /// A rule with just the fields that matter for matching; the rest default.
    pub fn new(id: &str, kind: Kind, pattern: &str, action: RuleAction) -> Rule {
        Rule {
            id: id.to_string(),
            kind,
            pattern: pattern.to_string(),
            action,
            regions: Vec::new(),
            category: None,
            note: None,
            enabled: true,
            created_by: None,
            created_at: None,
            version: None,
        }
    }

    /// The same rule hidden in `regions` only.
    pub fn in_regions(mut self, regions: &[&str]) -> Rule {
        self.regions = regions.iter().map(|r| r.to_string()).collect();
        self
    }

    /// What to look up in a search index to find the stored posts this rule matches (the
    /// retroactive path of a takedown); `Err` when the rule is invalid.
    pub fn target(&self) -> std::result::Result<Target, String> {
        Ok(match check::compile(self)? {
            check::Compiled::Words { words, prefix } => Target::Words { words, prefix },
            check::Compiled::Regex(_) => Target::Regex,
            check::Compiled::ChannelName(name) => Target::ChannelName(name),
            check::Compiled::ChannelId(id) => Target::ChannelId(id),
            check::Compiled::Domain(domain) => Target::Domain(domain),
            check::Compiled::Hashtag(tag) => Target::Hashtag(tag),
            check::Compiled::Media(hash) => Target::Media(hash),
        })
    }

    /// Whether the rule is valid; `Err` says why not, in a moderator's words. Disabled rules
    /// are checked too, so that enabling one later cannot fail.
    pub fn check(&self) -> std::result::Result<(), String> {
        check::compile(self).map(|_| ())
    }
}

/// Parses and builds a rules file (a JSON array of rule objects) in one go, reporting every
/// bad rule of the file at once, whether it fails to parse or to check.
pub fn rule_set_from_json(json: &str) -> Result<RuleSet> {
    let (rules, mut errors) = parse_each(json)?;
    if errors.is_empty() {
        return RuleSet::build(rules);
    }
    for rule in &rules {
        if let Err(problem) = rule.check() {
            let rule = if rule.id.is_empty() {
                "(no id)".into()
            } else {
                rule.id.clone()
            };
            errors.push(RuleError { rule, problem });
        }
    }
    Err(Error::InvalidRules(errors))
}

/// Parses a rules file: a JSON array of rule objects. Every bad element is reported, named by
/// its id or position, with what is wrong (an unknown `kind` lists the valid ones).
pub fn parse_rules(json: &str) -> Result<Vec<Rule>> {
    let (rules, errors) = parse_each(json)?;
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(Error::InvalidRules(errors))
    }
}

fn parse_each(json: &str) -> Result<(Vec<Rule>, Vec<RuleError>)> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| Error::RulesJson(e.to_string()))?;
    let mut rules = Vec::with_capacity(values.len());
    let mut errors = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let name = match value.get("id").and_then(|id| id.as_str()) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => format!("#{}", i + 1),
        };
        match parse_one(value) {
            Ok(rule) => rules.push(rule),
            Err(problem) => errors.push(RuleError {
                rule: name,
                problem,
            }),
        }
    }
    Ok((rules, errors))
}

/// Parses one rule object; `Err` says what is wrong (an unknown `kind` lists the valid ones).
/// The rule is not checked: see [`Rule::check`].
pub fn parse_rule(value: serde_json::Value) -> std::result::Result<Rule, String> {
    parse_one(value)
}

fn parse_one(value: serde_json::Value) -> std::result::Result<Rule, String> {
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    if let Some(kind) = field("kind")
        && !Kind::ALL.iter().any(|k| k.as_str() == kind)
    {
        let valid: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(format!(
            "unknown kind `{kind}` (one of {})",
            valid.join(", ")
        ));
    }
    if let Some(action) = field("action")
        && !RuleAction::ALL.iter().any(|a| a.as_str() == action)
    {
        return Err(format!(
            "unknown action `{action}` (one of hide, review, drop)"
        ));
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}
