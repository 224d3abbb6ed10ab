//! The default models, committed under `filters/models/` and compiled into the binary, so the
//! service works on a machine without the data sets and downloads nothing. Rebuild them with
//! the command in `filters/models/README.md`.

use super::ClassifierConfig;
use crate::rules::RuleAction;

/// The default model files (`spam`, `toxic`), in the format of [`super::Model::from_bytes`].
pub const DEFAULT_MODELS: &[&[u8]] = &[
    include_bytes!("../../models/spam.model"),
    include_bytes!("../../models/toxic.model"),
];

/// Default configuration: each category holds posts for review above a threshold chosen for
/// a very low false-positive rate on ordinary posts, since at our volume 1% of posts is more
/// than moderators can look at. Measured by `filters eval` (benches/RESULTS.md,
/// "Classifiers"): spam at 0.9 flags 0.09% of real Telegram news posts and none of 38 000
/// held-out generated ordinary posts, at cross-validated precision 0.997 and recall 0.873;
/// toxic (Russian only) at 0.8 flags 0.03% of the news posts, at precision 0.72 and recall
/// 0.26 (the toxicity model is weak: 3 000 comments). Together: 0.12% of news posts.
pub fn default_configs() -> Vec<ClassifierConfig> {
    vec![review("spam", 0.9), review("toxic", 0.8)]
}

fn review(category: &str, threshold: f32) -> ClassifierConfig {
    ClassifierConfig {
        category: category.into(),
        threshold,
        action: RuleAction::Review,
        regions: Vec::new(),
        enabled: true,
    }
}
