//! `search-api demo`: a newcomer's one command. Generates a corpus (plus the real Telegram
//! posts of `../shared/data` when present), indexes it with a progress bar, starts the server,
//! and prints tokens and ready-to-run curl commands whose queries are checked to return hits.

use crate::auth::{Keys, Role, Tier, claims};
use crate::config::Config;
use crate::search::{SearchRequest, Sort};
use crate::state::AppState;
use anyhow::Context;
use indexer::ingest::{IngestOptions, Source, ingest};
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the corpus and index go.
    pub data: PathBuf,
    /// Generated posts.
    pub posts: u64,
    /// Real Telegram posts to add, if the folder exists.
    pub telegram_dir: PathBuf,
    /// Listen address.
    pub listen: std::net::SocketAddr,
}

/// Builds the demo index (unless it is already there) and serves it until ctrl-c.
pub async fn run(options: DemoOptions, env: &HashMap<String, String>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data)
        .with_context(|| format!("create {}", options.data.display()))?;
    // Versioned: a folder built by an older demo (without a rules database) is rebuilt.
    let ready = options.data.join("demo-ready-2");
    if ready.exists() {
        eprintln!(
            "using the demo index already in {} (delete the folder to rebuild it)",
            options.data.display()
        );
    } else {
        let opts = options.clone();
        tokio::task::spawn_blocking(move || build(&opts)).await??;
        std::fs::write(&ready, b"ok\n")?;
    }
    let secret = match env.get("CHANSEARCH_SECRET") {
        Some(s) if s.len() >= 16 => s.clone(),
        _ => random_secret(),
    };
    let config = Config {
        data: options.data.clone(),
        listen: options.listen,
        secret: Some(secret.clone()),
        ..Config::default()
    };
    let state = Arc::new(AppState::open(config, None)?);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| {
            format!(
                "listen on {} (is another server running? try --listen 127.0.0.1:0)",
                options.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let examples = {
        let engine = state.engine.clone();
        let corpus = options.data.join("corpus.ndjson");
        tokio::task::spawn_blocking(move || example_queries(&engine, &corpus)).await??
    };
    print_welcome(&Keys::new(&secret), &secret, addr, &examples)?;
    crate::server::run(listener, state, crate::server::shutdown_signal()).await
}

fn build(options: &DemoOptions) -> anyhow::Result<()> {
    // Whatever an interrupted or older build left is the demo's own: start clean.
    let db = moderation::FILE_NAME;
    for stale in [
        "index".to_string(),
        db.to_string(),
        format!("{db}-wal"),
        format!("{db}-shm"),
        "rejected.ndjson".to_string(),
    ] {
        let path = options.data.join(stale);
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }
    let rules = moderation::Store::open(&options.data)?;
    let imported = rules.import_rules(
        filters::rules::parse_rules(fixtures::EXAMPLE_RULES)?,
        "demo",
    )?;
    eprintln!(
        "loaded {} example rules into {} (see fixtures/data/rules.json)",
        imported.created,
        rules.path().display()
    );
    let policy = Arc::new(rules.engine()?);
    let corpus = options.data.join("corpus.ndjson");
    eprintln!(
        "generating {} posts into {}",
        options.posts,
        corpus.display()
    );
    let mut out = std::io::BufWriter::new(std::fs::File::create(&corpus)?);
    let config = fixtures::GenConfig {
        posts: options.posts,
        seed: 1,
        updates: 0.05,
        ..fixtures::GenConfig::default()
    };
    fixtures::generate(&config, &mut out, None)?;
    out.flush()?;
    drop(out);
    let mut sources = vec![Source::File(corpus)];
    if options.telegram_dir.is_dir() {
        let real = options.data.join("telegram.ndjson");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&real)?);
        let summary = fixtures::telegram::import_telegram(&options.telegram_dir, &mut out)?;
        out.flush()?;
        eprintln!(
            "adding the real Telegram posts from {}: {summary:?}",
            options.telegram_dir.display()
        );
        sources.push(Source::File(real));
    } else {
        eprintln!(
            "no real Telegram posts at {} (optional); generated posts only",
            options.telegram_dir.display()
        );
    }
    let ingest_options = IngestOptions {
        progress: std::io::stderr().is_terminal(),
        ..IngestOptions::new(&options.data)
    };
    eprintln!("indexing");
    let summary = ingest(&ingest_options, &sources, policy)?;
    eprintln!("indexed: {}", serde_json::to_string(&summary)?);
    Ok(())
}

fn random_secret() -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

