//! `indexer ingest` and `indexer stats` as a user runs them.

use crate::support::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn ingest(data: &std::path::Path, files: &[&std::path::Path]) -> serde_json::Value {
    let mut cmd = Command::new(bin("indexer"));
    cmd.arg("ingest")
        .arg("--data")
        .arg(data)
        .arg("--quiet")
        .args(files);
    last_json(&run_ok(&mut cmd))
}

#[test]
fn sample_ingest_follows_upsert_late_edit_and_delete_rules() {
    let dir = tempfile::tempdir().unwrap();
    let input = std::fs::read(sample_path()).unwrap();
    let expected = expected_posts(&input);
    let summary = ingest(dir.path(), &[&sample_path()]);
    let lines = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    assert_eq!(summary["read"], lines);
    assert_eq!(summary["rejected"], 0);
    assert!(
        summary["stale"].as_u64().unwrap() > 0,
        "the sample has late edits: {summary}"
    );
    assert!(
        summary["deleted"].as_u64().unwrap() > 0,
        "the sample has deletes: {summary}"
    );
    for field in ["read", "indexed", "dropped", "rejected", "elapsed_s"] {
        assert!(
            summary.get(field).is_some(),
            "summary lacks {field}: {summary}"
        );
    }
    assert_index_matches(dir.path(), &expected);

    let stats = last_json(&run_ok(
        Command::new(bin("indexer"))
            .args(["stats", "--data"])
            .arg(dir.path()),
    ));
    assert_eq!(stats["docs"], expected.len() as u64);
    assert!(stats["segments"].as_u64().unwrap() >= 1);
    assert!(stats["size_bytes"].as_u64().unwrap() > 10_000);
    assert!(stats["last_commit"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn bad_lines_are_rejected_with_line_numbers_and_the_rest_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(sample_path()).unwrap();
    let good: Vec<&str> = good.lines().take(50).collect();
    let long_text = format!(
        r#"{{"channel_id":9,"channel":"long_one","post_id":1,"date":"2026-01-01T00:00:00Z","text":"{}"}}"#,
        "a".repeat(70_000)
    );
    let mut input: Vec<u8> = Vec::new();
    let bad: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), "not a JSON object"),
        (br#"{"channel":"abcd","post_id":1,"date":"2026-01-01T00:00:00Z","text":"x"}"#.to_vec(), "missing field channel_id"),
        (br#"{"channel_id":1,"channel":"abcd","post_id":1,"date":"01/01/2026","text":"x"}"#.to_vec(), "RFC 3339"),
        (long_text.into_bytes(), "65536-byte limit"),
        (b"{\"channel_id\":1,\"channel\":\"abcd\",\"post_id\":1,\"date\":\"2026-01-01T00:00:00Z\",\"text\":\"\xff\"}".to_vec(), "invalid UTF-8"),
    ];
    let mut bad_lines = Vec::new();
    let mut line = 0;
    for (i, g) in good.iter().enumerate() {
        input.extend_from_slice(g.as_bytes());
        input.push(b'\n');
        line += 1;
        if i % 10 == 3 {
            let (raw, reason) = &bad[bad_lines.len()];
            input.extend_from_slice(raw);
            input.push(b'\n');
            line += 1;
            bad_lines.push((line, *reason));
        }
    }
    assert_eq!(bad_lines.len(), bad.len());
    let file = dir.path().join("input.ndjson");
    std::fs::write(&file, &input).unwrap();
    let data = dir.path().join("data");
    let summary = ingest(&data, &[&file]);
    assert_eq!(summary["rejected"], bad.len() as u64);
    assert_index_matches(&data, &expected_posts(&input));
    let rejected = std::fs::read_to_string(data.join("rejected.ndjson")).unwrap();
    let records: Vec<serde_json::Value> = rejected
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), bad_lines.len());
    for (record, (line, reason)) in records.iter().zip(&bad_lines) {
        assert_eq!(record["line"], *line, "{record}");
        assert!(
            record["reason"].as_str().unwrap().contains(reason),
            "{record}"
        );
        assert!(record["source"].as_str().unwrap().ends_with("input.ndjson"));
        assert!(record.get("raw").is_some());
    }
}

#[test]
fn stdin_ingest_and_reruns_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let input = std::fs::read(sample_path()).unwrap();
    let expected = expected_posts(&input);
    let mut child = Command::new(bin("indexer"))
        .args(["ingest", "--quiet", "--data"])
        .arg(dir.path())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    assert_index_matches(dir.path(), &expected);

    // The same posts from a file change nothing (stdin leaves no checkpoint, so it is read).
    let first = ingest(dir.path(), &[&sample_path()]);
    assert_eq!(
        first["read"].as_u64().unwrap(),
        input
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64
    );
    assert_index_matches(dir.path(), &expected);
    // A file fully indexed before is skipped; --from-start indexes it again, without duplicates.
    let again = ingest(dir.path(), &[&sample_path()]);
    assert_eq!(again["skipped_sources"], 1);
    let forced = last_json(&run_ok(
        Command::new(bin("indexer"))
            .args(["ingest", "--quiet", "--from-start", "--data"])
            .arg(dir.path())
            .arg(sample_path()),
    ));
    assert!(forced["read"].as_u64().unwrap() > 0);
    assert_index_matches(dir.path(), &expected);
}

#[test]
fn a_locked_index_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // As a running server holds it: rules database first, then the index writer.
    moderation::Store::open(dir.path()).unwrap();
    let store = indexer::store::Store::open(dir.path(), &Default::default()).unwrap();
    let out = Command::new(bin("indexer"))
        .args(["ingest", "--quiet", "--data"])
        .arg(dir.path())
        .arg(sample_path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("locked by another writer"), "{stderr}");
    assert!(stderr.contains("search-api serve"), "{stderr}");
    drop(store);
}

#[test]
fn help_answers_for_every_command() {
    for args in [
        &["--help"][..],
        &["ingest", "--help"],
        &["stats", "--help"],
        &["langid-eval", "--help"],
    ] {
        let out = run_ok(Command::new(bin("indexer")).args(args));
        assert!(out.contains("Usage"), "{out}");
    }
}
