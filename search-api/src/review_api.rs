//! The review queue (contract section 4): the posts held for review, and a moderator's
//! approve or reject.
//!
//! Held = stored `visibility:review` (a classifier or regex rule at ingest) or an enabled
//! review rule's match, less the approved posts ([`crate::takedown`] keeps the held set per
//! segment). The queue lists it straight from those sets, so it is always what users are
//! actually denied.
//!
//! A decision names the version the moderator saw (`version` in the body; 409 when the post
//! was edited since). Approve records the decision and rebuilds the exclusions without the
//! post; the post shows in search at once. Reject records the decision and replaces the post
//! with a rejection tombstone: gone from the index, and the same version sent again stays out
//! (an edit is judged afresh). The decision is written (with its audit entry) before the
//! index changes, so the log never misses an effect.

use crate::auth::{Role, User};
use crate::error::{ApiError, Body, ErrorBody};
use crate::extract::{Path, Query};
use crate::search::{Engine, Hit, Sort};
use crate::state::AppState;
use crate::takedown::{Approvals, docs_of};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use indexer::post::PostKey;
use indexer::schema;
use moderation::{Decision, ReviewDecision};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tantivy::query::{BooleanQuery, Occur, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

/// One post held for review.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldPost {
    /// The post as search shows it (the snippet is the start of the text, HTML-escaped).
    pub post: Hit,
    /// The indexed version (send it back with the decision).
    pub version: i64,
    /// The whole original text (JSON string, not HTML-escaped: show it as text).
    pub text: String,
    /// What held it at ingest: classifier categories with scores, regex rules (`rule:ID`).
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<filters::Reason>,
    /// The enabled review rules that match it now.
    pub rules: Vec<String>,
}

/// A page of the review queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewPage {
    /// Held posts, oldest first (or newest first with `order=newest`).
    pub items: Vec<HeldPost>,
    /// Every post held now.
    pub total: u64,
    /// `cursor` of the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /v1/review` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ReviewParams {
    /// `oldest` (default: a queue, first in first out) or `newest`.
    #[param(value_type = Option<QueueOrder>, inline)]
    pub order: Option<String>,
    /// Page size, 1..=100 (default 20; others are brought into that range).
    pub limit: Option<i64>,
    /// From `next_cursor`.
    pub cursor: Option<String>,
}

/// Order of the review queue.
// For the OpenAPI document only: `list` reads the parameter, to word its error.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum QueueOrder {
    /// First in, first out.
    Oldest,
    /// Newest first.
    Newest,
}

/// A moderator's decision on a held post.
// For the OpenAPI document only: `decide` reads the path; any other value is a 404.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ReviewAction {
    /// Show the post.
    Approve,
    /// Take the post out of the index.
    Reject,
}

/// `POST /v1/review/{channel_id}/{post_id}/{decision}` body (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// The version the moderator judged (from the queue); 409 when the post changed since.
    pub version: Option<i64>,
    /// Why, for the audit log.
    pub note: Option<String>,
}

/// The answer to a decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionAnswer {
    /// The recorded decision.
    #[schema(value_type = Object)]
    pub decision: ReviewDecision,
}

fn moderator(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = state.keys.verify_header(header)?;
    user.require(&[Role::Moderator])?;
    Ok(user)
}

/// The approvals in force, from the rules database.
pub fn approvals(store: &moderation::Store) -> Result<Approvals, moderation::Error> {
    Ok(store
        .review_decisions()?
        .into_iter()
        .filter(|d| d.decision == Decision::Approve)
        .map(|d| ((d.channel_id, d.post_id), d.version))
        .collect())
}

/// Sort key of a held post: date (µs), channel, post.
type QueueKey = (i64, u64, u64);

fn parse_cursor(cursor: &str) -> Result<QueueKey, ApiError> {
    let bad = || ApiError::BadCursor("the cursor is not one this server gave".into());
    let mut parts = cursor.split('.');
    let mut next = || parts.next().ok_or_else(bad);
    let key = (
        next()?.parse().map_err(|_| bad())?,
        next()?.parse().map_err(|_| bad())?,
        next()?.parse().map_err(|_| bad())?,
    );
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(key)
}

