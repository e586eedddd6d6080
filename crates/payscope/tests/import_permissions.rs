//! The import is honest about the key: a permission missing, revoked mid-import (the Dashboard's "Edit key", through
//! the emulator's control API) or a key expired mid-import stops the connection with `needs_attention` and the exact
//! reason, and keeps everything already stored; once the permission is granted back, the retry action resumes the
//! import to the emulator's truth. An optional resource the key cannot read is recorded as such, and read when the
//! key allows it.

mod import_harness;
#[macro_use]
mod support;

use std::collections::HashMap;
use std::time::Duration;

use import_harness::{add_connection, assert_store_matches_truth, fake_stripe, importer};
use payscope::domain::connection::{Connection, ConnectionStatus};
use payscope::store::Store;
use payscope::sync::resources::RESOURCES;
use payscope::sync::{JobOutcome, import_progress, queue_import, resume_import};
use serde_json::json;
use stripe_emulator::GUIDE_PERMISSIONS;
use tokio_util::sync::CancellationToken;

/// Every stored object is accounted for by the checkpoints of the ranges that stored it, and vice versa. Payment
/// methods also arrive inside the intent and customer pages (see `sync::embedded`), committed with those pages'
/// checkpoints but counted by none, so the store may hold more of them than their own ranges checkpointed.
async fn assert_checkpoints_match_stored_objects(
    store: &Store,
    connection: &Connection,
    job: &str,
) {
    let mut by_resource: HashMap<String, i64> = HashMap::new();
    for range in store
        .import_ranges(&connection.account_id, job)
        .await
        .unwrap()
    {
        *by_resource.entry(range.resource).or_default() += range.objects;
    }
    let held: HashMap<String, i64> = store
        .inventory(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.object_type, row.held))
        .collect();
    for resource in RESOURCES {
        let checkpointed = by_resource.get(resource.name).copied().unwrap_or(0);
        let stored = held.get(resource.object_type).copied().unwrap_or(0);
        if resource.object_type == "payment_method" {
            assert!(
                stored >= checkpointed,
                "payment_methods: checkpoints say {checkpointed}, store holds only {stored}"
            );
        } else {
            assert_eq!(
                checkpointed, stored,
                "{}: checkpoints say {checkpointed}, store holds {stored}",
                resource.name
            );
        }
    }
}

async fn a_key_expired_mid_import_stops_the_connection_and_keeps_what_was_stored(store: Store) {
    let stripe = fake_stripe(2_000, 30).await;
    stripe.settings(json!({"latency_ms": 30})).await;
    let key = stripe.mint_key(GUIDE_PERMISSIONS).await;
    let connection = add_connection(&store, &stripe, &key).await;
    let job = queue_import(&store, &connection).await.unwrap();
    let run = {
        let (importer, account, job) = (
            importer(&store, &stripe),
            connection.account_id.clone(),
            job.clone(),
        );
        tokio::spawn(async move {
            importer
                .run_job(&account, &job, &CancellationToken::new())
                .await
        })
    };
    let mut stored_before = 0;
    for _ in 0..200 {
        let progress = import_progress(&store, &connection.account_id, &connection.id)
            .await
            .unwrap()
            .unwrap();
        stored_before = progress.objects;
        if stored_before >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stored_before >= 300, "the import never got going");
    stripe.expire_key(&key).await;
    let outcome = run.await.unwrap().unwrap();
    let JobOutcome::NeedsAttention(reason) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("expired"), "{reason}");

    let held = store
        .connection(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, ConnectionStatus::NeedsAttention);
    assert_eq!(held.status_reason.as_deref(), Some(reason.as_str()));
    let progress = import_progress(&store, &connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(progress.status, "needs_attention");
    assert!(!progress.complete);
    assert!(
        progress.objects >= stored_before,
        "nothing stored is lost: {} < {stored_before}",
        progress.objects
    );
    assert_checkpoints_match_stored_objects(&store, &connection, &job).await;
    let runs = store
        .sync_runs(&connection.account_id, &connection.id, 1)
        .await
        .unwrap();
    assert_eq!(
        (runs[0].outcome.as_deref(), runs[0].error.as_deref()),
        (Some("needs_attention"), Some(reason.as_str()))
    );
}

async fn a_missing_permission_stops_the_import_with_needs_attention_naming_it(store: Store) {
    let stripe = fake_stripe(1_000, 30).await;
    let without_disputes: Vec<&str> = GUIDE_PERMISSIONS
        .iter()
        .copied()
        .filter(|p| *p != "dispute_read")
        .collect();
    let key = stripe.mint_key(&without_disputes).await;
    let connection = add_connection(&store, &stripe, &key).await;
    let job = queue_import(&store, &connection).await.unwrap();
    let outcome = importer(&store, &stripe)
        .run_job(&connection.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    let JobOutcome::NeedsAttention(reason) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        reason.contains("rak_dispute_read") && reason.contains("disputes"),
        "{reason}"
    );
    let held = store
        .connection(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, ConnectionStatus::NeedsAttention);
    assert!(held.status_reason.unwrap().contains("rak_dispute_read"));
    let progress = import_progress(&store, &connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(progress.error.as_deref(), Some(reason.as_str()));
    assert_checkpoints_match_stored_objects(&store, &connection, &job).await;
    // Running the stopped job again does nothing until it is resumed (after the key is fixed).
    let again = importer(&store, &stripe)
        .run_job(&connection.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again, JobOutcome::NeedsAttention(reason));
}

/// Edits `key`'s permissions on the emulator, as the merchant does with "Edit key" in the Stripe Dashboard.
async fn edit_key(stripe: &import_harness::FakeStripe, key: &str, change: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/_emulator/keys/{key}/permissions",
            stripe.base_url
        ))
        .json(&change)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

