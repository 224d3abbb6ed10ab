//! Classifiers: a linear model per category over hashed character and word n-grams.
//!
//! Blocklists catch what moderators have seen; classifiers catch the rest of a kind (spam,
//! scams, abuse) by its look. Both see the same normalized text, so leetspeak and lookalike
//! letters that fool a word list fool the model no more. A model scores a post in a few
//! microseconds: features are hashed (no vocabulary), the weights are one array.
//!
//! What a score *does* is configuration, not code: a [`ClassifierConfig`] per category gives
//! the threshold and the action (`review` by default, so a false positive costs a moderator's
//! click, not a user's post). The server edits it at `PUT /v1/classifiers`.
//!
//! The default models are trained by `filters train` on the data sets named in their header,
//! committed under `filters/models/` and embedded in the binary ([`Classifiers::embedded`]),
//! so the service needs no files and downloads nothing.

mod embedded;
pub mod eval;
pub mod features;
pub mod model;
pub mod train;

pub use embedded::{DEFAULT_MODELS, default_configs};
pub use features::FeatureSpec;
pub use model::{Model, ModelHeader};

use crate::error::{Error, Result};
use crate::normalize::Normalized;
use crate::rules::{RuleAction, is_region};
use crate::verdict::{Reason, Verdict};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

fn enabled_by_default() -> bool {
    true
}

/// What happens to a post a category's model scores at or above `threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// The model's category (`spam`, `toxic`).
    pub category: String,
    /// Score (probability, 0..=1) from which the action applies.
    pub threshold: f32,
    /// The action taken.
    pub action: RuleAction,
    /// For `hide`: the regions (ISO 3166-1 alpha-2); empty means everywhere.
    #[serde(default)]
    pub regions: Vec<String>,
    /// A disabled category is not scored at all.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

/// The models and their configuration; cheap to clone (models are shared).
#[derive(Debug, Clone, Default)]
pub struct Classifiers {
    models: Vec<Arc<Model>>,
    configs: Vec<ClassifierConfig>,
}

impl Classifiers {
    /// No classifiers: nothing is scored.
    pub fn none() -> Classifiers {
        Classifiers::default()
    }

    /// The committed default models with [`default_configs`].
    ///
    /// The models are parsed once per process: every rule change rebuilds the filters
    /// engine, and parsing them each time was 8% of a rule reload with 10 000 rules.
    pub fn embedded() -> Result<Classifiers> {
        static MODELS: std::sync::OnceLock<std::result::Result<Vec<Arc<Model>>, String>> =
            std::sync::OnceLock::new();
        let models = MODELS.get_or_init(|| {
            DEFAULT_MODELS
                .iter()
                .map(|bytes| Model::from_bytes(bytes).map(Arc::new))
                .collect::<Result<Vec<_>>>()
                .map_err(|e| e.to_string())
        });
        match models {
            Ok(models) => Classifiers::of_shared(models.clone(), &default_configs()),
            Err(e) => Err(Error::BadModel(e.clone())),
        }
    }

    /// `models` configured by `configs`. Every config must name a model; a model without a
    /// config is loaded but not used.
    pub fn new(models: Vec<Model>, configs: &[ClassifierConfig]) -> Result<Classifiers> {
        Classifiers::of_shared(models.into_iter().map(Arc::new).collect(), configs)
    }

    /// [`Classifiers::new`] for models already shared.
    fn of_shared(models: Vec<Arc<Model>>, configs: &[ClassifierConfig]) -> Result<Classifiers> {
        Classifiers {
            models,
            configs: Vec::new(),
        }
        .reconfigure(configs)
    }

    /// The same models with another configuration (what `PUT /v1/classifiers` does).
    pub fn reconfigure(&self, configs: &[ClassifierConfig]) -> Result<Classifiers> {
        for (i, c) in configs.iter().enumerate() {
            let bad = |why: String| Err(Error::BadConfig(format!("{}: {why}", c.category)));
            if !self.models.iter().any(|m| m.header.category == c.category) {
                let known: Vec<_> = self.categories().collect();
                return bad(format!(
                    "no model for this category (models: {})",
                    known.join(", ")
                ));
            }
            if configs[..i].iter().any(|o| o.category == c.category) {
                return bad("configured twice".into());
            }
            if !(c.threshold > 0.0 && c.threshold <= 1.0) {
                return bad(format!("threshold {} is not in (0, 1]", c.threshold));
            }
            if !c.regions.is_empty() && c.action != RuleAction::Hide {
                return bad("regions apply to `hide` only".into());
            }
            if let Some(r) = c.regions.iter().find(|r| !is_region(r)) {
                return bad(format!("region `{r}` is not an ISO 3166-1 alpha-2 code"));
            }
        }
        Ok(Classifiers {
            models: self.models.clone(),
            configs: configs.to_vec(),
        })
    }

    /// The current configuration.
    pub fn configs(&self) -> &[ClassifierConfig] {
        &self.configs
    }

