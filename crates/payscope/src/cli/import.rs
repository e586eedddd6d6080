//! `payscope import CONNECTION [--json]`: runs (or attaches to) a connection's historical import in the foreground
//! with a progress bar, and prints a summary per resource when it ends.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::crypto::MasterKey;
use crate::domain::connection::Connection;
use crate::store::Store;
use crate::stripe_access::StripeAccess;
use crate::sync::{
    ImportConfig, ImportProgress, Importer, JobOutcome, job_progress, queue_import, resume_import,
};

/// Arguments of `payscope import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The data connection: its id (`con_…`) or its name.
    pub connection: String,
    /// When the import ends, print a JSON summary per resource (objects stored, complete or not) on stdout.
    #[arg(long)]
    pub json: bool,
    /// The account the connection belongs to, when the instance has several.
    #[arg(long)]
    pub account: Option<String>,
    /// Share of Stripe's rate limits the import may use, 1–100 (the rest is left to the merchant's own systems).
    #[arg(long, env = "PAYSCOPE_IMPORT_RATE_SHARE", default_value_t = stripe::DEFAULT_SHARE_PERCENT)]
    pub rate_share: u32,
}

/// The `--json` summary.
#[derive(Debug, Serialize)]
struct Summary {
    connection_id: String,
    job_id: String,
    status: String,
    error: Option<String>,
    complete: bool,
    objects: i64,
    resources: Vec<ResourceSummary>,
}

#[derive(Debug, Serialize)]
struct ResourceSummary {
    resource: String,
    objects: i64,
    complete: bool,
    state: String,
    reason: Option<String>,
    check: Option<String>,
    check_detail: Option<String>,
}

/// Runs `payscope import`.
pub async fn run(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let master_key = MasterKey::load_or_create(config.master_key.as_ref(), &config.data_dir)?;
    let store = Store::open(&config.effective_database_url())
        .await
        .context("opening the database")?;
    let account_id = account_id(&store, args.account.as_deref()).await?;
    let connection = find_connection(&store, &account_id, &args.connection).await?;

    let latest = store
        .import_jobs(&account_id, &connection.id, 1)
        .await?
        .into_iter()
        .next();
    let job_id = match latest {
        Some(record) if record.job.status == "running" => {
            // Attaching: a crashed run's claims would otherwise hold its ranges until their leases end.
            store.release_import_claims(&record.job.id).await?;
            record.job.id
        }
        Some(record) if record.job.status == "done" => record.job.id,
        Some(record) => {
            resume_import(&store, &account_id, &record.job.id).await?;
            record.job.id
        }
        None => queue_import(&store, &connection).await?,
    };

    let access = StripeAccess::new(config.stripe_api_base.as_str(), args.rate_share);
    let importer = Importer::new(store.clone(), access, master_key, ImportConfig::default());
    let shutdown = super::shutdown_on_signal();
    let bar = progress_bar(&store, &account_id, &job_id, &shutdown);
    let outcome = importer.run_job(&account_id, &job_id, &shutdown).await;
    bar.cancel();
    let outcome = outcome?;

    let record = store
        .import_job(&account_id, &job_id)
        .await?
        .context("the import job vanished")?;
    let progress = job_progress(&store, &record).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary(&connection, &progress))?
        );
    } else {
        print_table(&progress);
    }
    store.close().await;
    match outcome {
        JobOutcome::Done => Ok(()),
        JobOutcome::Interrupted => {
            anyhow::bail!("the import was interrupted; run the same command again to resume it")
        }
        JobOutcome::NeedsAttention(reason) | JobOutcome::Failed(reason) => anyhow::bail!(reason),
    }
}

async fn account_id(store: &Store, name: Option<&str>) -> anyhow::Result<String> {
    match name {
        Some(name) => Ok(store
            .account_by_name(name)
            .await?
            .with_context(|| format!("no account named {name:?}"))?
            .id),
        None => {
            let accounts = store.accounts().await?;
            match accounts.as_slice() {
                [only] => Ok(only.id.clone()),
                _ => anyhow::bail!(
                    "this instance has {} accounts; say which with --account NAME",
                    accounts.len()
                ),
            }
        }
    }
}

async fn find_connection(
    store: &Store,
    account_id: &str,
    wanted: &str,
) -> anyhow::Result<Connection> {
    if let Some(connection) = store.connection(account_id, wanted).await? {
        return Ok(connection);
    }
    store
        .connections(account_id)
        .await?
        .into_iter()
        .find(|c| c.name == wanted)
        .with_context(|| {
            format!("no data connection with id or name {wanted:?}; `payscope connections list` shows them")
        })
}

/// Draws the job's progress on stderr until the returned token is cancelled (hidden when stderr is not a
/// terminal, as indicatif does by default).
fn progress_bar(
    store: &Store,
    account_id: &str,
    job_id: &str,
    shutdown: &CancellationToken,
) -> CancellationToken {
    let done = shutdown.child_token();
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {percent:>3}% {msg} ({elapsed})",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    let (store, account_id, job_id, stop) = (
        store.clone(),
        account_id.to_owned(),
        job_id.to_owned(),
        done.clone(),
    );
    tokio::spawn(async move {
        loop {
            if let Ok(Some(record)) = store.import_job(&account_id, &job_id).await
                && let Ok(progress) = job_progress(&store, &record).await
            {
                let covered: f64 = progress.resources.iter().map(|r| r.covered).sum::<f64>()
                    / progress.resources.len().max(1) as f64;
                bar.set_position((covered * 1000.0) as u64);
                let rate: f64 = progress
                    .resources
                    .iter()
                    .map(|r| r.objects_per_second)
                    .sum();
                bar.set_message(format!("{} objects, {rate:.0}/s", progress.objects));
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
        bar.finish_and_clear();
    });
    done
}

fn summary(connection: &Connection, progress: &ImportProgress) -> Summary {
    Summary {
        connection_id: connection.id.clone(),
        job_id: progress.job_id.clone(),
        status: progress.status.clone(),
        error: progress.error.clone(),
        complete: progress.complete && progress.status == "done",
        objects: progress.objects,
        resources: progress
            .resources
            .iter()
            .map(|r| ResourceSummary {
                resource: r.resource.clone(),
                objects: r.objects,
                complete: r.state == "complete",
                state: r.state.clone(),
                reason: r.reason.clone(),
                check: r.check.clone(),
                check_detail: r.check_detail.clone(),
            })
            .collect(),
    }
}

fn print_table(progress: &ImportProgress) {
    println!("import {}: {}", progress.job_id, progress.status);
    if let Some(error) = &progress.error {
        println!("  {error}");
    }
    for r in &progress.resources {
        let note = match (&r.reason, &r.check) {
            (Some(reason), _) => reason.clone(),
            (None, Some(check)) => format!(
                "check {check}: {}",
                r.check_detail.as_deref().unwrap_or_default()
            ),
            (None, None) => format!("{:.0}% covered", r.covered * 100.0),
        };
        println!(
            "  {:<22} {:>9} objects  {:<10} {note}",
            r.resource, r.objects, r.state
        );
    }
}