/// Three example searches (query string, description) that return hits on this index.
fn example_queries(
    engine: &crate::search::Engine,
    corpus: &Path,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut words: HashMap<(String, String), u32> = HashMap::new();
    let mut tags: HashMap<String, u32> = HashMap::new();
    let file = std::io::BufReader::new(std::fs::File::open(corpus)?);
    let detector = indexer::lang::LangDetector::new();
    for line in file.lines().take(5000) {
        let line = line?;
        let Ok(indexer::post::Op::Upsert(post)) = indexer::post::parse_line(line.as_bytes()) else {
            continue;
        };
        let lang = detector.detect(&post.text, None).code;
        for w in post.text.split_whitespace() {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            if w.chars().count() >= 6 && w.chars().all(char::is_alphabetic) {
                *words
                    .entry((lang.to_string(), w.to_lowercase()))
                    .or_default() += 1;
            }
        }
        for t in indexer::analysis::entities::extract(&post.text, &[]).tags {
            if t.starts_with('#') {
                *tags.entry(t).or_default() += 1;
            }
        }
    }
    let top_word = |lang: &str| {
        words
            .iter()
            .filter(|((l, _), _)| l == lang)
            .max_by_key(|(k, n)| (**n, std::cmp::Reverse(k.1.clone())))
            .map(|((_, w), _)| w.clone())
    };
    let top_tag = tags
        .iter()
        .max_by_key(|(t, n)| (**n, std::cmp::Reverse((*t).clone())))
        .map(|(t, _)| t.clone());
    // (parameters, description); the query string is made from the parameters only at the end.
    let mut candidates: Vec<(Vec<(&str, String)>, String)> = Vec::new();
    if let Some(w) = top_word("ru") {
        let what = format!("Russian word forms of «{w}», ranked");
        candidates.push((vec![("q", w)], what));
    }
    if let Some(w) = top_word("kk") {
        let what = format!("Kazakh posts with «{w}»");
        candidates.push((vec![("q", w), ("lang", "kk".into())], what));
    }
    if let Some(t) = top_tag {
        let what = format!("newest posts tagged {t}");
        candidates.push((
            vec![("q", t), ("sort", "date".into()), ("limit", "5".into())],
            what,
        ));
    }
    if let Some(w) = top_word("en") {
        let what = format!("English posts with a photo and «{w}»");
        candidates.push((vec![("q", w), ("media", "photo".into())], what));
    }
    // Fallbacks, should the language mix of the corpus lack one of the above.
    for lang in ["uk", "en", "tr", "und"] {
        if let Some(w) = top_word(lang) {
            let what = format!("posts with «{w}»");
            candidates.push((vec![("q", w)], what));
        }
    }
    let mut out = Vec::new();
    for (params, what) in candidates {
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        let Ok(q) = crate::query::parse(&get("q").unwrap_or_default(), 512) else {
            continue;
        };
        let req = SearchRequest {
            lang: get("lang"),
            media: get("media"),
            sort: if get("sort").as_deref() == Some("date") {
                Sort::Date
            } else {
                Sort::Relevance
            },
            ..SearchRequest::first_page(q, 5)
        };
        if engine
            .search(&req)
            .map(|r| !r.hits.is_empty())
            .unwrap_or(false)
        {
            let query: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            out.push((query.join("&"), what));
        }
        if out.len() == 3 {
            break;
        }
    }
    Ok(out)
}

/// Percent-encodes a query-string value (unreserved bytes kept).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn print_welcome(
    keys: &Keys,
    secret: &str,
    addr: std::net::SocketAddr,
    examples: &[(String, String)],
) -> anyhow::Result<()> {
    let day = 24 * 3600;
    let premium = keys.mint(&claims(
        "demo-premium",
        Tier::Premium,
        Role::User,
        Some("KZ"),
        day,
    ))?;
    let free = keys.mint(&claims("demo-free", Tier::Free, Role::User, None, day))?;
    let moderator = keys.mint(&claims(
        "demo-moderator",
        Tier::Premium,
        Role::Moderator,
        None,
        day,
    ))?;
    let ingest = keys.mint(&claims(
        "demo-ingest",
        Tier::Premium,
        Role::Ingest,
        None,
        day,
    ))?;
    let mut o = std::io::stdout().lock();
    writeln!(o)?;
    writeln!(
        o,
        "chansearch is running on http://{addr}  (ctrl-c stops it)"
    )?;
    writeln!(o)?;
    writeln!(o, "signing secret (CHANSEARCH_SECRET): {secret}")?;
    writeln!(o, "premium token (country KZ): {premium}")?;
    writeln!(o, "free token (10 searches a day): {free}")?;
    writeln!(o, "moderator token: {moderator}")?;
    writeln!(o, "ingest token: {ingest}")?;
    writeln!(o)?;
    writeln!(o, "try:")?;
    for (query, what) in examples {
        writeln!(o, "  # {what}")?;
        writeln!(
            o,
            "  curl -s -H 'Authorization: Bearer {premium}' 'http://{addr}/v1/search?{query}'"
        )?;
    }
    writeln!(o, "  # the free tier shows its quota")?;
    let first = examples.first().map_or("q=news", |(q, _)| q.as_str());
    writeln!(
        o,
        "  curl -s -H 'Authorization: Bearer {free}' 'http://{addr}/v1/search?{first}'"
    )?;
    writeln!(
        o,
        "  # the API: http://{addr}/openapi.json, metrics: http://{addr}/metrics"
    )?;
    o.flush()?;
    Ok(())
}
