//! `filters train` and `filters eval`.
//!
//! Train: the `spam` model on the tg-spam samples, the SMS spam collection and (with
//! `--generated`) a generated corpus's ordinary posts against its scam and spam posts; the
//! `toxic` model, Russian only, on the Russian distorted toxicity corpus with the generated
//! ordinary posts as further negatives; each with the threshold that maximised F1 in 5-fold
//! cross-validation written into its header.
//!
//! Eval: 5-fold cross-validation per data set and of the deployed models per part (precision,
//! recall, F1 at 0.5 and at the best threshold); with `--held-out`, false positives and recall
//! of the deployed models at the default thresholds on a corpus of another seed and on real
//! Telegram news (module `heldout`); then the distortion experiment: models trained on the 2 874
//! undistorted comments score the 126 distorted ones as written and as hand-corrected, once
//! with light and once with full normalization, and report how much of the F1 lost to
//! distortion full normalization wins back.

use crate::datasets::{self, Generated, Labelled};
use crate::heldout;
use anyhow::{Context, Result};
use filters::classify::eval::{
    Metrics, best_threshold, cross_validate, cross_validate_folds, folds, group_folds, metrics,
};
use filters::classify::train::{Example, TrainConfig, train as fit};
use filters::classify::{FeatureSpec, Model};
use filters::normalize::{self, Normalized};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Folder holding the data sets (tg_spam_samples/, sms_spam_collection/, ...).
    #[arg(long, env = "CHANSEARCH_DATA", default_value_os_t = crate::default_data())]
    data: PathBuf,
    /// A generated corpus (`fixtures gen --with-lang --out FILE`), its labels beside it:
    /// ordinary posts are negatives of both models, scam and spam posts positives of `spam`.
    #[arg(long)]
    generated: Option<PathBuf>,
    /// Where to write `spam.model` and `toxic.model`.
    #[arg(long, default_value = "filters/models")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Folder holding the data sets.
    #[arg(long, env = "CHANSEARCH_DATA", default_value_os_t = crate::default_data())]
    data: PathBuf,
    /// The generated training corpus, as for `train`.
    #[arg(long)]
    generated: Option<PathBuf>,
    /// A generated corpus of another seed: false positives per language and recall per
    /// unsafe category of the models trained on everything, at the default thresholds.
    #[arg(long)]
    held_out: Option<PathBuf>,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Override the hash bits of the features (2^bits buckets).
    #[arg(long)]
    bits: Option<u8>,
    /// Override: full-form character n-grams from this length (up to the spec's longest).
    #[arg(long)]
    min_chars: Option<u8>,
    /// Override: light-form character n-grams up to this length (0: none).
    #[arg(long)]
    light_chars: Option<u8>,
    /// Override: longest word n-gram (0: none).
    #[arg(long)]
    words: Option<u8>,
    /// Training epochs.
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    epochs: u32,
    /// AdaGrad learning rate.
    #[arg(long, default_value_t = TrainConfig::default().learning_rate)]
    learning_rate: f32,
}

/// How much a tg-spam sample counts against an SMS in the spam model: Telegram posts are what
/// the service sees, and the tg set is a ninth of the SMS one.
const TG_WEIGHT: f32 = 3.0;

/// How much a generated post counts. 38 000 generated ordinary posts at full weight drown the
/// real data: the spam model's F1 fell from 0.938 to 0.835 on tg-spam and from 0.965 to 0.935
/// on SMS (cross-validated). At 0.1 they weigh about a third of the real negatives.
const GEN_WEIGHT: f32 = 0.1;

/// Languages of the toxicity model: its labelled data is Russian comments only, and a model
/// that has seen no Kazakh or Ukrainian scores their unfamiliar letters at random.
const TOXIC_LANGS: &[&str] = &["ru"];

