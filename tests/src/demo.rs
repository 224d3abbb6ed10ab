//! `search-api demo` as a newcomer runs it: it must print working tokens and curl commands.

use crate::support::bin;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn demo_prints_requests_that_return_hits() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin("search-api"))
        .args([
            "demo",
            "--posts",
            "3000",
            "--listen",
            "127.0.0.1:0",
            "--telegram",
            "/nonexistent",
            "--data",
        ])
        .arg(dir.path().join("demo"))
        .env_remove("CHANSEARCH_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut curls = Vec::new();
    let mut tokens = 0;
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.contains("token") && line.contains(": ey") {
            tokens += 1;
        }
        if let Some(cmd) = line
            .trim()
            .strip_prefix("curl -s -H 'Authorization: Bearer ")
        {
            let (token, rest) = cmd.split_once('\'').unwrap();
            let url = rest.trim().trim_matches('\'').to_string();
            curls.push((token.to_string(), url));
        }
        if line.contains("openapi.json") || started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    assert_eq!(
        tokens, 4,
        "premium, free, moderator and ingest tokens are printed"
    );
    assert!(curls.len() >= 3, "at least three ready requests: {curls:?}");
    let http = reqwest::blocking::Client::new();
    for (token, url) in &curls {
        let resp = http.get(url).bearer_auth(token).send().unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        let body: serde_json::Value = resp.json().unwrap();
        assert!(
            !body["hits"].as_array().unwrap().is_empty(),
            "{url} returned no hits: {body}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
