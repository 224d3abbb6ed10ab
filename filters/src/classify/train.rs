//! Training: logistic regression by stochastic gradient descent with AdaGrad.
//!
//! Why our own trainer: the Rust crates for linear models (linfa-logistic, smartcore) want a
//! dense `ndarray` matrix, and ours has a million hashed columns with a few hundred non-zeros
//! per row; the crates for sparse online learning are unmaintained. Logistic regression on
//! sparse rows with AdaGrad is thirty lines, deterministic (seeded shuffle) and fast: a few
//! seconds for the SMS collection.
//!
//! Pure: examples come in as normalized text, the model goes out as a value.

use super::features::FeatureSpec;
use super::model::{Model, ModelHeader, sigmoid};
use crate::normalize::Normalized;

/// One labelled text.
#[derive(Debug, Clone)]
pub struct Example {
    /// The text, normalized.
    pub text: Normalized,
    /// Whether it is in the category.
    pub positive: bool,
    /// How much it counts in training (1 normally; more for a small data set that matters).
    pub weight: f32,
}

impl Example {
    /// Normalizes `text` into an example.
    pub fn new(text: &str, positive: bool) -> Example {
        Example {
            text: Normalized::new(text),
            positive,
            weight: 1.0,
        }
    }
}

/// Training settings. The defaults were chosen by `filters eval` on the three data sets.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: u32,
    /// AdaGrad's base learning rate.
    pub learning_rate: f32,
    /// L2 penalty, applied to the weights an example touches.
    pub l2: f32,
    /// Weigh classes inversely to their total example weight, so the rare class counts as much.
    pub balance: bool,
    /// Seed of the shuffle.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 12,
            learning_rate: 0.2,
            l2: 1e-6,
            balance: true,
            seed: 42,
        }
    }
}

/// SplitMix64: a tiny deterministic generator for the shuffle.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Trains a model for `category` on `examples`. The result is quantized as its file will be.
pub fn train(
    category: &str,
    spec: &FeatureSpec,
    examples: &[&Example],
    config: &TrainConfig,
) -> Model {
    let rows: Vec<Vec<u32>> = examples
        .iter()
        .map(|e| {
            let mut f = Vec::new();
            spec.features(&e.text, &mut f);
            f
        })
        .collect();
    // Class weights from the examples' weights, not their number: a large data set given a
    // small weight must not tip the balance by its size.
    let weight_of = |positive: bool| {
        examples
            .iter()
            .filter(|e| e.positive == positive)
            .map(|e| e.weight)
            .sum::<f32>()
            .max(1.0)
    };
    let (positives, negatives) = (weight_of(true), weight_of(false));
    let total = positives + negatives;
    let (w_pos, w_neg) = if config.balance {
        (total / (2.0 * positives), total / (2.0 * negatives))
    } else {
        (1.0, 1.0)
    };

    let mut weights = vec![0f32; spec.dim()];
    let mut squares = vec![0f32; spec.dim()];
    let (mut bias, mut bias_square) = (0f32, 0f32);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = SplitMix(config.seed);
    const EPS: f32 = 1e-6;
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let row = &rows[i];
            let value = if row.is_empty() {
                0.0
            } else {
                1.0 / (row.len() as f32).sqrt()
            };
            let margin = bias + row.iter().map(|&f| weights[f as usize]).sum::<f32>() * value;
            let (y, weight) = if examples[i].positive {
                (1.0, w_pos)
            } else {
                (0.0, w_neg)
            };
            let g = (sigmoid(margin) - y) * weight * examples[i].weight;
            for &f in row {
                let f = f as usize;
                let grad = g * value + config.l2 * weights[f];
                squares[f] += grad * grad;
                weights[f] -= config.learning_rate * grad / (squares[f].sqrt() + EPS);
            }
            bias_square += g * g;
            bias -= config.learning_rate * g / (bias_square.sqrt() + EPS);
        }
    }
    let mut model = Model {
        header: ModelHeader {
            category: category.to_string(),
            spec: spec.clone(),
            trained_on: Vec::new(),
            examples: examples.len(),
            suggested_threshold: 0.5,
            langs: Vec::new(),
        },
        bias,
        weights,
    };
    model.quantize();
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_toy_problem() {
        let data: Vec<Example> = [
            ("win a free prize now", true),
            ("free money click here", true),
            ("cheap pills free shipping", true),
            ("see you at lunch", false),
            ("the meeting moved to friday", false),
            ("thanks for the notes", false),
        ]
        .iter()
        .map(|&(t, p)| Example::new(t, p))
        .collect();
        let refs: Vec<&Example> = data.iter().collect();
        let spec = FeatureSpec {
            bits: 16,
            ..FeatureSpec::default()
        };
        let model = train("spam", &spec, &refs, &TrainConfig::default());
        for e in &data {
            let mut f = Vec::new();
            spec.features(&e.text, &mut f);
            assert_eq!(model.score(&f) > 0.5, e.positive, "{:?}", e.text.full);
        }
    }
}
