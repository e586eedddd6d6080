//! `payscope tokens …`: API tokens for the JSON API. A token is printed once, at creation; only its digest is kept.

use clap::Subcommand;
use secrecy::ExposeSecret;

use super::Services;
use crate::config::Config;
use crate::crypto::{api_token_digest, new_api_token};

/// The `tokens` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it (once).
    Create {
        /// What the token is for, e.g. "finance exports".
        #[arg(long)]
        name: String,
        /// The account the token acts for (default: the only account).
        #[arg(long)]
        account: Option<String>,
    },
    /// List the account's tokens (never the tokens themselves).
    List {
        /// The account (default: the only account).
        #[arg(long)]
        account: Option<String>,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (`tok_…`).
        id: String,
        /// The account (default: the only account).
        #[arg(long)]
        account: Option<String>,
    },
}

/// Runs a `tokens` subcommand.
pub async fn run(config: &Config, command: TokensCommand) -> anyhow::Result<()> {
    let services = Services::open(config).await?;
    match command {
        TokensCommand::Create { name, account } => {
            let account = services.account_id(account.as_deref()).await?;
            let token = new_api_token();
            let id = services
                .store
                .create_api_token(&account, &name, &api_token_digest(token.expose_secret()))
                .await?;
            eprintln!("created api token {id}; it is shown only this once:");
            println!("{}", token.expose_secret());
        }
        TokensCommand::List { account } => {
            let account = services.account_id(account.as_deref()).await?;
            for token in services.store.api_tokens(&account).await? {
                let state = if token.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}  {:<24} {state}", token.id, token.name);
            }
        }
        TokensCommand::Revoke { id, account } => {
            let account = services.account_id(account.as_deref()).await?;
            anyhow::ensure!(
                services.store.revoke_api_token(&account, &id).await?,
                "no active token {id} in this account"
            );
            println!("revoked {id}");
        }
    }
    Ok(())
}
