//! The chansearch indexer: contract NDJSON posts in, a Tantivy index out.
//!
//! It is the only writer of the post index. The pipeline, in order:
//! [`post`] parses and validates a line ([`post::parse_line`]), [`prepare`] turns it into a
//! document on the rayon threads (language by [`lang`], tokens by [`analysis`], the
//! [`filters`] verdict), and [`store`] applies it to the single Tantivy writer with the
//! upsert/late-edit/delete rules and commits with [`checkpoint`]s. [`ingest`] drives the whole
//! thing for files and stdin; `search-api` uses [`store`] and [`prepare`] for live ingest.
//!
//! It is not a search engine: reading and ranking are `search-api`'s. What it promises
//! readers is the [`schema`] and the analysis of query words ([`analysis::query_forms`]).
//!
//! ```no_run
//! use indexer::ingest::{ingest, IngestOptions, Source};
//! use std::sync::Arc;
//! let summary = ingest(
//!     &IngestOptions::new("/tmp/chansearch"),
//!     &[Source::File("posts.ndjson".into())],
//!     Arc::new(filters::NoRules),
//! )?;
//! println!("{} indexed, {} rejected", summary.indexed, summary.rejected);
//! # Ok::<(), indexer::Error>(())
//! ```

pub mod analysis;
pub mod checkpoint;
mod error;
pub mod ingest;
pub mod lang;
pub mod langid_eval;
pub mod post;
pub mod prepare;
pub mod schema;
pub mod source;
pub mod stats;
pub mod store;

pub use error::{Error, Result};