    /// Categories that have a model.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.header.category.as_str())
    }

    /// The loaded models.
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.models.iter().map(|m| &**m)
    }

    /// Whether any category is enabled.
    pub fn is_active(&self) -> bool {
        self.configs.iter().any(|c| c.enabled)
    }

    /// Score of every enabled category whose model reads `lang` (see [`Model::reads`]), in
    /// configuration order. A post in a language no model knows is not even featurized.
    pub fn scores(&self, text: &Normalized, lang: Option<&str>) -> Vec<(&ClassifierConfig, f32)> {
        let mut out = Vec::new();
        let mut features = Vec::new();
        let mut features_of: Option<&FeatureSpec> = None;
        for config in self.configs.iter().filter(|c| c.enabled) {
            let Some(model) = self
                .models
                .iter()
                .find(|m| m.header.category == config.category)
            else {
                continue;
            };
            if !model.reads(lang) {
                continue;
            }
            let spec = &model.header.spec;
            if features_of != Some(spec) {
                features.clear();
                spec.features(text, &mut features);
                features_of = Some(spec);
            }
            out.push((config, model.score(&features)));
        }
        out
    }

    /// Whether any enabled category would score a post in `lang`: when none would, the
    /// engine need not normalize the text for the classifiers.
    pub fn reads(&self, lang: Option<&str>) -> bool {
        self.configs.iter().filter(|c| c.enabled).any(|c| {
            self.models
                .iter()
                .any(|m| m.header.category == c.category && m.reads(lang))
        })
    }

    /// The verdict of the classifiers on a post in `lang`: each category at or above its
    /// threshold contributes its action, with the category and score as the reason.
    pub fn verdict(&self, text: &Normalized, lang: Option<&str>) -> Verdict {
        self.scores(text, lang)
            .into_iter()
            .filter(|(c, score)| *score >= c.threshold)
            .fold(Verdict::index(), |verdict, (c, score)| {
                verdict.merge(Verdict {
                    action: c.action.to_action(&c.regions),
                    reasons: vec![Reason {
                        source: c.category.clone(),
                        score: Some(score),
                    }],
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model that scores every text at sigmoid(2), restricted to `langs`.
    fn model(category: &str, langs: &[&str]) -> Model {
        let spec = FeatureSpec {
            bits: 8,
            ..FeatureSpec::default()
        };
        Model {
            header: ModelHeader {
                category: category.into(),
                spec: spec.clone(),
                trained_on: Vec::new(),
                examples: 0,
                suggested_threshold: 0.5,
                langs: langs.iter().map(|l| l.to_string()).collect(),
            },
            bias: 2.0,
            weights: vec![0.0; spec.dim()],
        }
    }

    fn config(category: &str) -> ClassifierConfig {
        ClassifierConfig {
            category: category.into(),
            threshold: 0.5,
            action: RuleAction::Review,
            regions: Vec::new(),
            enabled: true,
        }
    }

    #[test]
    fn models_score_only_their_languages() {
        let classifiers = Classifiers::new(
            vec![model("spam", &[]), model("toxic", &["ru"])],
            &[config("spam"), config("toxic")],
        )
        .unwrap();
        let text = Normalized::new("any text");
        let categories = |lang| -> Vec<String> {
            classifiers
                .scores(&text, lang)
                .into_iter()
                .map(|(c, _)| c.category.clone())
                .collect()
        };
        assert_eq!(categories(Some("ru")), ["spam", "toxic"]);
        assert_eq!(categories(Some("kk")), ["spam"]);
        assert_eq!(
            categories(None),
            ["spam", "toxic"],
            "unknown language: scored"
        );
        assert_eq!(categories(Some("und")), ["spam", "toxic"]);
        assert_eq!(classifiers.verdict(&text, Some("kk")).reasons.len(), 1);
    }

    #[test]
    fn a_language_no_model_reads_is_not_featurized() {
        let classifiers =
            Classifiers::new(vec![model("toxic", &["ru"])], &[config("toxic")]).unwrap();
        assert!(classifiers.reads(Some("ru")));
        assert!(classifiers.reads(None));
        assert!(!classifiers.reads(Some("kk")));
        assert_eq!(
            classifiers.verdict(&Normalized::new("x"), Some("kk")),
            Verdict::index()
        );
    }

    #[test]
    fn the_engine_passes_the_post_language_on() {
        use crate::{Action, Engine, Policy, Subject};
        let classifiers =
            Classifiers::new(vec![model("toxic", &["ru"])], &[config("toxic")]).unwrap();
        let engine = Engine::new(Arc::new(crate::RuleSet::empty()), classifiers);
        let post = |lang| Subject {
            text: "текст",
            lang,
            ..Subject::default()
        };
        assert_eq!(engine.verdict(&post(Some("ru"))).action, Action::Review);
        assert_eq!(engine.verdict(&post(Some("kk"))).action, Action::Index);
        assert_eq!(engine.verdict(&post(None)).action, Action::Review);
    }
}
