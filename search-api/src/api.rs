//! HTTP handlers of the public API and the OpenAPI document generated from them.
//!
//! Handlers validate, authenticate and account (quota, rate limit), then hand the work to a
//! blocking thread: a Tantivy search or an ingest batch never runs on the async runtime.

use crate::auth::{Role, Tier, User};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;
use crate::live::IngestSummary;
use crate::search::{Hit, SearchRequest, Sort};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::OpenApi;

/// Parameters of `GET /v1/search` (for the OpenAPI document; parsing is by hand, to word the
/// errors). The constraints declared here are the ones the parser enforces with a 400; a `q`
/// that fits them can still be a malformed query (400 `bad_query`), as can an unknown cursor
/// (400 `bad_cursor`).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// Query: words, "phrases", -exclusions, #hashtags, $CASHTAGS, @channel.
    #[param(min_length = 1)]
    q: String,
    /// ISO 639-1 language.
    #[param(pattern = "^[A-Za-z]{2}$")]
    lang: Option<String>,
    /// Channel username (`@` optional).
    #[param(pattern = "^@*[A-Za-z0-9_]{4,32}$")]
    channel: Option<String>,
    /// Earliest date, RFC 3339 or YYYY-MM-DD (inclusive).
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    )]
    from: Option<String>,
    /// Latest date, RFC 3339 or YYYY-MM-DD (inclusive, the whole day for a date).
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    )]
    to: Option<String>,
    /// Only posts with this kind of media (`none`: without media).
    #[param(inline)]
    media: Option<MediaFilter>,
    /// Order of the hits.
    #[param(inline)]
    sort: Option<SortOrder>,
    /// 1..100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Opaque cursor from next_cursor.
    cursor: Option<String>,
}

/// A kind of media (`none`: posts without media).
// For the OpenAPI document only: `parse_search` reads the parameter.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum MediaFilter {
    /// With a photo.
    Photo,
    /// With a video.
    Video,
    /// With a document.
    Document,
    /// With audio.
    Audio,
    /// Without media.
    None,
}

/// Order of search hits.
// For the OpenAPI document only: `parse_search` reads the parameter.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum SortOrder {
    /// Best match first (the default).
    Relevance,
    /// Newest first.
    Date,
}

/// Free-tier quota state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuotaInfo {
    /// Searches per day.
    pub daily_free: u32,
    /// Left today.
    pub remaining: u32,
}

/// The search answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// Hits in rank order.
    pub hits: Vec<Hit>,
    /// Cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Posts matching (all words, then most of them).
    pub estimated_total: u64,
    /// Server time spent, ms.
    pub took_ms: f64,
    /// Free tier only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaInfo>,
}

const SEARCH_PARAMS: &[&str] = &[
    "q", "lang", "channel", "from", "to", "media", "sort", "limit", "cursor",
];

/// Ranked search.
#[utoipa::path(get, path = "/v1/search", params(SearchParams),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, body = ErrorBody, description = "bad_query, bad_request or bad_cursor"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "quota_exhausted or rate_limited, with Retry-After"),
        (status = 503, body = ErrorBody, description = "overloaded: no turn to search within `search_queue_ms`, with Retry-After"),
    ),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<SearchResponse>, ApiError> {
    let started = Instant::now();
    let user = authenticate(&state, &headers)?;
    user.require(&[Role::User, Role::Moderator])?;
    if let Err(e) = state.rate.check(&user.claims.sub) {
        state.metrics.refused("rate_limited");
        return Err(e);
    }
    let req = parse_search(&params, &user, state.config.limits.max_query_chars)?;
    // Admitted before the quota is taken: a refused search costs a free user nothing.
    let _turn = state.admit_search().await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let quota = match user.claims.tier {
        Tier::Premium => None,
        // Following a cursor continues a search already paid for.
        Tier::Free if req.cursor.is_some() => Some(state.quota.remaining(&user.claims.sub, now)),
        Tier::Free => match state.quota.take(&user.claims.sub, now) {
            Ok(left) => Some(left),
            Err(e) => {
                state.metrics.refused("quota_exhausted");
                return Err(e);
            }
        },
    };
    let engine = state.engine.clone();
    let result = run_blocking(move || engine.search(&req)).await??;
    Ok(Json(SearchResponse {
        hits: result.hits,
        next_cursor: result.next_cursor,
        estimated_total: result.estimated_total,
        took_ms: (started.elapsed().as_secs_f64() * 1e5).round() / 100.0,
        quota: quota.map(|remaining| QuotaInfo {
            daily_free: state.quota.daily(),
            remaining,
        }),
    }))
}

