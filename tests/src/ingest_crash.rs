//! Crash safety of `indexer ingest`: SIGKILL at random moments, run again, and the index holds
//! every post exactly once, with the late-edit and delete rules intact.

use crate::support::*;
use rand::{RngExt, SeedableRng};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Kill points per run here; the documented full run uses more (`CRASH_KILLS=40`).
fn kills() -> usize {
    std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

#[test]
fn killed_ingest_resumes_to_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.ndjson");
    run_ok(
        Command::new(bin("fixtures"))
            .args([
                "gen",
                "--posts",
                "40000",
                "--seed",
                "7",
                "--updates",
                "0.1",
                "--out",
            ])
            .arg(&corpus),
    );
    // Sprinkle bad lines so that rejected.ndjson's exactly-once is checked too.
    let mut input = std::fs::read(&corpus).unwrap();
    let mut with_bad = Vec::with_capacity(input.len() + 1000);
    let mut bad = 0;
    for (i, line) in input.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        with_bad.extend_from_slice(line);
        with_bad.push(b'\n');
        if i % 997 == 500 {
            with_bad.extend_from_slice(b"{broken\n");
            bad += 1;
        }
    }
    input = with_bad;
    std::fs::write(&corpus, &input).unwrap();
    let expected = expected_posts(&input);
    let data = dir.path().join("data");

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut killed = 0;
    for _ in 0..kills() {
        let mut child = Command::new(bin("indexer"))
            .args(["ingest", "--quiet", "--commit-interval", "0.05", "--data"])
            .arg(&data)
            .arg(&corpus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(50..1500)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        // The index opens after every kill.
        let _ = indexed_posts(&data);
    }
    assert!(killed > 0, "no run was killed: make the corpus bigger");
    let summary = last_json(&run_ok(
        Command::new(bin("indexer"))
            .args(["ingest", "--quiet", "--data"])
            .arg(&data)
            .arg(&corpus),
    ));
    assert_eq!(
        summary["skipped_sources"].as_u64().unwrap() + summary["read"].as_u64().unwrap().min(1),
        1
    );
    assert_index_matches(&data, &expected);
    let rejected = std::fs::read_to_string(data.join("rejected.ndjson")).unwrap();
    let mut lines: Vec<u64> = rejected
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let n = lines.len();
    lines.dedup();
    assert_eq!(lines.len(), n, "a rejected line was recorded twice");
    assert_eq!(n, bad, "every bad line recorded once");
}
