//! The moderators' API over HTTP: rules CRUD with versions, import and export, classifier
//! settings, the audit trail, roles, and new rules reaching new posts at once.

use crate::server::{TestServer, post};
use reqwest::Method;
use search_api::auth::{Role, Tier};
use serde_json::{Value, json};

struct Moderator<'a> {
    server: &'a TestServer,
    token: String,
}

impl<'a> Moderator<'a> {
    fn new(server: &'a TestServer, sub: &str) -> Moderator<'a> {
        let token = server.token(sub, Tier::Premium, Role::Moderator, None);
        Moderator { server, token }
    }

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        call(self.server, &self.token, method, path, body)
    }
}

fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .http
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

#[test]
fn rules_crud_with_versions_and_an_audit_trail() {
    let server = TestServer::start(|_| {});
    let alice = Moderator::new(&server, "alice");
    let bob = Moderator::new(&server, "bob");

    let (status, created) = alice.call(
        Method::POST,
        "/v1/rules",
        Some(
            json!({"kind": "term", "pattern": "закладк*", "action": "hide",
                    "regions": ["kz"], "note": "order 17"}),
        ),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["version"], 1);
    assert_eq!(created["created_by"], "alice");
    assert_eq!(created["regions"], json!(["KZ"]), "regions are normalized");

    let (status, got) = bob.call(Method::GET, &format!("/v1/rules/{id}"), None);
    assert_eq!((status, &got), (200, &created));

    // Bob disables it from version 1; Alice's edit, also from version 1, conflicts.
    let (status, updated) = bob.call(
        Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"enabled": false, "version": 1, "note": "false positives"})),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    let (status, conflict) = alice.call(
        Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"pattern": "закладки", "version": 1})),
    );
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["error"]["code"], "conflict");

    let (status, list) = alice.call(Method::GET, "/v1/rules?enabled=false&q=ORDER", None);
    assert_eq!(status, 200);
    assert_eq!(
        list["rules"].as_array().unwrap().len(),
        0,
        "the note changed"
    );
    let (_, list) = alice.call(Method::GET, "/v1/rules?enabled=false&q=positives", None);
    assert_eq!(list["rules"].as_array().unwrap().len(), 1, "{list}");

    let (status, _) = alice.call(
        Method::DELETE,
        &format!("/v1/rules/{id}?version=1&note=cleanup"),
        None,
    );
    assert_eq!(status, 409, "a stale delete is refused");
    let (status, _) = alice.call(
        Method::DELETE,
        &format!("/v1/rules/{id}?version=2&note=cleanup"),
        None,
    );
    assert_eq!(status, 200);
    let (status, missing) = alice.call(Method::GET, &format!("/v1/rules/{id}"), None);
    assert_eq!(status, 404, "{missing}");

    let (status, log) = alice.call(Method::GET, &format!("/v1/audit?target={id}"), None);
    assert_eq!(status, 200);
    let entries = log["entries"].as_array().unwrap();
    let trail: Vec<(&str, &str, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["note"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            ("rule.delete", "alice", Some("cleanup")),
            ("rule.update", "bob", Some("false positives")),
            ("rule.create", "alice", Some("order 17")),
        ]
    );
    assert_eq!(entries[1]["old"]["enabled"], true);
    assert_eq!(entries[1]["new"]["enabled"], false);
    assert!(entries[0]["new"].is_null());
}

#[test]
fn invalid_rules_are_400_with_the_reason() {
    let server = TestServer::start(|_| {});
    let m = Moderator::new(&server, "m");
    for (body, needle) in [
        (
            json!({"kind": "regex", "pattern": "(unclosed", "action": "hide"}),
            "regex",
        ),
        (
            json!({"kind": "regex", "pattern": "\\w{1000}{1000}", "action": "hide"}),
            "regex",
        ),
        (
            json!({"kind": "colour", "pattern": "red", "action": "hide"}),
            "unknown kind",
        ),
        (
            json!({"kind": "term", "pattern": "x", "action": "hide", "regions": ["Kazakhstan"]}),
            "Kazakhstan",
        ),
        (
            json!({"kind": "term", "pattern": "", "action": "hide"}),
            "empty",
        ),
        (
            json!({"kind": "term", "pattern": "a".repeat(5000), "action": "hide"}),
            "limit",
        ),
    ] {
        let (status, err) = m.call(Method::POST, "/v1/rules", Some(body.clone()));
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["error"]["code"], "invalid_rule", "{err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.to_lowercase().contains(&needle.to_lowercase()),
            "{body}: {message}"
        );
    }
    let (_, list) = m.call(Method::GET, "/v1/rules", None);
    assert_eq!(list["rules"], json!([]));
}

