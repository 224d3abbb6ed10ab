//! Review decisions: a moderator approves or rejects a post held for review.
//!
//! A decision names the post *and the version* it was made on: an approval lets that
//! version be seen; a later edit is a new version, judged again (held again if a rule or a
//! classifier still holds it). A rejection removes the post from the index (search-api
//! writes a rejection tombstone); the row here is the record of it.

use crate::{Error, Result, Store, now};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// What a moderator decided about a held post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The post may be seen (the hold is lifted for this version).
    Approve,
    /// The post is removed.
    Reject,
}

impl Decision {
    /// `approve` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }

    fn parse(text: &str) -> Option<Decision> {
        match text {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }
}

/// A version of a post: what a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostVersion {
    /// The post's channel.
    pub channel_id: u64,
    /// The post.
    pub post_id: u64,
    /// The indexer's late-edit version.
    pub version: i64,
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// The post's channel.
    pub channel_id: u64,
    /// The post.
    pub post_id: u64,
    /// The post version decided (the indexer's late-edit version).
    pub version: i64,
    /// Approve or reject.
    pub decision: Decision,
    /// Who decided (the token's `sub`).
    pub actor: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Why, as the moderator wrote it.
    pub note: Option<String>,
}

impl ReviewDecision {
    /// The audit log's target for this post: `post:{channel_id}/{post_id}`.
    pub fn target(channel_id: u64, post_id: u64) -> String {
        format!("post:{channel_id}/{post_id}")
    }
}

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(ReviewDecision, String)> {
    let decision: String = row.get(3)?;
    Ok((
        ReviewDecision {
            channel_id: row.get::<_, i64>(0)? as u64,
            post_id: row.get::<_, i64>(1)? as u64,
            version: row.get(2)?,
            decision: Decision::Approve,
            actor: row.get(4)?,
            at: row.get(5)?,
            note: row.get(6)?,
        },
        decision,
    ))
}

const COLUMNS: &str = "channel_id, post_id, version, decision, actor, at, note";

impl Store {
    fn decision_of(&self, (mut d, text): (ReviewDecision, String)) -> Result<ReviewDecision> {
        d.decision = Decision::parse(&text).ok_or_else(|| Error::Corrupt {
            path: self.path.clone(),
            reason: format!("a review decision reads {text:?}"),
        })?;
        Ok(d)
    }

    /// Every recorded decision (the approvals are what search subtracts from the holds).
    pub fn review_decisions(&self) -> Result<Vec<ReviewDecision>> {
        let rows: Vec<_> = {
            let conn = self.conn.lock();
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM review ORDER BY channel_id, post_id"
            ))?;
            stmt.query_map([], from_row)?.collect::<Result<_, _>>()?
        };
        rows.into_iter().map(|r| self.decision_of(r)).collect()
    }

    /// The decision recorded for a post, if any.
    pub fn review_decision(&self, channel_id: u64, post_id: u64) -> Result<Option<ReviewDecision>> {
        let row = {
            let conn = self.conn.lock();
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM review WHERE channel_id = ?1 AND post_id = ?2"),
                params![channel_id as i64, post_id as i64],
                from_row,
            )
            .optional()?
        };
        row.map(|r| self.decision_of(r)).transpose()
    }

    /// Records `decision` on version `version` of a post, replacing any earlier decision on
    /// it, with an audit entry (`review.approve` or `review.reject`) whose `new` value is the
    /// decision with `held` (what held the post: reasons, text) so that the log alone tells
    /// what was judged.
    pub fn decide_review(
        &self,
        post: PostVersion,
        decision: Decision,
        held: &serde_json::Value,
        actor: &str,
        note: Option<&str>,
    ) -> Result<ReviewDecision> {
        let PostVersion {
            channel_id,
            post_id,
            version,
        } = post;
        let old = self.review_decision(channel_id, post_id)?;
        let record = ReviewDecision {
            channel_id,
            post_id,
            version,
            decision,
            actor: actor.to_string(),
            at: now(),
            note: note.map(str::to_string),
        };
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO review (channel_id, post_id, version, decision, actor, at, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                channel_id as i64,
                post_id as i64,
                version,
                decision.as_str(),
                actor,
                record.at,
                note
            ],
        )?;
        let new = serde_json::json!({"decision": record, "held": held});
        let old = old.map(|o| serde_json::json!({ "decision": o }));
        crate::audit::append(
            &tx,
            &record.at,
            actor,
            &format!("review.{}", decision.as_str()),
            &ReviewDecision::target(channel_id, post_id),
            old.as_ref(),
            Some(&new),
            note,
        )?;
        tx.commit()?;
        Ok(record)
    }
}
