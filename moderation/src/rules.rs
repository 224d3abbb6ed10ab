//! Rules: create, read, change, delete, import, each with its audit entry.

use crate::{Error, Result, Store, now, to_json};
use filters::rules::{Kind, Rule, RuleAction};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Deserialize;

/// A partial change to a rule (`PATCH /v1/rules/{id}`): absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    /// New kind.
    pub kind: Option<Kind>,
    /// New pattern.
    pub pattern: Option<String>,
    /// New action.
    pub action: Option<RuleAction>,
    /// New regions.
    pub regions: Option<Vec<String>>,
    /// New category (`null` keeps it; an empty string clears it).
    pub category: Option<String>,
    /// New note.
    pub note: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// The version the change is based on; when given it must be the stored one.
    pub version: Option<u64>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Rules that did not exist.
    pub created: usize,
    /// Rules replaced by the imported version.
    pub replaced: usize,
    /// Rules identical to the stored ones (no new version, no audit entry).
    pub unchanged: usize,
}

const COLUMNS: &str = "id, kind, pattern, action, regions, category, note, enabled, created_by, \
                       created_at, version";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Rule> {
    let text = |i: usize| row.get::<_, String>(i);
    let parse = |i: usize| -> rusqlite::Result<serde_json::Value> {
        Ok(serde_json::Value::String(text(i)?))
    };
    let bad = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok(Rule {
        id: text(0)?,
        kind: serde_json::from_value(parse(1)?).map_err(|e| bad(1, e))?,
        pattern: text(2)?,
        action: serde_json::from_value(parse(3)?).map_err(|e| bad(3, e))?,
        regions: serde_json::from_str(&text(4)?).map_err(|e| bad(4, e))?,
        category: row.get(5)?,
        note: row.get(6)?,
        enabled: row.get(7)?,
        created_by: Some(text(8)?),
        created_at: Some(text(9)?),
        version: Some(row.get::<_, i64>(10)? as u64),
    })
}

/// Checks a rule as a moderator wrote it, and tidies it (trimmed pattern, uppercase regions,
/// empty category or note as none).
fn checked(mut rule: Rule) -> Result<Rule> {
    rule.pattern = rule.pattern.trim().to_string();
    for region in &mut rule.regions {
        *region = region.trim().to_ascii_uppercase();
    }
    rule.regions.sort();
    rule.regions.dedup();
    rule.category = rule.category.filter(|c| !c.trim().is_empty());
    rule.note = rule.note.filter(|n| !n.trim().is_empty());
    if rule.id.len() > 128 || rule.id.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::InvalidRule(
            "a rule id is at most 128 characters, without `/` or control characters".into(),
        ));
    }
    rule.check().map_err(Error::InvalidRule)?;
    Ok(rule)
}