/// Found by API fuzzing (benches/schemathesis): axum's own extractors answered a malformed
/// query string or path in plain text, and a JSON array was read as a struct's fields.
#[test]
fn malformed_parameters_and_bodies_are_json_400s() {
    let server = TestServer::start(|_| {});
    let m = Moderator::new(&server, "m");
    for (method, path, body, code) in [
        (Method::GET, "/v1/audit?limit=many", None, "bad_request"),
        (Method::GET, "/v1/rules?enabled=maybe", None, "bad_request"),
        (
            Method::DELETE,
            "/v1/rules/r1?version=-1",
            None,
            "bad_request",
        ),
        (
            Method::POST,
            "/v1/rules/preview?limit=x",
            None,
            "bad_request",
        ),
        (Method::POST, "/v1/review/1/-1/approve", None, "bad_request"),
        (
            Method::POST,
            "/v1/rules",
            Some(json!(["r1", "term", "x", "hide"])),
            "invalid_rule",
        ),
        (
            Method::POST,
            "/v1/review/1/1/approve",
            Some(json!([null, null])),
            "bad_request",
        ),
    ] {
        let (status, err) = m.call(method.clone(), path, body);
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some(code)),
            "{method} {path}: {err}"
        );
    }
    // Page sizes out of range are brought into it, as before.
    let (status, _) = m.call(Method::GET, "/v1/audit?limit=-5", None);
    assert_eq!(status, 200);
    let (_, list) = m.call(Method::GET, "/v1/rules", None);
    assert_eq!(list["rules"], json!([]));
}

#[test]
fn only_moderators_may_touch_rules() {
    let server = TestServer::start(|_| {});
    let user = server.premium();
    let ingest = server.token("i", Tier::Premium, Role::Ingest, None);
    for path in [
        "/v1/rules",
        "/v1/audit",
        "/v1/classifiers",
        "/v1/rules/export",
    ] {
        assert_eq!(
            call(&server, &user, Method::GET, path, None).0,
            403,
            "{path}"
        );
        assert_eq!(
            call(&server, &ingest, Method::GET, path, None).0,
            403,
            "{path}"
        );
        assert_eq!(
            call(&server, "garbage", Method::GET, path, None).0,
            401,
            "{path}"
        );
    }
    let body = json!({"kind": "term", "pattern": "x", "action": "hide"});
    assert_eq!(
        call(&server, &user, Method::POST, "/v1/rules", Some(body)).0,
        403
    );
}

#[test]
fn a_new_rule_reaches_new_posts_at_once_and_per_country() {
    let server = TestServer::start(|_| {});
    let m = Moderator::new(&server, "m");
    let (status, _) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"id": "kz", "kind": "term", "pattern": "спайс", "action": "hide", "regions": ["KZ"]})),
    );
    assert_eq!(status, 201);
    server.ingest(
        &[
            post("shop_one", 1, 1, "2026-11-20T10:00:00Z", "спайс недорого"),
            post(
                "shop_two",
                2,
                1,
                "2026-11-20T10:00:00Z",
                "С П А Й С недорого",
            ),
        ]
        .join("\n"),
    );
    let search = |country| {
        let token = server.token("u", Tier::Premium, Role::User, Some(country));
        let (_, body, _) = server.search_as(&token, &[("q", "недорого")]);
        let mut keys = TestServer::hit_keys(&body);
        keys.sort();
        keys
    };
    assert_eq!(search("KZ"), Vec::<String>::new());
    assert_eq!(search("DE"), ["shop_one/1", "shop_two/1"]);
}

