//! `fixtures gen` as a user runs it.

use crate::support::*;
use std::process::Command;

fn generate(args: &[&str]) -> Vec<u8> {
    let out = Command::new(bin("fixtures"))
        .arg("gen")
        .args(args)
        .output()
        .unwrap();
    assert_ok(&out);
    out.stdout
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = generate(&["--posts", "2000", "--seed", "3", "--updates", "0.1"]);
    let b = generate(&["--posts", "2000", "--seed", "3", "--updates", "0.1"]);
    let c = generate(&["--posts", "2000", "--seed", "4", "--updates", "0.1"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    for (i, line) in a
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        indexer::post::parse_line(line)
            .unwrap_or_else(|e| panic!("generated line {} is rejected: {e}", i + 1));
    }
}

#[test]
fn committed_sample_is_what_the_generator_makes() {
    let fresh = generate(&["--posts", "1000", "--seed", "42", "--updates", "0.1"]);
    let committed = std::fs::read(sample_path()).unwrap();
    assert!(
        fresh == committed,
        "fixtures/data/sample.ndjson drifted from the generator; regenerate it (see fixtures/README)"
    );
}
