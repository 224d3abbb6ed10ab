//! The review queue over HTTP: what is held (by a rule at ingest or a review rule over the
//! index) is listed with why, paged; approving shows the post to users at once and survives
//! a restart; rejecting removes it and keeps the same version out; an edit is judged afresh;
//! every decision is audited; stale, unknown and unheld posts get clear errors.

use crate::server::{SECRET, TestServer, post};
use reqwest::Method;
use search_api::auth::{Role, Tier};
use serde_json::{Value, json};

const RULES: &str = r#"[
  {"id": "casino", "kind": "regex", "pattern": "casino\\s+bonus", "action": "review"},
  {"id": "meph", "kind": "term", "pattern": "мефедрон", "action": "review"}
]"#;

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

fn queue(server: &TestServer, token: &str, query: &str) -> Value {
    let (status, page) = call(
        server,
        token,
        Method::GET,
        &format!("/v1/review{query}"),
        None,
    );
    assert_eq!(status, 200, "{page}");
    page
}

fn keys(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["post"]["channel"].as_str().unwrap(),
                i["post"]["post_id"]
            )
        })
        .collect()
}

fn edited(channel: &str, channel_id: u64, post_id: u64, edit_date: &str, text: &str) -> String {
    json!({
        "channel_id": channel_id, "channel": channel, "post_id": post_id,
        "date": "2026-11-20T10:00:00Z", "edit_date": edit_date, "text": text, "views": 100,
    })
    .to_string()
}

#[test]
fn held_posts_are_listed_approved_rejected_and_audited() {
    let server = TestServer::start_with_rules(RULES, |_| {});
    server.ingest(
        &[
            post(
                "shop_one",
                1,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty casino  bonus today",
            ),
            post("shop_two", 2, 1, "2026-11-20T11:00:00Z", "Almaty мефедрон"),
            post("news_kz", 3, 1, "2026-11-20T12:00:00Z", "Almaty weather"),
            post(
                "shop_three",
                4,
                1,
                "2026-11-20T13:00:00Z",
                "Almaty Casino Bonus again",
            ),
        ]
        .join("\n"),
    );
    assert_eq!(server.visible_keys("almaty", None), ["news_kz/1"]);
    let m = server.token("mia", Tier::Premium, Role::Moderator, None);

    // Oldest first, with what held each post; paged.
    let all = queue(&server, &m, "");
    assert_eq!(all["total"], 3, "{all}");
    assert_eq!(keys(&all), ["shop_one/1", "shop_two/1", "shop_three/1"]);
    let first = &all["items"][0];
    assert_eq!(first["reasons"][0]["source"], "rule:casino", "{first}");
    assert_eq!(first["text"], "Almaty casino  bonus today");
    assert_eq!(all["items"][1]["rules"], json!(["meph"]));
    let page1 = queue(&server, &m, "?limit=2");
    assert_eq!(keys(&page1), ["shop_one/1", "shop_two/1"]);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = queue(&server, &m, &format!("?limit=2&cursor={cursor}"));
    assert_eq!(keys(&page2), ["shop_three/1"]);
    assert!(page2["next_cursor"].is_null());
    assert_eq!(
        keys(&queue(&server, &m, "?order=newest&limit=1")),
        ["shop_three/1"]
    );
    let (status, bad) = call(&server, &m, Method::GET, "/v1/review?cursor=nonsense", None);
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("bad_cursor"))
    );

    // Only moderators.
    let user = server.token("u", Tier::Premium, Role::User, None);
    assert_eq!(call(&server, &user, Method::GET, "/v1/review", None).0, 403);
    assert_eq!(
        call(&server, &user, Method::POST, "/v1/review/1/1/approve", None).0,
        403
    );

    // Approve: a stale version is refused; the right one shows the post at once.
    let version = first["version"].as_i64().unwrap();
    let (status, stale) = call(
        &server,
        &m,
        Method::POST,
        "/v1/review/1/1/approve",
        Some(json!({"version": version - 60})),
    );
    assert_eq!(status, 409, "{stale}");
    let (status, done) = call(
        &server,
        &m,
        Method::POST,
        "/v1/review/1/1/approve",
        Some(json!({"version": version, "note": "a casino review, not an ad"})),
    );
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["decision"]["decision"], "approve");
    assert_eq!(
        server.visible_keys("almaty", None),
        ["news_kz/1", "shop_one/1"]
    );
    let (status, _) = call(&server, &m, Method::POST, "/v1/review/1/1/approve", None);
    assert_eq!(status, 200, "approving twice is a repeat, not an error");

    // Reject: gone from the queue and the index; the same version sent again stays out.
    let (status, done) = call(&server, &m, Method::POST, "/v1/review/2/1/reject", None);
    assert_eq!(status, 200, "{done}");
    assert_eq!(keys(&queue(&server, &m, "")), ["shop_three/1"]);
    let summary = server.ingest(&post(
        "shop_two",
        2,
        1,
        "2026-11-20T11:00:00Z",
        "Almaty мефедрон",
    ));
    assert_eq!(summary["stale"], 1, "{summary}");
    assert_eq!(keys(&queue(&server, &m, "")), ["shop_three/1"]);

    // An edit of the approved post is a new version: held again while it still matches.
    server.ingest(&edited(
        "shop_one",
        1,
        1,
        "2026-11-21T10:00:00Z",
        "Almaty casino bonus x2",
    ));
    assert_eq!(
        keys(&queue(&server, &m, "")),
        ["shop_one/1", "shop_three/1"]
    );
    assert_eq!(server.visible_keys("almaty", None), ["news_kz/1"]);
    server.ingest(&edited(
        "shop_one",
        1,
        1,
        "2026-11-22T10:00:00Z",
        "Almaty cafe reviews",
    ));
    assert_eq!(
        server.visible_keys("almaty", None),
        ["news_kz/1", "shop_one/1"]
    );

    // Errors that say what is wrong.
    let expect = |path: &str, status: u16, code: &str| {
        let (got, body) = call(&server, &m, Method::POST, path, None);
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
    };
    expect("/v1/review/9/9/approve", 404, "not_found");
    expect("/v1/review/4/1/promote", 404, "not_found");
    expect("/v1/review/3/1/approve", 409, "conflict");
    let (status, _) = call(
        &server,
        &m,
        Method::POST,
        "/v1/review/4/1/approve",
        Some(json!("x")),
    );
    assert_eq!(status, 400);

    // The audit log tells who decided what about which post, and why.
    let (_, log) = call(&server, &m, Method::GET, "/v1/audit?target=post:1/1", None);
    let entry = &log["entries"][0];
    assert_eq!(entry["action"], "review.approve", "{log}");
    assert_eq!(entry["actor"], "mia");
    assert_eq!(entry["note"], "a casino review, not an ad");
    assert_eq!(entry["new"]["held"]["reasons"][0]["source"], "rule:casino");
    let (_, log) = call(
        &server,
        &m,
        Method::GET,
        "/v1/audit?action=review.reject",
        None,
    );
    assert_eq!(log["entries"][0]["target"], "post:2/1", "{log}");

    // Approvals and rejections hold across a restart.
    let (status, _) = call(&server, &m, Method::POST, "/v1/review/4/1/approve", None);
    assert_eq!(status, 200);
    let config = search_api::config::Config {
        data: server.data.path().to_path_buf(),
        secret: Some(SECRET.into()),
        ..Default::default()
    };
    let data = server.stop();
    let server = TestServer::start_with(config, data);
    assert_eq!(
        server.visible_keys("almaty", None),
        ["news_kz/1", "shop_one/1", "shop_three/1"]
    );
    let m = server.token("mia", Tier::Premium, Role::Moderator, None);
    assert_eq!(queue(&server, &m, "")["total"], 0);
    let summary = server.ingest(&post(
        "shop_two",
        2,
        1,
        "2026-11-20T11:00:00Z",
        "Almaty мефедрон",
    ));
    assert_eq!(summary["stale"], 1, "{summary}");
}

