//! Service configuration: one serde struct with documented defaults.
//!
//! Precedence, lowest first: built-in defaults, the TOML config file (`--config`), environment
//! variables (`CHANSEARCH_*`), command-line flags. The environment is passed in as a map
//! ([`Config::load`]) so tests never touch the process environment.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything the service can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Data directory (index, checkpoints). Env `CHANSEARCH_DATA`.
    pub data: PathBuf,
    /// Listen address. Env `CHANSEARCH_LISTEN`. Default `127.0.0.1:7700`.
    pub listen: SocketAddr,
    /// HS256 signing secret for tokens. Env `CHANSEARCH_SECRET`. `serve` refuses to start
    /// without one (at least 16 bytes).
    pub secret: Option<String>,
    /// Ranking weights.
    pub ranking: Ranking,
    /// Tiers, quota and rate limits.
    pub limits: Limits,
    /// Live ingest.
    pub ingest: Ingest,
}

/// Ranking: `score = bm25 * (1 + recency_weight * 2^(-age/half_life)) * (1 + engagement_weight * E)`,
/// see the README for E and a worked example.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ranking {
    /// Weight of the recency factor (0 disables it). Default 0.5.
    pub recency_weight: f32,
    /// Age at which the recency factor halves, in hours. Default 168 (a week).
    pub half_life_hours: f32,
    /// Weight of the engagement factor (0 disables it). Default 0.3.
    pub engagement_weight: f32,
    /// Weight of ln(1+views) in E. Default 1.0.
    pub views: f32,
    /// Weight of ln(1+reactions) in E. Default 1.0.
    pub reactions: f32,
    /// Weight of ln(1+forwards) in E. Default 1.0.
    pub forwards: f32,
    /// Weight of ln(1+subscribers) in E. Default 0.5.
    pub subscribers: f32,
    /// Boost of the all-words-adjacent phrase clause for multi-word queries. Default 2.0.
    pub phrase_boost: f32,
}

impl Default for Ranking {
    fn default() -> Self {
        Ranking {
            recency_weight: 0.5,
            half_life_hours: 168.0,
            engagement_weight: 0.3,
            views: 1.0,
            reactions: 1.0,
            forwards: 1.0,
            subscribers: 0.5,
            phrase_boost: 2.0,
        }
    }
}

/// Tiers and limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Free-tier searches per user per UTC day (a first page counts; following a cursor
    /// does not). Env `CHANSEARCH_DAILY_FREE`. Default 10.
    pub daily_free: u32,
    /// Requests per second per user, every tier. Default 10.
    pub rate_per_second: u32,
    /// Burst above the rate. Default 20.
    pub rate_burst: u32,
    /// Requests handled at once; more are refused with 503 at once. Default 256.
    pub max_concurrent: usize,
    /// Searches running at once (they use a core each); 0 means twice the cores. A search
    /// waits at most `search_queue_ms` for its turn, then gets 503 `overloaded`: under
    /// overload, admitted searches stay fast and the rest are refused at once, instead of
    /// hundreds of searches sharing two cores (and a thread each). Default 0.
    pub max_searches: usize,
    /// Longest wait for a search's turn, in ms. Default 20.
    pub search_queue_ms: u64,
    /// Per-request timeout in milliseconds. Default 10000.
    pub request_timeout_ms: u64,
    /// Largest request body in bytes (ingest). Default 32 MiB.
    pub max_body_bytes: usize,
    /// Longest `q`, in characters. Default 512.
    pub max_query_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            daily_free: 10,
            rate_per_second: 10,
            rate_burst: 20,
            max_concurrent: 256,
            max_searches: 0,
            search_queue_ms: 20,
            request_timeout_ms: 10_000,
            max_body_bytes: 32 << 20,
            max_query_chars: 512,
        }
    }
}

/// Live ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ingest {
    /// Longest wait before acknowledged posts are committed and searchable, in ms. Default 200.
    pub commit_interval_ms: u64,
    /// Tantivy writer threads. Default 2.
    pub writer_threads: usize,
    /// Writer memory budget in MiB. Default 256.
    pub writer_memory_mb: usize,
}

impl Default for Ingest {
    fn default() -> Self {
        Ingest {
            commit_interval_ms: 200,
            writer_threads: 2,
            writer_memory_mb: 256,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            secret: None,
            ranking: Ranking::default(),
            limits: Limits::default(),
            ingest: Ingest::default(),
        }
    }
}

impl Config {
    /// Defaults, then the file (if given), then the environment map.
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> anyhow::Result<Config> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("read config {}: {e}", path.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = env.get("CHANSEARCH_DATA") {
            config.data = PathBuf::from(v);
        }
        if let Some(v) = env.get("CHANSEARCH_LISTEN") {
            config.listen = v
                .parse()
                .map_err(|e| anyhow::anyhow!("CHANSEARCH_LISTEN {v:?}: {e}"))?;
        }
        if let Some(v) = env.get("CHANSEARCH_SECRET") {
            config.secret = Some(v.clone());
        }
        if let Some(v) = env.get("CHANSEARCH_DAILY_FREE") {
            config.limits.daily_free = v
                .parse()
                .map_err(|e| anyhow::anyhow!("CHANSEARCH_DAILY_FREE {v:?}: {e}"))?;
        }
        Ok(config)
    }

    /// The secret, or why the service cannot start.
    pub fn require_secret(&self) -> anyhow::Result<&str> {
        match self.secret.as_deref() {
            Some(s) if s.len() >= 16 => Ok(s),
            Some(_) => anyhow::bail!("the signing secret must be at least 16 bytes"),
            None => anyhow::bail!(
                "no signing secret: set CHANSEARCH_SECRET (or `secret` in the config file); \
                 `search-api demo` makes one for you"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "data = \"/srv/x\"\n[limits]\ndaily_free = 3\n").unwrap();
        let env = HashMap::from([("CHANSEARCH_DAILY_FREE".to_string(), "5".to_string())]);
        let c = Config::load(Some(&file), &env).unwrap();
        assert_eq!(c.data, PathBuf::from("/srv/x"));
        assert_eq!(c.limits.daily_free, 5);
        assert_eq!(c.limits.rate_per_second, 10);
        assert!(c.require_secret().is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "dta = 1\n").unwrap();
        let err = Config::load(Some(&file), &HashMap::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("dta"), "{err}");
    }
}
