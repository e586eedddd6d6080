//! The historical import against the emulator over HTTP equals the emulator's ground truth, on SQLite and
//! PostgreSQL; faults and rate limits on the way change nothing in the result.

mod import_harness;
#[macro_use]
mod support;

use import_harness::{add_connection, assert_store_matches_truth, fake_stripe, importer};
use payscope::domain::connection::ConnectionStatus;
use payscope::store::Store;
use payscope::sync::{JobOutcome, import_progress, queue_import};
use serde_json::json;
use tokio_util::sync::CancellationToken;

async fn an_import_equals_the_ground_truth(store: Store) {
    let stripe = fake_stripe(2_000, 40).await;
    let connection = add_connection(&store, &stripe, &stripe.keys.test.restricted).await;
    let job = queue_import(&store, &connection).await.unwrap();
    assert_eq!(
        queue_import(&store, &connection).await.unwrap(),
        job,
        "a second request attaches to the running import"
    );
    let outcome = importer(&store, &stripe)
        .run_job(&connection.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    assert_store_matches_truth(&store, &connection, &stripe.truth().await).await;

    let progress = import_progress(&store, &connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (progress.status.as_str(), progress.complete),
        ("done", true)
    );
    for resource in &progress.resources {
        match resource.resource.as_str() {
            "customers" => {
                assert_eq!(resource.state, "unreadable");
                let reason = resource.reason.as_deref().unwrap();
                assert!(reason.contains("rak_customer_read"), "{reason}");
            }
            name => {
                assert_eq!(resource.state, "complete", "{name}");
                assert_eq!(
                    resource.check.as_deref(),
                    Some("matched"),
                    "{name}: {:?}",
                    resource.check_detail
                );
                assert_eq!(resource.covered, 1.0, "{name}");
            }
        }
    }
    let charges = progress
        .resources
        .iter()
        .find(|r| r.resource == "charges")
        .unwrap();
    assert_eq!(charges.objects, 2_000);
    let held = store
        .connection(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, ConnectionStatus::Active);
    let runs = store
        .sync_runs(&connection.account_id, &connection.id, 5)
        .await
        .unwrap();
    assert_eq!(runs[0].outcome.as_deref(), Some("succeeded"));
    assert_eq!(runs[0].objects, progress.objects);
}

async fn faults_and_rate_limits_do_not_change_the_result(store: Store) {
    let stripe = fake_stripe(1_500, 30).await;
    // 5% server errors, 5% connections cut mid-response, lock-timeout 429s, and a per-endpoint limit below the
    // client's budget so bursts of 429 rate_limit answers come back.
    stripe
        .settings(
            json!({"error_rate": 0.05, "reset_rate": 0.05, "lock_timeout_rate": 0.03,
            "endpoint_requests_per_second": 8}),
        )
        .await;
    let connection = add_connection(&store, &stripe, &stripe.keys.test.restricted).await;
    let job = queue_import(&store, &connection).await.unwrap();
    let outcome = importer(&store, &stripe)
        .run_job(&connection.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    stripe
        .settings(json!({"error_rate": 0.0, "reset_rate": 0.0, "lock_timeout_rate": 0.0}))
        .await;
    assert_store_matches_truth(&store, &connection, &stripe.truth().await).await;
}

on_both_databases!(
    an_import_equals_the_ground_truth,
    faults_and_rate_limits_do_not_change_the_result,
);
