//! A trained linear model and its file format.
//!
//! The file is small and self-describing: the feature spec travels with the weights, so a
//! model can never be scored with features it was not trained on. Layout (little-endian):
//!
//! ```text
//! b"CSLM"  u32 format (1)  u32 header length  header (JSON: ModelHeader)
//! f32 bias  f32 scale  u32 n  n × u32 bucket (ascending)  n × i16 weight
//! ```
//!
//! Weights are stored as `i16 × scale` for the buckets training touched; the rest are zero.
//! Quantizing to 16 bits changes scores by less than 1e-4 and halves the file; training
//! returns the quantized model, so what `filters eval` measures is what ships.

use super::features::FeatureSpec;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"CSLM";
const FORMAT: u32 = 1;

/// What a model is and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// The category it scores (`spam`, `toxic`).
    pub category: String,
    /// Features it reads.
    pub spec: FeatureSpec,
    /// The data sets it was trained on.
    pub trained_on: Vec<String>,
    /// Number of training examples.
    pub examples: usize,
    /// The threshold that maximised F1 in cross-validation, as a starting point for
    /// configuration.
    pub suggested_threshold: f32,
    /// Languages (ISO 639-1) the model was trained on and scores; empty means any. Files
    /// written before this field existed read as empty.
    #[serde(default)]
    pub langs: Vec<String>,
}

/// Logistic regression over hashed features.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Description and feature spec.
    pub header: ModelHeader,
    /// Intercept.
    pub bias: f32,
    /// One weight per bucket (`header.spec.dim()` of them).
    pub weights: Vec<f32>,
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Model {
    /// Raw score (log-odds) of a text given its features.
    pub fn margin(&self, features: &[u32]) -> f32 {
        if features.is_empty() {
            return self.bias;
        }
        let sum: f32 = features
            .iter()
            .map(|&f| self.weights.get(f as usize).copied().unwrap_or(0.0))
            .sum();
        self.bias + sum / (features.len() as f32).sqrt()
    }

    /// Probability (0..=1) that a text with these features is in the category.
    pub fn score(&self, features: &[u32]) -> f32 {
        sigmoid(self.margin(features))
    }

    /// Whether the model scores a post in `lang`: it scores any language when it lists none,
    /// and any post whose language is unknown (`None`, `und`), since a post the detector could
    /// not place may still be in one of its languages.
    pub fn reads(&self, lang: Option<&str>) -> bool {
        match lang {
            Some(lang) if !self.header.langs.is_empty() && lang != "und" => self
                .header
                .langs
                .iter()
                .any(|l| l.eq_ignore_ascii_case(lang)),
            _ => true,
        }
    }

    /// Rounds the weights to what the file stores, so that the in-memory model and the file
    /// score alike.
    pub fn quantize(&mut self) {
        let scale = self.scale();
        for w in &mut self.weights {
            *w = f32::from((*w / scale).round() as i16) * scale;
        }
    }

    fn scale(&self) -> f32 {
        let max = self.weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        if max > 0.0 {
            max / f32::from(i16::MAX)
        } else {
            1.0
        }
    }

    /// The model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let scale = self.scale();
        let stored: Vec<(u32, i16)> = self
            .weights
            .iter()
            .enumerate()
            .map(|(i, w)| (i as u32, (w / scale).round() as i16))
            .filter(|&(_, q)| q != 0)
            .collect();
        let mut out = Vec::with_capacity(24 + header.len() + stored.len() * 6);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.bias.to_le_bytes());
        out.extend_from_slice(&scale.to_le_bytes());
        out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        for (i, _) in &stored {
            out.extend_from_slice(&i.to_le_bytes());
        }
        for (_, q) in &stored {
            out.extend_from_slice(&q.to_le_bytes());
        }
        out
    }

    /// Reads a model file; fails on anything but a complete file of a known format.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(Error::BadModel("not a model file (magic)".into()));
        }
        let format = r.u32()?;
        if format != FORMAT {
            return Err(Error::BadModel(format!("unknown format {format}")));
        }
        let header_len = r.u32()? as usize;
        let header: ModelHeader = serde_json::from_slice(r.take(header_len)?)
            .map_err(|e| Error::BadModel(format!("header: {e}")))?;
        if !(8..=24).contains(&header.spec.bits) {
            return Err(Error::BadModel(format!("{} hash bits", header.spec.bits)));
        }
        let bias = f32::from_le_bytes(r.array()?);
        let scale = f32::from_le_bytes(r.array()?);
        let n = r.u32()? as usize;
        let dim = header.spec.dim();
        let buckets = r.take(n.checked_mul(4).ok_or_else(truncated)?)?;
        let values = r.take(n.checked_mul(2).ok_or_else(truncated)?)?;
        if r.at != bytes.len() {
            return Err(Error::BadModel("trailing bytes".into()));
        }
        let mut weights = vec![0f32; dim];
        for (b, v) in buckets.chunks_exact(4).zip(values.chunks_exact(2)) {
            let bucket = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
            let q = i16::from_le_bytes([v[0], v[1]]);
            *weights
                .get_mut(bucket)
                .ok_or_else(|| Error::BadModel(format!("bucket {bucket} out of range")))? =
                f32::from(q) * scale;
        }
        Ok(Model {
            header,
            bias,
            weights,
        })
    }
}

fn truncated() -> Error {
    Error::BadModel("truncated".into())
}

/// Bounds-checked cursor over the file.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or_else(truncated)?;
        self.at = end;
        Ok(slice)
    }

    fn array(&mut self) -> Result<[u8; 4]> {
        let s = self.take(4)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let spec = FeatureSpec {
            bits: 8,
            ..FeatureSpec::default()
        };
        let mut weights = vec![0.0; spec.dim()];
        weights[3] = 1.5;
        weights[200] = -0.25;
        Model {
            header: ModelHeader {
                category: "spam".into(),
                spec,
                trained_on: vec!["test".into()],
                examples: 2,
                suggested_threshold: 0.5,
                langs: vec!["ru".into()],
            },
            bias: -0.5,
            weights,
        }
    }

    #[test]
    fn file_round_trip_keeps_scores() {
        let mut m = model();
        m.quantize();
        let back = Model::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(back, m);
        assert!((back.score(&[3, 200]) - m.score(&[3, 200])).abs() < 1e-6);
    }

    #[test]
    fn old_headers_without_langs_read_as_any_language() {
        let mut m = model();
        m.header.langs.clear();
        let bytes = m.to_bytes();
        let json = serde_json::to_string(&m.header).unwrap();
        let old = json.replace(r#","langs":[]"#, "");
        assert_ne!(json, old);
        let mut file = bytes[..8].to_vec();
        file.extend_from_slice(&(old.len() as u32).to_le_bytes());
        file.extend_from_slice(old.as_bytes());
        file.extend_from_slice(&bytes[12 + json.len()..]);
        let back = Model::from_bytes(&file).unwrap();
        assert!(back.header.langs.is_empty());
        assert!(back.reads(Some("kk")));
    }

    #[test]
    fn language_gating() {
        let m = model();
        assert!(m.reads(Some("ru")));
        assert!(m.reads(Some("RU")));
        assert!(!m.reads(Some("kk")));
        assert!(m.reads(None));
        assert!(m.reads(Some("und")));
    }

    #[test]
    fn broken_files_are_refused_not_panicked_on() {
        let bytes = model().to_bytes();
        for cut in 0..bytes.len() {
            assert!(Model::from_bytes(&bytes[..cut]).is_err());
        }
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(Model::from_bytes(&bad).is_err());
    }
}
