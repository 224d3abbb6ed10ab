//! Shared helpers: building and finding binaries, temp data dirs, reading an index back.

use indexer::post::{Op, PostKey, parse_line};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{ReloadPolicy, Term};

/// Path of a workspace binary, built (release profile is not needed: dev deps run at
/// opt-level 3) once per test process.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "indexer",
                "-p",
                "fixtures",
                "-p",
                "search-api",
                "-p",
                "benches",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of the binaries failed");
        target_dir()
    });
    dir.join(name)
}

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    // The test executable lives in <target>/debug/deps/.
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// Runs a command to completion, asserting success; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts a command succeeded, showing its stderr when not.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "command failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The last stdout line, parsed as JSON.
pub fn last_json(stdout: &str) -> serde_json::Value {
    let line = stdout.lines().last().expect("some stdout");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// The committed 1k-post sample (with updates: edits, late edits, deletes).
pub fn sample_path() -> PathBuf {
    workspace_root().join("fixtures/data/sample.ndjson")
}

/// What the index should hold after ingesting `input`: the contract's rules replayed on a
/// map. Keys map to the winning version; deleted keys are absent.
pub fn expected_posts(input: &[u8]) -> BTreeMap<PostKey, i64> {
    #[derive(Clone, Copy)]
    enum State {
        Live(i64),
        Deleted,
    }
    let mut state: HashMap<PostKey, State> = HashMap::new();
    for line in input.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Err(_) => {}
            Ok(Op::Upsert(p)) => match state.get(&p.key()) {
                Some(State::Deleted) => {}
                Some(State::Live(v)) if *v > p.version() => {}
                _ => {
                    state.insert(p.key(), State::Live(p.version()));
                }
            },
            Ok(Op::Delete {
                channel_id,
                post_id,
            }) => {
                state.insert(
                    PostKey {
                        channel_id,
                        post_id,
                    },
                    State::Deleted,
                );
            }
            Ok(Op::DeleteChannel { channel_id }) => {
                state.retain(|k, s| k.channel_id != channel_id || matches!(s, State::Deleted));
            }
        }
    }
    state
        .into_iter()
        .filter_map(|(k, s)| match s {
            State::Live(v) => Some((k, v)),
            State::Deleted => None,
        })
        .collect()
}

/// Every post document in the index under `data_dir`, as key -> versions found (a key found
/// twice means a duplicate).
pub fn indexed_posts(data_dir: &Path) -> BTreeMap<PostKey, Vec<i64>> {
    let index = indexer::store::open_or_create(&data_dir.join("index")).expect("index opens");
    let fields = indexer::schema::fields_of(&index.schema()).unwrap();
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .unwrap();
    let searcher = reader.searcher();
    let query = TermQuery::new(
        Term::from_field_text(fields.kind, indexer::schema::KIND_POST),
        IndexRecordOption::Basic,
    );
    let docs = searcher
        .search(&query, &tantivy::collector::DocSetCollector)
        .unwrap();
    let mut out: BTreeMap<PostKey, Vec<i64>> = BTreeMap::new();
    for addr in docs {
        let seg = searcher.segment_reader(addr.segment_ord);
        let ff = seg.fast_fields();
        let c = ff.u64("channel_id").unwrap().first(addr.doc_id).unwrap();
        let p = ff.u64("post_id").unwrap().first(addr.doc_id).unwrap();
        let v = ff.i64("version").unwrap().first(addr.doc_id).unwrap();
        out.entry(PostKey {
            channel_id: c,
            post_id: p,
        })
        .or_default()
        .push(v);
    }
    out
}

/// Asserts the index holds exactly `expected`, each key once.
pub fn assert_index_matches(data_dir: &Path, expected: &BTreeMap<PostKey, i64>) {
    let found = indexed_posts(data_dir);
    let dupes: Vec<_> = found.iter().filter(|(_, v)| v.len() > 1).take(5).collect();
    assert!(dupes.is_empty(), "keys indexed more than once: {dupes:?}");
    let found: BTreeMap<PostKey, i64> = found.into_iter().map(|(k, v)| (k, v[0])).collect();
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !found.contains_key(k))
        .take(5)
        .collect();
    let extra: Vec<_> = found
        .keys()
        .filter(|k| !expected.contains_key(k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, unexpected {extra:?}"
    );
    let wrong: Vec<_> = expected
        .iter()
        .filter(|(k, v)| found[k] != **v)
        .take(5)
        .collect();
    assert!(wrong.is_empty(), "wrong versions won: {wrong:?}");
}
