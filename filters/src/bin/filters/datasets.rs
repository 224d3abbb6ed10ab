//! Reading the labelled data sets (the only file reading of training and evaluation).
//!
//! Formats, from each data set's `SOURCE.txt`:
//! * `tg_spam_samples/`: `spam-samples.txt` and `ham-samples.txt`, one message per line (MIT);
//! * `sms_spam_collection/SMSSpamCollection.tsv`: `ham|spam<TAB>text` (CC BY 4.0);
//! * `russian_distorted_toxicity/russian_distorted_toxicity.tsv`: header, then `comment_id,
//!   source, comments, distortion (0/1), toxicity (0/1), corrected` tab-separated, `corrected`
//!   filled for the 126 distorted comments (MIT).

use anyhow::{Context, Result, bail};
use std::path::Path;

/// One labelled text of a data set.
pub struct Labelled {
    pub text: String,
    pub positive: bool,
    /// Toxicity only: the comment is distorted, and its hand-corrected text.
    pub corrected: Option<String>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The tg-spam samples: spam and ham lines.
pub fn tg_spam(data: &Path) -> Result<Vec<Labelled>> {
    let dir = data.join("tg_spam_samples");
    let mut out = Vec::new();
    for (file, positive) in [("spam-samples.txt", true), ("ham-samples.txt", false)] {
        for line in read(&dir.join(file))?
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            out.push(Labelled {
                text: line.to_string(),
                positive,
                corrected: None,
            });
        }
    }
    Ok(out)
}

/// The UCI SMS spam collection.
pub fn sms_spam(data: &Path) -> Result<Vec<Labelled>> {
    let path = data.join("sms_spam_collection/SMSSpamCollection.tsv");
    let mut out = Vec::new();
    for (n, line) in read(&path)?.lines().enumerate() {
        let Some((label, text)) = line.split_once('\t') else {
            bail!("{}:{}: no tab", path.display(), n + 1);
        };
        let positive = match label {
            "spam" => true,
            "ham" => false,
            other => bail!("{}:{}: label {other:?}", path.display(), n + 1),
        };
        out.push(Labelled {
            text: text.to_string(),
            positive,
            corrected: None,
        });
    }
    Ok(out)
}

/// The Russian distorted toxicity corpus.
pub fn toxicity(data: &Path) -> Result<Vec<Labelled>> {
    let path = data.join("russian_distorted_toxicity/russian_distorted_toxicity.tsv");
    let mut out = Vec::new();
    for (n, line) in read(&path)?.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [_, _, text, distortion, toxicity, corrected] = cols[..] else {
            bail!(
                "{}:{}: {} columns, expected 6",
                path.display(),
                n + 1,
                cols.len()
            );
        };
        out.push(Labelled {
            text: unquote(text),
            positive: toxicity == "1",
            corrected: (distortion == "1").then(|| unquote(corrected)),
        });
    }
    Ok(out)
}

/// Undoes the CSV-style quoting of a field (`"a ""b"""` → `a "b"`).
fn unquote(field: &str) -> String {
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_string(),
    }
}
