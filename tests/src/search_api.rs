//! The search API end to end: a real server on port 0, posts through /v1/ingest, queries over
//! HTTP.

use crate::server::{TestServer, post};
use search_api::auth::{Role, Tier};
use std::collections::HashSet;

fn days_ago(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn lines(posts: &[String]) -> String {
    posts.join("\n")
}

#[test]
fn ranking_phrase_recency_word_forms_and_tiers() {
    let s = TestServer::start(|_| {});
    let d = days_ago(2);
    s.ingest(&lines(&[
        post("chan_phrase", 1, 1, &d, "a quick brown fox jumps over it"),
        post("chan_phrase", 1, 2, &d, "brown fences and a quick dog"),
        post(
            "chan_recent",
            2,
            1,
            &days_ago(1),
            "fresh harvest report today",
        ),
        post(
            "chan_recent",
            2,
            2,
            &days_ago(300),
            "fresh harvest report today",
        ),
        post("chan_forms", 3, 1, &d, "В библиотеке появились новые книги"),
        post("chan_tiers", 4, 1, &d, "alpha beta gamma together"),
        post("chan_tiers", 4, 2, &d, "alpha beta only two"),
        post("chan_tiers", 4, 3, &d, "alpha alone here"),
    ]));
    // Exact phrase above scattered words.
    let b = s.search(&[("q", "quick brown")]);
    assert_eq!(TestServer::hit_keys(&b), ["chan_phrase/1", "chan_phrase/2"]);
    // Recent above old at equal text.
    let b = s.search(&[("q", "harvest report")]);
    assert_eq!(TestServer::hit_keys(&b), ["chan_recent/1", "chan_recent/2"]);
    // A Russian query finds another word form.
    for q in ["книга", "книгу", "Библиотека"] {
        let b = s.search(&[("q", q)]);
        assert_eq!(TestServer::hit_keys(&b), ["chan_forms/1"], "query {q}");
        assert!(
            b["hits"][0]["snippet"].as_str().unwrap().contains("<mark>"),
            "{b}"
        );
    }
    // All words first, then most of them; a post with one word of three does not qualify.
    let b = s.search(&[("q", "alpha beta gamma")]);
    assert_eq!(TestServer::hit_keys(&b), ["chan_tiers/1", "chan_tiers/2"]);
    assert_eq!(b["estimated_total"], 2);
    // Stop words are never required.
    let b = s.search(&[("q", "the alpha and gamma")]);
    assert_eq!(TestServer::hit_keys(&b)[0], "chan_tiers/1");
}

#[test]
fn every_filter_and_strict_part() {
    let s = TestServer::start(|_| {});
    let photo = serde_json::json!([{"kind": "photo", "sha256": "ab".repeat(32)}]);
    let mut kk = serde_json::json!({"channel_id": 10, "channel": "kz_news", "post_id": 1,
        "date": "2026-03-10T12:00:00Z", "text": "Astana market news #economy", "lang": "kk"});
    kk["media"] = photo;
    s.ingest(&lines(&[
        kk.to_string(),
        post(
            "ru_news",
            11,
            1,
            "2026-05-10T12:00:00Z",
            "Astana market news today $TON",
        ),
        post(
            "ru_news",
            11,
            2,
            "2026-07-10T12:00:00Z",
            "Astana market closed early",
        ),
        post(
            "en_news",
            12,
            1,
            "2026-07-11T12:00:00Z",
            "Astana <script>alert(1)</script> market",
        ),
    ]));
    let keys = |params: &[(&str, &str)]| TestServer::hit_keys(&s.search(params));
    assert_eq!(keys(&[("q", "astana"), ("lang", "kk")]), ["kz_news/1"]);
    assert_eq!(
        keys(&[("q", "astana"), ("channel", "ru_news"), ("sort", "date")]),
        ["ru_news/2", "ru_news/1"]
    );
    assert_eq!(keys(&[("q", "astana"), ("media", "photo")]), ["kz_news/1"]);
    assert_eq!(
        keys(&[
            ("q", "astana"),
            ("media", "none"),
            ("channel", "ru_news"),
            ("sort", "date")
        ])
        .len(),
        2
    );
    assert_eq!(
        keys(&[
            ("q", "astana"),
            ("from", "2026-05-01"),
            ("to", "2026-06-01")
        ]),
        ["ru_news/1"]
    );
    assert_eq!(
        keys(&[
            ("q", "astana"),
            ("from", "2026-07-10T12:00:00Z"),
            ("sort", "date")
        ]),
        ["en_news/1", "ru_news/2"]
    );
    assert_eq!(
        keys(&[("q", "astana"), ("sort", "date")]),
        ["en_news/1", "ru_news/2", "ru_news/1", "kz_news/1"]
    );
    assert_eq!(
        keys(&[("q", "astana -closed -script"), ("sort", "date")]),
        ["ru_news/1", "kz_news/1"]
    );
    assert_eq!(keys(&[("q", "#economy")]), ["kz_news/1"]);
    assert_eq!(keys(&[("q", "$ton")]), ["ru_news/1"]);
    assert_eq!(
        keys(&[("q", "market @ru_news"), ("sort", "date")]),
        ["ru_news/2", "ru_news/1"]
    );
    assert_eq!(keys(&[("q", "\"market closed\"")]), ["ru_news/2"]);
    assert_eq!(
        keys(&[("q", "astana -\"market closed\""), ("sort", "date")]).len(),
        3
    );
    assert_eq!(keys(&[("q", "astana"), ("limit", "2")]).len(), 2);
    // Snippets escape HTML everywhere but the marks.
    let b = s.search(&[("q", "script alert")]);
    let snippet = b["hits"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("&lt;<mark>script</mark>&gt;"), "{snippet}");
    assert!(!snippet.contains("<script>"));
    let hit = &b["hits"][0];
    assert_eq!(hit["url"], "https://t.me/en_news/1");
    for field in [
        "channel_id",
        "channel",
        "channel_title",
        "post_id",
        "date",
        "lang",
        "snippet",
        "views",
        "score",
    ] {
        assert!(hit.get(field).is_some(), "hit lacks {field}: {hit}");
    }
    assert!(b["took_ms"].as_f64().is_some());
    assert!(b.get("quota").is_none(), "premium answers carry no quota");
}

#[test]
fn cursors_page_without_duplicates_or_gaps_while_posts_arrive() {
    let s = TestServer::start(|_| {});
    let first: Vec<String> = (1..=45)
        .map(|i| {
            post(
                "paging_chan",
                20,
                i,
                &days_ago(i as i64),
                &format!("paging test number {i}"),
            )
        })
        .collect();
    s.ingest(&lines(&first));
    for sort in ["relevance", "date"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut extra = 1000;
        loop {
            let mut params = vec![("q", "paging"), ("limit", "7"), ("sort", sort)];
            if let Some(c) = &cursor {
                params.push(("cursor", c.as_str()));
            }
            let b = s.search(&params);
            seen.extend(TestServer::hit_keys(&b));
            // New matching posts, some newer and some older than everything, arrive between pages.
            extra += 1;
            s.ingest(&lines(&[
                post("paging_chan", 20, extra, &days_ago(0), "paging newcomer"),
                post(
                    "paging_chan",
                    20,
                    extra + 500,
                    &days_ago(400),
                    "paging oldcomer",
                ),
            ]));
            match b["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort}: duplicates across pages: {seen:?}"
        );
        for i in 1..=45 {
            assert!(
                seen.contains(&format!("paging_chan/{i}")),
                "{sort}: post {i} was skipped"
            );
        }
    }
}

#[test]
fn quota_and_rate_limits() {
    let s = TestServer::start(|c| c.limits.daily_free = 2);
    s.ingest(&post("quota_chan", 30, 1, &days_ago(1), "quota words here"));
    let free = s.token("free-1", Tier::Free, Role::User, None);
    for left in [1, 0] {
        let (status, b, _) = s.search_as(&free, &[("q", "quota")]);
        assert_eq!(status, 200);
        assert_eq!(b["quota"]["daily_free"], 2);
        assert_eq!(b["quota"]["remaining"], left);
    }
    let (status, b, headers) = s.search_as(&free, &[("q", "quota")]);
    assert_eq!(status, 429);
    assert_eq!(b["error"]["code"], "quota_exhausted");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry));
    // Another free user has their own quota; premium has none.
    let (status, _, _) = s.search_as(
        &s.token("free-2", Tier::Free, Role::User, None),
        &[("q", "quota")],
    );
    assert_eq!(status, 200);

    let s = TestServer::start(|c| {
        c.limits.rate_per_second = 1;
        c.limits.rate_burst = 2;
    });
    let token = s.premium();
    let statuses: Vec<u16> = (0..3)
        .map(|_| s.search_as(&token, &[("q", "x")]).0)
        .collect();
    assert_eq!(statuses, [200, 200, 429]);
    let (_, b, headers) = s.search_as(&token, &[("q", "x")]);
    assert_eq!(b["error"]["code"], "rate_limited");
    assert!(headers.contains_key("retry-after"));
}

