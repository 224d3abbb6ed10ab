//! Micro benches of the per-post work, on generated posts (`fixtures gen --seed 3`, 11
//! languages): normalization, rule matching at 1k/10k/100k term rules, classifier scoring,
//! language detection and document preparation. Throughput is in posts.
//!
//! Run: `cargo bench -p benches --bench micro` (about 2 minutes), or one group:
//! `cargo bench -p benches --bench micro -- rules`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use filters::classify::Classifiers;
use filters::normalize::Normalized;
use filters::rules::{Kind, Rule, RuleAction, RuleSet};
use filters::{Engine, Subject};
use indexer::lang::{ChannelPriors, LangDetector};
use indexer::post::{Op, parse_line};
use indexer::prepare::{Prepared, Preparer};
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// Posts per measured iteration.
const POSTS: u64 = 1000;

struct Corpus {
    lines: Vec<Vec<u8>>,
    texts: Vec<String>,
}

fn corpus() -> Corpus {
    let mut out = Vec::new();
    let config = fixtures::GenConfig {
        posts: POSTS,
        seed: 3,
        ..Default::default()
    };
    fixtures::generate(&config, &mut out, None).expect("generate");
    let lines: Vec<Vec<u8>> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let texts = lines
        .iter()
        .filter_map(|l| match parse_line(l) {
            Ok(Op::Upsert(p)) => Some(p.text),
            _ => None,
        })
        .collect();
    Corpus { lines, texts }
}

/// `n` term rules: random Cyrillic/Latin words, 1% taken from the corpus so that some
/// match, 10% prefixes (`word*`), as in `filters/benches/rules.rs`.
fn term_rules(n: usize, texts: &[String]) -> Vec<Rule> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
    let corpus_words: Vec<&str> = texts
        .iter()
        .flat_map(|t| t.split_whitespace())
        .filter(|w| w.chars().count() >= 5 && w.chars().all(char::is_alphabetic))
        .collect();
    let cyrillic: Vec<char> = "абвгдежзийклмнопрстуфхцчшщъыьэюя".chars().collect();
    let latin: Vec<char> = ('a'..='z').collect();
    (0..n)
        .map(|i| {
            let mut pattern = if i % 100 == 0 {
                corpus_words[rng.random_range(0..corpus_words.len())].to_string()
            } else {
                let letters = if i % 4 == 0 { &latin } else { &cyrillic };
                let len = rng.random_range(4..=10);
                (0..len)
                    .map(|_| letters[rng.random_range(0..letters.len())])
                    .collect()
            };
            if i % 10 == 1 {
                pattern.push('*');
            }
            Rule::new(&format!("t{i}"), Kind::Term, &pattern, RuleAction::Hide)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let texts = &corpus.texts;
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!(
        "{} posts, {bytes} bytes of text ({} per post)",
        texts.len(),
        bytes / texts.len()
    );
    let normalized: Vec<Normalized> = texts.iter().map(|t| Normalized::new(t)).collect();
    let posts = Throughput::Elements(texts.len() as u64);

    let mut g = c.benchmark_group("normalize");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(posts.clone());
    g.bench_function("light_and_full", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| Normalized::new(t).full.len())
                .sum::<usize>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rules");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(posts.clone());
    let empty = Subject::default();
    for n in [1_000, 10_000, 100_000] {
        let set = RuleSet::build(term_rules(n, texts)).expect("valid rules");
        g.bench_with_input(BenchmarkId::new("term_match", n), &set, |b, set| {
            b.iter(|| {
                normalized
                    .iter()
                    .map(|t| set.matching(&empty, t).len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();

    let classifiers = Classifiers::embedded().expect("embedded models");
    let mut g = c.benchmark_group("classify");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(posts.clone());
    g.bench_function("scores_embedded_models", |b| {
        b.iter(|| {
            normalized
                .iter()
                .map(|t| classifiers.scores(t).len())
                .sum::<usize>()
        })
    });
    g.finish();

    let detector = LangDetector::new();
    for t in texts {
        black_box(detector.detect(t, None)); // loads lingua's models outside the timing
    }
    let mut g = c.benchmark_group("lang");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(posts.clone());
    g.bench_function("detect_no_prior", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| detector.detect(t, None).code.len())
                .sum::<usize>()
        })
    });
    g.finish();

    let (_, fields) = indexer::schema::build();
    let priors = ChannelPriors::default();
    let bare = Preparer::new(fields.clone(), Arc::new(filters::NoRules));
    let rules = Arc::new(RuleSet::build(term_rules(10_000, texts)).expect("valid rules"));
    let policy = Preparer::new(fields, Arc::new(Engine::new(rules, classifiers)));
    let lines = Throughput::Elements(corpus.lines.len() as u64);
    let mut g = c.benchmark_group("prepare");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.throughput(lines);
    for (name, preparer) in [("no_rules", &bare), ("10k_rules_and_classifiers", &policy)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                corpus
                    .lines
                    .iter()
                    .filter(|l| matches!(preparer.prepare(l, &priors), Prepared::Upsert(_)))
                    .count()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
