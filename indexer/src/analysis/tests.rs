//! Data-driven analysis cases from `indexer/testdata/analysis.toml`, run through one
//! [`check`] helper per kind so that adding a case never needs new code.

use super::{analyze, query_forms};
use crate::lang::Lang;
use serde::Deserialize;

#[derive(Deserialize)]
struct Cases {
    analyze: Vec<AnalyzeCase>,
    matches: Vec<MatchCase>,
    no_match: Vec<NoMatchCase>,
}

#[derive(Deserialize)]
struct AnalyzeCase {
    name: String,
    lang: String,
    text: String,
    tokens: Vec<String>,
}

#[derive(Deserialize)]
struct MatchCase {
    name: String,
    query: String,
    lang: String,
    posts: Vec<String>,
}

#[derive(Deserialize)]
struct NoMatchCase {
    name: String,
    query: String,
    lang: String,
    post: String,
}

fn cases() -> Cases {
    toml::from_str(include_str!("../../testdata/analysis.toml")).expect("analysis.toml parses")
}

fn lang(code: &str) -> Option<Lang> {
    if code.is_empty() {
        return None;
    }
    Some(Lang::from_code(code).unwrap_or_else(|| panic!("unknown lang {code}")))
}

/// Whether a single-word query matches a one-word post, as search will do it: some form of
/// the query word equals the post's token.
fn finds(query: &str, post: &str, post_lang: Option<Lang>) -> bool {
    let forms = query_forms(query);
    let tokens = analyze(post, post_lang);
    forms.len() == 1 && tokens.len() == 1 && forms[0].contains(&tokens[0].text)
}

fn check_analyze(case: &AnalyzeCase) {
    let tokens = analyze(&case.text, lang(&case.lang));
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, case.tokens, "case {:?}", case.name);
    for (i, t) in tokens.iter().enumerate() {
        assert_eq!(
            t.position, i,
            "case {:?}: positions are consecutive",
            case.name
        );
        assert!(
            case.text.is_char_boundary(t.offset_from) && case.text.is_char_boundary(t.offset_to),
            "case {:?}: offsets on char boundaries",
            case.name
        );
    }
}

#[test]
fn analysis_cases() {
    let cases = cases();
    for case in &cases.analyze {
        check_analyze(case);
    }
    for case in &cases.matches {
        for post in &case.posts {
            assert!(
                finds(&case.query, post, lang(&case.lang)),
                "case {:?}: {:?} should find {:?} (forms {:?}, tokens {:?})",
                case.name,
                case.query,
                post,
                query_forms(&case.query),
                analyze(post, lang(&case.lang))
            );
        }
    }
    for case in &cases.no_match {
        assert!(
            !finds(&case.query, &case.post, lang(&case.lang)),
            "case {:?}: {:?} should not find {:?}",
            case.name,
            case.query,
            case.post
        );
    }
}

#[test]
fn query_forms_for_cjk_are_positions() {
    assert_eq!(
        query_forms("北京大学"),
        vec![
            vec!["北京".to_string()],
            vec!["京大".into()],
            vec!["大学".into()]
        ]
    );
}

#[test]
fn offsets_point_at_the_original_word() {
    let text = "Ёлка и #Выборы";
    let tokens = analyze(text, Some(Lang::Ru));
    let words: Vec<&str> = tokens
        .iter()
        .map(|t| &text[t.offset_from..t.offset_to])
        .collect();
    assert_eq!(words, ["Ёлка", "и", "Выборы"]);
}