#[test]
fn every_auth_failure() {
    let s = TestServer::start(|_| {});
    let resp = s.http.get(s.url("/v1/search?q=x")).send().unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(s.search_as("garbage", &[("q", "x")]).0, 401);
    let other = search_api::auth::Keys::new("a-different-secret-here");
    let forged = other
        .mint(&search_api::auth::claims(
            "u",
            Tier::Premium,
            Role::User,
            None,
            3600,
        ))
        .unwrap();
    assert_eq!(s.search_as(&forged, &[("q", "x")]).0, 401);
    let mut expired = search_api::auth::claims("u", Tier::Premium, Role::User, None, 3600);
    expired.exp = 1_000_000;
    assert_eq!(
        s.search_as(&s.keys.mint(&expired).unwrap(), &[("q", "x")])
            .0,
        401
    );
    let ingest = s.token("i", Tier::Premium, Role::Ingest, None);
    let (status, b, _) = s.search_as(&ingest, &[("q", "x")]);
    assert_eq!(
        (status, b["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let resp = s
        .http
        .post(s.url("/v1/ingest"))
        .bearer_auth(s.premium())
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    let moderator = s.token("m", Tier::Premium, Role::Moderator, None);
    assert_eq!(s.search_as(&moderator, &[("q", "x")]).0, 200);
}

#[test]
fn bad_queries_are_400_never_500() {
    let s = TestServer::start(|_| {});
    s.ingest(&post("bad_chan", 40, 1, &days_ago(1), "some words"));
    let token = s.premium();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("q", "\"unclosed")], "bad_query"),
        (&[("q", "")], "bad_query"),
        (&[], "bad_query"),
        (&[("q", "-only")], "bad_query"),
        (&[("q", "@ab")], "bad_query"),
        (&[("q", "x"), ("limit", "0")], "bad_request"),
        (&[("q", "x"), ("limit", "101")], "bad_request"),
        (&[("q", "x"), ("sort", "best")], "bad_request"),
        (&[("q", "x"), ("media", "gif")], "bad_request"),
        (&[("q", "x"), ("from", "yesterday")], "bad_request"),
        (
            &[("q", "x"), ("from", "2026-02-01"), ("to", "2026-01-01")],
            "bad_request",
        ),
        (&[("q", "x"), ("lang", "rus")], "bad_request"),
        (&[("q", "x"), ("channel", "a b")], "bad_request"),
        (&[("q", "x"), ("page", "2")], "bad_request"),
        (&[("q", "x"), ("cursor", "not-a-cursor")], "bad_cursor"),
    ];
    for (params, code) in cases {
        let (status, b, _) = s.search_as(&token, params);
        assert_eq!(
            (status, b["error"]["code"].as_str()),
            (400, Some(*code)),
            "{params:?}: {b}"
        );
        assert!(!b["error"]["message"].as_str().unwrap().is_empty());
    }
    // A cursor from another query is refused.
    let (_, b, _) = s.search_as(&token, &[("q", "some"), ("limit", "1")]);
    assert!(b["next_cursor"].is_null(), "one post, one page");
    s.ingest(&post("bad_chan", 40, 2, &days_ago(1), "some more words"));
    let (_, b, _) = s.search_as(&token, &[("q", "some"), ("limit", "1")]);
    let cursor = b["next_cursor"].as_str().unwrap().to_string();
    let (status, b, _) = s.search_as(
        &token,
        &[("q", "words"), ("limit", "1"), ("cursor", &cursor)],
    );
    assert_eq!(
        (status, b["error"]["code"].as_str()),
        (400, Some("bad_cursor"))
    );
    // Garbage never makes a 5xx.
    let alphabet: Vec<char> = "ab -\"#$@()*:^~!\\ё中\u{200b}".chars().collect();
    let mut state = 7u64;
    for n in 0..200 {
        let q: String = (0..(n % 23))
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                alphabet[(state >> 33) as usize % alphabet.len()]
            })
            .collect();
        let (status, b, _) = s.search_as(&token, &[("q", &q)]);
        assert!(status == 200 || status == 400, "q={q:?}: {status} {b}");
    }
}

