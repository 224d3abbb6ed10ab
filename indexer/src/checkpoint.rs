//! Ingest checkpoints, stored as the payload of each Tantivy commit.
//!
//! Why in the commit payload: Tantivy writes the payload in the same atomic `meta.json` swap as
//! the documents, so "the index holds everything up to byte N of file F" can never be out of
//! step with the index itself, whatever moment a crash hits. A rerun on the same input seeks
//! to N and continues; `rejected.ndjson` is cut back to the length it had at that commit, so
//! its lines are exactly once too.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// How many sources are remembered; the oldest are forgotten beyond this.
const MAX_SOURCES: usize = 256;

/// Bytes of a file's head that identify it.
const FINGERPRINT_BYTES: usize = 1024;

/// Everything the commit payload records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoints {
    /// Per source file (canonical path): how far it is indexed.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceCheckpoint>,
    /// Length of `rejected.ndjson` at this commit.
    #[serde(default)]
    pub rejected_len: u64,
    /// Commit sequence number, for ordering sources (oldest forgotten first).
    #[serde(default)]
    pub seq: u64,
}

/// How far one source file is indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCheckpoint {
    /// Fingerprint of the file's first bytes (a different file at the same path is new).
    pub fingerprint: String,
    /// Bytes fully indexed (always at a line boundary).
    pub offset: u64,
    /// Lines fully indexed.
    pub line: u64,
    /// `seq` of the commit that last advanced this source.
    #[serde(default)]
    pub seq: u64,
}

impl Checkpoints {
    /// Parses a commit payload; `None` (no commit yet) gives empty checkpoints.
    pub fn from_payload(payload: Option<&str>) -> Result<Checkpoints> {
        match payload {
            None | Some("") => Ok(Checkpoints::default()),
            Some(p) => serde_json::from_str(p).map_err(|e| Error::Checkpoint(e.to_string())),
        }
    }

    /// The payload to commit.
    pub fn to_payload(&self) -> String {
        serde_json::to_string(self).expect("checkpoints serialize")
    }

    /// Records progress on `source`.
    pub fn advance(&mut self, source: &str, fingerprint: &str, offset: u64, line: u64) {
        self.seq += 1;
        self.sources.insert(
            source.to_string(),
            SourceCheckpoint {
                fingerprint: fingerprint.to_string(),
                offset,
                line,
                seq: self.seq,
            },
        );
        while self.sources.len() > MAX_SOURCES {
            let oldest = self
                .sources
                .iter()
                .min_by_key(|(_, c)| c.seq)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.sources.remove(&k);
            }
        }
    }
}

/// Identifies a file by its first KiB, as log shippers do: appending to a file keeps its
/// fingerprint (so ingest resumes where it stopped), replacing it does not.
pub fn fingerprint(path: &Path) -> Result<String> {
    let mut head = Vec::with_capacity(FINGERPRINT_BYTES);
    std::fs::File::open(path)
        .and_then(|f| f.take(FINGERPRINT_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
    Ok(format!("{:016x}-{}", fnv1a(&head), head.len()))
}

/// FNV-1a, 64 bits. Written here because it must give the same value in every build forever
/// (std's `DefaultHasher` does not promise that), and it is five lines.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_empty_is_default() {
        let mut c = Checkpoints::default();
        c.advance("/a.ndjson", "ff-3", 10, 2);
        c.rejected_len = 7;
        let back = Checkpoints::from_payload(Some(&c.to_payload())).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            Checkpoints::from_payload(None).unwrap(),
            Checkpoints::default()
        );
        assert!(Checkpoints::from_payload(Some("{oops")).is_err());
    }

    #[test]
    fn oldest_sources_are_forgotten() {
        let mut c = Checkpoints::default();
        for i in 0..MAX_SOURCES + 5 {
            c.advance(&format!("/f{i}"), "x", 1, 1);
        }
        assert_eq!(c.sources.len(), MAX_SOURCES);
        assert!(!c.sources.contains_key("/f0"));
        assert!(c.sources.contains_key(&format!("/f{}", MAX_SOURCES + 4)));
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
