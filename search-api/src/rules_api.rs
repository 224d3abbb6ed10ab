//! The moderators' API: rules, classifier settings and the audit log (contract sections 4-5).
//!
//! Every handler needs the moderator role. Each change is one SQLite transaction with its
//! audit entry ([`moderation::Store`]); after it commits, a new filters engine is built off
//! to the side and swapped in ([`filters::SwappablePolicy`]), so the next ingested post is
//! decided by the new rules. A failed build leaves the previous engine in place and the
//! error is logged (it cannot happen for rules the store accepted, since both check alike).

use crate::auth::{Role, User};
use crate::error::{ApiError, Body, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use filters::classify::ClassifierConfig;
use filters::rules::Rule;
use moderation::{AuditEntry, AuditQuery, ImportSummary, RulePatch};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tantivy::Term;

/// `GET /v1/rules` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RuleFilter {
    /// Text to find in the id, pattern, category or note (case-insensitive).
    pub q: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only enabled (`true`) or disabled (`false`) rules.
    pub enabled: Option<bool>,
    /// Only rules applying in this region (and rules applying everywhere).
    pub region: Option<String>,
}

/// A list of rules.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleList {
    /// The rules, by id.
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<Rule>,
}

/// `DELETE /v1/rules/{id}` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DeleteParams {
    /// Delete only if the rule is at this version.
    pub version: Option<u64>,
    /// Why, for the audit log.
    pub note: Option<String>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<AuditEntry>,
    /// `before` value for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// `GET /v1/audit` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Entries older than this `seq` (from `next_before`).
    pub before: Option<i64>,
    /// Only this rule id (or `classifiers`).
    pub target: Option<String>,
    /// Only this moderator (`sub`).
    pub actor: Option<String>,
    /// Only this action (`rule.create`, `rule.update`, `rule.delete`, `classifiers.update`).
    pub action: Option<String>,
    /// Only entries at or after this time (RFC 3339, UTC).
    pub since: Option<String>,
    /// Page size, 1..=500 (default 50; others are brought into that range).
    // Signed: the OpenAPI document says `int64`, and every number it allows must parse.
    pub limit: Option<i64>,
}

/// Classifier settings.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClassifierSettings {
    /// One entry per category.
    #[schema(value_type = Vec<ClassifierEntry>)]
    pub classifiers: Vec<ClassifierConfig>,
    /// Why (for the audit log); ignored in answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A rule as a moderator sends it (`POST /v1/rules`, preview, import): the OpenAPI
/// document's view of [`Rule`] without its server fields. Beyond this shape the pattern must
/// suit its kind (a regex must compile, a hashtag have its sign...), else 400 `invalid_rule`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RuleDraft {
    /// Rule id; the server makes one when absent.
    #[serde(default)]
    id: String,
    /// What the rule matches.
    #[schema(inline)]
    kind: RuleKind,
    /// The word, phrase, regex, channel, domain, hashtag or hash to match.
    pattern: String,
    /// What happens to a matching post.
    #[schema(inline)]
    action: RuleActionName,
    /// For `hide`: ISO 3166-1 alpha-2 codes of the countries it applies in; empty means
    /// everywhere.
    #[serde(default)]
    regions: Vec<String>,
    /// Free-form category.
    category: Option<String>,
    /// Why the rule exists (also the audit log's "why").
    note: Option<String>,
    /// Disabled rules are kept but match nothing. Default true.
    #[serde(default)]
    enabled: bool,
}

/// `PATCH /v1/rules/{id}` body: the fields to change (the OpenAPI document's view of
/// [`RulePatch`]; `null` or absent keeps a field).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RuleChange {
    /// New kind.
    #[schema(inline)]
    kind: Option<RuleKind>,
    /// New pattern.
    pattern: Option<String>,
    /// New action.
    #[schema(inline)]
    action: Option<RuleActionName>,
    /// New regions.
    regions: Option<Vec<String>>,
    /// New category (an empty string clears it).
    category: Option<String>,
    /// New note, and the audit log's "why".
    note: Option<String>,
    /// Enable or disable.
    enabled: Option<bool>,
    /// The version the change is based on; 409 when the rule is at another.
    version: Option<u64>,
}