/// Runs blocking work (a search: a millisecond or less) without blocking the runtime.
///
/// On a multi-threaded runtime it runs right here under `block_in_place`, which hands this
/// worker's other tasks to another thread first; `spawn_blocking` would instead send the work
/// to a pool thread and back, two thread wake-ups that measured as much as the search itself
/// on a loaded two-core machine. A current-thread runtime (tests) cannot do that and uses
/// `spawn_blocking`. The price: the request timeout layer no longer answers a slow search
/// early (it could never stop one); searches take milliseconds.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::current().runtime_flavor() {
        RuntimeFlavor::MultiThread => Ok(tokio::task::block_in_place(work)),
        _ => tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal),
    }
}

fn parse_search(
    params: &HashMap<String, String>,
    user: &User,
    max_chars: usize,
) -> Result<SearchRequest, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !SEARCH_PARAMS.contains(&k.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "unknown parameter {unknown:?}; known: {}",
            SEARCH_PARAMS.join(", ")
        )));
    }
    let Some(q) = params.get("q") else {
        return Err(ApiError::BadQuery("the q parameter is required".into()));
    };
    let query = crate::query::parse(q, max_chars).map_err(ApiError::BadQuery)?;
    let lang = match params.get("lang") {
        Some(l) if l.len() == 2 && l.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(l.to_ascii_lowercase())
        }
        Some(l) => {
            return Err(ApiError::BadRequest(format!(
                "lang {l:?} is not an ISO 639-1 code"
            )));
        }
        None => None,
    };
    let channel = match params.get("channel") {
        Some(c) => {
            let c = c.trim_start_matches('@');
            if !indexer::post::is_username(c) {
                return Err(ApiError::BadRequest(format!(
                    "channel {c:?} is not a channel username"
                )));
            }
            Some(c.to_ascii_lowercase())
        }
        None => None,
    };
    let from = params
        .get("from")
        .map(|v| parse_time(v, "from", false))
        .transpose()?;
    let to = params
        .get("to")
        .map(|v| parse_time(v, "to", true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::BadRequest("from is after to".into()));
    }
    let media = match params.get("media").map(String::as_str) {
        None => None,
        Some(m @ ("photo" | "video" | "document" | "audio" | "none")) => Some(m.to_string()),
        Some(m) => {
            return Err(ApiError::BadRequest(format!(
                "media {m:?} is not one of photo, video, document, audio, none"
            )));
        }
    };
    let sort = match params.get("sort").map(String::as_str) {
        None | Some("relevance") => Sort::Relevance,
        Some("date") => Sort::Date,
        Some(s) => {
            return Err(ApiError::BadRequest(format!(
                "sort {s:?} is not relevance or date"
            )));
        }
    };
    let limit = match params.get("limit") {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n @ 1..=100) => n,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "limit {l:?} is not a number from 1 to 100"
                )));
            }
        },
    };
    Ok(SearchRequest {
        query,
        lang,
        channel,
        from,
        to,
        media,
        sort,
        limit,
        cursor: params.get("cursor").cloned(),
        country: user.country().map(str::to_string),
    })
}

