//! The append-only audit log: one entry per change, written in the change's transaction.

use crate::{Result, Store, to_json};
use rusqlite::{Transaction, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, growing; the paging cursor.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who: the token's `sub` (or `cli` for the command line).
    pub actor: String,
    /// `rule.create`, `rule.update`, `rule.delete`, `classifiers.update`.
    pub action: String,
    /// The rule id, or `classifiers`.
    pub target: String,
    /// The value before (absent for a creation).
    pub old: Option<serde_json::Value>,
    /// The value after (absent for a deletion).
    pub new: Option<serde_json::Value>,
    /// Why, as the moderator wrote it.
    pub note: Option<String>,
}

/// Which entries to read: newest first, optionally filtered.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    /// Only entries older than this `seq` (the next page's cursor).
    pub before: Option<i64>,
    /// Only this target (rule id).
    pub target: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only entries at or after this time (RFC 3339, compared as text, so use UTC `Z`).
    pub since: Option<String>,
    /// At most this many (1..=500, default 50).
    pub limit: Option<usize>,
}

/// Appends an entry inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append<T: Serialize>(
    tx: &Transaction<'_>,
    at: &str,
    actor: &str,
    action: &str,
    target: &str,
    old: Option<&T>,
    new: Option<&T>,
    note: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, target, old, new, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            at,
            actor,
            action,
            target,
            old.map(to_json),
            new.map(to_json),
            note
        ],
    )?;
    Ok(())
}

impl Store {
    /// Reads the log, newest first.
    pub fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let mut sql = String::from(
            "SELECT seq, at, actor, action, target, old, new, note FROM audit WHERE 1 = 1",
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(before) = query.before {
            sql.push_str(" AND seq < ?");
            args.push(Value::Integer(before));
        }
        for (column, value) in [
            ("target", &query.target),
            ("actor", &query.actor),
            ("action", &query.action),
        ] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                args.push(Value::Text(value.clone()));
            }
        }
        if let Some(since) = &query.since {
            sql.push_str(" AND at >= ?");
            args.push(Value::Text(since.clone()));
        }
        let limit = query.limit.unwrap_or(50).clamp(1, 500);
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(&sql)?;
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        let rows = stmt
            .query_map(params_from_iter(args), |row| {
                Ok(AuditEntry {
                    seq: row.get(0)?,
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    target: row.get(4)?,
                    old: json(row.get(5)?),
                    new: json(row.get(6)?),
                    note: row.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}