/// A rule's kind (contract section 5).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RuleKind {
    /// A whole word; a trailing `*` matches a prefix.
    Term,
    /// Words in sequence.
    Phrase,
    /// A Rust regex.
    Regex,
    /// A channel username or id.
    Channel,
    /// A link domain or a subdomain of it.
    Domain,
    /// A hashtag or cashtag with its sign.
    Hashtag,
    /// A media item's SHA-256.
    #[serde(rename = "media_sha256")]
    MediaSha256,
}

/// What a matching rule (or classifier) does.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RuleActionName {
    /// Hidden from users in the regions (everyone when none).
    Hide,
    /// Held until a moderator approves.
    Review,
    /// Never indexed; deleted when indexed.
    Drop,
}

/// One category's classifier setting (the OpenAPI document's view of [`ClassifierConfig`]);
/// the category must be one of the embedded models', else 400 `invalid_rule`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ClassifierEntry {
    /// The model's category (`spam`, `toxic`).
    category: String,
    /// Score from which the action applies, in (0, 1].
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    threshold: f32,
    /// The action taken.
    #[schema(inline)]
    action: RuleActionName,
    /// For `hide`: the regions; empty means everywhere.
    #[serde(default)]
    regions: Vec<String>,
    /// A disabled category is not scored at all. Default true.
    #[serde(default)]
    enabled: bool,
}

fn moderator(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = state.keys.verify_header(header)?;
    user.require(&[Role::Moderator])?;
    Ok(user)
}

/// Runs store work on a blocking thread (SQLite and engine builds must not block the runtime).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// Makes the stored rules take effect: a new filters engine for new posts, new takedown sets
/// for indexed posts (swapped in when built; searches never wait), and the deletion of what
/// drop rules match.
pub fn reload_policy(state: &Arc<AppState>) -> Result<(), ApiError> {
    let _serial = state.reload.lock();
    // Read once for everything below (10 ms per read with 10 000 rules).
    let rules = state.moderation.rules()?;
    state.policy.store(state.moderation.engine_for(&rules)?);
    // Scans first: a new regex rule's scan of the stored posts is the slowest part of its
    // takedown, and it need not wait for the sets of the other rules to be rebuilt (about
    // 40 ms with 10 000 rules in force). This also forgets the scans of disabled regex rules
    // before the sets are rebuilt, which releases their posts.
    start_regex_scans_for(state, &rules)?;
    let took = crate::review_api::apply_takedown_for(state, &rules)?;
    state.metrics.rule_reloads.inc();
    let fields = state.engine.fields();
    let drops: Vec<_> = rules
        .iter()
        .filter(|r| r.enabled && r.action == filters::rules::RuleAction::Drop)
        .filter_map(|rule| crate::takedown::rule_query(fields, rule).ok().flatten())
        .collect();
    let dropped = !drops.is_empty();
    state
        .live
        .delete_matching(drops)
        .map_err(ApiError::internal)?;
    tracing::info!(
        rules = rules.len(),
        took_ms = took.as_secs_f64() * 1e3,
        dropped,
        "rules applied"
    );
    Ok(())
}

/// Starts, in the background, a scan of the indexed posts' text for every enabled regex rule
/// whose pattern has no scan yet: no index can answer a regex, so this is how a regex rule
/// reaches posts indexed before it (new posts get it at ingest). When a scan ends, its
/// matches join the takedown sets (hide, review) or are deleted (drop). Seconds at 1M posts;
/// `GET /metrics` `regex_scan_seconds` tells how long they take.
pub fn start_regex_scans(state: &Arc<AppState>) -> Result<(), ApiError> {
    start_regex_scans_for(state, &state.moderation.rules()?)
}

/// [`start_regex_scans`] for `rules`, the store's rules as just read.
fn start_regex_scans_for(state: &Arc<AppState>, rules: &[Rule]) -> Result<(), ApiError> {
    let takedown = state.engine.takedown();
    // A disabled rule forgets its scan: posts indexed while it was off were not judged by it.
    takedown.retain_regex_scans(
        &rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.id.as_str())
            .collect(),
    );
    for rule in rules
        .iter()
        .filter(|r| r.enabled && r.kind == filters::rules::Kind::Regex)
    {
        if takedown
            .regex_scan(&rule.id)
            .is_some_and(|scan| scan.pattern == rule.pattern)
            || !state
                .regex_scans_running
                .lock()
                .insert((rule.id.clone(), rule.pattern.clone()))
        {
            continue;
        }
        let (state, rule) = (state.clone(), rule.clone());
        std::thread::Builder::new()
            .name(format!("regex-scan-{}", rule.id))
            .spawn(move || {
                let key = (rule.id.clone(), rule.pattern.clone());
                if let Err(e) = regex_scan(&state, &rule) {
                    tracing::error!(rule = %rule.id, error = %e, "regex scan failed");
                }
                state.regex_scans_running.lock().remove(&key);
            })
            .map_err(ApiError::internal)?;
    }
    Ok(())
}

