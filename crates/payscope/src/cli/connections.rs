//! `payscope connections …`: the Data Connections service on the command line. Keys and webhook signing secrets
//! come from standard input or from a named environment variable — never from an argument, which shell history and
//! `ps` would keep.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde::Serialize;

use super::Services;
use crate::config::Config;
use crate::connections::{AddConnection, ConnectionView, Refusal};

/// The `connections` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Add a data connection: checks the key and its permissions, registers the webhook, starts the import.
    Add {
        /// The Data Connection Name; it labels every chart.
        #[arg(long)]
        name: String,
        /// The processor.
        #[arg(long, default_value = "stripe")]
        processor: String,
        /// Delete this installation's existing webhook endpoint on the Stripe account instead of refusing.
        #[arg(long)]
        replace_webhook: bool,
        #[command(flatten)]
        key: KeySource,
        #[command(flatten)]
        common: Common,
    },
    /// List the account's data connections.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Show one data connection (by id or name).
    Show {
        /// Connection id or name.
        connection: String,
        #[command(flatten)]
        common: Common,
    },
    /// Rename a data connection.
    Rename {
        /// Connection id or name.
        connection: String,
        /// The new name.
        new_name: String,
        #[command(flatten)]
        common: Common,
    },
    /// Replace a connection's API key with a new key of the same Stripe account (no re-import).
    RotateKey {
        /// Connection id or name.
        connection: String,
        #[command(flatten)]
        key: KeySource,
        #[command(flatten)]
        common: Common,
    },
    /// Register a new webhook endpoint for a connection whose endpoint Stripe disabled or deleted (for a signing
    /// secret rolled in the Stripe Dashboard, `set-webhook-secret` keeps the endpoint).
    ReplaceWebhook {
        /// Connection id or name.
        connection: String,
        #[command(flatten)]
        common: Common,
    },
    /// Use the webhook signing secret rolled in the Stripe Dashboard (Developers → Webhooks → the endpoint → Signing
    /// secret → Reveal); the previous secret stays accepted for 24 h. Reads it from standard input.
    SetWebhookSecret {
        /// Connection id or name.
        connection: String,
        /// Read the secret from this environment variable instead of standard input.
        #[arg(long, value_name = "VAR")]
        secret_env: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Remove a data connection: deletes its webhook endpoint on Stripe and stops sync.
    Remove {
        /// Connection id or name.
        connection: String,
        /// Also delete everything imported for it.
        #[arg(long)]
        delete_data: bool,
        #[command(flatten)]
        common: Common,
    },
}

/// Options every `connections` subcommand takes.
#[derive(Debug, Args)]
pub struct Common {
    /// The account to act on (default: the only account).
    #[arg(long)]
    account: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long)]
    json: bool,
}

/// Where the API key comes from.
#[derive(Debug, Args)]
pub struct KeySource {
    /// Read the key from this environment variable instead of standard input.
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
}

impl KeySource {
    fn read(&self) -> anyhow::Result<SecretString> {
        read_secret(
            self.api_key_env.as_deref(),
            "the restricted api key (rk_…)",
            "an api key",
            "--api-key-env",
        )
    }
}

/// A secret from the environment variable `env`, else one line of standard input (with a prompt on a terminal).
fn read_secret(
    env: Option<&str>,
    prompt: &str,
    what: &str,
    env_flag: &str,
) -> anyhow::Result<SecretString> {
    if let Some(var) = env {
        let value = std::env::var(var)
            .with_context(|| format!("the environment variable {var} is not set"))?;
        return Ok(SecretString::from(value.trim().to_owned()));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("paste {prompt} and press enter: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading {what} from standard input"))?;
    let secret = line.trim().to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "no {what} on standard input; pipe it in, or use {env_flag} VAR"
    );
    Ok(SecretString::from(secret))
}