/// The held posts of `engine`, in `newest`-first or oldest-first order, after `after`.
fn queue(
    engine: &Engine,
    newest: bool,
    after: Option<QueueKey>,
    limit: usize,
) -> Result<ReviewPage, ApiError> {
    let searcher = engine.searcher();
    let Some(exclusions) = engine.takedown().current() else {
        return Ok(ReviewPage {
            items: Vec::new(),
            total: 0,
            next_cursor: None,
        });
    };
    let mut held: Vec<(QueueKey, DocAddress)> = Vec::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let Some(set) = exclusions.held(segment).map_err(ApiError::internal)? else {
            continue;
        };
        let ff = segment.fast_fields();
        let date = ff.date("date").map_err(ApiError::internal)?;
        let channel = ff.u64("channel_id").map_err(ApiError::internal)?;
        let post = ff.u64("post_id").map_err(ApiError::internal)?;
        for doc in docs_of(&set).filter(|&d| !segment.is_deleted(d)) {
            let key = (
                date.first(doc)
                    .map(|d| d.into_timestamp_micros())
                    .unwrap_or_default(),
                channel.first(doc).unwrap_or_default(),
                post.first(doc).unwrap_or_default(),
            );
            held.push((key, DocAddress::new(ord as u32, doc)));
        }
    }
    let total = held.len() as u64;
    if newest {
        held.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
    } else {
        held.sort_unstable_by_key(|h| h.0);
    }
    let page: Vec<_> = held
        .into_iter()
        .filter(|(key, _)| match after {
            None => true,
            Some(after) if newest => *key < after,
            Some(after) => *key > after,
        })
        .take(limit + 1)
        .collect();
    let next_cursor = (page.len() > limit).then(|| {
        let (date, channel, post) = page[limit - 1].0;
        format!("{date}.{channel}.{post}")
    });
    let items = page
        .into_iter()
        .take(limit)
        .map(|(_, addr)| held_post(engine, &searcher, &exclusions, addr))
        .collect::<Result<_, _>>()?;
    Ok(ReviewPage {
        items,
        total,
        next_cursor,
    })
}

fn held_post(
    engine: &Engine,
    searcher: &Searcher,
    exclusions: &crate::takedown::Exclusions,
    addr: DocAddress,
) -> Result<HeldPost, ApiError> {
    let f = engine.fields();
    let doc: TantivyDocument = searcher.doc(addr).map_err(ApiError::internal)?;
    let text_of = |field| {
        doc.get_first(field)
            .and_then(|v| tantivy::schema::Value::as_str(&v))
            .unwrap_or_default()
            .to_string()
    };
    let channel_id = doc
        .get_first(f.channel_id)
        .and_then(|v| tantivy::schema::Value::as_u64(&v))
        .unwrap_or_default();
    let segment = searcher.segment_reader(addr.segment_ord);
    let version = segment
        .fast_fields()
        .i64("version")
        .map_err(ApiError::internal)?
        .first(addr.doc_id)
        .unwrap_or_default();
    let reasons = serde_json::from_str(&text_of(f.reasons)).unwrap_or_default();
    Ok(HeldPost {
        post: engine.hit(searcher, addr, (0.0, channel_id, 0), Sort::Date, &[])?,
        version,
        text: text_of(f.text),
        reasons,
        rules: exclusions
            .review_rules_matching(segment, addr.doc_id)
            .map_err(ApiError::internal)?,
    })
}

/// The live document of a post, if indexed.
fn find_post(
    searcher: &Searcher,
    engine: &Engine,
    key: PostKey,
) -> Result<Option<DocAddress>, ApiError> {
    let f = engine.fields();
    let query = BooleanQuery::new(vec![
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(f.key, &schema::key_string(key.channel_id, key.post_id)),
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
    let found = searcher
        .search(
            &query,
            &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
        )
        .map_err(ApiError::internal)?;
    Ok(found.first().map(|(_, addr)| *addr))
}

/// Rebuilds the exclusions from the stored rules and approvals (after an approval).
pub fn apply_takedown(state: &AppState) -> Result<std::time::Duration, ApiError> {
    apply_takedown_for(state, &state.moderation.rules()?)
}

/// [`apply_takedown`] for `rules`, the store's rules as just read.
pub fn apply_takedown_for(
    state: &AppState,
    rules: &[filters::rules::Rule],
) -> Result<std::time::Duration, ApiError> {
    let approvals = approvals(&state.moderation)?;
    let took = state
        .engine
        .takedown()
        .update(&state.engine.searcher(), rules, Arc::new(approvals))
        .map_err(ApiError::internal)?;
    state.metrics.takedown_seconds.observe(took.as_secs_f64());
    Ok(took)
}

/// The posts held for review, with what held each.
#[utoipa::path(get, path = "/v1/review", params(ReviewParams),
    responses((status = 200, body = ReviewPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<ReviewParams>,
) -> Result<Json<ReviewPage>, ApiError> {
    moderator(&state, &headers)?;
    let newest = match params.order.as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "order must be `oldest` or `newest`, not {other:?}"
            )));
        }
    };
    let limit = params.limit.unwrap_or(20).clamp(1, 100) as usize;
    let after = params.cursor.as_deref().map(parse_cursor).transpose()?;
    let page = tokio::task::spawn_blocking(move || queue(&state.engine, newest, after, limit))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(page))
}

