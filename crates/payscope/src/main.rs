//! The `payscope` binary: parses the command line and runs it.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    payscope::cli::run(payscope::cli::Cli::parse()).await
}
