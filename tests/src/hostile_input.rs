//! Hostile input is refused with a clear 4xx and the JSON error shape, and loses nothing else:
//! oversized bodies, lines, queries and rules; deeply nested JSON; regexes built to blow up.

use crate::server::{TestServer, post};
use reqwest::Method;
use search_api::auth::{Role, Tier};
use serde_json::{Value, json};

fn send(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: String,
) -> (u16, Value) {
    let resp = server
        .http
        .request(method, server.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{path}: {status} is not a JSON error: {text:?}"));
    (status, body)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[test]
fn oversized_and_nested_input_is_refused_clearly() {
    let server = TestServer::start(|c| c.limits.max_body_bytes = 256 << 10);
    let ingest = server.token("i", Tier::Premium, Role::Ingest, None);
    let moderator = server.token("m", Tier::Premium, Role::Moderator, None);

    // A body over the limit, on every route that takes one.
    let big = "x".repeat(300 << 10);
    for (method, path) in [
        (Method::POST, "/v1/ingest"),
        (Method::POST, "/v1/rules"),
        (Method::POST, "/v1/rules/import"),
        (Method::POST, "/v1/rules/preview"),
        (Method::PUT, "/v1/classifiers"),
    ] {
        let token = if path == "/v1/ingest" {
            &ingest
        } else {
            &moderator
        };
        let (status, body) = send(&server, token, method, path, big.clone());
        assert_eq!(
            (status, code(&body)),
            (413, "payload_too_large"),
            "{path}: {body}"
        );
    }

    // A line over the text limit and a deeply nested line: rejected with their numbers, the
    // rest indexed.
    let long = post(
        "big_one",
        1,
        1,
        "2026-11-20T10:00:00Z",
        &"word ".repeat(14_000),
    );
    let nested = format!("{}{}", "[".repeat(40_000), "]".repeat(40_000));
    let lines = [
        post("fine_one", 2, 1, "2026-11-20T10:00:00Z", "Almaty fine"),
        long,
        nested.clone(),
        post("fine_two", 3, 1, "2026-11-20T10:00:00Z", "Almaty fine too"),
    ]
    .join("\n");
    let (status, summary) = send(&server, &ingest, Method::POST, "/v1/ingest", lines);
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["indexed"], 2, "{summary}");
    let errors: Vec<u64> = summary["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, [2, 3], "{summary}");
    assert!(
        summary["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("limit"),
        "{summary}"
    );

    // A query over the length limit.
    let user = server.premium();
    let q = "слово ".repeat(200);
    let (status, body, _) = server.search_as(&user, &[("q", &q)]);
    assert_eq!((status, code(&body)), (400, "bad_query"), "{body}");

    // Rules: a huge pattern, a regex that compiles too big, nested JSON.
    for (rule, why) in [
        (
            json!({"kind": "term", "pattern": "a".repeat(5000), "action": "hide"}),
            "bytes long",
        ),
        (
            json!({"kind": "regex", "pattern": "(\\w{100}){100}", "action": "hide"}),
            "compiles to more than",
        ),
    ] {
        let (status, body) = send(
            &server,
            &moderator,
            Method::POST,
            "/v1/rules",
            rule.to_string(),
        );
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_rule"),
            "{rule}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
    }
    // Nested stars are no threat to Rust's regex (no backtracking): a preview over the
    // indexed posts answers.
    let star =
        json!({"kind": "regex", "pattern": "((((((((((a*)*)*)*)*)*)*)*)*)*)*b", "action": "hide"});
    let (status, body) = send(
        &server,
        &moderator,
        Method::POST,
        "/v1/rules/preview",
        star.to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &server,
        &moderator,
        Method::POST,
        "/v1/rules",
        nested.clone(),
    );
    assert_eq!((status, code(&body)), (400, "invalid_rule"), "{body}");
    let (status, body) = send(
        &server,
        &moderator,
        Method::POST,
        "/v1/rules/import",
        nested,
    );
    assert_eq!((status, code(&body)), (400, "invalid_rule"), "{body}");

    // Nothing of it changed the rules, and the good posts are searchable.
    let (_, rules) = send(&server, &moderator, Method::GET, "/v1/rules", String::new());
    assert_eq!(rules["rules"], json!([]), "{rules}");
    assert_eq!(
        server.visible_keys("almaty", None),
        ["fine_one/1", "fine_two/1"]
    );
}
