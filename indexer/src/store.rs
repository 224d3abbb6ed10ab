//! The index on disk and its one writer: upserts with the late-edit rule, deletes, commits.
//!
//! Invariants:
//! - one [`Store`] (one Tantivy `IndexWriter`) per data directory; a second one fails with
//!   [`Error::Locked`] instead of waiting;
//! - [`Store::apply`] must be called in input order: it decides the late-edit rule against the
//!   versions of everything applied before, committed or not;
//! - the in-memory version map mirrors the index at the last commit plus what was applied
//!   since; after a crash it is rebuilt from the index, which holds every version (posts and
//!   tombstones), so a restart never forgets a newer edit or a deletion;
//! - the commit payload holds the ingest checkpoints, so they are atomic with the documents.

use crate::error::{Error, Result};
use crate::post::PostKey;
use crate::prepare::{Prepared, PreparedPost};
use crate::schema::{self, Fields};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{BooleanQuery, Occur, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Writer settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Tantivy indexing threads.
    pub threads: usize,
    /// Total writer memory budget in bytes (split among the threads).
    pub memory_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            threads: 2,
            memory_bytes: 400 << 20,
        }
    }
}

/// What applying one prepared item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The post was written (new or replacing an older version).
    Indexed,
    /// The filters dropped the post; any indexed older version was removed.
    Dropped,
    /// An older version than the indexed one: ignored.
    Stale,
    /// A post deletion was recorded.
    Deleted,
    /// A channel deletion removed this many posts known to the writer.
    ChannelDeleted(u64),
    /// The line was rejected (nothing written).
    Rejected,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    version: i64,
    /// A post document (true) or a tombstone (false).
    live: bool,
    /// A moderator rejected this version: the same version sent again stays out.
    rejected: bool,
}

impl Known {
    fn post(version: i64) -> Known {
        Known {
            version,
            live: true,
            rejected: false,
        }
    }

    fn tombstone(version: i64) -> Known {
        Known {
            version,
            live: false,
            rejected: false,
        }
    }

    /// Whether a post at `version` loses against what is known (the late-edit rule).
    fn outranks(&self, version: i64) -> bool {
        self.version > version || (self.rejected && self.version == version)
    }
}

/// The post index and its single writer.
pub struct Store {
    dir: PathBuf,
    index: Index,
    writer: IndexWriter,
    fields: Fields,
    versions: HashMap<PostKey, Known>,
}