/// Scans for one regex rule, then applies what it found.
fn regex_scan(state: &Arc<AppState>, rule: &Rule) -> Result<(), ApiError> {
    let started = std::time::Instant::now();
    let set = filters::RuleSet::build(vec![rule.clone()])
        .map_err(|e| ApiError::InvalidRule(e.to_string()))?;
    let posts = state
        .engine
        .scan_posts(|text| {
            // A set of one regex rule reads the light form only.
            let normalized = filters::normalize::Normalized::light_only(text);
            !set.matching(&filters::Subject::default(), &normalized)
                .is_empty()
        })
        .map_err(ApiError::internal)?;
    let took = started.elapsed();
    state.metrics.regex_scan_seconds.observe(took.as_secs_f64());
    let matches = posts.len();
    let _serial = state.reload.lock();
    // The rule may have changed or gone while the scan ran: then this scan is stale, and
    // the change started a fresh one.
    let current = state.moderation.rules()?;
    let Some(now) = current.iter().find(|r| r.id == rule.id) else {
        return Ok(());
    };
    if now.pattern != rule.pattern {
        return Ok(());
    }
    let keys: Vec<Term> = posts
        .keys()
        .map(|&(c, p)| {
            Term::from_field_text(
                state.engine.fields().key,
                &indexer::schema::key_string(c, p),
            )
        })
        .collect();
    state.engine.takedown().set_regex_scan(
        &rule.id,
        Arc::new(crate::takedown::RegexScan {
            pattern: rule.pattern.clone(),
            posts,
            took,
        }),
    );
    crate::review_api::apply_takedown_for(state, &current)?;
    if now.enabled && now.action == filters::rules::RuleAction::Drop && !keys.is_empty() {
        state
            .live
            .delete_matching(vec![Box::new(tantivy::query::TermSetQuery::new(keys))])
            .map_err(ApiError::internal)?;
    }
    tracing::info!(
        rule = %rule.id,
        matches,
        took_ms = took.as_secs_f64() * 1e3,
        "regex rule scanned over the indexed posts"
    );
    Ok(())
}

/// A JSON object body. Not any JSON that serde would take: a derived struct also accepts an
/// array of its fields in order (`[null, null]`), which no client means.
fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::InvalidRule(format!("bad JSON body: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::InvalidRule(
            "bad JSON body: expected a JSON object".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::InvalidRule(format!("bad JSON body: {e}")))
}