#[test]
fn export_and_import_round_trip() {
    let server = TestServer::start(|_| {});
    let m = Moderator::new(&server, "m");
    let (status, summary) = m.call(
        Method::POST,
        "/v1/rules/import",
        Some(serde_json::from_str(fixtures::EXAMPLE_RULES).unwrap()),
    );
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["created"], 10);
    let (_, exported) = m.call(Method::GET, "/v1/rules/export", None);
    let exported = exported.as_array().unwrap().clone();
    assert_eq!(exported.len(), 10);
    // Importing the export changes nothing.
    let (_, again) = m.call(
        Method::POST,
        "/v1/rules/import",
        Some(Value::Array(exported)),
    );
    assert_eq!(again, json!({"created": 0, "replaced": 0, "unchanged": 10}));
    // One bad rule refuses the whole import.
    let (status, err) = m.call(
        Method::POST,
        "/v1/rules/import",
        Some(
            json!([{"id": "new", "kind": "term", "pattern": "ok", "action": "hide"},
                    {"id": "bad", "kind": "regex", "pattern": "(", "action": "hide"}]),
        ),
    );
    assert_eq!(status, 400);
    assert!(err["error"]["message"].as_str().unwrap().contains("bad"));
    let (status, _) = m.call(Method::GET, "/v1/rules/new", None);
    assert_eq!(status, 404);
}

#[test]
fn classifier_settings_are_validated_audited_and_kept() {
    let server = TestServer::start(|_| {});
    let m = Moderator::new(&server, "m");
    let (status, current) = m.call(Method::GET, "/v1/classifiers", None);
    assert_eq!(status, 200);
    let mut settings = current["classifiers"].as_array().unwrap().clone();
    assert!(
        settings.iter().any(|c| c["category"] == "spam"),
        "{current}"
    );

    settings[0]["threshold"] = json!(2.0);
    let (status, err) = m.call(
        Method::PUT,
        "/v1/classifiers",
        Some(json!({"classifiers": settings})),
    );
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("threshold")
    );

    settings[0]["threshold"] = json!(0.97);
    let (status, saved) = m.call(
        Method::PUT,
        "/v1/classifiers",
        Some(json!({"classifiers": settings, "note": "fewer false positives"})),
    );
    assert_eq!(status, 200, "{saved}");
    let (_, now) = m.call(Method::GET, "/v1/classifiers", None);
    assert_eq!(now["classifiers"][0]["threshold"], json!(0.97));
    let (_, log) = m.call(Method::GET, "/v1/audit?action=classifiers.update", None);
    assert_eq!(log["entries"][0]["note"], "fewer false positives");
}

#[test]
fn the_audit_log_pages_and_cannot_be_changed_through_the_api() {
    let server = TestServer::start(|_| {});
    let m = Moderator::new(&server, "m");
    for i in 0..5 {
        let body = json!({"kind": "term", "pattern": format!("word{i}"), "action": "hide"});
        assert_eq!(m.call(Method::POST, "/v1/rules", Some(body)).0, 201);
    }
    let (_, page1) = m.call(Method::GET, "/v1/audit?limit=3", None);
    assert_eq!(page1["entries"].as_array().unwrap().len(), 3);
    let before = page1["next_before"].as_i64().unwrap();
    let (_, page2) = m.call(
        Method::GET,
        &format!("/v1/audit?limit=3&before={before}"),
        None,
    );
    assert_eq!(page2["entries"].as_array().unwrap().len(), 2);
    assert!(page2["next_before"].is_null());
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, _) = m.call(method.clone(), "/v1/audit", Some(json!({})));
        assert_eq!(status, 405, "{method}");
    }
}

