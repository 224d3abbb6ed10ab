//! loadbench's smoke run (issue 6): a few seconds against a real test server, so the tool
//! does not rot. Checks the contract's summary line, the results file, the chart, and that a
//! run compared with itself shows no significant change.

use crate::server::TestServer;
use crate::support::{bin, last_json, run_ok};
use std::process::Command;

#[test]
fn loadbench_smoke_run_against_a_test_server() {
    let server = TestServer::start(|_| {});
    let ingested = server.ingest(fixtures::SAMPLE);
    assert!(ingested["indexed"].as_u64().unwrap() > 500, "{ingested}");
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("queries.txt");
    std::fs::write(
        &queries,
        "# words of the committed sample\nновости\nq=news&sort=date\n#crypto\n\"breaking news\"\nq=новости&pages=2\n",
    )
    .unwrap();
    let (out, chart) = (dir.path().join("run.json"), dir.path().join("run.svg"));
    let stdout = run_ok(
        Command::new(bin("loadbench"))
            .args(["--url", &server.url(""), "--token", &server.premium()])
            .args(["--rate", "40", "--duration", "2"])
            .arg("--queries")
            .arg(&queries)
            .arg("--out")
            .arg(&out)
            .arg("--chart")
            .arg(&chart),
    );
    let summary = last_json(&stdout);
    let requests = summary["requests"].as_u64().unwrap();
    assert!((70..=90).contains(&requests), "40/s for 2 s: {summary}");
    assert!(
        summary["achieved_rps"].as_f64().unwrap() > 20.0,
        "{summary}"
    );
    let errors = summary["errors"].as_object().unwrap();
    assert!(errors.is_empty(), "no errors at 40/s: {summary}");
    let p: Vec<f64> = ["p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"]
        .iter()
        .map(|k| summary[k].as_f64().unwrap())
        .collect();
    assert!(p[0] > 0.0 && p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["summary"], summary);
    assert!(report["series"].as_array().unwrap().len() >= 2);
    for kind in ["word", "sort_date", "hashtag", "phrase", "deep_cursor"] {
        assert!(
            report["kinds"][kind]["requests"].as_u64().unwrap() > 0,
            "{kind}: {}",
            report["kinds"]
        );
    }
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("latency distribution"));

    let compared = run_ok(
        Command::new(bin("loadbench"))
            .arg("--compare")
            .args([&out, &out]),
    );
    assert_eq!(
        last_json(&compared)["verdict"],
        "no_significant_change",
        "{compared}"
    );
}