/// Runs a `connections` subcommand.
pub async fn run(config: &Config, command: ConnectionsCommand) -> anyhow::Result<()> {
    let services = Services::open(config).await?;
    let service = &services.connections;
    match command {
        ConnectionsCommand::Add {
            name,
            processor,
            replace_webhook,
            key,
            common,
        } => {
            let account = services.account_id(common.account.as_deref()).await?;
            let api_key = key.read()?;
            let request = AddConnection {
                name,
                processor,
                api_key,
                replace_webhook,
            };
            match service.add(&account, request).await {
                Ok(added) => output(common.json, &added, || {
                    let mut text = describe(&added.connection);
                    text.push_str(&format!("\n{}", added.message));
                    for unchecked in &added.unchecked_permissions {
                        text.push_str(&format!(
                            "\nnot checked: {} ({}): {}",
                            unchecked.resource, unchecked.permission, unchecked.reason
                        ));
                    }
                    text
                }),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::List { common } => {
            let account = services.account_id(common.account.as_deref()).await?;
            match service.list(&account).await {
                Ok(list) => output(common.json, &serde_json::json!({ "data": list }), || {
                    if list.is_empty() {
                        return "no data connections yet; add one with `payscope connections add --name NAME`".into();
                    }
                    list.iter()
                        .map(|c| {
                            format!(
                                "{}  {:<24} {:<5} {:<16} {}",
                                c.id, c.name, c.mode, c.status, c.api_key
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::Show { connection, common } => {
            let account = services.account_id(common.account.as_deref()).await?;
            match service.find(&account, &connection).await {
                Ok(found) => {
                    let view = ConnectionView::from(&found);
                    let inventory = services.store.inventory(&account, &found.id).await?;
                    let inventory: Vec<_> = inventory
                        .iter()
                        .map(|row| {
                            serde_json::json!({
                                "object_type": row.object_type, "held": row.held,
                                "deleted": row.deleted, "newest_version": row.newest_version,
                            })
                        })
                        .collect();
                    let live =
                        crate::sync::live::health(&services.store, &account, &found.id).await?;
                    let body = serde_json::json!({ "connection": view, "inventory": inventory, "live_sync": live });
                    output(common.json, &body, || {
                        let mut text = describe(&view);
                        if inventory.is_empty() {
                            text.push_str("\ninventory: nothing imported yet");
                        } else {
                            text.push_str("\ninventory (object type: held / deleted):");
                            for row in &inventory {
                                text.push_str(&format!(
                                    "\n  {}: {} / {}",
                                    row["object_type"].as_str().unwrap_or_default(),
                                    row["held"],
                                    row["deleted"]
                                ));
                            }
                        }
                        if let Some(live) = &live {
                            text.push_str(&live.describe());
                        }
                        text
                    })
                }
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::Rename {
            connection,
            new_name,
            common,
        } => {
            let account = services.account_id(common.account.as_deref()).await?;
            match service.rename(&account, &connection, &new_name).await {
                Ok(view) => output(common.json, &view, || format!("renamed to {:?}", view.name)),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::RotateKey {
            connection,
            key,
            common,
        } => {
            let account = services.account_id(common.account.as_deref()).await?;
            let api_key = key.read()?;
            match service.rotate_key(&account, &connection, api_key).await {
                Ok(view) => output(common.json, &view, || {
                    format!("key replaced; now using {}", view.api_key)
                }),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::ReplaceWebhook { connection, common } => {
            let account = services.account_id(common.account.as_deref()).await?;
            match service.replace_webhook(&account, &connection).await {
                Ok(view) => output(common.json, &view, || {
                    format!(
                        "webhook replaced; stripe now posts to endpoint {}",
                        view.webhook_endpoint_id.as_deref().unwrap_or("—")
                    )
                }),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::SetWebhookSecret {
            connection,
            secret_env,
            common,
        } => {
            let account = services.account_id(common.account.as_deref()).await?;
            let secret = read_secret(
                secret_env.as_deref(),
                "the webhook signing secret (whsec_…)",
                "a signing secret",
                "--secret-env",
            )?;
            match service
                .set_webhook_secret(&account, &connection, secret)
                .await
            {
                Ok(view) => output(common.json, &view, || {
                    format!(
                        "signing secret of {:?} set; the previous one stays accepted for 24 h",
                        view.name
                    )
                }),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
        ConnectionsCommand::Remove {
            connection,
            delete_data,
            common,
        } => {
            let account = services.account_id(common.account.as_deref()).await?;
            match service.remove(&account, &connection, delete_data).await {
                Ok(removed) => output(common.json, &removed, || removed.message.clone()),
                Err(refusal) => refuse(common.json, &refusal),
            }
        }
    }
}

fn describe(c: &ConnectionView) -> String {
    let mut text = format!(
        "{} ({})\n  processor: {}  mode: {}  status: {}\n  stripe account: {}\n  api key: {}\n  sync: {}",
        c.name,
        c.id,
        c.processor,
        c.mode,
        c.status,
        c.stripe_account_id.as_deref().unwrap_or("unknown"),
        c.api_key,
        match &c.webhook_endpoint_id {
            Some(id) => format!("webhook endpoint {id}"),
            None => "polling the events api (no public url)".into(),
        }
    );
    if let Some(reason) = &c.status_reason {
        text.push_str(&format!("\n  needs attention: {reason}"));
    }
    text
}

fn output<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

/// Prints a refusal (JSON on stdout with `--json`, the message on stderr otherwise) and exits non-zero.
fn refuse(json: bool, refusal: &Refusal) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&refusal.to_json())?);
    } else {
        eprintln!("refused: {refusal}");
        if let Refusal::MissingPermissions { missing, key_link } = refusal {
            for m in missing {
                eprintln!("  - {} ({}): {}", m.resource, m.permission, m.access);
            }
            eprintln!("create a key with exactly the permissions payscope needs: {key_link}");
        }
    }
    std::process::exit(match refusal {
        Refusal::Internal(_) | Refusal::StripeUnavailable(_) => 1,
        _ => 2,
    });
}
