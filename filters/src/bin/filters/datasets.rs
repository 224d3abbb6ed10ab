//! Reading the labelled data sets (the only file reading of training and evaluation).
//!
//! Formats, from each data set's `SOURCE.txt`:
//! * `tg_spam_samples/`: `spam-samples.txt` and `ham-samples.txt`, one message per line (MIT);
//! * `sms_spam_collection/SMSSpamCollection.tsv`: `ham|spam<TAB>text` (CC BY 4.0);
//! * `russian_distorted_toxicity/russian_distorted_toxicity.tsv`: header, then `comment_id,
//!   source, comments, distortion (0/1), toxicity (0/1), corrected` tab-separated, `corrected`
//!   filled for the 126 distorted comments (MIT);
//! * `telegram-ru-news-posts/raw/*.json`: JSON arrays of `{text, category, ...}`, real posts of
//!   24 Russian channels (CC BY 4.0), all ordinary: a false-positive benchmark;
//! * a generated corpus (`fixtures gen --with-lang --out FILE.ndjson`): contract NDJSON posts,
//!   and beside it `FILE.labels.ndjson`, one `{channel_id, post_id, category, evasion}` line
//!   per unsafe post. Read as files so that `filters` does not depend on `fixtures`.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// One post of a generated corpus, with its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub channel_id: u64,
    pub text: String,
    /// The `lang` field (written by `fixtures gen --with-lang`).
    pub lang: Option<String>,
    /// The unsafe category (`scam`, `spam`, `drug_sale`, `weapons`); `None` for ordinary posts.
    pub category: Option<String>,
    /// Whether an unsafe post disguises its trigger words.
    pub evasion: bool,
}

/// `corpus.ndjson` -> `corpus.labels.ndjson`, as `fixtures gen` names it.
pub fn labels_path(corpus: &Path) -> PathBuf {
    let name = corpus.as_os_str().to_string_lossy();
    let stem = name.strip_suffix(".ndjson").unwrap_or(&name);
    PathBuf::from(format!("{stem}.labels.ndjson"))
}

/// A generated corpus and its labels file (beside it).
pub fn generated(corpus: &Path) -> Result<Vec<Generated>> {
    let labels = labels_path(corpus);
    parse_generated(&read(corpus)?, &read(&labels)?)
        .with_context(|| format!("reading the generated corpus {}", corpus.display()))
}

#[derive(Deserialize)]
struct PostLine {
    #[serde(default)]
    op: Option<String>,
    channel_id: u64,
    #[serde(default)]
    post_id: u64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Deserialize)]
struct LabelLine {
    channel_id: u64,
    post_id: u64,
    category: String,
    evasion: bool,
}

/// The posts with text of a generated corpus, labelled. Deletes are skipped and a post given
/// twice (an edit) keeps its last text, at its first place.
pub fn parse_generated(corpus: &str, labels: &str) -> Result<Vec<Generated>> {
    let mut label: HashMap<(u64, u64), LabelLine> = HashMap::new();
    for (n, line) in labels
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let l: LabelLine =
            serde_json::from_str(line).with_context(|| format!("labels line {}", n + 1))?;
        label.insert((l.channel_id, l.post_id), l);
    }
    let mut out: Vec<Generated> = Vec::new();
    let mut at: HashMap<(u64, u64), usize> = HashMap::new();
    for (n, line) in corpus
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let p: PostLine =
            serde_json::from_str(line).with_context(|| format!("corpus line {}", n + 1))?;
        if p.op.as_deref().is_some_and(|op| op != "upsert") {
            continue;
        }
        let key = (p.channel_id, p.post_id);
        let l = label.get(&key);
        let post = Generated {
            channel_id: p.channel_id,
            text: p.text,
            lang: p.lang,
            category: l.map(|l| l.category.clone()),
            evasion: l.is_some_and(|l| l.evasion),
        };
        match at.get(&key) {
            Some(&i) => out[i] = post,
            None => {
                at.insert(key, out.len());
                out.push(post);
            }
        }
    }
    out.retain(|p| !p.text.trim().is_empty());
    if let Some(missing) = label.keys().find(|k| !at.contains_key(k)) {
        bail!("label for post {missing:?}, which is not in the corpus");
    }
    Ok(out)
}

/// One real post of `telegram-ru-news-posts`.
pub struct NewsPost {
    pub text: String,
    /// The data set's (LLM-assigned) topic, such as `advertisement`.
    pub category: String,
}

#[derive(Deserialize)]
struct NewsLine {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

/// The posts with text of `telegram-ru-news-posts`, files in name order.
pub fn telegram_news(data: &Path) -> Result<Vec<NewsPost>> {
    let dir = data.join("telegram-ru-news-posts/raw");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.retain(|f| f.extension().is_some_and(|e| e == "json"));
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let lines: Vec<NewsLine> = serde_json::from_str(&read(&file)?)
            .with_context(|| format!("parsing {}", file.display()))?;
        out.extend(lines.into_iter().filter_map(|l| {
            let text = l.text.filter(|t| !t.trim().is_empty())?;
            Some(NewsPost {
                text,
                category: l.category.unwrap_or_default(),
            })
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_corpus_joins_labels_and_keeps_last_edit() {
        let corpus = r#"{"op":"upsert","channel_id":1,"post_id":1,"text":"hello","lang":"en"}
{"op":"upsert","channel_id":1,"post_id":2,"text":"send 1 BTC get 2","lang":"en"}
{"op":"upsert","channel_id":2,"post_id":1,"text":"","lang":"ru"}
{"op":"upsert","channel_id":1,"post_id":1,"text":"hello again"}
{"op":"delete","channel_id":1,"post_id":2}
"#;
        let labels = r#"{"channel_id":1,"post_id":2,"category":"scam","evasion":true}
"#;
        let posts = parse_generated(corpus, labels).unwrap();
        assert_eq!(posts.len(), 2, "the media-only post has no text");
        assert_eq!(posts[0].text, "hello again");
        assert_eq!(posts[0].category, None);
        assert_eq!(posts[1].category.as_deref(), Some("scam"));
        assert!(posts[1].evasion);
        assert_eq!(posts[1].lang.as_deref(), Some("en"));
    }

    #[test]
    fn a_label_without_its_post_is_an_error() {
        let labels = r#"{"channel_id":9,"post_id":9,"category":"spam","evasion":false}"#;
        assert!(parse_generated("", labels).is_err());
        assert!(parse_generated("not json", "").is_err());
    }

    #[test]
    fn labels_file_is_beside_the_corpus() {
        assert_eq!(
            labels_path(Path::new("a/gen.ndjson")),
            PathBuf::from("a/gen.labels.ndjson")
        );
    }
}
