//! The `payscope` binary: parses the command line and runs it.

use clap::Parser;

/// mimalloc instead of glibc's malloc: the import parses and renders JSON with many small allocations, and
/// `payscope bench import` measured 89.7 s against 96.0 s with glibc (0.89 against 0.83 of its ceiling).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    payscope::cli::run(payscope::cli::Cli::parse()).await
}
