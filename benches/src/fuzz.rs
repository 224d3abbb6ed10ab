//! Fuzz targets that run on stable Rust: proptest strategies (random and structured inputs),
//! run in rounds of fresh random seeds until a time budget is spent. `cargo fuzz` needs a
//! nightly toolchain, which this project's machines do not have; proptest's runner catches
//! panics and shrinks a failing input to a small one, which is what a regression test needs.
//!
//! `cargo run --release -p benches --bin fuzz -- TARGET --seconds 600` (targets: [`TARGETS`]).
//! Each target states the property it checks, beyond "does not panic":
//! - `post`: the NDJSON line parser returns a post or a reason, for any bytes and for
//!   JSON objects of the contract's keys holding values of any type.
//! - `query`: the query parser answers a query or a non-empty message, and every query it
//!   accepts runs on a real index without an internal error (no 500).
//! - `rule`: a rule the store's check accepts compiles into a rule set, and, unless it is a
//!   regex, into the takedown's index query (otherwise a rule could be saved and silently do
//!   nothing).
//! - `normalize`: both normalizations are idempotent and the full one is words separated by
//!   single spaces.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The targets, by name.
pub const TARGETS: &[&str] = &["post", "query", "rule", "normalize"];

/// What a fuzz run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: String,
    /// Inputs tried.
    pub cases: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs `target` for `budget`; `Err` holds the minimal failing input and the failure.
pub fn run(target: &str, budget: Duration) -> Result<Report, String> {
    let started = Instant::now();
    let mut cases = 0u64;
    let round = 2_000u32;
    let mut context = None;
    while cases == 0 || started.elapsed() < budget {
        let mut runner = TestRunner::new(Config {
            cases: round,
            failure_persistence: None,
            ..Config::default()
        });
        let result = match target {
            "post" => runner
                .run(&post_line(), |line| check_post(&line))
                .map_err(|e| e.to_string()),
            "query" => {
                let engine = context.get_or_insert_with(SearchContext::new);
                runner
                    .run(&query_text(), |q| engine.check(&q))
                    .map_err(|e| e.to_string())
            }
            "rule" => runner
                .run(&rule_value(), |v| check_rule(&v))
                .map_err(|e| e.to_string()),
            "normalize" => runner
                .run(&any::<String>(), |s| check_normalize(&s))
                .map_err(|e| e.to_string()),
            other => return Err(format!("no fuzz target {other:?}; targets: {TARGETS:?}")),
        };
        result.map_err(|e| format!("{target}: {e}"))?;
        cases += u64::from(round);
    }
    Ok(Report {
        target: target.to_string(),
        cases,
        elapsed: started.elapsed(),
    })
}

// ---- post ---------------------------------------------------------------------------------

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)),
        any::<String>().prop_map(serde_json::Value::from),
        "[a-z_]{0,40}".prop_map(serde_json::Value::from),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[+-][01][0-9]:[0-5][0-9])"
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const POST_KEYS: &[&str] = &[
    "op",
    "channel_id",
    "channel",
    "channel_title",
    "subscribers",
    "post_id",
    "date",
    "edit_date",
    "text",
    "views",
    "forwards",
    "reactions",
    "lang",
    "links",
    "media",
    "kind",
    "sha256",
];

/// A line: random bytes, or a JSON object of the contract's keys with values of any type,
/// sometimes cut short.
fn post_line() -> impl Strategy<Value = Vec<u8>> {
    let object = || {
        prop::collection::vec((prop::sample::select(POST_KEYS), json_value()), 0..14).prop_map(
            |pairs| {
                let map: serde_json::Map<String, serde_json::Value> =
                    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                serde_json::Value::Object(map).to_string().into_bytes()
            },
        )
    };
    prop_oneof![
        any::<Vec<u8>>(),
        object(),
        (object(), any::<prop::sample::Index>()).prop_map(|(line, cut)| {
            let at = cut.index(line.len() + 1);
            line[..at].to_vec()
        }),
    ]
}

fn check_post(line: &[u8]) -> Result<(), TestCaseError> {
    match indexer::post::parse_line(line) {
        Ok(_) => Ok(()),
        Err(reason) => {
            prop_assert!(!reason.0.is_empty(), "an empty reason for {line:?}");
            Ok(())
        }
    }
}

// ---- query --------------------------------------------------------------------------------

/// Query text: any string, or pieces of the query syntax in any order.
fn query_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just("-".to_string()),
        Just("#".to_string()),
        Just("$".to_string()),
        Just("@".to_string()),
        Just(" ".to_string()),
        Just("и".to_string()),
        Just("және".to_string()),
        Just("the".to_string()),
        Just("\u{200d}".to_string()),
        "[a-zA-Zа-яА-ЯәіңғүұқөһӘІҢҒҮҰҚӨҺ0-9_]{1,12}",
        "[\\p{Han}]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat()),
    ]
}

/// A small real index and its engine, so that accepted queries really run.
struct SearchContext {
    _dir: tempfile::TempDir,
    engine: search_api::search::Engine,
}