/// RFC 3339 timestamp or a date (start of day; end of day when `end_of_day`), in Unix seconds.
fn parse_time(v: &str, name: &str, end_of_day: bool) -> Result<i64, ApiError> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(v, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(v, &format) {
        Ok(d) => {
            let start = d.midnight().assume_utc().unix_timestamp();
            Ok(if end_of_day { start + 86_399 } else { start })
        }
        Err(_) => Err(ApiError::BadRequest(format!(
            "{name} {v:?} is not an RFC 3339 timestamp or a YYYY-MM-DD date"
        ))),
    }
}

/// Live ingest of contract NDJSON. An empty body is an empty batch.
#[utoipa::path(post, path = "/v1/ingest", request_body(content = Option<String>, content_type = "application/x-ndjson"),
    responses((status = 200, body = IngestSummary), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestSummary>, ApiError> {
    let user = authenticate(&state, &headers)?;
    user.require(&[Role::Ingest])?;
    let body = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => ApiError::PayloadTooLarge(format!(
            "the body is over the {}-byte limit; split it into several requests",
            state.config.limits.max_body_bytes
        )),
        other => ApiError::BadRequest(other.body_text()),
    })?;
    let live = state.live.clone();
    let (summary, seq) = tokio::task::spawn_blocking(move || live.apply_body(&body))
        .await
        .map_err(ApiError::internal)??;
    state
        .live
        .wait_visible(seq, Duration::from_secs(30))
        .await?;
    Ok(Json(summary))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the index is open and searchable.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, ApiError> {
    let docs = state.engine.searcher().num_docs();
    Ok(Json(serde_json::json!({"status": "ready", "docs": docs})))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    state.refresh_gauges();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// The OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "this document")))]
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state.keys.verify_header(header)
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Query parameters are absent or strings: none is ever `null`. utoipa makes an `Option`
/// field nullable, which told clients that `?enabled=null` was a valid value; this keeps the
/// parameters optional and drops the `null`.
struct QueryParamsNotNull;

impl utoipa::Modify for QueryParamsNotNull {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::{Schema, SchemaType, Type};
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if parameter.parameter_in != ParameterIn::Query {
                        continue;
                    }
                    let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema else {
                        continue;
                    };
                    if let SchemaType::Array(types) = &schema.schema_type {
                        let types: Vec<Type> = types
                            .iter()
                            .filter(|t| **t != Type::Null)
                            .cloned()
                            .collect();
                        schema.schema_type = match types.as_slice() {
                            [one] => SchemaType::Type(one.clone()),
                            _ => SchemaType::Array(types),
                        };
                    }
                }
            }
        }
    }
}

/// The OpenAPI document of the service.
#[derive(OpenApi)]
#[openapi(
    info(title = "chansearch", description = "Search over public channel posts"),
    paths(search, ingest, healthz, readyz, metrics, openapi,
        crate::rules_api::list_rules, crate::rules_api::get_rule, crate::rules_api::create_rule,
        crate::rules_api::update_rule, crate::rules_api::delete_rule, crate::rules_api::export_rules,
        crate::rules_api::import_rules, crate::rules_api::preview_rule, crate::rules_api::audit, crate::rules_api::get_classifiers,
        crate::rules_api::put_classifiers, crate::review_api::list, crate::review_api::decide),
    components(schemas(SearchResponse, QuotaInfo, Hit, IngestSummary, crate::live::LineError, ErrorBody, crate::error::ErrorDetail,
        crate::rules_api::RuleList, crate::rules_api::PreviewAnswer, crate::rules_api::RuleDraft, crate::rules_api::RuleChange,
        crate::rules_api::ClassifierEntry, crate::rules_api::AuditPage, crate::rules_api::ClassifierSettings,
        crate::review_api::ReviewPage, crate::review_api::HeldPost, crate::review_api::DecisionBody, crate::review_api::DecisionAnswer)),
    modifiers(&BearerAuth, &QueryParamsNotNull)
)]
pub struct ApiDoc;
