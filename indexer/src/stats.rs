//! `indexer stats`: what is in the index, in one JSON line.

use crate::error::Result;
use crate::schema;
use serde::Serialize;
use std::path::Path;
use tantivy::query::{Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{ReloadPolicy, Term};

/// The contract's stats line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Searchable posts (tombstones not counted).
    pub docs: u64,
    /// Segments in the last commit.
    pub segments: usize,
    /// Bytes of index files on disk.
    pub size_bytes: u64,
    /// Time of the last commit (RFC 3339), or null when nothing was committed yet.
    pub last_commit: Option<String>,
    /// Deletion and drop tombstones.
    pub tombstones: u64,
    /// Documents deleted but not yet merged away.
    pub deleted_not_merged: u64,
}

/// Reads the stats of the index in `data_dir/index` (read-only: works while a writer runs).
pub fn stats(data_dir: &Path) -> Result<Stats> {
    let dir = data_dir.join("index");
    if !dir.join("meta.json").exists() {
        return Err(crate::Error::io(
            format!("read {}", dir.display()),
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no index here (run `indexer ingest` first)",
            ),
        ));
    }
    let index = crate::store::open_or_create(&dir)?;
    let fields = schema::fields_of(&index.schema())?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let count = |kind: &str| -> Result<u64> {
        let q = TermQuery::new(
            Term::from_field_text(fields.kind, kind),
            IndexRecordOption::Basic,
        );
        Ok(q.count(&searcher)? as u64)
    };
    let deleted: u64 = searcher
        .segment_readers()
        .iter()
        .map(|s| u64::from(s.num_deleted_docs()))
        .sum();
    let mut size_bytes = 0;
    for entry in std::fs::read_dir(&dir)
        .map_err(|e| crate::Error::io(format!("list {}", dir.display()), e))?
    {
        let entry = entry.map_err(|e| crate::Error::io(format!("list {}", dir.display()), e))?;
        if let Ok(m) = entry.metadata()
            && m.is_file()
        {
            size_bytes += m.len();
        }
    }
    let last_commit = std::fs::metadata(dir.join("meta.json"))
        .and_then(|m| m.modified())
        .ok()
        .map(|t| {
            time::OffsetDateTime::from(t)
                .replace_nanosecond(0)
                .unwrap_or_else(|_| time::OffsetDateTime::from(t))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        });
    Ok(Stats {
        docs: count(schema::KIND_POST)?,
        segments: searcher.segment_readers().len(),
        size_bytes,
        last_commit,
        tombstones: count(schema::KIND_TOMBSTONE)? + count(schema::KIND_REJECTED)?,
        deleted_not_merged: deleted,
    })
}