impl SearchContext {
    fn new() -> SearchContext {
        use indexer::store::{Store, StoreOptions};
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(
            dir.path(),
            &StoreOptions {
                threads: 1,
                memory_bytes: 20 << 20,
            },
        )
        .expect("index");
        let preparer =
            indexer::prepare::Preparer::new(store.fields().clone(), Arc::new(filters::NoRules));
        let priors = indexer::lang::ChannelPriors::default();
        for line in fixtures::SAMPLE.lines() {
            store
                .apply(preparer.prepare(line.as_bytes(), &priors))
                .expect("apply");
        }
        store.commit("").expect("commit");
        let reader = store.index().reader().expect("reader");
        let fields = store.fields().clone();
        let engine = search_api::search::Engine::new(
            reader.clone(),
            fields,
            search_api::config::Ranking::default(),
        );
        engine
            .takedown()
            .update(&engine.searcher(), &[], Default::default())
            .expect("takedown");
        store.close().expect("close");
        SearchContext { _dir: dir, engine }
    }

    fn check(&self, q: &str) -> Result<(), TestCaseError> {
        let query = match search_api::query::parse(q, 512) {
            Ok(query) => query,
            Err(message) => {
                prop_assert!(!message.is_empty(), "an empty message for {q:?}");
                return Ok(());
            }
        };
        for sort in [
            search_api::search::Sort::Relevance,
            search_api::search::Sort::Date,
        ] {
            let req = search_api::search::SearchRequest {
                sort,
                country: Some("KZ".into()),
                ..search_api::search::SearchRequest::first_page(query.clone(), 5)
            };
            let first = self.engine.search(&req);
            prop_assert!(
                !matches!(first, Err(search_api::error::ApiError::Internal(_))),
                "{q:?}: {first:?}"
            );
            // The next page too: cursors are built from what the first page saw.
            if let Ok(page) = first
                && let Some(cursor) = page.next_cursor
            {
                let next = self.engine.search(&search_api::search::SearchRequest {
                    cursor: Some(cursor),
                    ..req
                });
                prop_assert!(
                    !matches!(next, Err(search_api::error::ApiError::Internal(_))),
                    "{q:?} page 2: {next:?}"
                );
            }
        }
        Ok(())
    }
}

// ---- rule ---------------------------------------------------------------------------------

/// A rule object: the contract's keys with plausible or arbitrary values.
fn rule_value() -> impl Strategy<Value = serde_json::Value> {
    let kind = prop_oneof![
        prop::sample::select(vec![
            "term",
            "phrase",
            "regex",
            "channel",
            "domain",
            "hashtag",
            "media_sha256"
        ])
        .prop_map(serde_json::Value::from),
        json_value(),
    ];
    let pattern = prop_oneof![
        any::<String>().prop_map(serde_json::Value::from),
        "[a-zа-яәіңғүұқөһ0-9 .*#$@_\\-\\\\()\\[\\]{}+?|^]{0,40}".prop_map(serde_json::Value::from),
        json_value(),
    ];
    let action = prop_oneof![
        prop::sample::select(vec!["hide", "review", "drop"]).prop_map(serde_json::Value::from),
        json_value(),
    ];
    let regions = prop_oneof![
        prop::collection::vec("[A-Za-z]{0,3}", 0..4).prop_map(serde_json::Value::from),
        json_value(),
    ];
    (kind, pattern, action, regions, json_value()).prop_map(|(k, p, a, r, extra)| {
        serde_json::json!({"kind": k, "pattern": p, "action": a, "regions": r, "note": extra})
    })
}

fn check_rule(value: &serde_json::Value) -> Result<(), TestCaseError> {
    let Ok(rule) = filters::rules::parse_rule(value.clone()) else {
        return Ok(());
    };
    if rule.check().is_err() {
        return Ok(());
    }
    let built = filters::RuleSet::build(vec![rule.clone()]);
    prop_assert!(
        built.is_ok(),
        "accepted but does not compile: {value}: {built:?}"
    );
    let (_, fields) = indexer::schema::build();
    let query = search_api::takedown::rule_query(&fields, &rule);
    prop_assert!(
        query.is_ok(),
        "accepted but has no index query: {value}: {:?}",
        query.err()
    );
    Ok(())
}

// ---- normalize ----------------------------------------------------------------------------

fn check_normalize(s: &str) -> Result<(), TestCaseError> {
    use filters::normalize::{full, light};
    let once = light(s);
    prop_assert_eq!(light(&once), once.clone());
    let f = full(s);
    prop_assert_eq!(full(&f), f.clone());
    prop_assert!(!f.starts_with(' ') && !f.ends_with(' ') && !f.contains("  "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target, briefly (CI): the long runs are `bin/fuzz`.
    #[test]
    fn every_target_runs_briefly_without_a_failure() {
        for target in TARGETS {
            let report = run(target, Duration::from_millis(300)).unwrap();
            assert!(report.cases > 0, "{report:?}");
        }
    }

    #[test]
    fn an_unknown_target_is_an_error() {
        assert!(run("nope", Duration::ZERO).is_err());
    }
}
