//! Held-out figures of the deployed models: what the service would do with posts no model saw.
//!
//! Cross-validation says how well a model separates its own data sets; it cannot say how many
//! ordinary posts of every language a threshold sends to review. So the models trained on
//! everything score (a) a generated corpus of a seed training never saw, ordinary posts per
//! language and unsafe posts per category, and (b) the real Telegram news posts, all ordinary,
//! through [`Classifiers`] with the default configuration, language gating included.

use crate::datasets::{Generated, NewsPost};
use anyhow::Result;
use filters::classify::{ClassifierConfig, Classifiers, Model, default_configs};
use filters::normalize::Normalized;
use std::collections::BTreeMap;

/// Thresholds of the operating-point tables.
pub const THRESHOLDS: [f32; 8] = [0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99];

/// Each configured category's score of one post; `None` when its model does not read the
/// post's language.
type Scores = Vec<Option<f32>>;

pub fn report(models: Vec<Model>, held_out: &[Generated], news: &[NewsPost]) -> Result<()> {
    let configs = default_configs();
    let classifiers = Classifiers::new(models, &configs)?;
    let score = |text: &str, lang: Option<&str>| -> Scores {
        let scores = classifiers.scores(&Normalized::new(text), lang);
        configs
            .iter()
            .map(|c| {
                scores
                    .iter()
                    .find(|(s, _)| s.category == c.category)
                    .map(|&(_, v)| v)
            })
            .collect()
    };
    let generated: Vec<(&Generated, Scores)> = held_out
        .iter()
        .map(|g| (g, score(&g.text, g.lang.as_deref())))
        .collect();
    // The news channels are Russian; the indexer's detector says `ru` for them.
    let news: Vec<(&NewsPost, Scores)> = news
        .iter()
        .map(|n| (n, score(&n.text, Some("ru"))))
        .collect();

    let thresholds: Vec<String> = configs
        .iter()
        .map(|c| format!("{} >= {}", c.category, c.threshold))
        .collect();
    println!(
        "\nHeld out, at the default thresholds ({}): ordinary posts flagged (false positives)\n",
        thresholds.join(", ")
    );
    let mut header = String::from("| posts | count |");
    for c in &configs {
        header.push_str(&format!(" by {} |", c.category));
    }
    println!("{header} flagged | rate |");
    println!(
        "| --- | ---: |{} ---: | ---: |",
        " ---: |".repeat(configs.len())
    );
    let ordinary: Vec<&Scores> = generated
        .iter()
        .filter(|(g, _)| g.category.is_none())
        .map(|(_, s)| s)
        .collect();
    let mut by_lang: BTreeMap<&str, Vec<&Scores>> = BTreeMap::new();
    for (g, s) in generated.iter().filter(|(g, _)| g.category.is_none()) {
        by_lang
            .entry(g.lang.as_deref().unwrap_or("?"))
            .or_default()
            .push(s);
    }
    for (lang, scores) in &by_lang {
        println!(
            "{}",
            flagged_row(&format!("generated, {lang}"), scores, &configs)
        );
    }
    println!("{}", flagged_row("**generated, all**", &ordinary, &configs));
    let all_news: Vec<&Scores> = news.iter().map(|(_, s)| s).collect();
    println!(
        "{}",
        flagged_row("**telegram-ru-news-posts**", &all_news, &configs)
    );
    let not_ads: Vec<&Scores> = news
        .iter()
        .filter(|(n, _)| n.category != "advertisement")
        .map(|(_, s)| s)
        .collect();
    println!(
        "{}",
        flagged_row(
            "telegram-ru-news-posts without its `advertisement` topic",
            &not_ads,
            &configs
        )
    );

    println!("\nHeld out, at the default thresholds: unsafe generated posts flagged (recall)\n");
    println!("{header} flagged | recall |");
    println!(
        "| --- | ---: |{} ---: | ---: |",
        " ---: |".repeat(configs.len())
    );
    let mut by_category: BTreeMap<(&str, bool), Vec<&Scores>> = BTreeMap::new();
    for (g, s) in &generated {
        if let Some(category) = g.category.as_deref() {
            by_category
                .entry((category, g.evasion))
                .or_default()
                .push(s);
        }
    }
    let categories: Vec<&str> = by_category.keys().map(|(c, _)| *c).collect();
    let mut seen = Vec::new();
    for category in categories {
        if seen.contains(&category) {
            continue;
        }
        seen.push(category);
        for evasion in [false, true] {
            if let Some(scores) = by_category.get(&(category, evasion)) {
                let name = if evasion { "evasive" } else { "plain" };
                println!(
                    "{}",
                    flagged_row(&format!("{category}, {name}"), scores, &configs)
                );
            }
        }
    }

    println!(
        "\nHeld out, operating points: share of posts at or above each threshold, one model \
         at a time\n"
    );
    println!(
        "| model | threshold | generated ordinary | telegram news | generated scam + spam (recall) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    let scam_spam: Vec<&Scores> = generated
        .iter()
        .filter(|(g, _)| matches!(g.category.as_deref(), Some("scam" | "spam")))
        .map(|(_, s)| s)
        .collect();
    for (k, config) in configs.iter().enumerate() {
        for t in THRESHOLDS {
            let share = |scores: &[&Scores]| {
                let hits = scores
                    .iter()
                    .filter(|s| s[k].is_some_and(|v| v >= t))
                    .count();
                format!("{hits} ({})", percent(hits, scores.len()))
            };
            println!(
                "| {} | {t:.2} | {} | {} | {} |",
                config.category,
                share(&ordinary),
                share(&all_news),
                share(&scam_spam)
            );
        }
    }
    Ok(())
}

/// `name | count | flagged by each | flagged by any | share`.
fn flagged_row(name: &str, scores: &[&Scores], configs: &[ClassifierConfig]) -> String {
    let hit = |s: &Scores, k: usize| s[k].is_some_and(|v| v >= configs[k].threshold);
    let mut row = format!("| {name} | {} |", scores.len());
    for k in 0..configs.len() {
        row.push_str(&format!(
            " {} |",
            scores.iter().filter(|s| hit(s, k)).count()
        ));
    }
    let any = scores
        .iter()
        .filter(|s| (0..configs.len()).any(|k| hit(s, k)))
        .count();
    row.push_str(&format!(" {any} | {} |", percent(any, scores.len())));
    row
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", 100.0 * part as f64 / whole as f64)
    }
}
