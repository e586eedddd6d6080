//! `payscope users`: add people who sign in to the web app (the first admin of a fresh instance, among others), and
//! set a user's password from the server when no admin can reset it on the Users page (the only admin forgot it).

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;

use super::Services;
use crate::config::Config;
use crate::store::{DEFAULT_ACCOUNT, StoreError};
use crate::web::auth::{check_new_password, hash_password_off_workers};

/// The `users` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from standard input (one line), never from a flag.
    Add {
        /// The email the user signs in with.
        #[arg(long)]
        email: String,
        /// Let the user manage users and API tokens.
        #[arg(long)]
        admin: bool,
        /// The account the user belongs to (created if missing). Default: the instance's only account, or
        /// `default`.
        #[arg(long)]
        account: Option<String>,
    },
    /// Set a user's password; the new password is read from standard input (one line), never from a flag. Every
    /// session of the user ends.
    SetPassword {
        /// The email the user signs in with.
        #[arg(long)]
        email: String,
    },
}

/// Runs a `users` subcommand.
pub async fn run(config: &Config, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add {
            email,
            admin,
            account,
        } => {
            let password = read_password()?;
            check_new_password(&password).map_err(anyhow::Error::msg)?;
            let services = Services::open(config).await?;
            let account_id = match account {
                Some(name) => services.store.ensure_account(&name).await?.id,
                None => match services.account_id(None).await {
                    Ok(id) => id,
                    Err(_) => services.store.ensure_account(DEFAULT_ACCOUNT).await?.id,
                },
            };
            let hash = hash_password_off_workers(password)
                .await
                .context("hashing the password")?;
            let email = email.trim().to_lowercase();
            match services
                .store
                .create_user(&account_id, &email, &hash, admin)
                .await
            {
                Ok(user) => {
                    eprintln!(
                        "added {}{} ({}); sign in at {}/sign-in",
                        if admin { "admin " } else { "" },
                        user.email,
                        user.id,
                        config.public_url.as_ref().map_or_else(
                            || format!("http://{}", config.listen),
                            |u| { u.as_str().trim_end_matches('/').to_owned() }
                        )
                    );
                    Ok(())
                }
                Err(StoreError::EmailTaken(email)) => anyhow::bail!(
                    "a user with email {email:?} already exists; choose another email"
                ),
                Err(other) => Err(other.into()),
            }
        }
        UsersCommand::SetPassword { email } => {
            let password = read_password()?;
            check_new_password(&password).map_err(anyhow::Error::msg)?;
            let services = Services::open(config).await?;
            let email = email.trim().to_lowercase();
            let user = services
                .store
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user signs in with {email:?}; check the email"))?;
            let hash = hash_password_off_workers(password)
                .await
                .context("hashing the password")?;
            services
                .store
                .set_password(&user.account_id, &user.id, &hash, None)
                .await?;
            eprintln!("set the password of {email}; their sessions were ended");
            Ok(())
        }
    }
}

/// The password: the first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!(
            "no password on standard input; pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | payscope users add --email you@example.com --admin` (or `users set-password --email you@example.com`)"
        );
    }
    Ok(password)
}
