//! The safety filters end to end: rules imported with `--rules`, verdicts applied at ingest,
//! and search showing each user only what their country may see.

use crate::server::{TestServer, post};
use crate::support::*;
use search_api::auth::{Role, Tier};
use std::process::Command;

const RULES: &str = r##"[
  {"id": "kz-drops", "kind": "term", "pattern": "закладк*", "action": "hide", "regions": ["KZ"],
   "note": "KZ takedown order"},
  {"id": "everywhere", "kind": "phrase", "pattern": "мастер клад", "action": "hide"},
  {"id": "held", "kind": "term", "pattern": "мефедрон", "action": "review"},
  {"id": "shop", "kind": "domain", "pattern": "klad-shop.cc", "action": "drop"},
  {"id": "tag", "kind": "hashtag", "pattern": "#stuffkz", "action": "hide", "regions": ["KZ", "UZ"]}
]"##;

/// Posts that all share the word `almaty` so one query finds every one a user may see.
fn corpus() -> String {
    [
        post(
            "city",
            1,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty weather: snow tomorrow",
        ),
        post(
            "shop1",
            2,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty закладки 24/7, пиши",
        ),
        // Evasions of the same rule: spaced letters, Latin lookalikes, zero-width joiner.
        post(
            "shop2",
            3,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty З А К Л А Д К И тут",
        ),
        post("shop3", 4, 1, "2026-11-01T10:00:00Z", "Almaty зaклaдки"),
        post(
            "shop4",
            5,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty зак\u{200d}ладки",
        ),
        post(
            "shop5",
            6,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty мастер-клад по городу",
        ),
        post(
            "shop6",
            7,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty мефедрон в наличии",
        ),
        post(
            "shop7",
            8,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty магазин https://klad-shop.cc/x",
        ),
        post(
            "shop8",
            9,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty new stock #StuffKZ",
        ),
        // Near misses: a word that only contains the pattern, and the news about it.
        post(
            "news",
            10,
            1,
            "2026-11-01T10:00:00Z",
            "Almaty: закладная по ипотеке подорожала",
        ),
    ]
    .join("\n")
}

#[test]
fn region_scoped_rules_hide_posts_in_their_countries_only() {
    let server = TestServer::start_with_rules(RULES, |_| {});
    let summary = server.ingest(&corpus());
    assert_eq!(
        summary["dropped"], 1,
        "the shop's link is dropped: {summary}"
    );
    assert_eq!(summary["indexed"], 9, "{summary}");

    let everywhere = ["city/1", "news/1"];
    let outside_kz = [
        "city/1", "news/1", "shop1/1", "shop2/1", "shop3/1", "shop4/1", "shop8/1",
    ];
    assert_eq!(
        server.visible_keys("almaty", Some("KZ")),
        everywhere,
        "a user in Kazakhstan"
    );
    assert_eq!(
        server.visible_keys("almaty", Some("UZ")).len(),
        6,
        "#stuffkz is hidden in UZ too"
    );
    assert_eq!(
        server.visible_keys("almaty", Some("DE")),
        outside_kz,
        "a user in Germany"
    );
    assert_eq!(
        server.visible_keys("almaty", None),
        outside_kz,
        "a user without a country"
    );

    // Every word of a hidden post, searched from inside the region: nothing.
    let kz = server.token("u", Tier::Premium, Role::User, Some("KZ"));
    for q in [
        "закладки",
        "закладка",
        "пиши",
        "\"закладки 24/7\"",
        "мастер",
        "мефедрон",
    ] {
        let (status, body, _) = server.search_as(&kz, &[("q", q)]);
        assert_eq!(status, 200);
        assert_eq!(body["hits"], serde_json::json!([]), "{q}: {body}");
        assert_eq!(body["estimated_total"], 0, "{q}: {body}");
    }
    // ...while the same words find it from Germany.
    let de = server.token("u", Tier::Premium, Role::User, Some("DE"));
    let (_, body, _) = server.search_as(&de, &[("q", "закладки")]);
    assert!(
        TestServer::hit_keys(&body).contains(&"shop1/1".to_string()),
        "{body}"
    );
}

