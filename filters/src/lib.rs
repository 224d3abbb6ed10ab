//! Safety policy for channel posts: what happens to a post, and why.
//!
//! For every post the indexer prepares, a [`Policy`] decides a [`Verdict`]: index it, hide it
//! (for everyone or for users in some countries), hold it for review, or drop it, with the
//! reasons (`rule:<id>`, or a classifier category and its score). The parts:
//!
//! * [`normalize`]: the text as rules and classifiers see it, with evasion undone (NFKC, case
//!   folding, invisible characters, diacritics, lookalike letters, leetspeak, spaced letters).
//! * [`rules`]: moderators' blocklist rules (contract section 5) compiled into a [`RuleSet`]
//!   whose cost per post does not grow with the number of rules.
//! * [`classify`]: linear models over hashed n-grams (`spam`, `toxic`), trained by our own
//!   small trainer, with per-category thresholds and actions as configuration.
//! * [`Engine`]: rules and classifiers behind one [`Policy`]; [`SwappablePolicy`] replaces it
//!   atomically when rules or thresholds change.
//!
//! What this crate is not: it does no I/O, no async, holds no global state and never panics on
//! input. It does not store rules (the server does), apply verdicts to search results (search
//! does, per user country), or extract entities from posts (the indexer fills [`Subject`]).
//! The one exception to "no I/O" is the `filters` binary (`src/bin/filters/`), whose `train`
//! and `eval` commands read the labelled data sets.
//!
//! ```
//! use filters::rules::{Kind, Rule, RuleAction, RuleSet};
//! use filters::{Action, Engine, Policy, Subject, classify::Classifiers};
//! use std::sync::Arc;
//!
//! let rules = RuleSet::build(vec![
//!     Rule::new("1", Kind::Term, "закладки", RuleAction::Hide).in_regions(&["KZ"]),
//!     Rule::new("2", Kind::Domain, "shop.example", RuleAction::Drop),
//! ])?;
//! let engine = Engine::new(Arc::new(rules), Classifiers::embedded()?);
//!
//! let post = Subject { channel_id: 1, channel: "kz_tech", text: "З А К Л А Д К И тут", ..Subject::default() };
//! let verdict = engine.verdict(&post);
//! assert_eq!(verdict.action, Action::Hide { regions: vec!["KZ".into()] });
//! assert_eq!(verdict.reasons[0].source, "rule:1");
//!
//! let domains = ["cdn.shop.example".to_string()];
//! let post = Subject { text: "see link", domains: &domains, ..Subject::default() };
//! assert_eq!(engine.verdict(&post).action, Action::Drop);
//! # Ok::<(), filters::Error>(())
//! ```

pub mod classify;
mod engine;
pub mod error;
pub mod normalize;
pub mod rules;
mod verdict;

pub use engine::{Engine, SwappablePolicy};
pub use error::{Error, Result, RuleError};
pub use rules::RuleSet;
pub use verdict::{Action, NoRules, Policy, Reason, Subject, Verdict};
