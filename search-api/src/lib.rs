//! The chansearch HTTP service: ranked search for users, live ingest, tiers, quotas and
//! metrics, on axum and tokio.
//!
//! It owns the index writer while it runs (live ingest goes through `indexer`'s preparation
//! and store) and reads through one `IndexReader`. Only this crate knows HTTP.
//!
//! Main types: [`state::AppState`] (everything a handler needs), [`search::Engine`] (query
//! building, ranking, cursors), [`live::Live`] (ingest with group commit), [`auth::Keys`]
//! (JWT), [`config::Config`]. [`server::run`] serves a listener until a shutdown future
//! resolves:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use search_api::{config::Config, server, state::AppState};
//! let config = Config { secret: Some("a secret of sixteen+".into()), ..Config::default() };
//! let state = std::sync::Arc::new(AppState::open(config, None)?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! server::run(listener, state, server::shutdown_signal()).await
//! # }
//! ```

pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod page;
pub mod query;
pub mod rank;
pub mod review_api;
pub mod rules_api;
pub mod safe_seek;
pub mod search;
pub mod server;
pub mod snippet;
pub mod state;
pub mod stored_text;
pub mod takedown;