/// Lists rules.
#[utoipa::path(get, path = "/v1/rules", params(RuleFilter),
    responses((status = 200, body = RuleList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_rules(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(filter): Query<RuleFilter>,
) -> Result<Json<RuleList>, ApiError> {
    moderator(&state, &headers)?;
    let rules = blocking(move || Ok(state.moderation.rules()?)).await?;
    let needle = filter.q.as_deref().map(str::to_lowercase);
    let region = filter.region.as_deref().map(str::to_ascii_uppercase);
    let rules = rules
        .into_iter()
        .filter(|r| filter.kind.as_deref().is_none_or(|k| r.kind.as_str() == k))
        .filter(|r| {
            filter
                .action
                .as_deref()
                .is_none_or(|a| r.action.as_str() == a)
        })
        .filter(|r| filter.enabled.is_none_or(|e| r.enabled == e))
        .filter(|r| {
            region
                .as_deref()
                .is_none_or(|c| r.regions.is_empty() || r.regions.iter().any(|x| x == c))
        })
        .filter(|r| {
            needle.as_deref().is_none_or(|n| {
                [
                    Some(r.id.as_str()),
                    Some(r.pattern.as_str()),
                    r.category.as_deref(),
                    r.note.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|field| field.to_lowercase().contains(n))
            })
        })
        .collect();
    Ok(Json(RuleList { rules }))
}

/// One rule.
#[utoipa::path(get, path = "/v1/rules/{id}", params(("id" = String, Path, description = "rule id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Rule>, ApiError> {
    moderator(&state, &headers)?;
    Ok(Json(
        blocking(move || Ok(state.moderation.rule(&id)?)).await?,
    ))
}

/// Creates a rule. The server sets `id` (unless given), `created_by`, `created_at` and
/// `version`; the rule's `note` is also the audit log's "why".
#[utoipa::path(post, path = "/v1/rules", request_body = RuleDraft,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<(StatusCode, Json<Rule>), ApiError> {
    let user = moderator(&state, &headers)?;
    let value: serde_json::Value = parse_json(&body)?;
    let rule = filters::rules::parse_rule(value).map_err(ApiError::InvalidRule)?;
    let rule = blocking(move || {
        let note = rule.note.clone();
        let rule = state
            .moderation
            .create_rule(rule, &user.claims.sub, note.as_deref())?;
        reload_policy(&state)?;
        Ok(rule)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Changes some fields of a rule; with `version`, only if the rule is still at it (409
/// otherwise). `note` replaces the rule's note and is the audit log's "why".
#[utoipa::path(patch, path = "/v1/rules/{id}", params(("id" = String, Path, description = "rule id")), request_body = RuleChange,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Json<Rule>, ApiError> {
    let user = moderator(&state, &headers)?;
    let patch: RulePatch = parse_json(&body)?;
    let rule = blocking(move || {
        let note = patch.note.clone();
        let rule = state
            .moderation
            .update_rule(&id, patch, &user.claims.sub, note.as_deref())?;
        reload_policy(&state)?;
        Ok(rule)
    })
    .await?;
    Ok(Json(rule))
}

/// Deletes a rule; with `version`, only if the rule is still at it.
#[utoipa::path(delete, path = "/v1/rules/{id}", params(("id" = String, Path, description = "rule id"), DeleteParams),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<DeleteParams>,
) -> Result<Json<Rule>, ApiError> {
    let user = moderator(&state, &headers)?;
    let rule = blocking(move || {
        let rule = state.moderation.delete_rule(
            &id,
            params.version,
            &user.claims.sub,
            params.note.as_deref(),
        )?;
        reload_policy(&state)?;
        Ok(rule)
    })
    .await?;
    Ok(Json(rule))
}

/// A draft rule's dry run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewAnswer {
    /// Indexed posts the rule matches (whatever their current visibility).
    pub matches: u64,
    /// The newest of them (for a regex rule: the first found).
    pub sample: Vec<crate::search::Hit>,
    /// False when a regex scan ran out of time: `matches` counts the posts scanned so far.
    pub complete: bool,
}

/// `POST /v1/rules/preview` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PreviewParams {
    /// Sample size, 1..=100 (default 20; others are brought into that range).
    pub limit: Option<i64>,
}

