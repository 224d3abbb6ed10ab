//! `search-api`: serve, mint tokens, or run the one-command demo.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use search_api::auth::{Keys, Role, Tier, claims};
use search_api::config::Config;
use search_api::state::AppState;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "search-api",
    version,
    about = "chansearch: search over public channel posts"
)]
struct Cli {
    /// Config file (TOML); see README "Configuration".
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum TierArg {
    Premium,
    Free,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    User,
    Moderator,
    Ingest,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (needs CHANSEARCH_SECRET or `secret` in the config file).
    Serve {
        /// Data directory (index and state).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Listen address (default 127.0.0.1:7700).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// A rules file (JSON array of rule objects, the rules export format) imported into
        /// the data directory's rules database before starting; a rule whose id exists is
        /// replaced.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Print a bearer token signed with the configured secret.
    Token {
        /// User id.
        #[arg(long)]
        sub: String,
        /// Tier.
        #[arg(long, value_enum)]
        tier: TierArg,
        /// ISO 3166-1 alpha-2 country.
        #[arg(long)]
        country: Option<String>,
        /// Role.
        #[arg(long, value_enum, default_value = "user")]
        role: RoleArg,
        /// Lifetime: seconds, or with a unit (90s, 30m, 24h, 7d).
        #[arg(long, default_value = "24h")]
        ttl: String,
    },
    /// Generate a corpus, index it, serve it, and print tokens and example requests.
    Demo {
        /// Where the demo's corpus and index go.
        #[arg(long, default_value = "demo-data")]
        data: PathBuf,
        /// Generated posts.
        #[arg(long, default_value_t = 200_000)]
        posts: u64,
        /// Real Telegram posts to add when the folder exists.
        #[arg(long, default_value = "../shared/data/telegram-ru-news-posts/raw")]
        telegram: PathBuf,
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:7700")]
        listen: SocketAddr,
    },
}

fn parse_ttl(s: &str) -> anyhow::Result<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("ttl {s:?}: expected a number with an optional unit"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => anyhow::bail!("ttl {s:?}: unknown unit {other:?} (s, m, h, d)"),
    };
    Ok(n * mult)
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn")),
        )
        .init();
    let cli = Cli::parse();
    let env: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("CHANSEARCH_"))
        .collect();
    let mut config = Config::load(cli.config.as_deref(), &env)?;
    match cli.command {
        Command::Token {
            sub,
            tier,
            country,
            role,
            ttl,
        } => {
            let secret = config.require_secret()?;
            if let Some(c) = &country
                && !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            {
                anyhow::bail!("--country {c:?} is not an ISO 3166-1 alpha-2 code");
            }
            let tier = match tier {
                TierArg::Premium => Tier::Premium,
                TierArg::Free => Tier::Free,
            };
            let role = match role {
                RoleArg::User => Role::User,
                RoleArg::Moderator => Role::Moderator,
                RoleArg::Ingest => Role::Ingest,
            };
            let token = Keys::new(secret).mint(&claims(
                &sub,
                tier,
                role,
                country.as_deref(),
                parse_ttl(&ttl)?,
            ))?;
            println!("{token}");
            Ok(())
        }
        Command::Serve {
            data,
            listen,
            rules,
        } => {
            if let Some(d) = data {
                config.data = d;
            }
            if let Some(l) = listen {
                config.listen = l;
            }
            config.require_secret()?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listen = config.listen;
                let state = Arc::new(AppState::open(config, rules.as_deref())?);
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("listen on {listen}"))?;
                search_api::server::run(listener, state, search_api::server::shutdown_signal())
                    .await
            })
        }
        Command::Demo {
            data,
            posts,
            telegram,
            listen,
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(search_api::demo::run(
                search_api::demo::DemoOptions {
                    data,
                    posts,
                    telegram_dir: telegram,
                    listen,
                },
                &env,
            ))
        }
    }
}
