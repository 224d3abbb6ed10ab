//! Runs the behaviour cases of `testdata/*.toml` through one [`check`] helper.

use filters::normalize::{full, light};
use filters::rules::{Rule, RuleSet};
use filters::{Policy, Subject};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    // Normalization.
    input: Option<String>,
    light: Option<String>,
    full: Option<String>,
    same_as: Option<String>,
    differs_from: Option<String>,
    // Rules.
    #[serde(default)]
    rules: Vec<Rule>,
    text: Option<String>,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    channel_id: u64,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    media: Vec<String>,
    action: Option<String>,
    regions: Option<Vec<String>>,
    reasons: Option<Vec<String>>,
    invalid: Option<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    case: Vec<Case>,
}

/// Checks every expectation a case states; returns what failed.
fn check(case: &Case) -> Vec<String> {
    let mut failed = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            failed.push(format!("{}: {what}", case.name));
        }
    };
    if let Some(input) = &case.input {
        if let Some(want) = &case.light {
            let got = light(input);
            expect(
                &got == want,
                format!("light({input:?}) = {got:?}, want {want:?}"),
            );
        }
        if let Some(want) = &case.full {
            let got = full(input);
            expect(
                &got == want,
                format!("full({input:?}) = {got:?}, want {want:?}"),
            );
        }
        if let Some(other) = &case.same_as {
            let (a, b) = (full(input), full(other));
            expect(
                a == b,
                format!("full({input:?}) = {a:?} but full({other:?}) = {b:?}"),
            );
        }
        if let Some(other) = &case.differs_from {
            let (a, b) = (full(input), full(other));
            expect(a != b, format!("full({input:?}) = full({other:?}) = {a:?}"));
        }
    }
    if case.rules.is_empty() {
        return failed;
    }
    let built = RuleSet::build(case.rules.clone());
    match (&case.invalid, built) {
        (Some(want), Err(e)) => {
            let got = e.to_string();
            expect(
                got.contains(want.as_str()),
                format!("error {got:?} lacks {want:?}"),
            );
        }
        (Some(want), Ok(_)) => expect(false, format!("rules built, want error {want:?}")),
        (None, Err(e)) => expect(false, format!("rules refused: {e}")),
        (None, Ok(set)) => {
            let post = Subject {
                channel_id: case.channel_id,
                channel: &case.channel,
                text: case.text.as_deref().unwrap_or(""),
                hashtags: &case.hashtags,
                domains: &case.domains,
                media_sha256: &case.media,
                lang: None,
            };
            let verdict = set.verdict(&post);
            if let Some(want) = &case.action {
                let got = verdict.action.as_str();
                expect(
                    got == want,
                    format!("action {got}, want {want} ({verdict:?})"),
                );
            }
            if let Some(want) = &case.regions {
                let got = match &verdict.action {
                    filters::Action::Hide { regions } => regions.clone(),
                    _ => Vec::new(),
                };
                expect(&got == want, format!("regions {got:?}, want {want:?}"));
            }
            if let Some(want) = &case.reasons {
                let got: Vec<_> = verdict.reasons.iter().map(|r| r.source.clone()).collect();
                expect(&got == want, format!("reasons {got:?}, want {want:?}"));
            }
        }
    }
    failed
}

fn run(file: &str) {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!cases.case.is_empty(), "{path}: no cases");
    let failed: Vec<String> = cases.case.iter().flat_map(check).collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        cases.case.len(),
        failed.join("\n")
    );
}

#[test]
fn normalization_cases() {
    run("normalize.toml");
}

#[test]
fn rule_cases() {
    run("rules.toml");
}
