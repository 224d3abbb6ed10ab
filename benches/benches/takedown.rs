//! Rule-to-effect latency of takedowns on posts already indexed, and what exclusions cost
//! searches.
//!
//! `cargo bench -p benches --bench takedown [-- POSTS] [--regex-only]` (default 1000000).
//! Uses the index of [`benches::data::ensure_search_index`] (built on first use) and the server's own state and code path:
//! a rule is stored in the rules database and applied by `rules_api::reload_policy`, exactly
//! as `POST /v1/rules` does before answering; the time printed is from before the store
//! write to the end of the swap, after which every search excludes the rule's posts. Then
//! checks that a search from the rule's country no longer finds them.
//!
//! Rules: words at several document frequencies (from the index's own `norm` vocabulary), a
//! prefix, a phrase, a channel, a hashtag, then the same with 1 000 and 10 000 other term
//! rules in force; then regex rules, whose effect waits for the background scan of the stored
//! text. Last, search latency with 10 000 rules in force against none, same run.

use filters::rules::{Kind, Rule, RuleAction};
use search_api::config::Config;
use search_api::search::SearchRequest;
use search_api::state::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let posts: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // `--regex-only`: the regex rules' scans alone (the slow part), without the term cases
    // and the search comparison.
    let regex_only = std::env::args().any(|a| a == "--regex-only");
    let data = benches::data::ensure_search_index(posts)?;
    // A scratch copy of the rules database: the bench adds thousands of rules.
    let db = data.join(moderation::FILE_NAME);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    moderation::Store::open_or_create(&data)?;
    let config = Config {
        data: data.clone(),
        secret: Some("bench-secret-0123456789".into()),
        ..Config::default()
    };
    let state = Arc::new(AppState::open(config, None)?);
    let vocabulary = vocabulary(&state)?;
    let pick = |df: u64| {
        vocabulary
            .iter()
            .min_by_key(|(_, n)| n.abs_diff(df))
            .map(|(w, n)| (w.clone(), *n))
            .unwrap()
    };
    let mut cases: Vec<(String, Rule)> = Vec::new();
    for df in [100_000, 10_000, 1_000, 10] {
        let (word, n) = pick(df * posts / 1_000_000);
        cases.push((
            format!("term, {n} posts"),
            Rule::new("", Kind::Term, &word, RuleAction::Hide).in_regions(&["KZ"]),
        ));
    }
    let (common, _) = pick(50_000 * posts / 1_000_000);
    let stem: String = common.chars().take(4).collect();
    cases.push((
        format!("prefix {stem}*"),
        Rule::new("", Kind::Term, &format!("{stem}*"), RuleAction::Hide).in_regions(&["KZ"]),
    ));
    let (w1, _) = pick(20_000 * posts / 1_000_000);
    let (w2, _) = pick(30_000 * posts / 1_000_000);
    cases.push((
        "phrase of two common words".into(),
        Rule::new("", Kind::Phrase, &format!("{w1} {w2}"), RuleAction::Review),
    ));
    cases.push((
        "hashtag #crypto".into(),
        Rule::new("", Kind::Hashtag, "#crypto", RuleAction::Hide).in_regions(&["KZ"]),
    ));

    println!(
        "\n{posts} posts; rule-to-effect = store + new filters engine + takedown sets swapped\n"
    );
    println!("| rules in force | new rule | effect ms | posts hidden in KZ |");
    println!("| ---: | --- | ---: | ---: |");
    let mut background = 0usize;
    let targets: &[usize] = if regex_only { &[] } else { &[0, 1_000, 10_000] };
    for &target in targets {
        let extra: Vec<Rule> = vocabulary
            .iter()
            .rev()
            .skip(background)
            .take(target - background)
            .enumerate()
            .map(|(i, (w, _))| {
                Rule::new(
                    &format!("bg{}", background + i),
                    Kind::Term,
                    w,
                    RuleAction::Hide,
                )
                .in_regions(&["UZ"])
            })
            .collect();
        if !extra.is_empty() {
            state.moderation.import_rules(extra, "bench")?;
            background = target;
        }
        for (name, rule) in &cases {
            let started = Instant::now();
            let stored = state.moderation.create_rule(rule.clone(), "bench", None)?;
            search_api::rules_api::reload_policy(&state).map_err(|e| anyhow::anyhow!("{e}"))?;
            let took = started.elapsed();
            let hidden = hidden_count(&state, rule)?;
            println!(
                "| {background} | {name} | {:.0} | {hidden} |",
                took.as_secs_f64() * 1e3
            );
            state
                .moderation
                .delete_rule(&stored.id, None, "bench", None)?;
        }
    }
    search_api::rules_api::reload_policy(&state).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Regex rules (the words are letters only: nothing to escape): no index answers them, so a background scan of the stored text finds the
    // posts indexed before the rule; the effect is when its matches are in the sets.
    println!("\n| regex rule (hide in KZ) | effect ms (scan ms) | posts hidden in KZ |");
    println!("| --- | ---: | ---: |");
    for (name, pattern) in [
        ("a common word", format!(r"\b{common}\b")),
        ("a word then digits", format!(r"{stem}\w*\s+\d+")),
    ] {
        let started = Instant::now();
        let stored = state.moderation.create_rule(
            Rule::new("", Kind::Regex, &pattern, RuleAction::Hide).in_regions(&["KZ"]),
            "bench",
            None,
        )?;
        search_api::rules_api::reload_policy(&state).map_err(|e| anyhow::anyhow!("{e}"))?;
        let scan = loop {
            if let Some(scan) = state.engine.takedown().regex_scan(&stored.id) {
                // Applied under the reload lock right after being kept: wait for it.
                drop(state.reload.lock());
                break scan;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = started.elapsed();
        println!(
            "| {name} `{pattern}` | {:.0} ({:.0}) | {} |",
            took.as_secs_f64() * 1e3,
            scan.took.as_secs_f64() * 1e3,
            scan.posts.len()
        );
        state
            .moderation
            .delete_rule(&stored.id, None, "bench", None)?;
        search_api::rules_api::reload_policy(&state).map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    if regex_only {
        return Ok(());
    }
    // Search cost of exclusions: the same queries as a KZ user with 10k rules, then none.
    let queries: Vec<String> = vocabulary
        .iter()
        .step_by((vocabulary.len() / 300).max(1))
        .map(|(w, _)| w.clone())
        .take(300)
        .collect();
    let with_rules = measure(&state, &queries);
    for rule in state.moderation.rules()? {
        state
            .moderation
            .delete_rule(&rule.id, None, "bench", None)?;
    }
    search_api::rules_api::reload_policy(&state).map_err(|e| anyhow::anyhow!("{e}"))?;
    let without = measure(&state, &queries);
    println!(
        "\nsearch as a KZ user, {} one-word queries, in-process: p50 {:.3} ms with {background} rules vs {:.3} ms with none ({:.2}x); p99 {:.3} vs {:.3} ms ({:.2}x)",
        queries.len(),
        ms(with_rules.0),
        ms(without.0),
        ms(with_rules.0) / ms(without.0),
        ms(with_rules.1),
        ms(without.1),
        ms(with_rules.1) / ms(without.1),
    );
    Ok(())
}

/// Words of the `norm` field with their document frequencies (largest segment), by
/// frequency.
fn vocabulary(state: &AppState) -> anyhow::Result<Vec<(String, u64)>> {
    let searcher = state.engine.searcher();
    let segment = searcher
        .segment_readers()
        .iter()
        .max_by_key(|s| s.max_doc())
        .unwrap();
    let scale = searcher.num_docs() as f64 / segment.num_docs().max(1) as f64;
    let index = segment.inverted_index(state.engine.fields().norm)?;
    let mut stream = index.terms().stream()?;
    let mut words = Vec::new();
    while stream.advance() {
        let Ok(word) = std::str::from_utf8(stream.key()) else {
            continue;
        };
        if word.chars().count() >= 4 && word.chars().all(char::is_alphabetic) {
            words.push((
                word.to_string(),
                (stream.value().doc_freq as f64 * scale) as u64,
            ));
        }
    }
    words.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    Ok(words)
}

/// How many posts `rule` hides from a user in KZ: matches for everyone minus matches for KZ.
fn hidden_count(state: &AppState, rule: &Rule) -> anyhow::Result<u64> {
    let query = search_api::takedown::rule_query(state.engine.fields(), rule)
        .map_err(|e| anyhow::anyhow!(e))?
        .expect("no regex here");
    let searcher = state.engine.searcher();
    let all = searcher.search(query.as_ref(), &tantivy::collector::Count)? as u64;
    let excluded = state
        .engine
        .takedown()
        .exclusion_query(Some("KZ"))
        .expect("rules in force");
    let visible = tantivy::query::BooleanQuery::new(vec![
        (tantivy::query::Occur::Must, query),
        (tantivy::query::Occur::MustNot, excluded),
    ]);
    let left = searcher.search(&visible, &tantivy::collector::Count)? as u64;
    anyhow::ensure!(left == 0, "{left} of {all} posts still visible in KZ");
    Ok(all)
}

fn measure(state: &AppState, queries: &[String]) -> (Duration, Duration) {
    let mut times: Vec<Duration> = queries
        .iter()
        .chain(queries.iter().take(30))
        .map(|q| {
            let req = SearchRequest {
                country: Some("KZ".into()),
                ..SearchRequest::first_page(
                    search_api::query::parse(q, 512).expect("query parses"),
                    20,
                )
            };
            let t = Instant::now();
            std::hint::black_box(state.engine.search(&req).map(|r| r.hits.len()).ok());
            t.elapsed()
        })
        .skip(30)
        .collect();
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
