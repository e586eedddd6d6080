//! A real `payscope import` process, killed with SIGKILL at random moments and started again, ends with exactly the
//! emulator's ground truth: checkpoints and pages are stored together, so no crash leaves a gap or a duplicate.

mod import_harness;
mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use import_harness::{
    FakeStripe, MASTER_KEY_HEX, add_connection, assert_store_matches_truth, fake_stripe,
};
use payscope::domain::connection::Connection;
use payscope::store::Store;
use payscope::sync::import_progress;
use rand::Rng;
use serde_json::{Value, json};

fn import_process(
    stripe: &FakeStripe,
    database_url: &str,
    data_dir: &std::path::Path,
    connection: &Connection,
    rate_share: &str,
) -> Child {
    let verbose = std::env::var("TEST_LOG").as_deref() == Ok("1");
    Command::new(env!("CARGO_BIN_EXE_payscope"))
        .args(["import", &connection.id, "--json"])
        .env("PAYSCOPE_DATABASE_URL", database_url)
        .env("PAYSCOPE_DATA_DIR", data_dir)
        .env("PAYSCOPE_MASTER_KEY", MASTER_KEY_HEX)
        .env("PAYSCOPE_STRIPE_API_BASE", &stripe.base_url)
        .env("PAYSCOPE_IMPORT_RATE_SHARE", rate_share)
        .env("PAYSCOPE_LOG", if verbose { "info" } else { "error" })
        .stdout(Stdio::piped())
        .stderr(if verbose {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("start payscope import")
}

async fn killed_at_random_points_and_restarted_the_import_equals_the_truth(
    store: Store,
    database_url: String,
) {
    let stripe = fake_stripe(2_500, 40).await;
    // Latency stretches the import over several seconds, so the kills land in the middle of it.
    stripe
        .settings(json!({"latency_ms": 40, "latency_jitter_ms": 40}))
        .await;
    let connection = add_connection(&store, &stripe, &stripe.keys.test.restricted).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut rng = rand::thread_rng();
    let mut kills = Vec::new();
    let mut stored_at_kills = Vec::new();
    while kills.len() < 5 {
        // 40% of the test-mode budget (10 req/s) makes the import take longer than all the kill points together.
        let mut child = import_process(&stripe, &database_url, data_dir.path(), &connection, "40");
        let delay = rng.gen_range(500..1_500);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().unwrap().is_some() {
            panic!(
                "the import finished before kill {} (after {delay} ms); kills so far at {kills:?} ms",
                kills.len() + 1
            );
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        kills.push(delay);
        let progress = import_progress(&store, &connection.account_id, &connection.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(progress.status, "running", "killed at {kills:?} ms");
        stored_at_kills.push(progress.objects);
    }
    assert!(
        stored_at_kills.windows(2).all(|w| w[0] <= w[1]) && stored_at_kills[4] > 0,
        "every run resumes and adds to what is stored: {stored_at_kills:?} after kills at {kills:?} ms"
    );
    stripe
        .settings(json!({"latency_ms": 0, "latency_jitter_ms": 0}))
        .await;
    let last = import_process(&stripe, &database_url, data_dir.path(), &connection, "100");
    let output = tokio::task::spawn_blocking(move || last.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "the final run failed after kills at {kills:?} ms"
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["status"], "done");
    assert_eq!(summary["complete"], true, "{summary:#}");
    assert_store_matches_truth(&store, &connection, &stripe.truth().await).await;
    let runs = store
        .sync_runs(&connection.account_id, &connection.id, 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 6, "one run log entry per process");
    // Runs start within the same second at times, so their order in the log is not asserted.
    let outcomes: Vec<_> = runs.iter().map(|r| r.outcome.as_deref()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == Some("succeeded")).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| o.is_none()).count(),
        5,
        "killed runs never recorded an end: {outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_killed_at_random_points_and_restarted_the_import_equals_the_truth() {
    let db = support::sqlite_store().await;
    let url = format!("sqlite://{}", db.path().display());
    killed_at_random_points_and_restarted_the_import_equals_the_truth(db.store.clone(), url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_killed_at_random_points_and_restarted_the_import_equals_the_truth() {
    let Some(url) = support::postgres::fresh_database_url().await else {
        return;
    };
    let store = Store::open(&url).await.unwrap();
    killed_at_random_points_and_restarted_the_import_equals_the_truth(store, url).await;
}