#[test]
fn rules_persist_and_apply_to_later_posts_without_the_file() {
    let server = TestServer::start_with_rules(RULES, |_| {});
    let config = search_api::config::Config {
        data: server.data.path().to_path_buf(),
        secret: Some(crate::server::SECRET.into()),
        ..Default::default()
    };
    let data = server.stop();
    // Restarted without --rules: the database remembers them.
    let server = TestServer::start_with(config, data);
    server.ingest(&post(
        "late",
        11,
        1,
        "2026-11-02T10:00:00Z",
        "Almaty закладки again",
    ));
    assert!(
        !server
            .visible_keys("almaty", Some("KZ"))
            .contains(&"late/1".to_string())
    );
    assert!(
        server
            .visible_keys("almaty", Some("DE"))
            .contains(&"late/1".to_string())
    );
}

#[test]
fn indexer_cli_imports_rules_and_the_server_applies_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posts.ndjson");
    std::fs::write(&input, corpus() + "\n").unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, RULES).unwrap();
    let data = dir.path().join("data");
    let out = run_ok(
        Command::new(bin("indexer"))
            .args(["ingest", "--quiet", "--data"])
            .arg(&data)
            .arg("--rules")
            .arg(&rules)
            .arg(&input),
    );
    let summary = last_json(&out);
    assert_eq!(summary["dropped"], 1, "{summary}");
    assert_eq!(summary["indexed"], 9, "{summary}");

    let config = search_api::config::Config {
        data: data.clone(),
        secret: Some(crate::server::SECRET.into()),
        ..Default::default()
    };
    let holder = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(config, holder);
    assert_eq!(
        server.visible_keys("almaty", Some("KZ")),
        ["city/1", "news/1"]
    );
    assert_eq!(server.visible_keys("almaty", Some("DE")).len(), 7);
}

#[test]
fn a_bad_rules_file_is_refused_with_every_reason_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"id":"a","kind":"regex","pattern":"(","action":"hide"},
            {"id":"b","kind":"term","pattern":"x","action":"hide","regions":["Kazakhstan"]},
            {"id":"c","kind":"colour","pattern":"red","action":"hide"}]"#,
    )
    .unwrap();
    let input = dir.path().join("posts.ndjson");
    std::fs::write(&input, corpus() + "\n").unwrap();
    let out = Command::new(bin("indexer"))
        .args(["ingest", "--quiet", "--data"])
        .arg(dir.path().join("data"))
        .arg("--rules")
        .arg(&rules)
        .arg(&input)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in ["rule a", "rule b", "Kazakhstan", "rule c", "colour"] {
        assert!(stderr.contains(needle), "{needle} missing from: {stderr}");
    }
    let data = dir.path().join("data");
    assert!(indexed_posts(&data).is_empty(), "nothing indexed");
    let store = moderation::Store::open(&data).unwrap();
    assert!(store.rules().unwrap().is_empty(), "nothing imported");
}

#[test]
fn a_lost_rules_database_stops_the_service_instead_of_unhiding_everything() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posts.ndjson");
    std::fs::write(&input, corpus() + "\n").unwrap();
    let data = dir.path().join("data");
    run_ok(
        Command::new(bin("indexer"))
            .args(["ingest", "--quiet", "--data"])
            .arg(&data)
            .arg(&input),
    );
    std::fs::remove_file(data.join(moderation::FILE_NAME)).unwrap();
    let mut child = Command::new(bin("search-api"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("CHANSEARCH_SECRET", crate::server::SECRET)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the server started without its rules database");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rules database"), "{stderr}");
    assert!(stderr.contains("init-rules"), "{stderr}");
    run_ok(
        Command::new(bin("indexer"))
            .args(["init-rules", "--data"])
            .arg(&data),
    );
    assert!(data.join(moderation::FILE_NAME).exists());
}