/// Verdicts stored at ingest (a regex rule's hide, everywhere or in one country) are hidden
/// by the takedown sets too, on every query path: one word (the pruned bare term union, whose
/// collector and count consult the sets), two words, a phrase and a filter; counts included.
#[test]
fn stored_hides_are_hidden_on_every_query_path() {
    const RULES: &str = r#"[
      {"id": "kz", "kind": "regex", "pattern": "spice\\s+delivery", "action": "hide", "regions": ["KZ"]},
      {"id": "all", "kind": "regex", "pattern": "fake\\s+passports", "action": "hide"}
    ]"#;
    let server = TestServer::start_with_rules(RULES, |_| {});
    server.ingest(
        &[
            post(
                "shop_one",
                1,
                1,
                "2026-11-20T10:00:00Z",
                "Almaty market spice delivery",
            ),
            post(
                "shop_two",
                2,
                1,
                "2026-11-20T11:00:00Z",
                "Almaty market fake passports",
            ),
            post(
                "news_kz",
                3,
                1,
                "2026-11-20T12:00:00Z",
                "Almaty market prices",
            ),
        ]
        .join("\n"),
    );
    for q in [
        "almaty",
        "almaty market",
        "\"almaty market\"",
        "market @shop_one",
    ] {
        let kz = server.visible_keys(q, Some("KZ"));
        let de = server.visible_keys(q, Some("DE"));
        assert!(!kz.contains(&"shop_one/1".to_string()), "{q}: {kz:?}");
        assert!(!kz.contains(&"shop_two/1".to_string()), "{q}: {kz:?}");
        assert!(!de.contains(&"shop_two/1".to_string()), "{q}: {de:?}");
    }
    assert_eq!(server.visible_keys("almaty", Some("KZ")), ["news_kz/1"]);
    assert_eq!(
        server.visible_keys("almaty", Some("DE")),
        ["news_kz/1", "shop_one/1"]
    );
    assert_eq!(server.visible_keys("spice", None), ["shop_one/1"]);
    assert!(server.visible_keys("passports", None).is_empty());
}