fn get(tx: &rusqlite::Connection, id: &str) -> Result<Option<Rule>> {
    Ok(tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM rules WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

fn next_id(tx: &Transaction<'_>) -> Result<String> {
    let mut n: u64 = tx
        .query_row("SELECT value FROM meta WHERE key = 'next_rule'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let id = loop {
        let id = format!("r{n}");
        n += 1;
        if get(tx, &id)?.is_none() {
            break id;
        }
    };
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('next_rule', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [n.to_string()],
    )?;
    Ok(id)
}

fn write(tx: &Transaction<'_>, rule: &Rule, actor: &str, at: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO rules (id, kind, pattern, action, regions, category, note, enabled,
                            created_by, created_at, updated_by, updated_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, pattern = excluded.pattern,
             action = excluded.action, regions = excluded.regions,
             category = excluded.category, note = excluded.note, enabled = excluded.enabled,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at,
             version = excluded.version",
        params![
            rule.id,
            rule.kind.as_str(),
            rule.pattern,
            rule.action.as_str(),
            to_json(&rule.regions),
            rule.category,
            rule.note,
            rule.enabled,
            rule.created_by.as_deref().unwrap_or(actor),
            rule.created_at.as_deref().unwrap_or(at),
            actor,
            at,
            rule.version.unwrap_or(1) as i64,
        ],
    )?;
    Ok(())
}

/// The stored rule's version, or [`Error::Conflict`] when the change was based on another.
fn check_version(stored: &Rule, expected: Option<u64>) -> Result<u64> {
    let current = stored.version.unwrap_or(1);
    match expected {
        Some(expected) if expected != current => Err(Error::Conflict {
            id: stored.id.clone(),
            expected,
            current,
        }),
        _ => Ok(current),
    }
}

/// Whether two rules match and act alike (server fields aside).
fn same_content(a: &Rule, b: &Rule) -> bool {
    a.kind == b.kind
        && a.pattern == b.pattern
        && a.action == b.action
        && a.regions == b.regions
        && a.category == b.category
        && a.note == b.note
        && a.enabled == b.enabled
}

impl Store {
    /// Every rule, by id.
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM rules ORDER BY id"))?;
        let rules = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
        Ok(rules)
    }

    /// One rule.
    pub fn rule(&self, id: &str) -> Result<Rule> {
        get(&self.conn.lock(), id)?.ok_or_else(|| Error::NotFound(id.into()))
    }

    /// Stores a new rule (server fields are set here; an empty id is assigned as `rN`).
    pub fn create_rule(&self, rule: Rule, actor: &str, note: Option<&str>) -> Result<Rule> {
        let mut rule = checked(rule)?;
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        if rule.id.is_empty() {
            rule.id = next_id(&tx)?;
        } else if get(&tx, &rule.id)?.is_some() {
            return Err(Error::Exists(rule.id));
        }
        let at = now();
        rule.created_by = Some(actor.into());
        rule.created_at = Some(at.clone());
        rule.version = Some(1);
        write(&tx, &rule, actor, &at)?;
        crate::audit::append(
            &tx,
            &at,
            actor,
            "rule.create",
            &rule.id,
            None,
            Some(&rule),
            note,
        )?;
        tx.commit()?;
        Ok(rule)
    }

    /// Changes a rule. With `patch.version`, the change applies only to that version.
    pub fn update_rule(
        &self,
        id: &str,
        patch: RulePatch,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Rule> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let old = get(&tx, id)?.ok_or_else(|| Error::NotFound(id.into()))?;
        let current = check_version(&old, patch.version)?;
        let mut rule = old.clone();
        if let Some(kind) = patch.kind {
            rule.kind = kind;
        }
        if let Some(pattern) = patch.pattern {
            rule.pattern = pattern;
        }
        if let Some(action) = patch.action {
            rule.action = action;
        }
        if let Some(regions) = patch.regions {
            rule.regions = regions;
        }
        if let Some(category) = patch.category {
            rule.category = Some(category);
        }
        if let Some(rule_note) = patch.note {
            rule.note = Some(rule_note);
        }
        if let Some(enabled) = patch.enabled {
            rule.enabled = enabled;
        }
        let mut rule = checked(rule)?;
        if same_content(&rule, &old) {
            return Ok(old);
        }
        rule.version = Some(current + 1);
        let at = now();
        write(&tx, &rule, actor, &at)?;
        crate::audit::append(
            &tx,
            &at,
            actor,
            "rule.update",
            id,
            Some(&old),
            Some(&rule),
            note,
        )?;
        tx.commit()?;
        Ok(rule)
    }

    /// Deletes a rule; with `version`, only that version. Returns the deleted rule.
    pub fn delete_rule(
        &self,
        id: &str,
        version: Option<u64>,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Rule> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let old = get(&tx, id)?.ok_or_else(|| Error::NotFound(id.into()))?;
        check_version(&old, version)?;
        tx.execute("DELETE FROM rules WHERE id = ?1", [id])?;
        crate::audit::append(
            &tx,
            &now(),
            actor,
            "rule.delete",
            id,
            Some(&old),
            None,
            note,
        )?;
        tx.commit()?;
        Ok(old)
    }

    /// Imports rules (a `RULES.json` array, already parsed): a rule whose id exists is
    /// replaced (its version goes up), one without an id is created. All or nothing: when
    /// any rule is invalid, nothing is stored and the error lists every bad rule.
    pub fn import_rules(&self, rules: Vec<Rule>, actor: &str) -> Result<ImportSummary> {
        let mut problems = Vec::new();
        let mut good = Vec::with_capacity(rules.len());
        for (i, rule) in rules.into_iter().enumerate() {
            let name = if rule.id.is_empty() {
                format!("#{}", i + 1)
            } else {
                rule.id.clone()
            };
            match checked(rule) {
                Ok(rule) => good.push(rule),
                Err(e) => problems.push(format!("rule {name}: {e}")),
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidRule(problems.join("\n")));
        }
        let mut summary = ImportSummary::default();
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let at = now();
        for mut rule in good {
            let old = if rule.id.is_empty() {
                rule.id = next_id(&tx)?;
                None
            } else {
                get(&tx, &rule.id)?
            };
            match &old {
                Some(old) if same_content(&rule, old) => {
                    summary.unchanged += 1;
                    continue;
                }
                Some(old) => {
                    rule.created_by = old.created_by.clone();
                    rule.created_at = old.created_at.clone();
                    rule.version = Some(old.version.unwrap_or(1) + 1);
                    summary.replaced += 1;
                }
                None => {
                    rule.created_by = Some(actor.into());
                    rule.created_at = Some(at.clone());
                    rule.version = Some(1);
                    summary.created += 1;
                }
            }
            write(&tx, &rule, actor, &at)?;
            let action = if old.is_some() {
                "rule.update"
            } else {
                "rule.create"
            };
            crate::audit::append(
                &tx,
                &at,
                actor,
                action,
                &rule.id,
                old.as_ref(),
                Some(&rule),
                Some("import"),
            )?;
        }
        tx.commit()?;
        Ok(summary)
    }
}
