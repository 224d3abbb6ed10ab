//! The moderators' durable state: rules, classifier settings and the append-only audit log,
//! in one SQLite database in the data directory (`DIR/moderation.sqlite3`).
//!
//! SQLite (rusqlite, bundled) because the service must run with nothing to install, the data
//! is small (100k rules is a few MB) and writes are rare (a moderator's click), while reads
//! happen once per rule change (the whole rule set is loaded and compiled into a
//! [`filters::Engine`]). WAL mode lets the indexer CLI and the server open it at once.
//!
//! Invariants:
//! - Every change goes through one transaction that writes the new state *and* its audit
//!   entry (who, when, old value, new value, note); there is no way to change one without the
//!   other. The audit table refuses `UPDATE` and `DELETE` (triggers), so not even a bug in
//!   this crate can rewrite history.
//! - Every stored rule passed [`filters::rules::Rule::check`]; a rule's `version` starts at 1
//!   and grows by one with each change, and a change that names another version is refused
//!   ([`Error::Conflict`]): optimistic concurrency for moderators editing the same rule.
//! - A missing database beside an existing index, or an unreadable one, is an error at open,
//!   never an empty rule set: silently losing the takedown rules would republish what
//!   regulators ordered removed.

mod audit;
mod classifiers;
mod review;
mod rules;

pub use audit::{AuditEntry, AuditQuery};
pub use review::{Decision, PostVersion, ReviewDecision};
pub use rules::{ImportSummary, RulePatch};

use parking_lot::Mutex;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The database file's name inside the data directory.
pub const FILE_NAME: &str = "moderation.sqlite3";
/// Schema version written to `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 2;

/// Upgrades from version 1, whose `review` table had no `version` column and was never
/// written to (review decisions arrived with version 2).
const MIGRATE_1_TO_2: &str = "
DROP TABLE review;
CREATE TABLE review (
    channel_id INTEGER NOT NULL,
    post_id    INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    decision   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    note       TEXT,
    PRIMARY KEY (channel_id, post_id)
);
PRAGMA user_version = 2;
";

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    action     TEXT NOT NULL,
    regions    TEXT NOT NULL,  -- JSON array of ISO 3166-1 alpha-2 codes
    category   TEXT,
    note       TEXT,
    enabled    INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version    INTEGER NOT NULL
);
CREATE TABLE classifiers (
    category TEXT PRIMARY KEY,
    config   TEXT NOT NULL     -- JSON of filters::classify::ClassifierConfig
);
CREATE TABLE review (
    channel_id INTEGER NOT NULL,
    post_id    INTEGER NOT NULL,
    version    INTEGER NOT NULL, -- the post version decided (the indexer's late-edit version)
    decision   TEXT NOT NULL,    -- approve | reject
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    note       TEXT,
    PRIMARY KEY (channel_id, post_id)
);
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,      -- rule.create | rule.update | rule.delete | classifiers.update | review.approve | review.reject
    target TEXT NOT NULL,
    old    TEXT,               -- JSON before, absent for a creation
    new    TEXT,               -- JSON after, absent for a deletion
    note   TEXT
);
CREATE INDEX audit_target ON audit (target, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong; the HTTP layer maps each variant to a status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database is missing while the index beside it exists.
    #[error(
        "the rules database {} is missing, but the index beside it exists; starting with no rules \
         would republish everything that was taken down. Restore the file from a backup, or \
         create an empty one deliberately with `indexer init-rules --data {}`",
        .path.display(), .path.parent().map(|p| p.display().to_string()).unwrap_or_default()
    )]
    Missing {
        /// The expected file.
        path: PathBuf,
    },
    /// The file exists but is not a usable rules database.
    #[error("the rules database {} cannot be used: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A rule was refused; the message says why, in a moderator's words.
    #[error("{0}")]
    InvalidRule(String),
    /// Classifier settings were refused.
    #[error("{0}")]
    InvalidClassifiers(String),
    /// No rule has this id.
    #[error("no rule has the id {0:?}")]
    NotFound(String),
    /// A creation named an id that is taken.
    #[error("a rule with the id {0:?} already exists")]
    Exists(String),
    /// The change was based on an older version of the rule.
    #[error(
        "rule {id:?} is at version {current}, not {expected}: someone changed it meanwhile; \
         reload it and apply your change again"
    )]
    Conflict {
        /// The rule.
        id: String,
        /// The version the change was based on.
        expected: u64,
        /// The version stored.
        current: u64,
    },
    /// SQLite failed (disk full, I/O error...).
    #[error("rules database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The open database. Cheap operations, one connection behind a mutex: moderators' writes
