//! The indexer's error type. Bad input lines are not errors (they are [`crate::post::Reject`]
//! values, counted and written to `rejected.ndjson`); these are the failures that stop a run.

use std::path::PathBuf;

/// Result with the indexer's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Why the indexer cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process holds the index writer lock (user's situation to resolve).
    #[error(
        "the index at {0} is locked by another writer; is `search-api serve` or another \
         `indexer ingest` running on this data directory? Stop it or ingest through its \
         POST /v1/ingest instead"
    )]
    Locked(PathBuf),
    /// The index exists but cannot be opened (corrupt, or written by something else).
    #[error("cannot open the index at {path}: {source}")]
    Open {
        /// Index directory.
        path: PathBuf,
        /// What Tantivy reported.
        #[source]
        source: tantivy::TantivyError,
    },
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The commit payload (ingest checkpoints) is not what this version writes.
    #[error("the checkpoint stored in the index is unreadable: {0}")]
    Checkpoint(String),
    /// Any other Tantivy failure (ours or the disk's).
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

impl Error {
    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
