//! [`Engine`]: the whole policy (rules and classifiers) behind one [`Policy`], and
//! [`SwappablePolicy`] to change it while posts are being decided.
//!
//! The engine normalizes a post once and hands both forms to the rule set and to the
//! classifiers; their verdicts merge (the more severe action wins, every reason is kept).
//!
//! Swapping: a rule or threshold change builds a new `Engine` off to the side (the slow part)
//! and stores it into a [`SwappablePolicy`] with one atomic pointer swap (arc-swap). Threads
//! deciding posts at that moment finish with the engine they loaded; the next post sees the
//! new one. Nobody waits on a lock, and a failed build leaves the old engine in place.

use crate::classify::Classifiers;
use crate::normalize::Normalized;
use crate::rules::RuleSet;
use crate::verdict::{Policy, Subject, Verdict};
use arc_swap::ArcSwap;
use std::sync::Arc;

/// Rules and classifiers together.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    rules: Arc<RuleSet>,
    classifiers: Classifiers,
}

impl Engine {
    /// An engine from a rule set and classifiers.
    pub fn new(rules: Arc<RuleSet>, classifiers: Classifiers) -> Engine {
        Engine { rules, classifiers }
    }

    /// The rule set.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// The classifiers.
    pub fn classifiers(&self) -> &Classifiers {
        &self.classifiers
    }

    /// The same classifiers with other rules.
    pub fn with_rules(&self, rules: Arc<RuleSet>) -> Engine {
        Engine {
            rules,
            classifiers: self.classifiers.clone(),
        }
    }

    /// The same rules with other classifiers.
    pub fn with_classifiers(&self, classifiers: Classifiers) -> Engine {
        Engine {
            rules: Arc::clone(&self.rules),
            classifiers,
        }
    }

    /// The verdict on a post whose text is already normalized.
    pub fn verdict_normalized(&self, post: &Subject<'_>, text: &Normalized) -> Verdict {
        self.rules
            .verdict_normalized(post, text)
            .merge(self.classifiers.verdict(text, post.lang))
    }
}

impl Policy for Engine {
    fn verdict(&self, post: &Subject<'_>) -> Verdict {
        let text = if self.rules.reads_text() || self.classifiers.reads(post.lang) {
            Normalized::new(post.text)
        } else {
            Normalized::default()
        };
        Engine::verdict_normalized(self, post, &text)
    }

    fn verdict_normalized(&self, post: &Subject<'_>, text: &Normalized) -> Verdict {
        Engine::verdict_normalized(self, post, text)
    }
}

/// An [`Engine`] that can be replaced atomically while other threads use it.
///
/// ```
/// use filters::{Engine, Policy, Subject, SwappablePolicy, Action};
/// use filters::rules::{Kind, Rule, RuleAction, RuleSet};
/// use std::sync::Arc;
/// let policy = SwappablePolicy::new(Engine::default());
/// let post = Subject { text: "fresh m.e.p.h here", ..Subject::default() };
/// assert_eq!(policy.verdict(&post).action, Action::Index);
/// let rules = RuleSet::build(vec![Rule::new("7", Kind::Term, "meph", RuleAction::Drop)]).unwrap();
/// policy.store(policy.load().with_rules(Arc::new(rules)));
/// assert_eq!(policy.verdict(&post).action, Action::Drop);
/// ```
#[derive(Debug)]
pub struct SwappablePolicy {
    current: ArcSwap<Engine>,
}

impl SwappablePolicy {
    /// Starts with `engine`.
    pub fn new(engine: Engine) -> SwappablePolicy {
        SwappablePolicy {
            current: ArcSwap::from_pointee(engine),
        }
    }

    /// The engine in use now.
    pub fn load(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Replaces the engine; posts decided from now on use `engine`.
    pub fn store(&self, engine: Engine) {
        self.current.store(Arc::new(engine));
    }
}

impl Policy for SwappablePolicy {
    fn verdict(&self, post: &Subject<'_>) -> Verdict {
        self.current.load().verdict(post)
    }

    fn verdict_normalized(&self, post: &Subject<'_>, text: &Normalized) -> Verdict {
        Engine::verdict_normalized(&self.current.load(), post, text)
    }
}
