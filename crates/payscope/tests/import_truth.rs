//! The historical import against the emulator over HTTP equals the emulator's ground truth, on SQLite and
//! PostgreSQL; faults and rate limits on the way change nothing in the result.

mod import_harness;
#[macro_use]
mod support;

use import_harness::{
    add_connection, assert_store_matches_truth, assert_store_matches_truth_listing_all,
    fake_stripe, importer,
};
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

/// Whichever way `GET /v1/payment_methods` answers without `customer` (Stripe's spec: Treasury ones only, the
/// emulator's default; or every one), the import holds the payment methods it can reach, and its check says so.
async fn payment_methods_are_complete_whether_stripe_lists_them_all_or_not(store: Store) {
    let stripe = fake_stripe(1_000, 30).await;
    let treasury_only = add_connection(&store, &stripe, &stripe.keys.test.secret).await;
    let job = queue_import(&store, &treasury_only).await.unwrap();
    let outcome = importer(&store, &stripe)
        .run_job(&treasury_only.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    let truth = stripe.truth().await;
    // The secret key reads customers, so their default payment methods are reached too.
    assert_store_matches_truth(&store, &treasury_only, &truth).await;
    let pm = &truth["types"]["payment_method"];
    // The emulator guarantees customers' saved cards that no intent names (charges / 200 + 1 of them), so the
    // customers add to what the intents reach in every generated history (stripe-emulator's tests/saved_cards.rs).
    assert!(
        pm["referenced_by_intents_or_customers"]["count"].as_u64()
            > pm["referenced_by_intents"]["count"].as_u64(),
        "precondition: some PaymentMethods must be reached only through customers' default payment methods, or \
         this test cannot tell whether the import reads them: {} reached through intents or customers, {} \
         through intents",
        pm["referenced_by_intents_or_customers"]["count"],
        pm["referenced_by_intents"]["count"]
    );
    let check = payment_methods_check(&store, &treasury_only).await;
    assert!(
        check.starts_with(&format!(
            "{} stored: the 0 listed by /v1/payment_methods",
            pm["referenced_by_intents_or_customers"]["count"]
        )),
        "{check}"
    );

    stripe.payment_methods_list_all(true).await;
    let lists_all = add_connection(&store, &stripe, &stripe.keys.test.restricted).await;
    let job = queue_import(&store, &lists_all).await.unwrap();
    let outcome = importer(&store, &stripe)
        .run_job(&lists_all.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    assert_store_matches_truth_listing_all(&store, &lists_all, &truth).await;
    let check = payment_methods_check(&store, &lists_all).await;
    let all = pm["count"].as_u64().unwrap();
    assert!(
        check.starts_with(&format!("{all} stored: the {all} listed")),
        "{check}"
    );
}

/// The payment methods' completeness check of the connection's import, which must have matched.
async fn payment_methods_check(
    store: &Store,
    connection: &payscope::domain::connection::Connection,
) -> String {
    let progress = import_progress(store, &connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    let pm = progress
        .resources
        .iter()
        .find(|r| r.resource == "payment_methods")
        .unwrap();
    assert_eq!(
        pm.check.as_deref(),
        Some("matched"),
        "{:?}",
        pm.check_detail
    );
    pm.check_detail.clone().unwrap()
}

on_both_databases!(
    an_import_equals_the_ground_truth,
    faults_and_rate_limits_do_not_change_the_result,
    payment_methods_are_complete_whether_stripe_lists_them_all_or_not,
);