#[test]
fn ingest_reports_bad_lines_and_posts_are_searchable_on_answer() {
    let s = TestServer::start(|_| {});
    let body = [
        post("live_chan", 50, 1, &days_ago(1), "instant visibility check"),
        "{broken".to_string(),
        String::new(),
        r#"{"channel_id":50,"channel":"live_chan","post_id":2,"date":"nope","text":"x"}"#
            .to_string(),
        r#"{"op":"delete","channel_id":50,"post_id":9}"#.to_string(),
    ]
    .join("\n");
    let answer = s.ingest(&body);
    assert_eq!(answer["read"], 4);
    assert_eq!(answer["indexed"], 1);
    assert_eq!(answer["rejected"], 2);
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[1]["line"], 4);
    assert!(errors[1]["reason"].as_str().unwrap().contains("RFC 3339"));
    // Searchable as soon as the ingest was answered.
    assert_eq!(
        TestServer::hit_keys(&s.search(&[("q", "visibility")])),
        ["live_chan/1"]
    );
    // A late edit does not win; a delete removes.
    s.ingest(
        &serde_json::json!({"channel_id":50,"channel":"live_chan","post_id":1,
        "date": days_ago(3), "text":"stale version"})
        .to_string(),
    );
    assert_eq!(
        TestServer::hit_keys(&s.search(&[("q", "visibility")])).len(),
        1
    );
    s.ingest(r#"{"op":"delete","channel_id":50,"post_id":1}"#);
    assert!(TestServer::hit_keys(&s.search(&[("q", "visibility")])).is_empty());
}

