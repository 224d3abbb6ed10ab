//! `filters check`: verdicts for the posts of an NDJSON file.
//!
//! Reads the contract's post lines (section 1), takes hashtags, cashtags and link domains
//! from the text the simple way (the indexer has the real extraction), and prints one line
//! `{"channel_id","post_id","action","regions","reasons"}` per upsert. Deletes are skipped; a
//! bad line is reported on stderr with its number and the others go on.

use anyhow::{Context, Result};
use filters::classify::{ClassifierConfig, Classifiers, Model};
use filters::rules::{RuleSet, rule_set_from_json};
use filters::{Action, Engine, Policy, Reason, Subject};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Rules file: a JSON array of rule objects (contract section 5).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Classifier configuration: a JSON array of {category, threshold, action, regions}.
    #[arg(long)]
    classifiers: Option<PathBuf>,
    /// Load `*.model` files from this folder instead of the embedded default models.
    #[arg(long, conflicts_with = "no_models")]
    models: Option<PathBuf>,
    /// Rules only: no classifiers.
    #[arg(long)]
    no_models: bool,
    /// NDJSON posts; `-` or nothing for standard input.
    input: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(default)]
    sha256: Option<String>,
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    op: Option<String>,
    channel_id: u64,
    #[serde(default)]
    post_id: Option<u64>,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    links: Vec<String>,
    #[serde(default)]
    media: Vec<Media>,
    /// The producer's language, when given (this command does not detect languages).
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Serialize)]
struct Out<'a> {
    channel_id: u64,
    post_id: u64,
    action: &'static str,
    regions: &'a [String],
    reasons: &'a [Reason],
}

pub fn run(args: Args) -> Result<()> {
    let rules = match &args.rules {
        Some(path) => {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            rule_set_from_json(&json)?
        }
        None => RuleSet::empty(),
    };
    let classifiers = classifiers(&args)?;
    let engine = Engine::new(Arc::new(rules), classifiers);

    let input: Box<dyn BufRead> = match &args.input {
        Some(path) if path.as_os_str() != "-" => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        _ => Box::new(std::io::stdin().lock()),
    };
    let entities = Entities::new();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line.context("reading input")?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let post: Line = match serde_json::from_slice(&line) {
            Ok(post) => post,
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                continue;
            }
        };
        if post.op.as_deref().is_some_and(|op| op != "upsert") {
            continue;
        }
        let hashtags = entities.hashtags(&post.text);
        let domains = entities.domains(&post.text, &post.links);
        let media: Vec<String> = post
            .media
            .iter()
            .filter_map(|m| m.sha256.as_ref())
            .map(|s| s.to_lowercase())
            .collect();
        let subject = Subject {
            channel_id: post.channel_id,
            channel: &post.channel,
            text: &post.text,
            hashtags: &hashtags,
            domains: &domains,
            media_sha256: &media,
            lang: post.lang.as_deref(),
        };
        let verdict = engine.verdict(&subject);
        let regions = match &verdict.action {
            Action::Hide { regions } => regions.as_slice(),
            _ => &[],
        };
        let line = Out {
            channel_id: post.channel_id,
            post_id: post.post_id.unwrap_or(0),
            action: verdict.action.as_str(),
            regions,
            reasons: &verdict.reasons,
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn classifiers(args: &Args) -> Result<Classifiers> {
    if args.no_models {
        return Ok(Classifiers::none());
    }
    let mut classifiers = match &args.models {
        None => Classifiers::embedded()?,
        Some(dir) => {
            let mut models = Vec::new();
            for entry in
                std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?
            {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "model") {
                    let bytes = std::fs::read(&path)?;
                    models.push(
                        Model::from_bytes(&bytes).with_context(|| path.display().to_string())?,
                    );
                }
            }
            Classifiers::new(models, &filters::classify::default_configs())?
        }
    };
    if let Some(path) = &args.classifiers {
        let json =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let configs: Vec<ClassifierConfig> =
            serde_json::from_str(&json).map_err(|e| filters::Error::BadConfig(e.to_string()))?;
        classifiers = classifiers.reconfigure(&configs)?;
    }
    Ok(classifiers)
}

/// The simple entity extraction of `check`.
struct Entities {
    tags: Regex,
    hosts: Regex,
}

impl Entities {
    fn new() -> Entities {
        Entities {
            tags: Regex::new(r"(?:^|[^\w#$])([#$][\p{L}\p{N}_]+)").expect("static regex"),
            hosts: Regex::new(r"(?i)(?:https?://)?((?:[\p{L}\p{N}-]+\.)+\p{L}{2,})")
                .expect("static regex"),
        }
    }

    /// `#tag` and `$TICKER` (a cashtag starts with a letter: `$100` is money), lowercased.
    fn hashtags(&self, text: &str) -> Vec<String> {
        self.tags
            .captures_iter(text)
            .map(|c| c[1].to_lowercase())
            .filter(|t| !t.starts_with('$') || t[1..].starts_with(|c: char| c.is_alphabetic()))
            .collect()
    }

    /// Hosts of `links` and of domain-looking words of the text, lowercased, without `www.`.
    fn domains(&self, text: &str, links: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for haystack in links.iter().map(String::as_str).chain([text]) {
            for c in self.hosts.captures_iter(haystack) {
                let host = c[1].to_lowercase();
                let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
                if !out.contains(&host) {
                    out.push(host);
                }
            }
        }
        out
    }
}