impl Store {
    /// Opens the index under `data_dir/index`, creating it when absent.
    pub fn open(data_dir: &Path, options: &StoreOptions) -> Result<Store> {
        let dir = data_dir.join("index");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        let index = open_or_create(&dir)?;
        let fields = schema::fields_of(&index.schema()).map_err(|source| Error::Open {
            path: dir.clone(),
            source,
        })?;
        let writer = index
            .writer_with_num_threads(options.threads.max(1), options.memory_bytes)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => Error::Locked(dir.clone()),
                other => Error::Tantivy(other),
            })?;
        let mut merge = LogMergePolicy::default();
        // Expunge deletes once a fifth of a segment is deleted, so that replaced and deleted
        // posts stop counting in BM25 statistics soon, not only when a segment happens to merge.
        merge.set_del_docs_ratio_before_merge(0.2);
        writer.set_merge_policy(Box::new(merge));
        // Found by the SIGKILL ingest test (tests/src/ingest_crash.rs): after a resume, an
        // edit could leave the committed older version alive too (2 of 6 repro runs with
        // the debug build). A reopened writer hands its first operation the opstamp of the
        // last commit; burning that opstamp on a delete that matches nothing made the
        // duplicates disappear (0 of 8 runs). A deterministic reopen-then-edit test does not
        // reproduce it, so the root cause in Tantivy's delete/merge bookkeeping is not pinned
        // down; the SIGKILL test is the regression test.
        writer.delete_term(Term::from_field_text(fields.key, "\u{0}opstamp-guard"));
        let versions = load_versions(&index)?;
        Ok(Store {
            dir,
            index,
            writer,
            fields,
            versions,
        })
    }

    /// The Tantivy index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Field handles.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Number of keys the writer knows (posts and tombstones).
    pub fn known_keys(&self) -> usize {
        self.versions.len()
    }

    /// The payload of the last commit (ingest checkpoints), if any.
    pub fn last_payload(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }

    /// Applies one prepared item, in input order.
    pub fn apply(&mut self, item: Prepared) -> Result<Applied> {
        match item {
            Prepared::Rejected(_) => Ok(Applied::Rejected),
            Prepared::Upsert(post) => self.upsert(post),
            Prepared::Delete(key) => {
                if self
                    .versions
                    .get(&key)
                    .is_some_and(|k| k.version == i64::MAX)
                {
                    return Ok(Applied::Deleted);
                }
                self.replace(key, Some(self.tombstone(key, i64::MAX)))?;
                self.versions.insert(key, Known::tombstone(i64::MAX));
                Ok(Applied::Deleted)
            }
            Prepared::DeleteChannel(channel_id) => {
                let f = &self.fields;
                let query = BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        Box::new(TermQuery::new(
                            Term::from_field_u64(f.channel_id, channel_id),
                            IndexRecordOption::Basic,
                        )),
                    ),
                    (
                        Occur::Must,
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.kind, schema::KIND_POST),
                            IndexRecordOption::Basic,
                        )),
                    ),
                ]);
                self.writer.delete_query(Box::new(query))?;
                let before = self.versions.len();
                self.versions
                    .retain(|k, v| k.channel_id != channel_id || !v.live);
                Ok(Applied::ChannelDeleted(
                    (before - self.versions.len()) as u64,
                ))
            }
        }
    }

    fn upsert(&mut self, post: PreparedPost) -> Result<Applied> {
        if let Some(known) = self.versions.get(&post.key)
            && known.outranks(post.version)
        {
            return Ok(Applied::Stale);
        }
        let (doc, live, applied) = match post.doc {
            Some(doc) => (doc, true, Applied::Indexed),
            // A drop leaves a tombstone with the dropped version: an older edit must not
            // reappear after a newer one was dropped.
            None => (
                self.tombstone(post.key, post.version),
                false,
                Applied::Dropped,
            ),
        };
        self.replace(post.key, Some(doc))?;
        let known = if live {
            Known::post(post.version)
        } else {
            Known::tombstone(post.version)
        };
        self.versions.insert(post.key, known);
        Ok(applied)
    }

    /// A moderator rejected version `version` of a held post: removes it from the index and
    /// leaves a rejection tombstone, so that the same version sent again stays out while a
    /// later edit is indexed (and judged) as usual. Returns false, changing nothing, when the
    /// indexed post is not at that version (it was edited, deleted or never indexed).
    /// Takes effect at the next commit.
    pub fn reject(&mut self, key: PostKey, version: i64) -> Result<bool> {
        match self.versions.get(&key) {
            Some(known) if known.live && known.version == version => {}
            _ => return Ok(false),
        }
        let doc = self.tombstone_of_kind(key, version, schema::KIND_REJECTED);
        self.replace(key, Some(doc))?;
        self.versions.insert(
            key,
            Known {
                version,
                live: false,
                rejected: true,
            },
        );
        Ok(true)
    }

    /// Deletes whatever is indexed under `key` (if the writer knows of it) and adds `doc`.
    fn replace(&mut self, key: PostKey, doc: Option<TantivyDocument>) -> Result<()> {
        if self.versions.contains_key(&key) {
            let term = Term::from_field_text(
                self.fields.key,
                &schema::key_string(key.channel_id, key.post_id),
            );
            self.writer.delete_term(term);
        }
        if let Some(doc) = doc {
            self.writer.add_document(doc)?;
        }
        Ok(())
    }

    fn tombstone(&self, key: PostKey, version: i64) -> TantivyDocument {
        self.tombstone_of_kind(key, version, schema::KIND_TOMBSTONE)
    }

    fn tombstone_of_kind(&self, key: PostKey, version: i64, kind: &str) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.kind, kind);
        doc.add_text(f.key, schema::key_string(key.channel_id, key.post_id));
        doc.add_u64(f.channel_id, key.channel_id);
        doc.add_u64(f.post_id, key.post_id);
        doc.add_i64(f.version, version);
        doc
    }

    /// Commits everything applied so far, with `payload` (the ingest checkpoints) stored
    /// atomically with it.
    pub fn commit(&mut self, payload: &str) -> Result<()> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(payload);
        prepared.commit()?;
        Ok(())
    }

    /// Deletes every document `query` matches (a moderator's drop rule reaching posts indexed
    /// before it). Takes effect at the next commit.
    pub fn delete_matching(&mut self, query: Box<dyn tantivy::query::Query>) -> Result<()> {
        self.writer.delete_query(query)?;
        Ok(())
    }

    /// Waits for background merges to finish and releases the writer lock.
    pub fn close(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }

    /// The directory holding the index files.
    pub fn index_dir(&self) -> &Path {
        &self.dir
    }
}

