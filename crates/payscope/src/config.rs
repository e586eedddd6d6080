//! The one typed configuration of a payscope process: flags and `PAYSCOPE_*` environment variables, loaded once.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use secrecy::SecretString;
use url::Url;

/// Settings shared by every subcommand. Each field's `///` text is its `--help`.
///
/// Secrets are never flags (shell history and `ps` would show them): the master key comes only from the
/// `PAYSCOPE_MASTER_KEY` environment variable or from the key file in the data directory.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address the web server listens on.
    #[arg(
        long,
        env = "PAYSCOPE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://path/to/file.db` or `postgres://user@host/db`. Default: `payscope.db` in the data
    /// directory.
    #[arg(long, env = "PAYSCOPE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for payscope's own files: the SQLite database and the generated master key file.
    #[arg(
        long,
        env = "PAYSCOPE_DATA_DIR",
        default_value = "payscope-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Public base URL where Stripe can reach this instance (e.g. `https://payscope.example.com`); webhook
    /// endpoints are registered under it. Without it, connections stay current by polling Stripe's Events API.
    #[arg(long, env = "PAYSCOPE_PUBLIC_URL", global = true)]
    pub public_url: Option<Url>,

    /// Base URL of the Stripe API. Tests and the demo point it at the built-in Stripe emulator.
    #[arg(
        long,
        env = "PAYSCOPE_STRIPE_API_BASE",
        default_value = "https://api.stripe.com",
        global = true
    )]
    pub stripe_api_base: Url,

    /// Share of Stripe's rate limits payscope may use per Stripe account, in percent (1–100). The default leaves
    /// room for the merchant's own integration.
    #[arg(long, env = "PAYSCOPE_STRIPE_RATE_SHARE", default_value_t = 80, value_parser = clap::value_parser!(u32).range(1..=100), global = true)]
    pub stripe_rate_share: u32,

    /// Accept unrestricted secret keys (`sk_…`) for data connections. Off by default: a restricted key limits what
    /// a leaked key could do.
    #[arg(long, env = "PAYSCOPE_ALLOW_SECRET_KEYS", global = true)]
    pub allow_secret_keys: bool,

    /// Days an applied webhook event stays in the inbox before it is pruned; at least 4, since Stripe retries a
    /// delivery for up to 3 days and a retry must still find its event id to be ignored as a duplicate.
    #[arg(long, env = "PAYSCOPE_INBOX_RETENTION_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u64).range(4..), global = true)]
    pub inbox_retention_days: u64,

    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "PAYSCOPE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Master key for secrets at rest, read from `PAYSCOPE_MASTER_KEY` only (64 hex characters or base64 of 32
    /// bytes). Without it, a key file is generated on first run in the data directory with mode 0600.
    #[arg(skip)]
    pub master_key: Option<SecretString>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The environment variable that carries the master key (documented on [`Config::master_key`]).
pub const MASTER_KEY_ENV: &str = "PAYSCOPE_MASTER_KEY";

impl Config {
    /// Completes the parsed flags with what must not come from a flag (the master key), so the rest of the
    /// program sees one finished value.
    pub fn with_environment(mut self) -> Self {
        self.master_key = std::env::var(MASTER_KEY_ENV)
            .ok()
            .filter(|value| !value.trim().is_empty())
            .map(SecretString::from);
        self
    }

    /// The database URL in effect: the configured one, or the SQLite file `payscope.db` in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("payscope.db").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn the_default_database_is_a_sqlite_file_in_the_data_directory() {
        let probe = Probe::parse_from(["payscope", "--data-dir", "/srv/ps"]);
        assert_eq!(
            probe.config.effective_database_url(),
            "sqlite:///srv/ps/payscope.db"
        );
        assert_eq!(probe.config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            probe.config.stripe_api_base.as_str(),
            "https://api.stripe.com/"
        );
    }

    #[test]
    fn an_explicit_database_url_wins() {
        let probe = Probe::parse_from(["payscope", "--database-url", "postgres://u@h/db"]);
        assert_eq!(probe.config.effective_database_url(), "postgres://u@h/db");
    }
}
