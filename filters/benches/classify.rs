//! Cost of the classifiers per post: the embedded models behind an [`Engine`] with no rules.
//!
//! Text: the first 2 MiB of real posts of `shared/data/telegram-ru-news-posts` (set
//! `CHANSEARCH_DATA`), the same posts as the `rules` bench, so the two add up. Only the
//! public `Policy` API is used, so the file also builds against older versions of the crate
//! for before/after runs. Each benchmark decides every post once per iteration: time per
//! iteration / posts = time per post (printed at the start).
//!
//! Run: `cargo bench -p filters --bench classify`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use filters::classify::Classifiers;
use filters::normalize::Normalized;
use filters::{Engine, Policy, RuleSet, Subject};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Bytes of post text.
const CORPUS_BYTES: usize = 2 << 20;

fn posts() -> Vec<String> {
    let data = std::env::var_os("CHANSEARCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let dir = data.join("telegram-ru-news-posts/raw");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set CHANSEARCH_DATA)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let (mut posts, mut size) = (Vec::new(), 0);
    for file in files {
        let bytes = std::fs::read(&file).expect("readable data set");
        let messages: Vec<serde_json::Value> = serde_json::from_slice(&bytes).expect("JSON array");
        for text in messages.iter().filter_map(|m| m.get("text")?.as_str()) {
            if !text.is_empty() && size < CORPUS_BYTES {
                size += text.len();
                posts.push(text.to_string());
            }
        }
    }
    posts
}

fn bench(c: &mut Criterion) {
    let posts = posts();
    let bytes: usize = posts.iter().map(String::len).sum();
    eprintln!(
        "{} posts, {} bytes per post on average: time per post = time per iteration / {}",
        posts.len(),
        bytes / posts.len(),
        posts.len()
    );
    let engine = Engine::new(
        Arc::new(RuleSet::empty()),
        Classifiers::embedded().expect("embedded models"),
    );
    let mut group = c.benchmark_group("classify");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("normalize_only", |b| {
        b.iter(|| {
            posts
                .iter()
                .map(|p| Normalized::new(p).full.len())
                .sum::<usize>()
        })
    });
    for (name, lang) in [
        ("verdict_lang_unknown", None),
        ("verdict_lang_ru", Some("ru")),
        ("verdict_lang_kk", Some("kk")),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                posts
                    .iter()
                    .map(|p| {
                        let post = Subject {
                            text: p,
                            lang,
                            ..Subject::default()
                        };
                        black_box(engine.verdict(&post)).reasons.len()
                    })
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
