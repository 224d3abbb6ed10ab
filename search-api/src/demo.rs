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
    let ready = options.data.join("demo-ready");
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
    let state = Arc::new(AppState::open(config)?);
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
    let summary = ingest(&ingest_options, &sources, Arc::new(filters::NoRules))?;
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
    for line in file.lines().take(5000) {
        let line = line?;
        let Ok(indexer::post::Op::Upsert(post)) = indexer::post::parse_line(line.as_bytes()) else {
            continue;
        };
        let lang = indexer::lang::LangDetector::new()
            .detect(&post.text, None)
            .code;
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
    let mut candidates = Vec::new();
    if let Some(w) = top_word("ru") {
        candidates.push((
            format!("q={}", encode(&w)),
            format!("Russian word forms of «{w}», ranked"),
        ));
    }
    if let Some(w) = top_word("kk") {
        candidates.push((
            format!("q={}&lang=kk", encode(&w)),
            format!("Kazakh posts with «{w}»"),
        ));
    }
    if let Some(t) = top_tag {
        candidates.push((
            format!("q={}&sort=date&limit=5", encode(&t)),
            format!("newest posts tagged {t}"),
        ));
    }
    if let Some(w) = top_word("en") {
        candidates.push((
            format!("q={}&media=photo", encode(&w)),
            format!("English posts with a photo and «{w}»"),
        ));
    }
    // Fallbacks, should the language mix of the corpus lack one of the above.
    for lang in ["uk", "en", "tr", "und"] {
        if let Some(w) = top_word(lang) {
            candidates.push((format!("q={}", encode(&w)), format!("posts with «{w}»")));
        }
    }
    let mut out = Vec::new();
    for (query, what) in candidates {
        let params: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), decode(v)))
            .collect();
        let Ok(q) = crate::query::parse(&params["q"], 512) else {
            continue;
        };
        let req = SearchRequest {
            query: q,
            lang: params.get("lang").cloned(),
            channel: None,
            from: None,
            to: None,
            media: params.get("media").cloned(),
            sort: if params.get("sort").map(String::as_str) == Some("date") {
                Sort::Date
            } else {
                Sort::Relevance
            },
            limit: 5,
            cursor: None,
            country: None,
        };
        if engine
            .search(&req)
            .map(|r| !r.hits.is_empty())
            .unwrap_or(false)
        {
            out.push((query, what));
        }
        if out.len() == 3 {
            break;
        }
    }
    Ok(out)
}

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

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            )
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