async fn a_permission_revoked_mid_import_stops_it_naming_the_permission_and_a_retry_after_granting_it_completes_it(
    store: Store,
) {
    let stripe = fake_stripe(1_500, 30).await;
    let key = stripe.mint_key(GUIDE_PERMISSIONS).await;
    let connection = add_connection(&store, &stripe, &key).await;
    let job = queue_import(&store, &connection).await.unwrap();
    let run = {
        let (importer, account, job) = (
            importer(&store, &stripe),
            connection.account_id.clone(),
            job.clone(),
        );
        tokio::spawn(async move {
            importer
                .run_job(&account, &job, &CancellationToken::new())
                .await
        })
    };
    // Revoked while payment intents are being paged: some stored, more to come.
    let intents_total = stripe.truth().await["types"]["payment_intent"]["count"]
        .as_i64()
        .unwrap();
    let mut stored_before = 0;
    for _ in 0..600 {
        let progress = import_progress(&store, &connection.account_id, &connection.id)
            .await
            .unwrap()
            .unwrap();
        let intents = progress
            .resources
            .iter()
            .find(|r| r.resource == "payment_intents")
            .unwrap();
        if intents.objects > 0 {
            assert!(
                intents.objects < intents_total && intents.state != "complete",
                "payment intents were imported before the test could revoke their permission: {intents:?}"
            );
            stored_before = progress.objects;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        stored_before > 0,
        "the import never reached payment intents"
    );
    edit_key(&stripe, &key, json!({"revoke": ["payment_intent_read"]})).await;
    let outcome = run.await.unwrap().unwrap();
    let JobOutcome::NeedsAttention(reason) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        reason.contains("rak_payment_intent_read") && reason.contains("payment_intents"),
        "the reason names the permission and the resource: {reason}"
    );
    assert!(
        reason.contains("Stripe Dashboard"),
        "and says where to fix it: {reason}"
    );
    let held = store
        .connection(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.status, ConnectionStatus::NeedsAttention);
    assert_eq!(held.status_reason.as_deref(), Some(reason.as_str()));
    let progress = import_progress(&store, &connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!progress.complete);
    assert!(
        progress.objects >= stored_before,
        "nothing stored is lost: {} < {stored_before}",
        progress.objects
    );
    assert_checkpoints_match_stored_objects(&store, &connection, &job).await;

    // The merchant grants it back and presses the import log's retry.
    edit_key(&stripe, &key, json!({"grant": ["payment_intent_read"]})).await;
    assert!(
        resume_import(&store, &connection.account_id, &job)
            .await
            .unwrap()
    );
    let resumed = store
        .connection(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (resumed.status, resumed.status_reason),
        (ConnectionStatus::Importing, None),
        "the retry answers the attention at once, before a worker picks the job up"
    );
    let outcome = importer(&store, &stripe)
        .run_job(&connection.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    let held = store
        .connection(&connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (held.status, held.status_reason),
        (ConnectionStatus::Active, None)
    );
    assert_checkpoints_match_stored_objects(&store, &connection, &job).await;
    assert_store_matches_truth(&store, &connection, &stripe.truth().await).await;
}

async fn customers_are_imported_when_the_key_may_read_them(store: Store) {
    let stripe = fake_stripe(500, 20).await;
    let mut permissions = GUIDE_PERMISSIONS.to_vec();
    permissions.push("customer_read");
    let key = stripe.mint_key(&permissions).await;
    let connection = add_connection(&store, &stripe, &key).await;
    let job = queue_import(&store, &connection).await.unwrap();
    let outcome = importer(&store, &stripe)
        .run_job(&connection.account_id, &job, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    let progress = import_progress(&store, &connection.account_id, &connection.id)
        .await
        .unwrap()
        .unwrap();
    let customers = progress
        .resources
        .iter()
        .find(|r| r.resource == "customers")
        .unwrap();
    assert_eq!(
        (customers.state.as_str(), customers.check.as_deref()),
        ("complete", Some("matched"))
    );
    let truth = stripe.truth().await;
    assert_eq!(
        customers.objects,
        truth["types"]["customer"]["count"].as_i64().unwrap()
    );
    assert_store_matches_truth(&store, &connection, &truth).await;
}

on_both_databases!(
    a_key_expired_mid_import_stops_the_connection_and_keeps_what_was_stored,
    a_missing_permission_stops_the_import_with_needs_attention_naming_it,
    a_permission_revoked_mid_import_stops_it_naming_the_permission_and_a_retry_after_granting_it_completes_it,
    customers_are_imported_when_the_key_may_read_them,
);