/// Generated unsafe categories the spam model learns as positives. Drug and weapon sales are
/// left to rules (see `filters/models/README.md`) and kept out of training entirely: as
/// negatives they would teach the model that an ad with a contact handle is fine.
const SPAM_CATEGORIES: &[&str] = &["scam", "spam"];

/// A model's training set: examples, their cross-validation folds, and the part each data set
/// takes, for figures per set.
pub struct TrainingSet {
    pub examples: Vec<Example>,
    pub fold: Vec<usize>,
    pub parts: Vec<(String, Range<usize>)>,
    pub langs: Vec<String>,
}

impl TrainingSet {
    fn new(langs: &[&str]) -> TrainingSet {
        TrainingSet {
            examples: Vec::new(),
            fold: Vec::new(),
            parts: Vec::new(),
            langs: langs.iter().map(|l| l.to_string()).collect(),
        }
    }

    /// Adds a labelled data set whose texts are independent: folds stratified by label.
    fn add(&mut self, name: &str, data: &[Labelled], weight: f32, k: usize) {
        let labels: Vec<bool> = data.iter().map(|l| l.positive).collect();
        let fold = folds(&labels, k, TrainConfig::default().seed);
        self.push(
            name,
            data.iter().map(|l| (l.text.as_str(), l.positive)),
            weight,
            fold,
        );
    }

    /// Adds the generated posts `positive` has an answer for; folds by channel, since a
    /// channel's posts share its vocabulary.
    fn add_generated(
        &mut self,
        name: &str,
        data: &[Generated],
        positive: impl Fn(&Generated) -> Option<bool>,
        k: usize,
    ) {
        let kept: Vec<(&Generated, bool)> = data
            .iter()
            .filter_map(|g| Some((g, positive(g)?)))
            .collect();
        let channels: Vec<u64> = kept.iter().map(|(g, _)| g.channel_id).collect();
        let fold = group_folds(&channels, k, TrainConfig::default().seed);
        let texts = kept.iter().map(|(g, p)| (g.text.as_str(), *p));
        self.push(name, texts, GEN_WEIGHT, fold);
    }

    fn push<'a>(
        &mut self,
        name: &str,
        data: impl Iterator<Item = (&'a str, bool)>,
        weight: f32,
        fold: Vec<usize>,
    ) {
        let start = self.examples.len();
        self.examples.extend(data.map(|(text, positive)| Example {
            weight,
            ..Example::new(text, positive)
        }));
        self.fold.extend(fold);
        self.parts
            .push((name.to_string(), start..self.examples.len()));
    }

    fn sources(&self) -> Vec<String> {
        self.parts.iter().map(|(name, _)| name.clone()).collect()
    }
}

/// The labelled data both commands read.
struct Corpora {
    tg: Vec<Labelled>,
    sms: Vec<Labelled>,
    toxic: Vec<Labelled>,
    /// The generated corpus and its name (`generated:FILE`).
    generated: Option<(String, Vec<Generated>)>,
}

