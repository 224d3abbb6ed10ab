//! The crate's one error type.
//!
//! Only building things can fail: a rule set from rules, a classifier from a model file, a
//! configuration from JSON. Deciding a verdict never fails (it is a value, see
//! [`crate::Verdict`]). Most variants are the user's fault (a moderator's rule, a bad file) and
//! carry a message fit to show them; [`Error::Internal`] is ours.

use std::fmt;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a rule set, model or configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more rules are invalid; every bad rule is listed, each naming its rule.
    #[error("{}", RuleErrors(.0))]
    InvalidRules(Vec<RuleError>),
    /// A rules file is not a JSON array of rule objects.
    #[error("rules are not a JSON array of rule objects: {0}")]
    RulesJson(String),
    /// A model file is truncated, of an unknown version or otherwise unreadable.
    #[error("bad model file: {0}")]
    BadModel(String),
    /// A classifier configuration is invalid (unknown category, threshold out of 0..=1...).
    #[error("bad classifier configuration: {0}")]
    BadConfig(String),
    /// A bug on our side: an invariant the code relies on did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One invalid rule: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule}: {problem}")]
pub struct RuleError {
    /// The rule's id, or `#N` (1-based position in its file) when it has none.
    pub rule: String,
    /// What is wrong with it, in words a moderator understands.
    pub problem: String,
}

/// Formats a list of rule errors one per line.
struct RuleErrors<'a>(&'a [RuleError]);

impl fmt::Display for RuleErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