#[test]
fn rules_take_down_posts_indexed_before_them_and_disabling_brings_them_back() {
    let server = TestServer::start(|_| {});
    server.ingest(
        &[
            post(
                "shop_one",
                1,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty закладки 24/7",
            ),
            post(
                "shop_two",
                2,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty З А К Л А Д К И",
            ),
            post(
                "shop_three",
                3,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty #ЗакладкиKZ",
            ),
            post(
                "news_kz",
                4,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty weather today",
            ),
        ]
        .join("\n"),
    );
    let all = ["news_kz/1", "shop_one/1", "shop_three/1", "shop_two/1"];
    assert_eq!(server.visible_keys("almaty", Some("KZ")), all);

    let m = Moderator::new(&server, "m");
    let (status, rule) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"kind": "term", "pattern": "закладк*", "action": "hide", "regions": ["KZ"]})),
    );
    assert_eq!(status, 201, "{rule}");
    // Effective when the API answers: no wait, no re-ingest.
    assert_eq!(
        server.visible_keys("almaty", Some("KZ")),
        ["news_kz/1"],
        "the spaced letters and the hashtag's words are seen through, as at ingest"
    );
    assert_eq!(server.visible_keys("almaty", Some("DE")), all);

    let (status, _) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"id": "tag", "kind": "hashtag", "pattern": "#закладкиkz", "action": "review"})),
    );
    assert_eq!(status, 201);
    assert_eq!(server.visible_keys("almaty", Some("KZ")), ["news_kz/1"]);
    assert_eq!(
        server.visible_keys("almaty", Some("DE")),
        ["news_kz/1", "shop_one/1", "shop_two/1"]
    );

    // Disabling the hide rule brings its posts back; deleting the review rule too.
    let id = rule["id"].as_str().unwrap();
    let (status, _) = m.call(
        Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"enabled": false})),
    );
    assert_eq!(status, 200);
    let (status, _) = m.call(Method::DELETE, "/v1/rules/tag", None);
    assert_eq!(status, 200);
    assert_eq!(server.visible_keys("almaty", Some("KZ")), all);
}

#[test]
fn a_drop_rule_deletes_indexed_posts_and_keeps_them_out() {
    let server = TestServer::start(|_| {});
    server.ingest(
        &[
            post(
                "shop_one",
                1,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty https://klad-shop.cc/menu",
            ),
            post(
                "shop_two",
                2,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty see cdn.klad-shop.cc/a",
            ),
            post(
                "news_kz",
                3,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty weather today",
            ),
        ]
        .join("\n"),
    );
    let m = Moderator::new(&server, "m");
    let (status, _) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"kind": "domain", "pattern": "klad-shop.cc", "action": "drop"})),
    );
    assert_eq!(status, 201);
    assert_eq!(server.visible_keys("almaty", None), ["news_kz/1"]);
    let (_, ready) = {
        let resp = server.http.get(server.url("/readyz")).send().unwrap();
        (resp.status(), resp.json::<Value>().unwrap())
    };
    assert_eq!(
        ready["docs"], 1,
        "deleted from the index, not only hidden: {ready}"
    );
    // A new version of a dropped post is dropped at ingest.
    let summary = server.ingest(&post(
        "shop_one",
        1,
        1,
        "2026-11-21T10:00:00Z",
        "Almaty https://klad-shop.cc/menu2",
    ));
    assert_eq!(summary["dropped"], 1, "{summary}");
    assert_eq!(server.visible_keys("almaty", None), ["news_kz/1"]);
}

#[test]
fn takedowns_hold_across_restarts() {
    let server = TestServer::start(|_| {});
    server.ingest(&post(
        "shop_one",
        1,
        1,
        "2026-11-20T10:00:00Z",
        "Almaty мефедрон",
    ));
    let m = Moderator::new(&server, "m");
    let (status, _) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"kind": "term", "pattern": "мефедрон", "action": "review"})),
    );
    assert_eq!(status, 201);
    let config = search_api::config::Config {
        data: server.data.path().to_path_buf(),
        secret: Some(crate::server::SECRET.into()),
        ..Default::default()
    };
    let data = server.stop();
    let server = TestServer::start_with(config, data);
    assert_eq!(server.visible_keys("almaty", None), Vec::<String>::new());
}