#[test]
fn operations_endpoints() {
    let s = TestServer::start(|_| {});
    s.ingest(&post("ops_chan", 60, 1, &days_ago(1), "metrics words"));
    s.search(&[("q", "metrics")]);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            s.http.get(s.url(path)).send().unwrap().status(),
            200,
            "{path}"
        );
    }
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for name in [
        "chansearch_http_requests_total{route=\"/v1/search\",status=\"200\"}",
        "chansearch_http_request_duration_seconds",
        "chansearch_index_docs",
        "chansearch_commits_total",
        "chansearch_docs_indexed_total",
    ] {
        assert!(metrics.contains(name), "metrics lack {name}:\n{metrics}");
    }
    let spec: serde_json::Value = s
        .http
        .get(s.url("/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(spec["paths"]["/v1/search"]["get"].is_object(), "{spec}");
    assert!(spec["paths"]["/v1/ingest"]["post"].is_object());
    let resp = s.http.get(s.url("/nope")).send().unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers().contains_key("x-request-id"));
    let body: serde_json::Value = resp.json().unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[test]
fn posts_survive_a_restart() {
    let s = TestServer::start(|_| {});
    s.ingest(&post("restart_chan", 70, 1, &days_ago(1), "durable words"));
    let data = s.stop();
    let mut config = search_api::config::Config {
        data: data.path().to_path_buf(),
        secret: Some(crate::server::SECRET.into()),
        ..Default::default()
    };
    config.limits.rate_burst = 100;
    let s = TestServer::start_with(config, data);
    assert_eq!(
        TestServer::hit_keys(&s.search(&[("q", "durable")])),
        ["restart_chan/1"]
    );
}