/// Approves or rejects a held post. Approve: the post shows in search at once. Reject: the
/// post leaves the index; the same version sent again stays out. Both are audited
/// (`review.approve`, `review.reject`, target `post:CHANNEL/POST`).
#[utoipa::path(post, path = "/v1/review/{channel_id}/{post_id}/{decision}",
    params(("channel_id" = u64, Path, description = "channel id"), ("post_id" = u64, Path, description = "post id"),
        ("decision" = inline(ReviewAction), Path, description = "`approve` or `reject`")),
    request_body = Option<DecisionBody>,
    responses((status = 200, body = DecisionAnswer), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((channel_id, post_id, decision)): Path<(u64, u64, String)>,
    Body(body): Body,
) -> Result<Json<DecisionAnswer>, ApiError> {
    let user = moderator(&state, &headers)?;
    let decision = match decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        other => {
            return Err(ApiError::NotFound(format!(
                "no such review action {other:?}: use approve or reject"
            )));
        }
    };
    let body: DecisionBody = if body.iter().all(u8::is_ascii_whitespace) {
        DecisionBody::default()
    } else {
        // An object: a derived struct would also take an array of its fields in order.
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("bad JSON body: {e}")))?;
        if !value.is_object() {
            return Err(ApiError::BadRequest(
                "bad JSON body: expected a JSON object".into(),
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| ApiError::BadRequest(format!("bad JSON body: {e}")))?
    };
    let key = PostKey {
        channel_id,
        post_id,
    };
    let recorded = tokio::task::spawn_blocking(move || {
        // One decision at a time: the check, the record and the rebuild see one state.
        let _serial = state.reload.lock();
        let engine = &state.engine;
        let searcher = engine.searcher();
        let addr = find_post(&searcher, engine, key)?.ok_or_else(|| {
            ApiError::NotFound(format!("post {channel_id}/{post_id} is not indexed"))
        })?;
        let exclusions = engine
            .takedown()
            .current()
            .ok_or_else(|| ApiError::internal("takedown sets not built"))?;
        let segment = searcher.segment_reader(addr.segment_ord);
        let is_held = exclusions
            .held(segment)
            .map_err(ApiError::internal)?
            .is_some_and(|set| set.contains(addr.doc_id));
        let post = held_post(engine, &searcher, &exclusions, addr)?;
        if let Some(seen) = body.version
            && seen != post.version
        {
            return Err(ApiError::Conflict(format!(
                "post {channel_id}/{post_id} is at version {}, not {seen}: it was edited since; \
                 reload the queue and judge it again",
                post.version
            )));
        }
        if !is_held {
            // Approving what is approved already is a repeat, not an error.
            if let Some(done) = state.moderation.review_decision(channel_id, post_id)?
                && done.decision == decision
                && done.version == post.version
            {
                return Ok(done);
            }
            return Err(ApiError::Conflict(format!(
                "post {channel_id}/{post_id} is not held for review"
            )));
        }
        let held = serde_json::json!({
            "reasons": post.reasons,
            "rules": post.rules,
            "text": post.text,
            "channel": post.post.channel,
        });
        let recorded = state.moderation.decide_review(
            moderation::PostVersion {
                channel_id,
                post_id,
                version: post.version,
            },
            decision,
            &held,
            &user.claims.sub,
            body.note.as_deref(),
        )?;
        match decision {
            Decision::Approve => {
                apply_takedown(&state)?;
            }
            Decision::Reject => {
                state
                    .live
                    .reject(key, post.version)
                    .map_err(ApiError::internal)?;
            }
        }
        state.metrics.review_decisions.inc();
        tracing::info!(
            channel_id,
            post_id,
            decision = decision.as_str(),
            "review decision"
        );
        Ok(recorded)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(DecisionAnswer { decision: recorded }))
}
