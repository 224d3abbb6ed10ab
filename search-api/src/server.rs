//! The server is a function: [`run`] serves a bound listener until `shutdown` resolves, so
//! tests bind port 0 and run the real server in-process.
//!
//! Layers, outermost first: request id (set, propagated to the response), tracing span with
//! the id, panic catcher, request metrics, then load shedding over a concurrency limit (a
//! request beyond `max_concurrent` gets 503 at once, never a queue) and a timeout.

use crate::error::ApiError;
use crate::state::AppState;
use crate::{api, page, review_api, rules_api};
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The application's routes and layers.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.config.limits.clone();
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/v1/search", get(api::search))
        .route("/v1/ingest", post(api::ingest))
        .route(
            "/v1/rules",
            get(rules_api::list_rules).post(rules_api::create_rule),
        )
        .route("/v1/rules/export", get(rules_api::export_rules))
        .route("/v1/rules/preview", post(rules_api::preview_rule))
        .route("/v1/rules/import", post(rules_api::import_rules))
        .route(
            "/v1/rules/{id}",
            get(rules_api::get_rule)
                .patch(rules_api::update_rule)
                .delete(rules_api::delete_rule),
        )
        .route("/v1/audit", get(rules_api::audit))
        .route(
            "/v1/classifiers",
            get(rules_api::get_classifiers).put(rules_api::put_classifiers),
        )
        .route("/v1/review", get(review_api::list))
        .route(
            "/v1/review/{channel_id}/{post_id}/{decision}",
            post(review_api::decide),
        )
        .route("/moderation", get(page::page))
        .route("/moderation/app.js", get(page::script))
        .route("/moderation/app.css", get(page::style))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(api::openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded_or_timeout))
                .load_shed()
                .concurrency_limit(limits.max_concurrent.max(1))
                .timeout(Duration::from_millis(limits.request_timeout_ms.max(1))),
        )
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /openapi.json".into())
}

async fn overloaded_or_timeout(err: tower::BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::Timeout
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::Overloaded
    } else {
        ApiError::internal(err)
    }
}

/// Counts requests by route and status and times them.
async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    if status == 503 {
        state.metrics.refused("overloaded");
    }
    state
        .metrics
        .requests
        .get_or_create(&crate::metrics::RouteStatus {
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&crate::metrics::RouteLabel { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Serves `listener` until `shutdown` resolves, then lets in-flight requests finish and
/// commits what live ingest applied.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let interval = Duration::from_millis(state.config.ingest.commit_interval_ms.max(1));
    let mut committer_stop = stop_rx.clone();
    let committer = tokio::spawn(state.live.clone().run_committer(interval, async move {
        let _ = committer_stop.wait_for(|s| *s).await;
    }));
    // Regex rules reach the posts indexed before them by a scan of the stored text; after a
    // restart the scans (kept in memory) run again, in the background.
    if let Err(e) = rules_api::start_regex_scans(&state) {
        tracing::error!(error = %e, "regex scans did not start");
    }
    let pruner_state = state.clone();
    let mut pruner_stop = stop_rx.clone();
    let pruner = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => pruner_state.rate.prune(),
                _ = pruner_stop.wait_for(|s| *s) => break,
            }
        }
    });
    tracing::info!(addr = %listener.local_addr()?, "listening");
    // No Nagle delay: an answer is one small write, sent at once.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    let _ = pruner.await;
    committer.await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}