/// Opens the index in `dir`, or creates it with our schema when the directory holds none.
pub fn open_or_create(dir: &Path) -> Result<Index> {
    let mmap = MmapDirectory::open(dir).map_err(|e| Error::Open {
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    let exists = Index::exists(&mmap).map_err(|e| Error::Open {
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    let index = if exists {
        Index::open(mmap).map_err(|source| Error::Open {
            path: dir.to_path_buf(),
            source,
        })?
    } else {
        let (schema, _) = schema::build();
        Index::create(mmap, schema, Default::default())?
    };
    register_tokenizers(&index);
    Ok(index)
}

/// Registers the body tokenizer: whitespace splitting only, since the indexer has already
/// analyzed the text (see `analysis::index_text`).
pub fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        schema::BODY_TOKENIZER,
        TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
    );
}

/// Reads every live document's key and version from the fast fields.
fn load_versions(index: &Index) -> Result<HashMap<PostKey, Known>> {
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let mut versions = HashMap::with_capacity(searcher.num_docs() as usize);
    for segment in searcher.segment_readers() {
        let ff = segment.fast_fields();
        let channel = ff.u64("channel_id")?;
        let post = ff.u64("post_id")?;
        let version = ff.i64("version")?;
        let kind = ff.str("kind")?;
        let ord = |name: &str| match &kind {
            Some(col) => col
                .dictionary()
                .term_ord(name)
                .map_err(|e| Error::io("read kind column".to_string(), e)),
            None => Ok(None),
        };
        let (post_ord, rejected_ord) = (ord(schema::KIND_POST)?, ord(schema::KIND_REJECTED)?);
        for doc in segment.doc_ids_alive() {
            let (Some(c), Some(p), Some(v)) =
                (channel.first(doc), post.first(doc), version.first(doc))
            else {
                continue;
            };
            let doc_kind = kind.as_ref().and_then(|col| col.term_ords(doc).next());
            versions.insert(
                PostKey {
                    channel_id: c,
                    post_id: p,
                },
                Known {
                    version: v,
                    live: doc_kind.is_some() && doc_kind == post_ord,
                    rejected: doc_kind.is_some() && doc_kind == rejected_ord,
                },
            );
        }
    }
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::ChannelPriors;
    use crate::prepare::Preparer;
    use std::sync::Arc;

    fn line(post_id: u64, edit: Option<&str>, text: &str) -> Vec<u8> {
        serde_json::json!({
            "op": "upsert", "channel_id": 5, "channel": "some_channel", "channel_title": "C",
            "subscribers": 1, "post_id": post_id, "date": "2026-01-01T00:00:00Z",
            "edit_date": edit, "text": text, "views": 1, "forwards": 0, "reactions": 0,
        })
        .to_string()
        .into_bytes()
    }

    fn apply(store: &mut Store, preparer: &Preparer, line: &[u8]) -> Applied {
        store
            .apply(preparer.prepare(line, &ChannelPriors::default()))
            .unwrap()
    }

    #[test]
    fn a_rejected_version_stays_out_and_an_edit_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            threads: 1,
            memory_bytes: 20 << 20,
        };
        let key = PostKey {
            channel_id: 5,
            post_id: 1,
        };
        let mut store = Store::open(dir.path(), &options).unwrap();
        let preparer = Preparer::new(store.fields().clone(), Arc::new(filters::NoRules));
        let first = line(1, None, "buy followers now");
        assert_eq!(apply(&mut store, &preparer, &first), Applied::Indexed);
        let version = store.versions[&key].version;
        assert!(
            !store.reject(key, version - 1).unwrap(),
            "not the indexed version"
        );
        assert!(store.reject(key, version).unwrap());
        store.commit("").unwrap();
        assert_eq!(apply(&mut store, &preparer, &first), Applied::Stale);
        store.close().unwrap();

        // The rejection survives a restart (rebuilt from the index), and an edit is new.
        let mut store = Store::open(dir.path(), &options).unwrap();
        assert_eq!(apply(&mut store, &preparer, &first), Applied::Stale);
        let edit = line(1, Some("2026-01-02T00:00:00Z"), "an honest post");
        assert_eq!(apply(&mut store, &preparer, &edit), Applied::Indexed);
        store.commit("").unwrap();
        let stats = crate::stats::stats(dir.path()).unwrap();
        assert_eq!((stats.docs, stats.tombstones), (1, 0));
    }
}
