//! Cross-validation and the figures `filters eval` prints.
//!
//! Stratified k-fold: each class is shuffled (seeded) and dealt round-robin into the folds, so
//! every fold has the data set's class balance. Pure: examples in, scores and metrics out.

use super::features::FeatureSpec;
use super::train::{Example, SplitMix, TrainConfig, train};

/// Precision, recall and F1 of the positive class at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Score at or above which a text counts as positive.
    pub threshold: f32,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
    /// tp / (tp + fp).
    pub precision: f32,
    /// tp / (tp + fn).
    pub recall: f32,
    /// Harmonic mean of precision and recall.
    pub f1: f32,
}

/// Metrics of `scores` against `labels` at `threshold`.
pub fn metrics(scores: &[f32], labels: &[bool], threshold: f32) -> Metrics {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (&s, &l) in scores.iter().zip(labels) {
        match (s >= threshold, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let ratio = |a: usize, b: usize| {
        if a + b == 0 {
            0.0
        } else {
            a as f32 / (a + b) as f32
        }
    };
    let precision = ratio(tp, fp);
    let recall = ratio(tp, fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Metrics {
        threshold,
        tp,
        fp,
        fn_,
        precision,
        recall,
        f1,
    }
}

/// The threshold (among the scores themselves) with the best F1.
pub fn best_threshold(scores: &[f32], labels: &[bool]) -> Metrics {
    let mut candidates: Vec<f32> = scores.to_vec();
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    candidates
        .into_iter()
        .map(|t| metrics(scores, labels, t))
        .fold(metrics(scores, labels, 0.5), |best, m| {
            if m.f1 > best.f1 { m } else { best }
        })
}

/// Fold (0..k) of each example, stratified by label.
pub fn folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut fold = vec![0; labels.len()];
    let mut rng = SplitMix(seed);
    for class in [true, false] {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut members);
        for (n, i) in members.into_iter().enumerate() {
            fold[i] = n % k;
        }
    }
    fold
}

/// Fold (0..k) of each example when examples come in groups that must not straddle folds
/// (a generated channel's posts share its vocabulary and templates, so a channel split across
/// folds would leak): every group goes whole to one fold, groups dealt round-robin in a
/// seeded order.
pub fn group_folds(groups: &[u64], k: usize, seed: u64) -> Vec<usize> {
    let mut distinct: Vec<u64> = groups.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    SplitMix(seed).shuffle(&mut distinct);
    let fold_of: std::collections::HashMap<u64, usize> = distinct
        .into_iter()
        .enumerate()
        .map(|(n, g)| (g, n % k))
        .collect();
    groups.iter().map(|g| fold_of[g]).collect()
}

/// Out-of-fold score of every example: each fold scored by a model trained on the others.
/// Folds are stratified by label ([`folds`]).
pub fn cross_validate(
    spec: &FeatureSpec,
    examples: &[Example],
    k: usize,
    config: &TrainConfig,
) -> Vec<f32> {
    let labels: Vec<bool> = examples.iter().map(|e| e.positive).collect();
    cross_validate_folds(spec, examples, &folds(&labels, k, config.seed), config)
}

/// Out-of-fold score of every example, with the folds given (`fold[i]` in `0..k`).
pub fn cross_validate_folds(
    spec: &FeatureSpec,
    examples: &[Example],
    fold: &[usize],
    config: &TrainConfig,
) -> Vec<f32> {
    let k = fold.iter().max().map_or(0, |&f| f + 1);
    let mut scores = vec![0f32; examples.len()];
    let mut features = Vec::new();
    for f in 0..k {
        let training: Vec<&Example> = examples
            .iter()
            .zip(fold)
            .filter(|&(_, &g)| g != f)
            .map(|(e, _)| e)
            .collect();
        let model = train("cv", spec, &training, config);
        for (i, e) in examples.iter().enumerate().filter(|&(i, _)| fold[i] == f) {
            features.clear();
            spec.features(&e.text, &mut features);
            scores[i] = model.score(&features);
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let m = metrics(&[0.9, 0.8, 0.2, 0.7], &[true, false, true, false], 0.5);
        assert_eq!((m.tp, m.fp, m.fn_), (1, 2, 1));
        assert!((m.precision - 1.0 / 3.0).abs() < 1e-6);
        assert!((m.recall - 0.5).abs() < 1e-6);
        assert!((m.f1 - 0.4).abs() < 1e-6);
    }

    #[test]
    fn groups_stay_in_one_fold() {
        let groups: Vec<u64> = (0..200).map(|i| i % 17).collect();
        let fold = group_folds(&groups, 5, 3);
        for (i, g) in groups.iter().enumerate() {
            let first = groups.iter().position(|h| h == g).unwrap();
            assert_eq!(fold[i], fold[first]);
        }
        for f in 0..5 {
            assert!(fold.contains(&f), "fold {f} is empty");
        }
        assert_eq!(fold, group_folds(&groups, 5, 3));
    }

    #[test]
    fn folds_are_stratified() {
        let labels: Vec<bool> = (0..100).map(|i| i % 5 == 0).collect();
        let fold = folds(&labels, 5, 1);
        for f in 0..5 {
            let members: Vec<_> = (0..100).filter(|&i| fold[i] == f).collect();
            assert_eq!(members.len(), 20);
            assert_eq!(members.iter().filter(|&&i| labels[i]).count(), 4);
        }
    }
}