/// Runs a draft rule over the indexed posts without saving or changing anything: how many
/// posts it would catch, and the newest of them. Regex rules are answered by scanning the
/// newest posts' text within a time budget (no index can answer a regex); the count is then
/// a lower bound over the scanned posts.
#[utoipa::path(post, path = "/v1/rules/preview", params(PreviewParams), request_body = RuleDraft,
    responses((status = 200, body = PreviewAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview_rule(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<PreviewParams>,
    Body(body): Body,
) -> Result<Json<PreviewAnswer>, ApiError> {
    moderator(&state, &headers)?;
    let value: serde_json::Value = parse_json(&body)?;
    let rule = filters::rules::parse_rule(value).map_err(ApiError::InvalidRule)?;
    rule.check().map_err(ApiError::InvalidRule)?;
    let limit = params.limit.unwrap_or(20).clamp(1, 100) as usize;
    let answer = blocking(move || {
        let engine = &state.engine;
        let (matches, sample, complete) = match crate::takedown::rule_query(engine.fields(), &rule)
            .map_err(ApiError::InvalidRule)?
        {
            Some(query) => {
                let highlight = preview_highlight(&rule);
                let (matches, sample) = engine.preview(query.as_ref(), &highlight, limit)?;
                (matches, sample, true)
            }
            None => regex_preview(engine, &rule, limit)?,
        };
        Ok(PreviewAnswer {
            matches,
            sample,
            complete,
        })
    })
    .await?;
    Ok(Json(answer))
}

/// Words to mark in a preview's snippets: the pattern's words in their indexed forms.
fn preview_highlight(rule: &Rule) -> Vec<String> {
    match rule.target() {
        Ok(filters::rules::Target::Words { words, .. }) => words
            .iter()
            .flat_map(|w| indexer::analysis::query_variants(w).into_iter().flatten())
            .collect(),
        _ => Vec::new(),
    }
}

/// How long a regex preview may scan stored posts.
const REGEX_PREVIEW_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

/// A regex rule's preview: the rule set's own matcher over the stored text of every post,
/// within [`REGEX_PREVIEW_BUDGET`].
fn regex_preview(
    engine: &crate::search::Engine,
    rule: &Rule,
    limit: usize,
) -> Result<(u64, Vec<crate::search::Hit>, bool), ApiError> {
    let set = filters::RuleSet::build(vec![rule.clone()])
        .map_err(|e| ApiError::InvalidRule(e.to_string()))?;
    engine.scan_text(REGEX_PREVIEW_BUDGET, limit, |text| {
        // A set of one regex rule reads the light form only.
        let normalized = filters::normalize::Normalized::light_only(text);
        !set.matching(&filters::Subject::default(), &normalized)
            .is_empty()
    })
}

/// Every rule as a `RULES.json` array (the format `--rules` and import take).
#[utoipa::path(get, path = "/v1/rules/export",
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_rules(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<Rule>>, ApiError> {
    moderator(&state, &headers)?;
    Ok(Json(blocking(move || Ok(state.moderation.rules()?)).await?))
}

/// Imports a `RULES.json` array: a rule whose id exists is replaced, one without an id is
/// created. All or nothing: one bad rule refuses the import, listing every bad rule.
#[utoipa::path(post, path = "/v1/rules/import", request_body = Vec<RuleDraft>,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_rules(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<ImportSummary>, ApiError> {
    let user = moderator(&state, &headers)?;
    let json = std::str::from_utf8(&body)
        .map_err(|_| ApiError::InvalidRule("the body is not UTF-8".into()))?;
    let rules =
        filters::rules::parse_rules(json).map_err(|e| ApiError::InvalidRule(e.to_string()))?;
    let summary = blocking(move || {
        let summary = state.moderation.import_rules(rules, &user.claims.sub)?;
        reload_policy(&state)?;
        Ok(summary)
    })
    .await?;
    Ok(Json(summary))
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/v1/audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    moderator(&state, &headers)?;
    let limit = params.limit.unwrap_or(50).clamp(1, 500) as usize;
    let query = AuditQuery {
        before: params.before,
        target: params.target,
        actor: params.actor,
        action: params.action,
        since: params.since,
        limit: Some(limit),
    };
    let entries = blocking(move || Ok(state.moderation.audit(&query)?)).await?;
    let next_before = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        entries,
        next_before,
    }))
}

/// Classifier settings in force.
#[utoipa::path(get, path = "/v1/classifiers",
    responses((status = 200, body = ClassifierSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_classifiers(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<ClassifierSettings>, ApiError> {
    moderator(&state, &headers)?;
    let classifiers = blocking(move || Ok(state.moderation.classifier_configs()?)).await?;
    Ok(Json(ClassifierSettings {
        classifiers,
        note: None,
    }))
}

/// Replaces the classifier settings (every category at once).
#[utoipa::path(put, path = "/v1/classifiers", request_body = ClassifierSettings,
    responses((status = 200, body = ClassifierSettings), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_classifiers(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<ClassifierSettings>, ApiError> {
    let user = moderator(&state, &headers)?;
    let settings: ClassifierSettings = parse_json(&body)?;
    let classifiers = blocking(move || {
        let configs = state.moderation.set_classifier_configs(
            settings.classifiers,
            &user.claims.sub,
            settings.note.as_deref(),
        )?;
        reload_policy(&state)?;
        Ok(configs)
    })
    .await?;
    Ok(Json(ClassifierSettings {
        classifiers,
        note: None,
    }))
}
