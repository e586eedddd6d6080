//! Generation and rendering benchmark of the emulator's ledger (issue 3 §10): how long a history of N charges
//! takes to generate, the process's peak memory, and how long a 100-object list page takes to render.
//!
//! `cargo run --release -p stripe-emulator --example generate_bench -- --charges 1000000`

use std::time::Instant;

use stripe_emulator::data::{GenerateOptions, Ledger, ObjectType, RenderOptions};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
        .unwrap_or(default)
}

/// A line of /proc/self/status (e.g. `VmHWM`, the peak resident set), in MiB.
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let charges = arg("--charges", 1_000_000) as usize;
    let days = arg("--days", 400) as u32;
    let seed = arg("--seed", 1);
    let now = 1_785_283_200;
    let opts = GenerateOptions {
        days,
        ..GenerateOptions::new("acct_1BenchAccount0001", seed, charges, now)
    };

    let started = Instant::now();
    let mut ledger = Ledger::generate(&opts);
    let generated = started.elapsed().as_secs_f64();
    println!("generated {charges} charges over {days} days in {generated:.2} s");
    for ty in ObjectType::ALL {
        println!("  {:<24} {:>9}", ty.object_name(), ledger.count(ty));
    }
    println!(
        "peak RSS after generation (VmHWM): {:.0} MiB",
        status_mib("VmHWM:").unwrap_or(f64::NAN)
    );

    // A list page as the server renders it: 100 objects, with and without an expansion.
    let expand = vec!["balance_transaction".to_string()];
    for (label, opts) in [
        ("charges page of 100", RenderOptions::default()),
        (
            "charges page of 100, expand balance_transaction",
            RenderOptions {
                expand: &expand,
                ..Default::default()
            },
        ),
    ] {
        let rounds = 200;
        let order = ledger.newest_first(ObjectType::Charge);
        let started = Instant::now();
        let mut bytes = 0;
        for r in 0..rounds {
            let offset = (r * 997) % order.len().saturating_sub(100).max(1);
            let page: Vec<_> = order[offset..(offset + 100).min(order.len())]
                .iter()
                .map(|&h| ledger.render(ObjectType::Charge, h, &opts))
                .collect();
            bytes += serde_json::to_vec(&page).map(|b| b.len()).unwrap_or(0);
        }
        let per_page = started.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
        println!(
            "{label}: {per_page:.2} ms per page (rendered and serialized, {} KiB each)",
            bytes / rounds / 1024
        );
    }

    let started = Instant::now();
    let changes = ledger.recent_changes(now - 30 * 86_400);
    println!(
        "recent_changes over 30 days: {} changes in {:.2} s",
        changes.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let burst = ledger.apply_activity(1_000, now + 60);
    println!(
        "activity burst of 1000 charges: {} changes in {:.3} s",
        burst.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let truth = ledger.truth();
    println!(
        "truth: {} types in {:.2} s",
        truth["types"].as_object().map_or(0, |t| t.len()),
        started.elapsed().as_secs_f64()
    );
    println!(
        "peak RSS at the end (VmHWM): {:.0} MiB",
        status_mib("VmHWM:").unwrap_or(f64::NAN)
    );
}