impl Corpora {
    fn read(data: &Path, generated: Option<&Path>) -> Result<Corpora> {
        Ok(Corpora {
            tg: datasets::tg_spam(data)?,
            sms: datasets::sms_spam(data)?,
            toxic: datasets::toxicity(data)?,
            generated: match generated {
                Some(path) => Some((
                    format!(
                        "generated:{}",
                        path.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    datasets::generated(path)?,
                )),
                None => None,
            },
        })
    }

    /// The spam model's data: tg-spam (weighted), SMS, and generated ordinary posts against
    /// generated scam and spam.
    fn spam(&self, k: usize) -> TrainingSet {
        let mut set = TrainingSet::new(&[]);
        set.add("tg_spam_samples", &self.tg, TG_WEIGHT, k);
        set.add("sms_spam_collection", &self.sms, 1.0, k);
        if let Some((name, generated)) = &self.generated {
            set.add_generated(
                name,
                generated,
                |g| match g.category.as_deref() {
                    None => Some(false),
                    Some(c) => SPAM_CATEGORIES.contains(&c).then_some(true),
                },
                k,
            );
        }
        set
    }

    /// The toxicity model's data: the Russian comments, and generated ordinary posts of every
    /// language as negatives (so that a post whose language is unknown, or a Russian post
    /// about anything, is not toxic for its unfamiliar words).
    fn toxic(&self, k: usize) -> TrainingSet {
        let mut set = TrainingSet::new(TOXIC_LANGS);
        set.add("russian_distorted_toxicity", &self.toxic, 1.0, k);
        if let Some((name, generated)) = &self.generated {
            set.add_generated(
                name,
                generated,
                |g| g.category.is_none().then_some(false),
                k,
            );
        }
        set
    }
}

fn examples(data: &[Labelled]) -> Vec<Example> {
    data.iter()
        .map(|l| Example::new(&l.text, l.positive))
        .collect()
}

/// The model trained on the whole set, and the set's out-of-fold scores.
fn fit_deployed(
    category: &str,
    spec: &FeatureSpec,
    set: &TrainingSet,
    config: &TrainConfig,
) -> (Model, Vec<f32>) {
    let scores = cross_validate_folds(spec, &set.examples, &set.fold, config);
    let labels: Vec<bool> = set.examples.iter().map(|e| e.positive).collect();
    let refs: Vec<&Example> = set.examples.iter().collect();
    let mut model = fit(category, spec, &refs, config);
    model.header.trained_on = set.sources();
    model.header.suggested_threshold = best_threshold(&scores, &labels).threshold;
    model.header.langs = set.langs.clone();
    (model, scores)
}

/// Features of the spam model: light-form character 1-3-grams on top of the defaults carry
/// digits, `$`, `!!!` and emoji (tg-spam F1 0.938 with them, 0.928 without, union model).
pub fn spam_spec() -> FeatureSpec {
    FeatureSpec {
        light_chars: (1, 3),
        ..FeatureSpec::default()
    }
}

/// Features of the toxicity model: the defaults. Light-form n-grams would let the model lean
/// on the distorted spelling itself and cost F1 on distorted comments.
pub fn toxic_spec() -> FeatureSpec {
    FeatureSpec::default()
}

pub fn train(args: TrainArgs) -> Result<()> {
    let corpora = Corpora::read(&args.data, args.generated.as_deref())?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let config = TrainConfig::default();
    for (category, spec, set) in [
        ("spam", spam_spec(), corpora.spam(5)),
        ("toxic", toxic_spec(), corpora.toxic(5)),
    ] {
        let started = Instant::now();
        let (model, _) = fit_deployed(category, &spec, &set, &config);
        let path = args.out.join(format!("{category}.model"));
        let bytes = model.to_bytes();
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        println!(
            "{category}: {} examples ({}), CV best-F1 threshold {:.3}, {} KiB -> {} ({:.1} s)",
            set.examples.len(),
            set.sources().join(", "),
            model.header.suggested_threshold,
            bytes.len() / 1024,
            path.display(),
            started.elapsed().as_secs_f32()
        );
    }
    Ok(())
}

fn row(name: &str, data: &[Example], scores: &[f32]) -> String {
    let labels: Vec<bool> = data.iter().map(|e| e.positive).collect();
    let at_half = metrics(scores, &labels, 0.5);
    let best = best_threshold(scores, &labels);
    format!(
        "| {name} | {} | {} | {:.3} | {:.3} | **{:.3}** | {:.3} @ {:.2} |",
        data.len(),
        labels.iter().filter(|&&l| l).count(),
        at_half.precision,
        at_half.recall,
        at_half.f1,
        best.f1,
        best.threshold
    )
}

/// `base` with the command line's overrides.
fn overridden(base: FeatureSpec, args: &EvalArgs) -> FeatureSpec {
    FeatureSpec {
        bits: args.bits.unwrap_or(base.bits),
        full_chars: (
            args.min_chars.unwrap_or(base.full_chars.0),
            base.full_chars.1,
        ),
        light_chars: args
            .light_chars
            .map_or(base.light_chars, |n| (u8::from(n > 0), n)),
        words: args.words.unwrap_or(base.words),
    }
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let spam_spec = overridden(spam_spec(), &args);
    let toxic_spec = overridden(toxic_spec(), &args);
    let config = TrainConfig {
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        ..TrainConfig::default()
    };
    println!(
        "spam features: {spam_spec:?}\ntoxic features: {toxic_spec:?}\ntraining: {config:?}\n"
    );
    let corpora = Corpora::read(&args.data, args.generated.as_deref())?;
    let tg = examples(&corpora.tg);
    let sms = examples(&corpora.sms);
    let toxic = examples(&corpora.toxic);

    println!(
        "{}-fold cross-validation (positive class: spam or toxic; generated posts folded by \
         channel, the others stratified by label)\n",
        args.folds
    );
    println!(
        "| data set | texts | positive | precision @0.5 | recall @0.5 | F1 @0.5 | best F1 @ threshold |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, spec, data) in [
        ("sms_spam_collection", &spam_spec, &sms),
        ("tg_spam_samples", &spam_spec, &tg),
        ("russian_distorted_toxicity", &toxic_spec, &toxic),
    ] {
        let started = Instant::now();
        let scores = cross_validate(spec, data, args.folds, &config);
        println!("{}", row(name, data, &scores));
        eprintln!("{name}: {:.1} s", started.elapsed().as_secs_f32());
    }
    // The deployed models see several sets: cross-validate on their union, report per set.
    let mut deployed = Vec::new();
    for (category, spec, set) in [
        ("spam", &spam_spec, corpora.spam(args.folds)),
        ("toxic", &toxic_spec, corpora.toxic(args.folds)),
    ] {
        let started = Instant::now();
        let (model, scores) = fit_deployed(category, spec, &set, &config);
        eprintln!(
            "deployed {category}: {:.1} s",
            started.elapsed().as_secs_f32()
        );
        println!(
            "| *the deployed {category} model: trained on {}, scored per set* |||||||",
            set.sources().join(" + ")
        );
        for (name, range) in &set.parts {
            println!(
                "{}",
                row(
                    &format!("{category} model, on {name}"),
                    &set.examples[range.clone()],
                    &scores[range.clone()]
                )
            );
        }
        deployed.push((category, set, scores, model));
    }

    println!("\nOperating points of the deployed models (cross-validated, all sets together)\n");
    println!("| model | threshold | precision | recall | F1 |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (category, set, scores, _) in &deployed {
        let labels: Vec<bool> = set.examples.iter().map(|e| e.positive).collect();
        for t in heldout::THRESHOLDS {
            let m = metrics(scores, &labels, t);
            println!(
                "| {category} | {t:.2} | {:.3} | {:.3} | {:.3} |",
                m.precision, m.recall, m.f1
            );
        }
    }

    if let Some(path) = &args.held_out {
        let held_out = datasets::generated(path)?;
        let news = datasets::telegram_news(&args.data)?;
        let models: Vec<Model> = deployed.into_iter().map(|(.., model)| model).collect();
        heldout::report(models, &held_out, &news)?;
    }

    distortion(&corpora.toxic, &toxic_spec, &config, args.folds);
    Ok(())
}

/// Scores of `texts` under `model`, after normalizing them with `normalize`.
fn score_all(model: &Model, texts: &[Normalized]) -> Vec<f32> {
    let mut features = Vec::new();
    texts
        .iter()
        .map(|t| {
            features.clear();
            model.header.spec.features(t, &mut features);
            model.score(&features)
        })
        .collect()
}

/// A light-only pipeline: the full form is replaced by the light form cut into words the
/// plainest way (lowercase letters and digits), with no diacritic, leetspeak, confusable or
/// spaced-letter handling: what a system without our normalization would see.
fn light_only(text: &str) -> Normalized {
    let light = normalize::light(text);
    let full = light
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Normalized { light, full }
}

/// Seeds the distortion experiment is repeated with: 126 texts are few, and one seed's
/// shuffle moves F1 by several points; the mean over seeds is the figure.
const SEEDS: u64 = 10;

fn distortion(data: &[Labelled], spec: &FeatureSpec, config: &TrainConfig, folds: usize) {
    let distorted: Vec<&Labelled> = data.iter().filter(|l| l.corrected.is_some()).collect();
    let labels: Vec<bool> = distorted.iter().map(|l| l.positive).collect();
    let clean: Vec<&Labelled> = data.iter().filter(|l| l.corrected.is_none()).collect();
    println!(
        "\nDistortion: models trained on the {} undistorted comments, threshold = their best-F1 \
         {folds}-fold CV threshold, scoring the {} distorted comments ({} toxic); mean (min-max) \
         over {SEEDS} training seeds\n",
        clean.len(),
        distorted.len(),
        labels.iter().filter(|&&l| l).count()
    );
    println!("| normalization | text | precision | recall | F1 |");
    println!("| --- | --- | ---: | ---: | ---: |");
    let mut f1 = std::collections::HashMap::new();
    for (pipeline, norm) in [
        ("light only", light_only as fn(&str) -> Normalized),
        ("full", Normalized::new),
    ] {
        let training: Vec<Example> = clean
            .iter()
            .map(|l| Example {
                text: norm(&l.text),
                positive: l.positive,
                weight: 1.0,
            })
            .collect();
        let train_labels: Vec<bool> = training.iter().map(|e| e.positive).collect();
        let refs: Vec<&Example> = training.iter().collect();
        let written: Vec<Normalized> = distorted.iter().map(|l| norm(&l.text)).collect();
        let corrected: Vec<Normalized> = distorted
            .iter()
            .map(|l| norm(l.corrected.as_deref().unwrap_or("")))
            .collect();
        let mut runs: Vec<[Metrics; 2]> = Vec::new();
        for seed in 1..=SEEDS {
            let config = TrainConfig {
                seed,
                ..config.clone()
            };
            let cv = cross_validate(spec, &training, folds, &config);
            let threshold = best_threshold(&cv, &train_labels).threshold;
            let model = fit("toxic", spec, &refs, &config);
            runs.push(
                [&written, &corrected]
                    .map(|texts| metrics(&score_all(&model, texts), &labels, threshold)),
            );
        }
        for (k, which) in ["as written", "hand-corrected"].into_iter().enumerate() {
            let mean = |f: fn(&Metrics) -> f32| {
                runs.iter().map(|r| f(&r[k])).sum::<f32>() / runs.len() as f32
            };
            let (lo, hi) = runs
                .iter()
                .map(|r| r[k].f1)
                .fold((1f32, 0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let f = mean(|m| m.f1);
            println!(
                "| {pipeline} | {which} | {:.3} | {:.3} | {f:.3} ({lo:.3}-{hi:.3}) |",
                mean(|m| m.precision),
                mean(|m| m.recall)
            );
            f1.insert((pipeline, which), f);
        }
    }
    let raw = f1[&("light only", "as written")];
    let normalized = f1[&("full", "as written")];
    for ceiling in ["light only", "full"] {
        let corrected = f1[&(ceiling, "hand-corrected")];
        let gap = corrected - raw;
        let recovered = if gap.abs() < 1e-6 {
            f32::NAN
        } else {
            (normalized - raw) / gap
        };
        println!(
            "\ngap = F1({ceiling}, hand-corrected) - F1(light only, as written) = {gap:.3}; \
             full normalization recovers {:.0}% of it",
            recovered * 100.0
        );
    }
}
