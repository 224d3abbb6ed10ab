//! Crash safety of the server: `search-api serve` killed with SIGKILL at random moments during
//! live ingest, restarted each time. After every kill the index opens and holds every post of
//! every batch answered 200, exactly once at its version (posts the batch in flight touched
//! may or may not be there); the rules database and the audit log are intact. At the end,
//! with every batch resent until answered, the index equals the input exactly: late edits,
//! deletes and channel deletes held. Neither the secret nor a token ever shows in the log.

use crate::support::*;
use indexer::post::{Op, PostKey, parse_line};
use rand::{RngExt, SeedableRng};
use search_api::auth::{Keys, Role, Tier, claims};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "crash-test-secret-0123456789abcdef";
const BATCH: usize = 200;

/// Kill points here; the documented full run uses more (`SERVER_CRASH_KILLS=20`).
fn kills() -> usize {
    std::env::var("SERVER_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

struct Server {
    child: Child,
    base: String,
    /// Everything the server logged.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `search-api serve` on a free port and waits until it is ready.
    fn start(data: &Path) -> Server {
        let child = Command::new(bin("search-api"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("CHANSEARCH_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Owned by `Server` at once: a failed start below kills it (Drop).
        let mut server = Server {
            child,
            base: String::new(),
            log: Arc::default(),
        };
        let stderr = server.child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = server.log.clone();
        // Reads the log for the bound address, keeping every line.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                log.lock().unwrap().push(line.clone());
                if let Some(at) = line.find("addr=")
                    && line.contains("listening")
                {
                    let _ = tx.send(line[at + 5..].trim().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server starts and logs its address");
        server.base = format!("http://{addr}");
        let http = client();
        for _ in 0..600 {
            if http
                .get(format!("{}/readyz", server.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not become ready");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn token(role: Role) -> String {
    Keys::new(SECRET)
        .mint(&claims("crash", Tier::Premium, role, None, 3600))
        .unwrap()
}

/// The keys and channels the lines touch (a channel delete touches the whole channel).
fn touched(lines: &[&str]) -> (HashSet<PostKey>, HashSet<u64>) {
    let mut keys = HashSet::new();
    let mut channels = HashSet::new();
    for line in lines {
        match parse_line(line.as_bytes()) {
            Ok(Op::Upsert(p)) => {
                keys.insert(p.key());
            }
            Ok(Op::Delete {
                channel_id,
                post_id,
            }) => {
                keys.insert(PostKey {
                    channel_id,
                    post_id,
                });
            }
            Ok(Op::DeleteChannel { channel_id }) => {
                channels.insert(channel_id);
            }
            Err(_) => {}
        }
    }
    (keys, channels)
}

/// After a kill: every post of the acknowledged lines is indexed exactly once at its version,
/// and nothing else is, except what the batch in flight touched.
fn check_acknowledged(data: &Path, acked: &[&str], in_flight: &[&str]) {
    let expected = expected_posts(acked.join("\n").as_bytes());
    let indexed = indexed_posts(data);
    let (keys, channels) = touched(in_flight);
    let free = |k: &PostKey| !keys.contains(k) && !channels.contains(&k.channel_id);
    for (key, version) in expected.iter().filter(|(k, _)| free(k)) {
        assert_eq!(
            indexed.get(key),
            Some(&vec![*version]),
            "{key:?}: acknowledged at version {version}"
        );
    }
    for (key, versions) in indexed.iter().filter(|(k, _)| free(k)) {
        assert!(
            expected.contains_key(key),
            "{key:?} at {versions:?} was never acknowledged (or was deleted)"
        );
    }
}

#[test]
fn killed_server_keeps_every_acknowledged_post() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.ndjson");
    run_ok(
        Command::new(bin("fixtures"))
            .args(["gen", "--seed", "5", "--updates", "0.1", "--out"])
            .arg(&corpus)
            .arg("--posts")
            // Enough for every round to be killed before the input runs out.
            .arg((kills() * 3000).max(10_000).to_string()),
    );
    let text = std::fs::read_to_string(&corpus).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let batches: Vec<&[&str]> = lines.chunks(BATCH).collect();
    let data = dir.path().join("data");
    let http = client();
    let (ingest, moderator) = (token(Role::Ingest), token(Role::Moderator));
    let send = |server: &Server, batch: &[&str]| {
        http.post(format!("{}/v1/ingest", server.base))
            .bearer_auth(&ingest)
            .body(batch.join("\n"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.json::<Value>().ok())
    };
    let audit_len = |server: &Server| {
        let log: Value = http
            .get(format!("{}/v1/audit?limit=500", server.base))
            .bearer_auth(&moderator)
            .send()
            .unwrap()
            .json()
            .unwrap();
        log["entries"].as_array().unwrap().len()
    };

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let mut acked = 0usize;
    let mut killed = 0;
    let mut audit_entries = 0;
    for round in 0..kills() {
        let mut server = Server::start(&data);
        if round == 0 {
            let created = http
                .post(format!("{}/v1/rules", server.base))
                .bearer_auth(&moderator)
                .json(&json!({"id": "keep", "kind": "term", "pattern": "crashword", "action": "hide"}))
                .send()
                .unwrap();
            assert_eq!(created.status(), 201);
            audit_entries = audit_len(&server);
        }
        // The rules database and its audit log survived the kills.
        let rule: Value = http
            .get(format!("{}/v1/rules/keep", server.base))
            .bearer_auth(&moderator)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(rule["pattern"], "crashword", "{rule}");
        assert_eq!(audit_len(&server), audit_entries);

        let pid = server.child.id();
        let delay = rng.random_range(100..1500);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay));
            // SIGKILL, mid-request more often than not.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
        while acked < batches.len() && send(&server, batches[acked]).is_some() {
            acked += 1;
        }
        killer.join().unwrap();
        if server.child.wait().unwrap().code().is_none() {
            killed += 1;
        }
        let done: Vec<&str> = batches[..acked].concat();
        let in_flight = batches.get(acked).copied().unwrap_or_default();
        check_acknowledged(&data, &done, in_flight);
        assert!(
            acked < batches.len(),
            "the corpus ran out before the kill: make it bigger"
        );
    }
    assert!(killed > 0, "no run was killed");
    assert!(
        acked > 0,
        "no batch was answered before a kill: nothing was checked"
    );

    // The client resends from the first unanswered batch to the end; the index is exact.
    let mut server = Server::start(&data);
    while acked < batches.len() {
        let summary = send(&server, batches[acked]).expect("a batch is answered");
        assert!(
            summary["errors"].as_array().is_some_and(Vec::is_empty),
            "{summary}"
        );
        acked += 1;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    assert!(
        server.child.wait().unwrap().success(),
        "a clean stop on SIGTERM"
    );
    // Secrets never reach the log: not the signing secret, not a token.
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("listening"), "the log was read");
    for secret in [SECRET, ingest.as_str(), moderator.as_str()] {
        assert!(!log.contains(secret), "a secret in the log");
    }
    assert_index_matches(&data, &expected_posts(text.as_bytes()));
}