#[test]
fn preview_counts_and_samples_without_changing_anything() {
    let server = TestServer::start(|_| {});
    server.ingest(
        &[
            post(
                "shop_one",
                1,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty закладки 24/7",
            ),
            post(
                "shop_two",
                2,
                1,
                "2026-11-21T10:00:00Z",
                "Almaty З А К Л А Д К И",
            ),
            post(
                "news_kz",
                3,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty <script>alert(1)</script> продам ствол",
            ),
        ]
        .join("\n"),
    );
    let m = Moderator::new(&server, "m");
    let (status, answer) = m.call(
        Method::POST,
        "/v1/rules/preview?limit=1",
        Some(json!({"kind": "term", "pattern": "закладк*", "action": "hide", "regions": ["KZ"]})),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["matches"], 2);
    assert_eq!(answer["complete"], true);
    let sample = answer["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 1);
    assert_eq!(sample[0]["channel"], "shop_two", "newest first");

    let (status, answer) = m.call(
        Method::POST,
        "/v1/rules/preview",
        Some(json!({"kind": "regex", "pattern": "продам\\s+ствол", "action": "review"})),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["matches"], 1);
    let snippet = answer["sample"][0]["snippet"].as_str().unwrap();
    assert!(!snippet.contains("<script>"), "escaped: {snippet}");

    let (status, err) = m.call(
        Method::POST,
        "/v1/rules/preview",
        Some(json!({"kind": "regex", "pattern": "(", "action": "review"})),
    );
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_rule");

    // Nothing saved, nothing hidden, nothing audited.
    let (_, rules) = m.call(Method::GET, "/v1/rules", None);
    assert_eq!(rules["rules"], json!([]));
    let (_, log) = m.call(Method::GET, "/v1/audit", None);
    assert_eq!(log["entries"], json!([]));
    assert_eq!(server.visible_keys("almaty", Some("KZ")).len(), 3);
    let user = server.premium();
    let (status, _) = call(
        &server,
        &user,
        Method::POST,
        "/v1/rules/preview",
        Some(json!({})),
    );
    assert_eq!(status, 403);
}

/// Polls `check` for up to 30 s (a background scan's effect), returning whether it held.
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn regex_rules_reach_posts_indexed_before_them() {
    let server = TestServer::start(|_| {});
    server.ingest(
        &[
            post(
                "shop_one",
                1,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty casino bonus",
            ),
            post(
                "cafe_kz",
                2,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty cafe opening",
            ),
            post(
                "shop_two",
                3,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty CASINO   Bonus!!",
            ),
        ]
        .join("\n"),
    );
    let all = ["cafe_kz/1", "shop_one/1", "shop_two/1"];
    let m = Moderator::new(&server, "m");
    let (status, hide) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"kind": "regex", "pattern": r"casino\s+bonus", "action": "hide", "regions": ["KZ"]})),
    );
    assert_eq!(status, 201, "{hide}");
    assert!(
        eventually(|| server.visible_keys("almaty", Some("KZ")) == ["cafe_kz/1"]),
        "the scan hides the posts indexed before the rule: {:?}",
        server.visible_keys("almaty", Some("KZ"))
    );
    assert_eq!(server.visible_keys("almaty", Some("DE")), all);

    // A review regex: held for everyone and listed in the queue with the rule.
    let (status, _) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"id": "cafes", "kind": "regex", "pattern": "cafe", "action": "review"})),
    );
    assert_eq!(status, 201);
    assert!(eventually(|| !server
        .visible_keys("almaty", Some("DE"))
        .contains(&"cafe_kz/1".to_string())));
    let (_, queue) = m.call(Method::GET, "/v1/review", None);
    assert_eq!(queue["total"], 1, "{queue}");
    assert_eq!(queue["items"][0]["rules"], json!(["cafes"]));

    // Disabling the hide rule brings its scanned posts back at once.
    let id = hide["id"].as_str().unwrap();
    let (status, _) = m.call(
        Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"enabled": false})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        server.visible_keys("almaty", Some("KZ")),
        ["shop_one/1", "shop_two/1"]
    );

    // A drop regex deletes what it finds.
    let (status, _) = m.call(
        Method::POST,
        "/v1/rules",
        Some(json!({"kind": "regex", "pattern": r"casino\s+bonus!", "action": "drop"})),
    );
    assert_eq!(status, 201);
    let docs = || {
        let resp = server.http.get(server.url("/readyz")).send().unwrap();
        resp.json::<Value>().unwrap()["docs"].as_u64().unwrap()
    };
    assert!(eventually(|| docs() == 2), "docs: {}", docs());
    assert_eq!(server.visible_keys("almaty", Some("KZ")), ["shop_one/1"]);
}
