//! Prometheus metrics, one registry per server instance (no globals, so tests can run several
//! servers in one process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of request metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    /// Matched route (`/v1/search`), never the raw path.
    pub route: String,
    /// HTTP status code.
    pub status: u16,
}

/// Labels of latency metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// Matched route.
    pub route: String,
}

/// Labels of refusals.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// `quota_exhausted`, `rate_limited`, `overloaded`.
    pub reason: String,
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RouteStatus, Counter>,
    /// Latency by route, seconds.
    pub latency: Family<RouteLabel, Histogram>,
    /// Refusals by reason.
    pub refusals: Family<ReasonLabel, Counter>,
    /// Searchable posts at the last refresh.
    pub docs: Gauge,
    /// Index bytes on disk at the last refresh.
    pub index_bytes: Gauge,
    /// Posts indexed through live ingest since start.
    pub docs_indexed: Counter,
    /// Commits since start.
    pub commits: Counter,
    /// Filters engine rebuilds after a rule or classifier change.
    pub rule_reloads: Counter,
    /// Time to build the takedown sets after a rule change (rule-to-effect latency).
    pub takedown_seconds: Histogram,
    /// Review decisions (approve and reject) since start.
    pub review_decisions: Counter,
    /// Time of each regex rule's scan of the indexed posts.
    pub regex_scan_seconds: Histogram,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("chansearch");
        let requests = Family::<RouteStatus, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP latency by route",
            latency.clone(),
        );
        let refusals = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "refusals",
            "Requests refused by quota, rate limit or load shedding",
            refusals.clone(),
        );
        let docs = Gauge::default();
        registry.register("index_docs", "Searchable posts", docs.clone());
        let index_bytes = Gauge::default();
        registry.register(
            "index_size_bytes",
            "Index size on disk",
            index_bytes.clone(),
        );
        let docs_indexed = Counter::default();
        registry.register(
            "docs_indexed",
            "Posts indexed through live ingest",
            docs_indexed.clone(),
        );
        let commits = Counter::default();
        registry.register("commits", "Index commits", commits.clone());
        let rule_reloads = Counter::default();
        registry.register(
            "rule_reloads",
            "Filters engine rebuilds after rule or classifier changes",
            rule_reloads.clone(),
        );
        let takedown_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register(
            "takedown_build_seconds",
            "Time from a rule change to its effect on indexed posts",
            takedown_seconds.clone(),
        );
        let review_decisions = Counter::default();
        registry.register(
            "review_decisions",
            "Posts approved or rejected by moderators",
            review_decisions.clone(),
        );
        let regex_scan_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "regex_scan_seconds",
            "Time for a regex rule to reach the posts indexed before it (stored-text scan)",
            regex_scan_seconds.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            refusals,
            docs,
            index_bytes,
            docs_indexed,
            commits,
            rule_reloads,
            takedown_seconds,
            review_decisions,
            regex_scan_seconds,
        }
    }

    /// Counts a refusal.
    pub fn refused(&self, reason: &str) {
        self.refusals
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
