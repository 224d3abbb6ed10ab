//! A real search-api server on port 0, in-process, with a temp data directory.

use search_api::auth::{Keys, Role, Tier, claims};
use search_api::config::Config;
use search_api::state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SECRET: &str = "test-secret-0123456789";

pub struct TestServer {
    pub addr: SocketAddr,
    pub keys: Keys,
    pub data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub http: reqwest::blocking::Client,
}

impl TestServer {
    /// Starts a server; `tune` adjusts the default test config.
    pub fn start(tune: impl FnOnce(&mut Config)) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let config = test_config(&data, tune);
        Self::start_with(config, data)
    }

    /// Starts a server whose rules database first imports `rules` (a `RULES.json` array),
    /// as `serve --rules` does.
    pub fn start_with_rules(rules: &str, tune: impl FnOnce(&mut Config)) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let config = test_config(&data, tune);
        let file = data.path().join("rules.json");
        std::fs::write(&file, rules).unwrap();
        Self::open(config, data, Some(&file))
    }

    /// Starts a server on an existing data directory (for restarts).
    pub fn start_with(config: Config, data: tempfile::TempDir) -> TestServer {
        Self::open(config, data, None)
    }

    fn open(
        config: Config,
        data: tempfile::TempDir,
        rules: Option<&std::path::Path>,
    ) -> TestServer {
        let state = Arc::new(AppState::open(config, rules).expect("server state"));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                search_api::server::run(listener, state, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        TestServer {
            addr: addr_rx.recv().unwrap(),
            keys: Keys::new(SECRET),
            data,
            stop: Some(stop),
            thread: Some(thread),
            http: reqwest::blocking::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn token(&self, sub: &str, tier: Tier, role: Role, country: Option<&str>) -> String {
        self.keys
            .mint(&claims(sub, tier, role, country, 3600))
            .unwrap()
    }

    pub fn premium(&self) -> String {
        self.token("premium-user", Tier::Premium, Role::User, None)
    }

    /// Posts NDJSON through /v1/ingest and returns the answer.
    pub fn ingest(&self, ndjson: &str) -> serde_json::Value {
        let token = self.token("ingester", Tier::Premium, Role::Ingest, None);
        let resp = self
            .http
            .post(self.url("/v1/ingest"))
            .bearer_auth(token)
            .body(ndjson.to_string())
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "ingest failed: {:?}", resp.text());
        resp.json().unwrap()
    }

    /// GET /v1/search with `params` as `token`; returns status and JSON body.
    pub fn search_as(
        &self,
        token: &str,
        params: &[(&str, &str)],
    ) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
        let resp = self
            .http
            .get(self.url("/v1/search"))
            .bearer_auth(token)
            .query(params)
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().unwrap_or(serde_json::Value::Null);
        (status, body, headers)
    }

    /// A premium search that must succeed; returns the body.
    pub fn search(&self, params: &[(&str, &str)]) -> serde_json::Value {
        let (status, body, _) = self.search_as(&self.premium(), params);
        assert_eq!(status, 200, "search {params:?}: {body}");
        body
    }

    /// `channel/post_id` of every post a premium user in `country` finds for `q` (up to 100),
    /// sorted; asserts that `estimated_total` counts exactly those, so that counts never
    /// reveal hidden posts.
    pub fn visible_keys(&self, q: &str, country: Option<&str>) -> Vec<String> {
        let token = self.token("u", Tier::Premium, Role::User, country);
        let (status, body, _) = self.search_as(&token, &[("q", q), ("limit", "100")]);
        assert_eq!(status, 200, "{body}");
        let mut keys = Self::hit_keys(&body);
        keys.sort();
        assert_eq!(
            body["estimated_total"].as_u64().unwrap() as usize,
            keys.len(),
            "counts must not reveal hidden posts: {body}"
        );
        keys
    }

    /// `channel/post_id` of each hit.
    pub fn hit_keys(body: &serde_json::Value) -> Vec<String> {
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| format!("{}/{}", h["channel"].as_str().unwrap(), h["post_id"]))
            .collect()
    }

    /// Stops the server (graceful) and returns its data directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.shutdown();
        let tmp = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data, tmp)
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The test defaults: generous rate limits, fast commits, a small writer.
fn test_config(data: &tempfile::TempDir, tune: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config {
        data: data.path().to_path_buf(),
        secret: Some(SECRET.into()),
        ..Config::default()
    };
    config.limits.rate_per_second = 1000;
    config.limits.rate_burst = 1000;
    config.ingest.commit_interval_ms = 20;
    config.ingest.writer_memory_mb = 32;
    tune(&mut config);
    config
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One contract post line.
pub fn post(channel: &str, channel_id: u64, post_id: u64, date: &str, text: &str) -> String {
    serde_json::json!({
        "channel_id": channel_id, "channel": channel, "post_id": post_id,
        "date": date, "text": text, "views": 100,
    })
    .to_string()
}