/// are rare and the server calls this from blocking threads, never from the async runtime.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens `data_dir`'s database, creating it when the data directory holds no index yet
    /// (a new deployment). A database missing beside an existing index is [`Error::Missing`].
    pub fn open(data_dir: &Path) -> Result<Store> {
        let path = data_dir.join(FILE_NAME);
        if !path.exists() && data_dir.join("index").join("meta.json").exists() {
            return Err(Error::Missing { path });
        }
        Store::open_or_create(data_dir)
    }

    /// Opens `data_dir`'s database, creating an empty one when it is missing whatever else is
    /// there. For the deliberate `init-rules` command and for tests.
    pub fn open_or_create(data_dir: &Path) -> Result<Store> {
        let path = data_dir.join(FILE_NAME);
        std::fs::create_dir_all(data_dir).map_err(|e| Error::Corrupt {
            path: path.clone(),
            reason: format!("cannot create its directory: {e}"),
        })?;
        let corrupt = |reason: String| Error::Corrupt {
            path: path.clone(),
            reason,
        };
        let conn = Connection::open(&path).map_err(|e| corrupt(e.to_string()))?;
        let setup = || -> rusqlite::Result<i64> {
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_query_value(None, "user_version", |row| row.get(0))
        };
        let version = setup().map_err(|e| corrupt(e.to_string()))?;
        let version = if version == 1 {
            conn.execute_batch(&format!("BEGIN; {MIGRATE_1_TO_2} COMMIT;"))
                .map_err(|e| corrupt(format!("upgrading the schema from version 1: {e}")))?;
            2
        } else {
            version
        };
        match version {
            0 => {
                let tables: i64 = conn
                    .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
                    .map_err(|e| corrupt(e.to_string()))?;
                if tables > 0 {
                    return Err(corrupt(
                        "it holds tables but no chansearch schema version".into(),
                    ));
                }
                conn.execute_batch(&format!(
                    "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))?;
            }
            SCHEMA_VERSION => {
                let check: String = conn
                    .query_row("PRAGMA quick_check", [], |row| row.get(0))
                    .map_err(|e| corrupt(e.to_string()))?;
                if check != "ok" {
                    return Err(corrupt(format!("integrity check failed: {check}")));
                }
            }
            other => {
                return Err(corrupt(format!(
                    "schema version {other}, this build knows {SCHEMA_VERSION}"
                )));
            }
        }
        Ok(Store {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Imports a `RULES.json` file (a JSON array of rule objects, server fields optional) as
    /// `actor`; see [`Store::import_rules`]. Every bad rule of the file is reported at once.
    pub fn import_file(&self, file: &Path, actor: &str) -> Result<ImportSummary> {
        let json = std::fs::read_to_string(file)
            .map_err(|e| Error::InvalidRule(format!("cannot read {}: {e}", file.display())))?;
        let values: Vec<serde_json::Value> = serde_json::from_str(&json).map_err(|e| {
            Error::InvalidRule(format!(
                "{} is not a JSON array of rule objects: {e}",
                file.display()
            ))
        })?;
        let mut rules = Vec::with_capacity(values.len());
        let mut problems = Vec::new();
        for (i, value) in values.into_iter().enumerate() {
            let name = match value.get("id").and_then(|id| id.as_str()) {
                Some(id) if !id.is_empty() => id.to_string(),
                _ => format!("#{}", i + 1),
            };
            match filters::rules::parse_rule(value) {
                Ok(rule) => match rule.check() {
                    Ok(()) => rules.push(rule),
                    Err(why) => problems.push(format!("rule {name}: {why}")),
                },
                Err(why) => problems.push(format!("rule {name}: {why}")),
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidRule(format!(
                "{}: nothing imported:\n{}",
                file.display(),
                problems.join("\n")
            )));
        }
        self.import_rules(rules, actor)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The filters engine that decides posts at ingest: the drop rules (a dropped post is
    /// never written), the regex rules (no index can find their matches later) and the
    /// embedded classifier models with the stored thresholds and actions.
    ///
    /// The other hide and review rules are left out on purpose: search applies them to every
    /// indexed post from the index (search-api's `takedown`), so that disabling one brings
    /// its posts back, which a verdict stored with the post could not do.
    pub fn engine(&self) -> Result<filters::Engine> {
        self.engine_for(&self.rules()?)
    }

    /// [`Store::engine`] for `rules`, the store's rules as just read (a reload reads them
    /// once for everything it rebuilds: reading 10 000 rules takes about 10 ms).
    pub fn engine_for(&self, rules: &[filters::rules::Rule]) -> Result<filters::Engine> {
        use filters::rules::{Kind, RuleAction};
        let rules: Vec<_> = rules
            .iter()
            .filter(|r| r.action == RuleAction::Drop || r.kind == Kind::Regex)
            .cloned()
            .collect();
        let set = filters::RuleSet::build(rules).map_err(|e| Error::InvalidRule(e.to_string()))?;
        let configs = self.classifier_configs()?;
        let classifiers = filters::classify::Classifiers::embedded()
            .and_then(|c| c.reconfigure(&configs))
            .map_err(|e| Error::InvalidClassifiers(e.to_string()))?;
        Ok(filters::Engine::new(std::sync::Arc::new(set), classifiers))
    }
}

/// Now, as RFC 3339 UTC with whole seconds.
fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The rule's JSON, as the audit log records it.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests;
