//! The store contract: every behaviour the rest of payscope relies on, run against SQLite and PostgreSQL alike.
//! Each case is one async fn taking a fresh store; the `contract!` macro runs it once per database.

#[macro_use]
mod support;

use std::collections::HashSet;

use payscope::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use payscope::domain::ids::new_id;
use payscope::domain::payment::Payment;
use payscope::store::{
    ImportJob, ImportPageWrite, ImportRange, ImportResource, InboxEvent, RawObject, RefreshCutoffs,
    Store, StoreError,
};

on_both_databases!(
    a_fresh_store_has_one_account_named_default_and_reopening_changes_nothing,
    connections_are_invisible_to_other_accounts,
    a_connection_name_is_unique_within_an_account_but_not_across_accounts,
    an_older_object_version_never_overwrites_a_newer_one,
    payments_round_trip_every_field_and_are_version_guarded,
    the_inbox_keeps_each_event_once_and_hands_out_unapplied_events,
    import_ranges_are_claimed_by_one_worker_and_resume_from_their_checkpoint,
    concurrent_claims_never_hand_out_the_same_range,
    run_logs_list_newest_first,
    removing_a_connection_removes_everything_imported_for_it,
    the_inventory_counts_objects_and_tombstones_per_type,
    user_emails_are_unique,
    users_are_listed_per_account_and_removing_one_ends_their_sessions,
    a_new_password_ends_the_users_other_sessions_and_forgets_their_failed_sign_ins,
    an_import_step_stores_its_page_splits_and_listed_days_atomically,
    attempt_numbers_follow_created_order_whatever_order_charges_arrive_in,
    import_resources_record_unreadable_and_checked_states,
    import_jobs_list_newest_first_and_move_between_states,
    claims_of_one_resource_can_be_released_for_a_restarted_process,
    a_batch_holding_the_same_object_twice_keeps_the_later_copy,
    stored_objects_of_a_type_are_read_back_a_page_at_a_time,
    a_group_commit_stores_each_step_or_without_its_claim_nothing,
    payment_breakdowns_group_by_connection_currency_and_key,
    object_breakdowns_read_disputes_refunds_payouts_and_fee_lines,
    card_details_shares_and_missing_details_are_per_connection,
    sessions_sign_in_until_they_expire_or_are_deleted,
    login_failures_are_counted_per_email_within_a_window_and_cleared,
    only_the_first_user_can_be_created_through_setup,
    deliveries_of_several_connections_commit_together_once_each_and_record_their_reception,
    an_applied_event_writes_objects_payments_and_state_together_and_a_deferred_one_waits,
    the_live_cursor_endpoint_status_and_attention_are_kept_per_connection,
    rollup_breakdowns_equal_direct_counts_before_and_after_payments_change,
    object_rollup_breakdowns_equal_direct_counts_before_and_after_objects_change,
    inbox_claims_hand_each_due_event_to_one_worker_until_applied_deferred_or_expired,
    object_versions_are_read_for_many_objects_at_once,
    pruning_deletes_only_events_applied_before_the_cutoff,
    background_writers_yield_to_urgent_writes_until_they_end,
    payment_methods_named_by_stored_objects_are_counted_with_those_not_stored,
    inbox_claims_are_renewed_by_their_holder_and_released_by_it_or_all_at_once,
    the_receivers_own_connection_keeps_payloads_exactly_and_each_event_once,
    a_store_for_another_runtime_reads_and_writes_the_same_data,
    a_pasted_webhook_secret_keeps_the_replaced_one_until_its_grace_ends_and_refusals_are_tallied,
);

fn connection(account_id: &str, name: &str) -> Connection {
    Connection {
        id: new_id("con"),
        account_id: account_id.to_owned(),
        name: name.to_owned(),
        processor: Processor::Stripe,
        mode: Mode::Test,
        processor_account_id: Some("acct_1Test".into()),
        api_key_sealed: "ps1.sealed".into(),
        api_key_hint: "rk_test_…abcd".into(),
        webhook_endpoint_id: Some("we_1".into()),
        webhook_secret_sealed: Some("ps1.sealed-secret".into()),
        status: ConnectionStatus::Importing,
        status_reason: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

async fn default_connection(store: &Store) -> Connection {
    let account = store.ensure_account("default").await.unwrap();
    let connection = connection(&account.id, "EU Stripe");
    store.insert_connection(&connection).await.unwrap();
    connection
}

fn object(id: &str, version: i64, json: &str) -> RawObject {
    RawObject {
        object_type: "charge".into(),
        id: id.into(),
        created: 1_700_000_000,
        version,
        deleted: false,
        json: json.into(),
    }
}

async fn a_fresh_store_has_one_account_named_default_and_reopening_changes_nothing(store: Store) {
    let accounts = store.accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].name, "default");
    assert_eq!(
        store.schema_version().await.unwrap(),
        payscope::store::SCHEMA_VERSION
    );
    assert_eq!(
        store.migrate().await.unwrap(),
        0,
        "migrations must not run twice"
    );
    let again = store.ensure_account("default").await.unwrap();
    assert_eq!(again, accounts[0]);
    assert_eq!(store.accounts().await.unwrap().len(), 1);
}

async fn connections_are_invisible_to_other_accounts(store: Store) {
    let mine = default_connection(&store).await;
    let other = store.ensure_account("other").await.unwrap();
    assert_eq!(
        store.connection(&mine.account_id, &mine.id).await.unwrap(),
        Some(mine.clone())
    );
    assert_eq!(store.connection(&other.id, &mine.id).await.unwrap(), None);
    assert!(store.connections(&other.id).await.unwrap().is_empty());
    assert!(
        !store
            .set_connection_status(&other.id, &mine.id, ConnectionStatus::Active, None, 1)
            .await
            .unwrap()
    );
    assert!(!store.delete_connection(&other.id, &mine.id).await.unwrap());
    assert_eq!(
        store.connections(&mine.account_id).await.unwrap(),
        vec![mine]
    );
}

async fn a_connection_name_is_unique_within_an_account_but_not_across_accounts(store: Store) {
    let first = default_connection(&store).await;
    let duplicate = connection(&first.account_id, "EU Stripe");
    assert!(matches!(
        store.insert_connection(&duplicate).await,
        Err(StoreError::NameTaken(name)) if name == "EU Stripe"
    ));
    let other = store.ensure_account("other").await.unwrap();
    store
        .insert_connection(&connection(&other.id, "EU Stripe"))
        .await
        .unwrap();
}

async fn an_older_object_version_never_overwrites_a_newer_one(store: Store) {
    let c = default_connection(&store).await;
    let (acc, con) = (c.account_id.as_str(), c.id.as_str());
    assert_eq!(
        store
            .upsert_objects(acc, con, &[object("ch_1", 20, r#"{"v":20}"#)])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .upsert_objects(acc, con, &[object("ch_1", 10, r#"{"v":10}"#)])
            .await
            .unwrap(),
        0
    );
    let held = store
        .object(acc, con, "charge", "ch_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((held.version, held.json.as_str()), (20, r#"{"v":20}"#));
    // An equal version (a refetch at the same second) is applied: the newest read wins ties.
    store
        .upsert_objects(acc, con, &[object("ch_1", 20, r#"{"v":"refetched"}"#)])
        .await
        .unwrap();
    let mut tombstone = object("ch_1", 30, r#"{"deleted":true}"#);
    tombstone.deleted = true;
    store
        .upsert_objects(acc, con, &[tombstone.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.object(acc, con, "charge", "ch_1").await.unwrap(),
        Some(tombstone)
    );
    // JSON is kept byte for byte, including key order and whitespace.
    let odd = r#"{ "z": 1,  "a": [1.50, "é"] }"#;
    store
        .upsert_objects(acc, con, &[object("ch_2", 1, odd)])
        .await
        .unwrap();
    assert_eq!(
        store
            .object(acc, con, "charge", "ch_2")
            .await
            .unwrap()
            .unwrap()
            .json,
        odd
    );
}

fn payment(charge_id: &str, version: i64) -> Payment {
    Payment {
        charge_id: charge_id.into(),
        created: 1_700_000_000,
        version,
        amount: 12_345,
        currency: "eur".into(),
        status: "failed".into(),
        captured: false,
        amount_refunded: 0,
        disputed: true,
        outcome_type: Some("issuer_declined".into()),
        network_status: Some("declined_by_network".into()),
        outcome_reason: Some("insufficient_funds".into()),
        risk_level: Some("normal".into()),
        advice_code: Some("try_again_later".into()),
        network_decline_code: Some("51".into()),
        failure_code: Some("card_declined".into()),
        decline_code: Some("insufficient_funds".into()),
        payment_method_type: Some("card".into()),
        card_brand: Some("visa".into()),
        card_funding: Some("debit".into()),
        card_country: Some("DE".into()),
        card_iin: Some("424242".into()),
        card_issuer: Some("Example Bank".into()),
        wallet: Some("apple_pay".into()),
        three_d_secure: Some("authenticated".into()),
        fee: Some(388),
        net: Some(11_957),
        payment_intent_id: Some("pi_1".into()),
        attempt_number: Some(2),
        customer_id: Some("cus_1".into()),
    }
}

async fn payments_round_trip_every_field_and_are_version_guarded(store: Store) {
    let c = default_connection(&store).await;
    let (acc, con) = (c.account_id.as_str(), c.id.as_str());
    let newer = payment("ch_1", 20);
    store
        .upsert_payments(acc, con, std::slice::from_ref(&newer))
        .await
        .unwrap();
    let mut older = payment("ch_1", 10);
    older.amount_refunded = 999;
    assert_eq!(store.upsert_payments(acc, con, &[older]).await.unwrap(), 0);
    assert_eq!(store.payment(acc, con, "ch_1").await.unwrap(), Some(newer));
    let bare = Payment {
        charge_id: "ch_2".into(),
        currency: "usd".into(),
        status: "succeeded".into(),
        ..Payment::default()
    };
    store
        .upsert_payments(acc, con, std::slice::from_ref(&bare))
        .await
        .unwrap();
    assert_eq!(store.payment(acc, con, "ch_2").await.unwrap(), Some(bare));
}

async fn the_inbox_keeps_each_event_once_and_hands_out_unapplied_events(store: Store) {
    let c = default_connection(&store).await;
    let event = |id: &str, created: i64| InboxEvent {
        event_id: id.into(),
        event_type: "charge.succeeded".into(),
        event_created: created,
        payload: format!(r#"{{"id":"{id}"}}"#),
    };
    let first = [event("evt_1", 10), event("evt_2", 11)];
    assert_eq!(
        store
            .insert_inbox_events(&c.account_id, &c.id, &first)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .insert_inbox_events(
                &c.account_id,
                &c.id,
                &[event("evt_2", 11), event("evt_3", 12)]
            )
            .await
            .unwrap(),
        1,
        "a redelivered event is not kept twice"
    );
    let pending = store.pending_inbox_events(10).await.unwrap();
    let ids: Vec<_> = pending.iter().map(|p| p.event.event_id.as_str()).collect();
    assert_eq!(ids, ["evt_1", "evt_2", "evt_3"]);
    assert_eq!(pending[0].event, event("evt_1", 10));
    store.mark_inbox_applied(&c.id, "evt_1", 100).await.unwrap();
    assert_eq!(store.pending_inbox_events(10).await.unwrap().len(), 2);
}

fn ranges(job: &ImportJob, bounds: &[(i64, i64)]) -> Vec<ImportRange> {
    bounds
        .iter()
        .map(|&(start, end)| ImportRange {
            job_id: job.id.clone(),
            account_id: job.account_id.clone(),
            resource: "charges".into(),
            range_start: start,
            range_end: end,
            cursor: None,
            done: false,
            objects: 0,
        })
        .collect()
}

async fn running_job(store: &Store, c: &Connection, bounds: &[(i64, i64)]) -> ImportJob {
    let job = ImportJob {
        id: new_id("imp"),
        account_id: c.account_id.clone(),
        connection_id: c.id.clone(),
        status: "running".into(),
        requested_at: 1,
    };
    store
        .create_import_job(&job, &ranges(&job, bounds))
        .await
        .unwrap();
    job
}

async fn import_ranges_are_claimed_by_one_worker_and_resume_from_their_checkpoint(store: Store) {
    let c = default_connection(&store).await;
    let job = running_job(&store, &c, &[(0, 100), (100, 200)]).await;
    let a = store
        .claim_import_range("worker-a", 1000, 1060)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.range_start, 100, "the newest range is claimed first");
    let b = store
        .claim_import_range("worker-b", 1000, 1060)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.range_start, 0);
    assert_eq!(
        store
            .claim_import_range("worker-c", 1000, 1060)
            .await
            .unwrap(),
        None
    );

    let page = [object("ch_9", 1, "{}")];
    assert!(
        store
            .store_import_page(
                &a,
                "worker-a",
                &c.id,
                Some("ch_9"),
                false,
                1060,
                &page,
                &[payment("ch_9", 1)]
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .store_import_page(
                &a,
                "worker-b",
                &c.id,
                Some("ch_x"),
                false,
                1060,
                &[object("ch_x", 1, "{}")],
                &[]
            )
            .await
            .unwrap(),
        "a worker without the claim stores nothing"
    );
    assert_eq!(
        store
            .object(&c.account_id, &c.id, "charge", "ch_x")
            .await
            .unwrap(),
        None
    );

    // worker-a dies; once its lease ends another worker resumes from the checkpoint.
    let resumed = store
        .claim_import_range("worker-c", 2000, 2060)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            resumed.range_start,
            resumed.cursor.as_deref(),
            resumed.objects
        ),
        (100, Some("ch_9"), 1)
    );
    assert!(
        !store
            .store_import_page(&a, "worker-a", &c.id, None, true, 2060, &[], &[])
            .await
            .unwrap()
    );
    assert!(
        store
            .store_import_page(
                &resumed,
                "worker-c",
                &c.id,
                None,
                true,
                2060,
                &[object("ch_8", 1, "{}")],
                &[]
            )
            .await
            .unwrap()
    );
    let all = store.import_ranges(&c.account_id, &job.id).await.unwrap();
    let done: Vec<_> = all
        .iter()
        .map(|r| (r.range_start, r.done, r.objects))
        .collect();
    assert_eq!(done, [(100, true, 2), (0, false, 0)]);
    assert!(
        store
            .payment(&c.account_id, &c.id, "ch_9")
            .await
            .unwrap()
            .is_some()
    );
}

async fn concurrent_claims_never_hand_out_the_same_range(store: Store) {
    let c = default_connection(&store).await;
    let bounds: Vec<(i64, i64)> = (0..24).map(|i| (i * 10, i * 10 + 10)).collect();
    running_job(&store, &c, &bounds).await;
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(range) = store
                .claim_import_range(&format!("w{worker}"), 1000, 5000)
                .await
                .unwrap()
            {
                mine.push(range.range_start);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let distinct: HashSet<_> = claimed.iter().collect();
    assert_eq!(
        claimed.len(),
        24,
        "every range claimed exactly once: {claimed:?}"
    );
    assert_eq!(distinct.len(), 24);
}

async fn run_logs_list_newest_first(store: Store) {
    let c = default_connection(&store).await;
    let first = store
        .start_sync_run(&c.account_id, &c.id, "import", 100)
        .await
        .unwrap();
    store
        .finish_sync_run(&first, "failed", 5, Some("the key expired"), 150)
        .await
        .unwrap();
    let second = store
        .start_sync_run(&c.account_id, &c.id, "import", 200)
        .await
        .unwrap();
    let runs = store.sync_runs(&c.account_id, &c.id, 10).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [second.as_str(), first.as_str()]
    );
    assert_eq!(
        (
            runs[1].outcome.as_deref(),
            runs[1].objects,
            runs[1].error.as_deref()
        ),
        (Some("failed"), 5, Some("the key expired"))
    );
    assert_eq!(runs[0].finished_at, None);
    let other = store.ensure_account("other").await.unwrap();
    assert!(
        store
            .sync_runs(&other.id, &c.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn removing_a_connection_removes_everything_imported_for_it(store: Store) {
    let c = default_connection(&store).await;
    store
        .upsert_objects(&c.account_id, &c.id, &[object("ch_1", 1, "{}")])
        .await
        .unwrap();
    store
        .upsert_payments(&c.account_id, &c.id, &[payment("ch_1", 1)])
        .await
        .unwrap();
    running_job(&store, &c, &[(0, 10)]).await;
    assert!(store.delete_connection(&c.account_id, &c.id).await.unwrap());
    assert_eq!(
        store
            .object(&c.account_id, &c.id, "charge", "ch_1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.payment(&c.account_id, &c.id, "ch_1").await.unwrap(),
        None
    );
    assert_eq!(store.claim_import_range("w", 0, 10).await.unwrap(), None);
}

async fn the_inventory_counts_objects_and_tombstones_per_type(store: Store) {
    let c = default_connection(&store).await;
    let mut dispute = object("dp_1", 7, "{}");
    dispute.object_type = "dispute".into();
    let mut gone = object("ch_2", 9, "{}");
    gone.deleted = true;
    store
        .upsert_objects(
            &c.account_id,
            &c.id,
            &[object("ch_1", 5, "{}"), gone, dispute],
        )
        .await
        .unwrap();
    let rows: Vec<_> = store
        .inventory(&c.account_id, &c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.object_type, r.held, r.deleted, r.newest_version))
        .collect();
    assert_eq!(
        rows,
        [
            ("charge".to_owned(), 2, 1, 9),
            ("dispute".to_owned(), 1, 0, 7)
        ]
    );
}

async fn user_emails_are_unique(store: Store) {
    let account = store.ensure_account("default").await.unwrap();
    let user = store
        .create_user(&account.id, "ana@example.com", "$argon2id$…", true)
        .await
        .unwrap();
    assert_eq!(
        store.user_by_email("ana@example.com").await.unwrap(),
        Some(user)
    );
    assert!(matches!(
        store
            .create_user(&account.id, "ana@example.com", "x", false)
            .await,
        Err(StoreError::EmailTaken(_))
    ));
}

async fn users_are_listed_per_account_and_removing_one_ends_their_sessions(store: Store) {
    let account = store.ensure_account("default").await.unwrap();
    let other = store.ensure_account("other").await.unwrap();
    let zoe = store
        .create_user(&account.id, "zoe@example.com", "h", false)
        .await
        .unwrap();
    let ann = store
        .create_user(&account.id, "ann@example.com", "h", true)
        .await
        .unwrap();
    let bob = store
        .create_user(&other.id, "bob@example.com", "h", true)
        .await
        .unwrap();
    let emails =
        |users: Vec<payscope::store::User>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();
    assert_eq!(
        emails(store.users(&account.id).await.unwrap()),
        ["ann@example.com", "zoe@example.com"]
    );
    store
        .create_session("digest-zoe", &zoe, "csrf", i64::MAX / 2)
        .await
        .unwrap();
    store
        .create_session("digest-ann", &ann, "csrf", i64::MAX / 2)
        .await
        .unwrap();
    // Another account's user is not removed through this one.
    assert!(!store.remove_user(&account.id, &bob.id).await.unwrap());
    assert!(
        store
            .user_by_email("bob@example.com")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.remove_user(&account.id, &zoe.id).await.unwrap());
    assert!(!store.remove_user(&account.id, &zoe.id).await.unwrap());
    assert!(store.session("digest-zoe", 0).await.unwrap().is_none());
    assert!(store.session("digest-ann", 0).await.unwrap().is_some());
    assert_eq!(
        emails(store.users(&account.id).await.unwrap()),
        ["ann@example.com"]
    );
}

fn write<'a>(
    range: &'a ImportRange,
    worker: &'a str,
    connection_id: &'a str,
    objects: &'a [RawObject],
    payments: &'a [Payment],
) -> ImportPageWrite<'a> {
    ImportPageWrite {
        range,
        worker,
        connection_id,
        new_start: range.range_start,
        cursor: Some("ch_last"),
        cursor_created: Some(150),
        done: false,
        lease_until: 5000,
        split_off: &[],
        objects,
        embedded: &[],
        payments,
        listed_days: &[],
    }
}

async fn an_import_step_stores_its_page_splits_and_listed_days_atomically(store: Store) {
    let c = default_connection(&store).await;
    let job = running_job(&store, &c, &[(0, 200)]).await;
    let range = store
        .claim_import_range_of(&job.id, "charges", "w1", 1000, 1060)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .claim_import_range_of(&job.id, "disputes", "w2", 1000, 1060)
            .await
            .unwrap(),
        None,
        "a claim for one resource never takes another's range"
    );
    let objects = [object("ch_a", 1, "{}"), object("ch_b", 1, "{}")];
    let step = ImportPageWrite {
        new_start: 120,
        split_off: &[(60, 120), (0, 60)],
        listed_days: &[(0, 2)],
        ..write(&range, "w1", &c.id, &objects, &[])
    };
    assert!(store.store_import_step(&step).await.unwrap());
    assert_eq!(
        store.open_import_ranges(&job.id, "charges").await.unwrap(),
        3
    );
    let ranges: Vec<_> = store
        .import_ranges(&c.account_id, &job.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.range_start, r.range_end, r.cursor, r.objects))
        .collect();
    assert_eq!(
        ranges,
        [
            (120, 200, Some("ch_last".to_owned()), 2),
            (60, 120, None, 0),
            (0, 60, None, 0)
        ]
    );
    let progress = store
        .import_range_progress(&c.account_id, &job.id)
        .await
        .unwrap();
    assert_eq!(progress[0].cursor_created, Some(150));
    // The same page again (a second step before the first was seen) adds to the listed counts.
    let moved = ImportRange {
        range_start: 120,
        ..range.clone()
    };
    let again = ImportPageWrite {
        new_start: 120,
        listed_days: &[(0, 1), (1, 4)],
        ..write(&moved, "w1", &c.id, &[], &[])
    };
    assert!(store.store_import_step(&again).await.unwrap());
    assert_eq!(
        store.import_listed_days(&job.id, "charges").await.unwrap(),
        [(0, 3), (1, 4)]
    );
    // A step from a worker without the claim changes nothing, splits included.
    let stale = ImportPageWrite {
        split_off: &[(100, 120)],
        listed_days: &[(0, 100)],
        ..write(&moved, "intruder", &c.id, &objects, &[])
    };
    assert!(!store.store_import_step(&stale).await.unwrap());
    assert_eq!(
        store.open_import_ranges(&job.id, "charges").await.unwrap(),
        3
    );
    assert_eq!(
        store.import_listed_days(&job.id, "charges").await.unwrap(),
        [(0, 3), (1, 4)]
    );
    assert_eq!(
        store
            .stored_days(&c.account_id, &c.id, "charge", 0, 2_000_000_000)
            .await
            .unwrap(),
        [(1_700_000_000 / 86_400, 2)]
    );
    assert_eq!(
        store
            .stored_days(&c.account_id, &c.id, "charge", 0, 1_700_000_000)
            .await
            .unwrap(),
        []
    );
}

async fn attempt_numbers_follow_created_order_whatever_order_charges_arrive_in(store: Store) {
    let c = default_connection(&store).await;
    running_job(&store, &c, &[(0, 200)]).await;
    let attempt = |id: &str, created: i64| Payment {
        created,
        payment_intent_id: Some("pi_1".into()),
        attempt_number: None,
        ..payment(id, 1)
    };
    let mut range = store.claim_import_range("w", 1, 99).await.unwrap().unwrap();
    // Newest first, in two pages, as the import lists them.
    for page in [
        vec![attempt("ch_3", 30)],
        vec![attempt("ch_2", 20), attempt("ch_1", 10)],
    ] {
        assert!(
            store
                .store_import_step(&write(&range, "w", &c.id, &[], &page))
                .await
                .unwrap()
        );
        range.cursor = Some("ch_last".into());
    }
    for (id, number) in [("ch_1", 1), ("ch_2", 2), ("ch_3", 3)] {
        let p = store
            .payment(&c.account_id, &c.id, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.attempt_number, Some(number), "{id}");
    }
}

async fn import_resources_record_unreadable_and_checked_states(store: Store) {
    let c = default_connection(&store).await;
    let job = ImportJob {
        id: new_id("imp"),
        account_id: c.account_id.clone(),
        connection_id: c.id.clone(),
        status: "running".into(),
        requested_at: 10,
    };
    let resource = |name: &str| ImportResource {
        job_id: job.id.clone(),
        account_id: c.account_id.clone(),
        resource: name.into(),
        state: "importing".into(),
        reason: None,
        range_start: 0,
        range_end: 100,
        check_outcome: None,
        check_detail: None,
    };
    let mut initial = ranges(&job, &[(0, 100)]);
    let mut customers = initial[0].clone();
    customers.resource = "customers".into();
    initial.push(customers);
    store
        .create_import(
            &job,
            &[resource("charges"), resource("customers")],
            &initial,
        )
        .await
        .unwrap();
    store
        .mark_import_resource_unreadable(&job.id, "customers", "lacks rak_customer_read")
        .await
        .unwrap();
    assert_eq!(
        store
            .open_import_ranges(&job.id, "customers")
            .await
            .unwrap(),
        0
    );
    store
        .set_import_resource_state(
            &job.id,
            "charges",
            "complete",
            Some(("matched", "3 listed")),
            50,
        )
        .await
        .unwrap();
    let rows = store
        .import_resources(&c.account_id, &job.id)
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (
                r.resource.as_str(),
                r.state.as_str(),
                r.reason.as_deref(),
                r.check_outcome.as_deref(),
                r.check_detail.as_deref()
            ))
            .collect::<Vec<_>>(),
        [
            (
                "charges",
                "complete",
                None,
                Some("matched"),
                Some("3 listed")
            ),
            (
                "customers",
                "unreadable",
                Some("lacks rak_customer_read"),
                None,
                None
            )
        ]
    );
    let other = store.ensure_account("other").await.unwrap();
    assert!(
        store
            .import_resources(&other.id, &job.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn import_jobs_list_newest_first_and_move_between_states(store: Store) {
    let c = default_connection(&store).await;
    let first = running_job(&store, &c, &[(0, 10)]).await;
    let second = ImportJob {
        id: new_id("imp"),
        requested_at: 5,
        ..first.clone()
    };
    store.create_import_job(&second, &[]).await.unwrap();
    assert!(
        store
            .set_import_job_status(&first.id, "needs_attention", Some("key expired"), 7)
            .await
            .unwrap()
    );
    let jobs = store.import_jobs(&c.account_id, &c.id, 10).await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.job.id.as_str()).collect::<Vec<_>>(),
        [second.id.as_str(), first.id.as_str()]
    );
    let stopped = store
        .import_job(&c.account_id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stopped.job.status.as_str(),
            stopped.error.as_deref(),
            stopped.finished_at
        ),
        ("needs_attention", Some("key expired"), Some(7))
    );
    let running: Vec<_> = store
        .running_import_jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(running, std::slice::from_ref(&second.id));
    assert!(
        store
            .set_import_job_status(&first.id, "running", None, 9)
            .await
            .unwrap()
    );
    let resumed = store
        .import_job(&c.account_id, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (resumed.started_at, resumed.finished_at, resumed.error),
        (Some(9), None, None)
    );
    let other = store.ensure_account("other").await.unwrap();
    assert_eq!(store.import_job(&other.id, &first.id).await.unwrap(), None);
}

async fn claims_of_one_resource_can_be_released_for_a_restarted_process(store: Store) {
    let c = default_connection(&store).await;
    let job = running_job(&store, &c, &[(0, 10), (10, 20)]).await;
    store
        .claim_import_range("old", 100, 10_000)
        .await
        .unwrap()
        .unwrap();
    store
        .claim_import_range("old", 100, 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.claim_import_range("new", 101, 10_000).await.unwrap(),
        None
    );
    assert_eq!(store.release_import_claims(&job.id).await.unwrap(), 2);
    let taken = store
        .claim_import_range("new", 101, 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.range_start, 10);
}

async fn a_batch_holding_the_same_object_twice_keeps_the_later_copy(store: Store) {
    let c = default_connection(&store).await;
    let mut many: Vec<RawObject> = (0..250)
        .map(|i| object(&format!("ch_{i}"), 1, "{}"))
        .collect();
    many.push(object("ch_7", 1, r#"{"later":true}"#));
    assert_eq!(
        store
            .upsert_objects(&c.account_id, &c.id, &many)
            .await
            .unwrap(),
        251
    );
    let held = store
        .object(&c.account_id, &c.id, "charge", "ch_7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.json, r#"{"later":true}"#);
    let inventory = store.inventory(&c.account_id, &c.id).await.unwrap();
    assert_eq!(inventory[0].held, 250);
    let twice = [
        payment("ch_p", 1),
        Payment {
            amount: 1,
            ..payment("ch_p", 1)
        },
    ];
    store
        .upsert_payments(&c.account_id, &c.id, &twice)
        .await
        .unwrap();
    assert_eq!(
        store
            .payment(&c.account_id, &c.id, "ch_p")
            .await
            .unwrap()
            .unwrap()
            .amount,
        1
    );
}

async fn stored_objects_of_a_type_are_read_back_a_page_at_a_time(store: Store) {
    let c = default_connection(&store).await;
    let mut objects: Vec<RawObject> = ["ch_c", "ch_a", "ch_b"]
        .iter()
        .map(|id| object(id, 1, "{}"))
        .collect();
    let mut dispute = object("dp_a", 1, "{}");
    dispute.object_type = "dispute".into();
    objects.push(dispute);
    store
        .upsert_objects(&c.account_id, &c.id, &objects)
        .await
        .unwrap();
    let ids = |page: Vec<RawObject>| page.into_iter().map(|o| o.id).collect::<Vec<_>>();
    let first = store
        .objects_after(&c.account_id, &c.id, "charge", None, 2)
        .await
        .unwrap();
    assert_eq!(ids(first), ["ch_a", "ch_b"]);
    let rest = store
        .objects_after(&c.account_id, &c.id, "charge", Some("ch_b"), 2)
        .await
        .unwrap();
    assert_eq!(ids(rest), ["ch_c"]);
    let other = store.ensure_account("other").await.unwrap();
    assert!(
        store
            .objects_after(&other.id, &c.id, "charge", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn sessions_sign_in_until_they_expire_or_are_deleted(store: Store) {
    let account = store.ensure_account("default").await.unwrap();
    let other = store.ensure_account("other").await.unwrap();
    let user = store
        .create_user(&account.id, "ann@example.com", "$argon2id$x", true)
        .await
        .unwrap();
    store
        .create_session("digest-1", &user, "csrf-1", 2_000)
        .await
        .unwrap();
    let session = store.session("digest-1", 1_999).await.unwrap().unwrap();
    assert_eq!(session.user_id, user.id);
    assert_eq!(session.account_id, account.id);
    assert_ne!(session.account_id, other.id);
    assert_eq!(session.account_name, "default");
    assert_eq!(session.email, "ann@example.com");
    assert!(session.is_admin);
    assert_eq!(session.csrf_token, "csrf-1");
    assert_eq!(
        store.session("digest-1", 2_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.session("digest-2", 1_000).await.unwrap(),
        None,
        "unknown"
    );
    assert_eq!(store.delete_expired_sessions(2_000).await.unwrap(), 1);
    store
        .create_session("digest-3", &user, "csrf-3", 5_000)
        .await
        .unwrap();
    store.delete_session("digest-3").await.unwrap();
    assert_eq!(
        store.session("digest-3", 1_000).await.unwrap(),
        None,
        "signed out"
    );
}

async fn login_failures_are_counted_per_email_within_a_window_and_cleared(store: Store) {
    for at in [100, 200, 300] {
        store
            .record_login_failure("ann@example.com", at)
            .await
            .unwrap();
    }
    store
        .record_login_failure("bob@example.com", 300)
        .await
        .unwrap();
    assert_eq!(
        store
            .login_failures_since("ann@example.com", 0)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .login_failures_since("ann@example.com", 200)
            .await
            .unwrap(),
        2
    );
    store.clear_login_failures("ann@example.com").await.unwrap();
    assert_eq!(
        store
            .login_failures_since("ann@example.com", 0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .login_failures_since("bob@example.com", 0)
            .await
            .unwrap(),
        1
    );
}

async fn only_the_first_user_can_be_created_through_setup(store: Store) {
    let account = store.ensure_account("default").await.unwrap();
    assert_eq!(store.user_count().await.unwrap(), 0);
    let first = store
        .create_first_user(&account.id, "first@example.com", "$argon2id$a")
        .await
        .unwrap()
        .expect("the first user is created");
    assert!(first.is_admin);
    assert_eq!(store.user_count().await.unwrap(), 1);
    let second = store
        .create_first_user(&account.id, "second@example.com", "$argon2id$b")
        .await
        .unwrap();
    assert_eq!(second, None);
    assert_eq!(store.user_count().await.unwrap(), 1);
    let stored = store
        .user_by_email("first@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.is_admin);
    assert_eq!(stored.password_hash, "$argon2id$a");
}

// Analytics queries (store/analytics.rs) on the known history of tests/support/analytics.rs; the numbers
// themselves are asserted in detail by tests/analytics_numbers.rs.

async fn payment_breakdowns_group_by_connection_currency_and_key(store: Store) {
    use payscope::domain::analytics::{DAY, Dimension};
    use payscope::store::GroupBy;
    let known = support::analytics::seed(&store, "acme").await;
    let filter = support::analytics::november_filter();
    let by_day = store
        .payment_breakdown(&known.account_id, &filter, GroupBy::Time(DAY))
        .await
        .unwrap();
    let day = (support::analytics::nov(12) / DAY * DAY).to_string();
    let a5 = by_day
        .iter()
        .find(|r| r.connection_id == known.a && r.key == day)
        .unwrap();
    assert_eq!(
        (a5.currency.as_str(), a5.measures.approved_amount),
        ("usd", 3000)
    );
    let by_brand = store
        .payment_breakdown(
            &known.account_id,
            &filter,
            GroupBy::Dimension(Dimension::Brand),
        )
        .await
        .unwrap();
    let keys: HashSet<(&str, &str, &str)> = by_brand
        .iter()
        .map(|r| {
            (
                r.connection_id.as_str(),
                r.currency.as_str(),
                r.key.as_str(),
            )
        })
        .collect();
    let expected: HashSet<(&str, &str, &str)> = [
        (known.a.as_str(), "usd", "visa"),
        (known.a.as_str(), "usd", "mastercard"),
        (known.a.as_str(), "eur", "visa"),
        (known.b.as_str(), "usd", "mastercard"),
    ]
    .into();
    assert_eq!(keys, expected);
}

async fn object_breakdowns_read_disputes_refunds_payouts_and_fee_lines(store: Store) {
    use payscope::store::{ObjectGroup, ObjectKind};
    let known = support::analytics::seed(&store, "acme").await;
    let filter = support::analytics::november_filter();
    for (kind, group, key, amount) in [
        (ObjectKind::Dispute, ObjectGroup::Status, "lost", 3000),
        (
            ObjectKind::Refund,
            ObjectGroup::Reason,
            "requested_by_customer",
            1000,
        ),
        (ObjectKind::Payout, ObjectGroup::Total, "", 5000),
    ] {
        let rows = store
            .object_breakdown(&known.account_id, &filter, kind, group)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{kind:?}");
        assert_eq!(
            (rows[0].key.as_str(), rows[0].count, rows[0].amount),
            (key, 1, amount)
        );
        assert_eq!(rows[0].connection_id, known.a);
    }
    let fees = store
        .fees_by_type(&known.account_id, &filter)
        .await
        .unwrap();
    assert_eq!(fees.iter().map(|r| r.amount).sum::<i64>(), 59);
}

async fn card_details_shares_and_missing_details_are_per_connection(store: Store) {
    use payscope::domain::analytics::DAY;
    let known = support::analytics::seed(&store, "acme").await;
    let a = store
        .card_details_share(&known.account_id, &known.a, None)
        .await
        .unwrap();
    assert_eq!((a.card_payments, a.with_bin, a.with_issuer), (10, 6, 4));
    let b = store
        .card_details_share(&known.account_id, &known.b, None)
        .await
        .unwrap();
    assert_eq!((b.card_payments, b.with_bin, b.with_issuer), (1, 0, 0));
    let missing = store
        .payments_missing_card_details(&known.account_id, &known.b, 10)
        .await
        .unwrap();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].charge_id, "ch_b1");

    // The shares over everything read the daily rollups once their days are current (above, every day was
    // still marked and counted from the payments), and count a day written since from the payments again.
    let shares = |id: String| {
        let store = &store;
        let account = known.account_id.clone();
        async move {
            let share = store.card_details_share(&account, &id, None).await.unwrap();
            (share.card_payments, share.with_bin, share.with_issuer)
        }
    };
    assert!(refresh_all_rollups(&store).await > 0);
    assert_eq!(shares(known.a.clone()).await, (10, 6, 4));
    assert_eq!(shares(known.b.clone()).await, (1, 0, 0));
    let mut complete = store
        .payment(&known.account_id, &known.b, "ch_b1")
        .await
        .unwrap()
        .unwrap();
    complete.charge_id = "ch_b2".into();
    complete.created += 3 * DAY;
    complete.card_iin = Some("424242".into());
    complete.card_issuer = Some("Stripe Test Bank".into());
    store
        .upsert_payments(&known.account_id, &known.b, std::slice::from_ref(&complete))
        .await
        .unwrap();
    assert_eq!(
        shares(known.b.clone()).await,
        (2, 1, 1),
        "with the day marked"
    );
    assert!(refresh_all_rollups(&store).await > 0);
    assert_eq!(shares(known.b.clone()).await, (2, 1, 1), "from the rollups");
    assert_eq!(shares(known.a.clone()).await, (10, 6, 4));
}

fn delivery(c: &Connection, id: &str, created: i64) -> payscope::store::InboxDelivery {
    payscope::store::InboxDelivery {
        account_id: c.account_id.clone(),
        connection_id: c.id.clone(),
        event: InboxEvent {
            event_id: id.into(),
            event_type: "charge.succeeded".into(),
            event_created: created,
            payload: format!(r#"{{"id":"{id}"}}"#),
        },
    }
}

async fn deliveries_of_several_connections_commit_together_once_each_and_record_their_reception(
    store: Store,
) {
    let a = default_connection(&store).await;
    let b = connection(&a.account_id, "US Stripe");
    store.insert_connection(&b).await.unwrap();
    let batch = [
        delivery(&a, "evt_1", 10),
        delivery(&b, "evt_1", 10),
        delivery(&a, "evt_2", 11),
    ];
    assert_eq!(store.insert_inbox_deliveries(&batch).await.unwrap(), 3);
    assert_eq!(
        store.insert_inbox_deliveries(&batch[..2]).await.unwrap(),
        0,
        "redeliveries are not kept twice"
    );
    assert!(
        store
            .inbox_holds(&a.account_id, &b.id, "evt_1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .inbox_holds(&a.account_id, &b.id, "evt_2")
            .await
            .unwrap()
    );
    assert!(
        !store
            .inbox_holds("another-account", &a.id, "evt_1")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .unapplied_inbox_events(&a.account_id, &a.id)
            .await
            .unwrap(),
        (2, Some(10))
    );
    let state = store.live_state(&a.account_id, &a.id).await.unwrap();
    assert!(state.last_received_at.is_some(), "{state:?}");

    let target = store.webhook_target(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (
            target.account_id.as_str(),
            target.mode.as_str(),
            target.webhook_secrets_sealed.as_slice()
        ),
        (
            a.account_id.as_str(),
            "test",
            &["ps1.sealed-secret".to_owned()][..]
        )
    );
    assert_eq!(store.webhook_target("con_unknown").await.unwrap(), None);
}

async fn an_applied_event_writes_objects_payments_and_state_together_and_a_deferred_one_waits(
    store: Store,
) {
    let c = default_connection(&store).await;
    store
        .insert_inbox_deliveries(&[delivery(&c, "evt_1", 10), delivery(&c, "evt_2", 20)])
        .await
        .unwrap();
    let due: Vec<_> = store.due_inbox_events(1_000, 10).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|p| p.event.event_id.as_str())
            .collect::<Vec<_>>(),
        ["evt_1", "evt_2"]
    );

    let objects = [object("ch_1", 20, r#"{"id":"ch_1"}"#)];
    let payments = [payment("ch_1", 20)];
    store
        .apply_inbox_events(&[payscope::store::AppliedEvent {
            account_id: &c.account_id,
            connection_id: &c.id,
            event_id: "evt_2",
            event_created: 20,
            objects: &objects,
            payments: &payments,
            now: 500,
        }])
        .await
        .unwrap();
    assert_eq!(
        store
            .object(&c.account_id, &c.id, "charge", "ch_1")
            .await
            .unwrap()
            .unwrap()
            .version,
        20
    );
    assert_eq!(
        store
            .payment(&c.account_id, &c.id, "ch_1")
            .await
            .unwrap()
            .unwrap()
            .version,
        20
    );
    let state = store.live_state(&c.account_id, &c.id).await.unwrap();
    assert_eq!(
        (state.last_applied_at, state.last_applied_event_created),
        (Some(500), Some(20))
    );

    store
        .defer_inbox_event(&c.account_id, &c.id, "evt_1", "stripe: timeout", 2_000)
        .await
        .unwrap();
    assert!(
        store.due_inbox_events(1_000, 10).await.unwrap().is_empty(),
        "evt_1 waits, evt_2 is applied"
    );
    assert_eq!(store.due_inbox_events(2_000, 10).await.unwrap().len(), 1);
    store
        .apply_inbox_events(&[payscope::store::AppliedEvent {
            account_id: &c.account_id,
            connection_id: &c.id,
            event_id: "evt_1",
            event_created: 10,
            objects: &[],
            payments: &[],
            now: 600,
        }])
        .await
        .unwrap();
    let state = store.live_state(&c.account_id, &c.id).await.unwrap();
    assert_eq!(
        (state.last_applied_at, state.last_applied_event_created),
        (Some(600), Some(20)),
        "an older event does not move the newest applied time back"
    );
    assert_eq!(
        store
            .unapplied_inbox_events(&c.account_id, &c.id)
            .await
            .unwrap(),
        (0, None)
    );
}

async fn the_live_cursor_endpoint_status_and_attention_are_kept_per_connection(store: Store) {
    let c = default_connection(&store).await;
    assert_eq!(
        store.live_state(&c.account_id, &c.id).await.unwrap(),
        payscope::store::LiveState::default()
    );
    store
        .set_live_cursor(&c.account_id, &c.id, Some("evt_9"), 90, 100)
        .await
        .unwrap();
    store
        .set_live_endpoint_status(&c.account_id, &c.id, "disabled", 101)
        .await
        .unwrap();
    store
        .set_live_attention(&c.account_id, &c.id, Some("expired key"))
        .await
        .unwrap();
    let state = store.live_state(&c.account_id, &c.id).await.unwrap();
    assert_eq!(
        state,
        payscope::store::LiveState {
            cursor_event_id: Some("evt_9".into()),
            cursor_created: Some(90),
            last_catch_up_at: Some(100),
            endpoint_status: Some("disabled".into()),
            endpoint_checked_at: Some(101),
            attention_reason: Some("expired key".into()),
            ..Default::default()
        }
    );
    store
        .set_live_attention(&c.account_id, &c.id, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .live_state(&c.account_id, &c.id)
            .await
            .unwrap()
            .attention_reason,
        None
    );
    assert_eq!(
        store.live_state("another-account", &c.id).await.unwrap(),
        payscope::store::LiveState::default(),
        "another account sees nothing"
    );
}

async fn a_group_commit_stores_each_step_or_without_its_claim_nothing(store: Store) {
    let c = default_connection(&store).await;
    let job = running_job(&store, &c, &[(0, 100), (100, 200)]).await;
    let newer = store
        .claim_import_range("w1", 1, 99)
        .await
        .unwrap()
        .unwrap();
    let older = store
        .claim_import_range("w2", 1, 99)
        .await
        .unwrap()
        .unwrap();
    let first = [object("ch_1", 1, "{}")];
    let second = [object("ch_2", 1, "{}")];
    let stored = store
        .store_import_steps(&[
            write(&newer, "w1", &c.id, &first, &[]),
            write(&older, "not-w2", &c.id, &second, &[]),
        ])
        .await
        .unwrap();
    assert_eq!(stored, [true, false]);
    let held = |id: &'static str| {
        let store = store.clone();
        let c = c.clone();
        async move {
            store
                .object(&c.account_id, &c.id, "charge", id)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(held("ch_1").await);
    assert!(
        !held("ch_2").await,
        "a step without its claim stores nothing"
    );
    let objects: Vec<_> = store
        .import_ranges(&c.account_id, &job.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.objects)
        .collect();
    assert_eq!(objects, [1, 0]);
}

/// Recomputes every marked rollup day, as the background refresher would; returns how many.
async fn refresh_all_rollups(store: &Store) -> usize {
    let mut days = 0;
    loop {
        let done = store
            .refresh_marked_rollups(100, RefreshCutoffs::everything())
            .await
            .unwrap();
        if done == 0 {
            return days;
        }
        days += done;
    }
}

// Daily rollups (store/rollups.rs): a breakdown over whole UTC days reads them; the same breakdown over a period
// shifted by one second (no known payment sits on a day boundary) counts the payments directly. Both must agree
// for every grouping and filter, and keep agreeing when payments change.

async fn rollup_breakdowns_equal_direct_counts_before_and_after_payments_change(store: Store) {
    use payscope::domain::analytics::{DAY, Dimension, Filter, Period};
    use payscope::store::GroupBy;
    let known = support::analytics::seed(&store, "acme").await;
    let whole_days = support::analytics::november();
    // A quarter holds whole 32-day blocks (store/rollup_blocks.rs) as well as 4-day ones and single days; five
    // months hold the 128-day block [2026-10-10, 2027-02-15) around November.
    let quarter = Period::custom("2026-10-01", "2026-12-31").unwrap();
    let months = Period::custom("2026-10-01", "2027-02-28").unwrap();
    let shifted = |period: Period| Period {
        start: period.start + 1,
        end: period.end + 1,
    };
    const GROUPS: [GroupBy; 11] = [
        GroupBy::Total,
        GroupBy::Time(DAY),
        GroupBy::Time(7 * DAY),
        GroupBy::Dimension(Dimension::Brand),
        GroupBy::Dimension(Dimension::Funding),
        GroupBy::Dimension(Dimension::Country),
        GroupBy::Dimension(Dimension::Currency),
        GroupBy::Dimension(Dimension::Issuer),
        GroupBy::Dimension(Dimension::Bin),
        GroupBy::Dimension(Dimension::DeclineCode),
        GroupBy::Dimension(Dimension::Status),
    ];
    // Compared after every single refresh step: a totals, a card-attribute and a dimension grouping.
    const STEP_GROUPS: [GroupBy; 3] = [
        GroupBy::Total,
        GroupBy::Dimension(Dimension::Brand),
        GroupBy::Dimension(Dimension::Bin),
    ];
    let filters = |period: Period| {
        let base = Filter::period(period);
        let mut visa = base.clone();
        visa.brands = vec!["visa".into()];
        let mut eur_of_a = base.clone();
        eur_of_a.currencies = vec!["eur".into()];
        eur_of_a.connections = vec![known.a.clone()];
        let mut with_pending = base.clone();
        with_pending.approval.exclude_pending = false;
        let mut without_pending = base.clone();
        without_pending.approval.exclude_pending = true;
        let mut intents = with_pending.clone();
        intents.approval.dedup_retries = true;
        let mut settled_intents = without_pending.clone();
        settled_intents.approval.dedup_retries = true;
        let mut visa_intents = visa.clone();
        visa_intents.approval.dedup_retries = true;
        [
            base,
            visa,
            eur_of_a,
            with_pending,
            without_pending,
            intents,
            settled_intents,
            visa_intents,
        ]
    };
    let compare_in = |label: &'static str, groups: &'static [GroupBy], filters_taken: usize| {
        let store = &store;
        let account = known.account_id.clone();
        async move {
            for period in [whole_days, quarter, months] {
                let pairs = filters(period).into_iter().zip(filters(shifted(period)));
                for (rolled, direct) in pairs.take(filters_taken) {
                    for group in groups {
                        let from_rollups = store
                            .payment_breakdown(&account, &rolled, *group)
                            .await
                            .unwrap();
                        let counted = store
                            .payment_breakdown(&account, &direct, *group)
                            .await
                            .unwrap();
                        assert!(!counted.is_empty(), "{label}: {group:?} is empty");
                        assert_eq!(from_rollups, counted, "{label}: {group:?} under {rolled:?}");
                    }
                }
            }
        }
    };
    let compare = |label: &'static str| {
        let store = &store;
        let compare_in = &compare_in;
        async move {
            // First with the written days still marked (a rollup read counts those directly); then after each single
            // step of the refresh (a day recomputed while its blocks are out of date, a block recomputed while others
            // are not); then with every day and block current.
            compare_in(label, &GROUPS, usize::MAX).await;
            let mut steps = 0;
            while store
                .refresh_marked_rollups(1, RefreshCutoffs::everything())
                .await
                .unwrap()
                > 0
            {
                steps += 1;
                compare_in(label, &STEP_GROUPS, 2).await;
            }
            assert!(steps > 0, "{label}: the write marked no day");
            compare_in(label, &GROUPS, usize::MAX).await;
        }
    };
    compare("as seeded").await;
    let total = |rows: Vec<payscope::store::BreakdownRow>| {
        rows.iter().filter(|r| r.currency == "usd").fold(
            (0, 0, 0),
            |(refunded, disputed, approved), r| {
                (
                    refunded + r.measures.refunded_amount,
                    disputed + r.measures.disputed,
                    approved + r.measures.approved,
                )
            },
        )
    };
    let before = total(
        store
            .payment_breakdown(
                &known.account_id,
                &Filter::period(whole_days),
                GroupBy::Total,
            )
            .await
            .unwrap(),
    );
    // Connection B's one payment is refunded in full and disputed (a newer version of it, as a webhook brings).
    let mut stored = store
        .payment(&known.account_id, &known.b, "ch_b1")
        .await
        .unwrap()
        .unwrap();
    stored.version += 10;
    stored.amount_refunded = stored.amount;
    stored.disputed = true;
    store
        .upsert_payments(&known.account_id, &known.b, std::slice::from_ref(&stored))
        .await
        .unwrap();
    let after = total(
        store
            .payment_breakdown(
                &known.account_id,
                &Filter::period(whole_days),
                GroupBy::Total,
            )
            .await
            .unwrap(),
    );
    assert_eq!(after, (before.0 + stored.amount, before.1 + 1, before.2));
    compare("after a refund and a dispute").await;

    // pi_2 (two declines on Nov 11) is retried on Nov 13 and succeeds: deduplicated, the intent now counts as
    // approved on Nov 13 (its deciding attempt's day) and no longer as declined on Nov 11.
    let mut deduplicated = Filter::period(whole_days);
    deduplicated.approval.dedup_retries = true;
    let intents_before = store
        .payment_breakdown(&known.account_id, &deduplicated, GroupBy::Total)
        .await
        .unwrap();
    let mut retry = store
        .payment(&known.account_id, &known.a, "ch_a4")
        .await
        .unwrap()
        .unwrap();
    retry.charge_id = "ch_a9".into();
    retry.created = support::analytics::nov(13);
    retry.version = retry.created;
    retry.status = "succeeded".into();
    retry.decline_code = None;
    retry.failure_code = None;
    store
        .upsert_payments(&known.account_id, &known.a, std::slice::from_ref(&retry))
        .await
        .unwrap();
    let intents_after = store
        .payment_breakdown(&known.account_id, &deduplicated, GroupBy::Total)
        .await
        .unwrap();
    let sum = |rows: &[payscope::store::BreakdownRow]| {
        rows.iter().fold((0, 0, 0), |(a, b, c), r| {
            (
                a + r.measures.attempted,
                b + r.measures.approved,
                c + r.measures.declined,
            )
        })
    };
    let (attempted, approved, declined) = sum(&intents_before);
    assert_eq!(sum(&intents_after), (attempted, approved + 1, declined - 1));
    compare("after a retry succeeded two days later").await;

    // Blocks that end after the given time are left for later (the refresher passes the start of today): the
    // days are recomputed, their blocks stay out of date, and reads take days instead.
    retry.version += 1;
    retry.amount_refunded = 100;
    store
        .upsert_payments(&known.account_id, &known.a, std::slice::from_ref(&retry))
        .await
        .unwrap();
    // A day written a moment ago waits until it has been quiet for a while (or out of date too long).
    let now = payscope::store::unix_now();
    let days_only = |at: i64| RefreshCutoffs {
        blocks_ending_by: 0,
        ..RefreshCutoffs::at(at)
    };
    assert_eq!(
        store
            .refresh_marked_rollups(100, days_only(now))
            .await
            .unwrap(),
        0
    );
    let quiet = now + payscope::store::DAY_QUIET_FOR + 1;
    assert!(
        store
            .refresh_marked_rollups(100, days_only(quiet))
            .await
            .unwrap()
            > 0
    );
    assert_eq!(
        store
            .refresh_marked_rollups(100, days_only(quiet))
            .await
            .unwrap(),
        0
    );
    compare_in(
        "with the days current and their blocks not",
        &GROUPS,
        usize::MAX,
    )
    .await;
    assert!(
        refresh_all_rollups(&store).await > 0,
        "the blocks were left"
    );
    compare_in("with the blocks current again", &GROUPS, usize::MAX).await;
}

async fn object_rollup_breakdowns_equal_direct_counts_before_and_after_objects_change(
    store: Store,
) {
    use payscope::domain::analytics::{DAY, Filter, Period};
    use payscope::store::{ObjectGroup, ObjectKind};
    let known = support::analytics::seed(&store, "acme").await;
    let whole_days = support::analytics::november();
    let shifted = Period {
        start: whole_days.start + 1,
        end: whole_days.end + 1,
    };
    let filters = |period: Period| {
        let base = Filter::period(period);
        let mut usd_of_a = base.clone();
        usd_of_a.currencies = vec!["usd".into()];
        usd_of_a.connections = vec![known.a.clone()];
        [base, usd_of_a]
    };
    let compare = |label: &'static str| {
        let store = &store;
        let account = known.account_id.clone();
        async move {
            // First with the written days still marked (a rollup read counts those directly), then with every
            // day's rollups recomputed (it reads them).
            for refreshed in [false, true] {
                if refreshed {
                    let days = refresh_all_rollups(store).await;
                    assert!(days > 0, "{label}: the write marked no day");
                }
                for (rolled, direct) in filters(whole_days).into_iter().zip(filters(shifted)) {
                    for kind in [ObjectKind::Dispute, ObjectKind::Refund, ObjectKind::Payout] {
                        for group in [
                            ObjectGroup::Total,
                            ObjectGroup::Time(DAY),
                            ObjectGroup::Time(7 * DAY),
                            ObjectGroup::Reason,
                            ObjectGroup::Status,
                        ] {
                            let from_rollups = store
                                .object_breakdown(&account, &rolled, kind, group)
                                .await
                                .unwrap();
                            let counted = store
                                .object_breakdown(&account, &direct, kind, group)
                                .await
                                .unwrap();
                            assert!(!counted.is_empty(), "{label}: {kind:?} {group:?} is empty");
                            assert_eq!(
                                from_rollups, counted,
                                "{label}: {kind:?} {group:?} under {rolled:?}"
                            );
                        }
                    }
                    let fees = store.fees_by_type(&account, &rolled).await.unwrap();
                    assert_eq!(
                        fees,
                        store.fees_by_type(&account, &direct).await.unwrap(),
                        "{label}: fees"
                    );
                    assert!(!fees.is_empty(), "{label}: no fee lines");
                }
            }
        }
    };
    compare("as seeded").await;
    let refunds = |rows: Vec<payscope::store::ObjectRow>| {
        rows.iter()
            .map(|r| (r.count, r.amount))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    let november = Filter::period(whole_days);
    let before = refunds(
        store
            .object_breakdown(
                &known.account_id,
                &november,
                ObjectKind::Refund,
                ObjectGroup::Total,
            )
            .await
            .unwrap(),
    );
    let raw = |object_type: &str, id: &str, created: i64, version: i64, json: &str| RawObject {
        object_type: object_type.into(),
        id: id.into(),
        created,
        version,
        deleted: false,
        json: json.into(),
    };
    // A second refund arrives, and the dispute is won (a newer version of it).
    let created = support::analytics::nov(22);
    let refund = serde_json::json!({"id": "re_2", "object": "refund", "amount": 500, "currency": "usd",
        "charge": "ch_a6", "reason": "duplicate", "status": "succeeded", "created": created});
    let dispute = serde_json::json!({"id": "dp_1", "object": "dispute", "amount": 3000, "currency": "usd",
        "charge": "ch_a5", "reason": "fraudulent", "status": "won", "created": support::analytics::nov(20)});
    store
        .upsert_objects(
            &known.account_id,
            &known.a,
            &[
                raw("refund", "re_2", created, created, &refund.to_string()),
                raw(
                    "dispute",
                    "dp_1",
                    support::analytics::nov(20),
                    created,
                    &dispute.to_string(),
                ),
            ],
        )
        .await
        .unwrap();
    let after = refunds(
        store
            .object_breakdown(
                &known.account_id,
                &november,
                ObjectKind::Refund,
                ObjectGroup::Total,
            )
            .await
            .unwrap(),
    );
    assert_eq!(after, (before.0 + 1, before.1 + 500));
    let statuses = store
        .object_breakdown(
            &known.account_id,
            &november,
            ObjectKind::Dispute,
            ObjectGroup::Status,
        )
        .await
        .unwrap();
    assert_eq!(
        statuses
            .iter()
            .map(|r| (r.key.as_str(), r.count))
            .collect::<Vec<_>>(),
        [("won", 1)]
    );
    compare("after a refund and a won dispute").await;
}

async fn inbox_claims_hand_each_due_event_to_one_worker_until_applied_deferred_or_expired(
    store: Store,
) {
    let c = default_connection(&store).await;
    let deliveries: Vec<_> = (0..40)
        .map(|i| delivery(&c, &format!("evt_{i}"), 100 + i))
        .collect();
    store.insert_inbox_deliveries(&deliveries).await.unwrap();
    let now = 1_000;
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store
                    .claim_inbox_events(&format!("w{worker}"), now, now + 100, 5)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|p| p.event.event_id));
            }
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let distinct: HashSet<_> = claimed.iter().collect();
    assert_eq!(
        (claimed.len(), distinct.len()),
        (40, 40),
        "every event claimed exactly once: {claimed:?}"
    );
    assert!(
        store
            .claim_inbox_events("w9", now + 50, now + 150, 100)
            .await
            .unwrap()
            .is_empty(),
        "held claims are not handed out again"
    );

    store
        .apply_inbox_events(&[payscope::store::AppliedEvent {
            account_id: &c.account_id,
            connection_id: &c.id,
            event_id: "evt_0",
            event_created: 100,
            objects: &[],
            payments: &[],
            now: now + 10,
        }])
        .await
        .unwrap();
    store
        .defer_inbox_event(
            &c.account_id,
            &c.id,
            "evt_1",
            "stripe: timeout",
            now + 1_000,
        )
        .await
        .unwrap();
    let again = store
        .claim_inbox_events("w9", now + 100, now + 5_000, 100)
        .await
        .unwrap();
    let ids: Vec<_> = again.iter().map(|p| p.event.event_id.as_str()).collect();
    assert_eq!(ids.len(), 38, "expired claims come back: {ids:?}");
    assert!(
        !ids.contains(&"evt_0") && !ids.contains(&"evt_1"),
        "{ids:?}"
    );
    assert_eq!(ids[0], "evt_2", "oldest first: {ids:?}");
    let retried = store
        .claim_inbox_events("w9", now + 1_000, now + 1_100, 100)
        .await
        .unwrap();
    assert_eq!(
        retried
            .iter()
            .map(|p| p.event.event_id.as_str())
            .collect::<Vec<_>>(),
        ["evt_1"],
        "a deferred event is claimable at its retry time, its claim released by the deferral"
    );
}

async fn object_versions_are_read_for_many_objects_at_once(store: Store) {
    let c = default_connection(&store).await;
    let mut tombstone = object("ch_2", 30, r#"{"id":"ch_2"}"#);
    tombstone.deleted = true;
    store
        .upsert_objects(
            &c.account_id,
            &c.id,
            &[object("ch_1", 20, r#"{"id":"ch_1"}"#), tombstone],
        )
        .await
        .unwrap();
    let keys: Vec<(String, String)> = ["ch_1", "ch_2", "ch_3"]
        .iter()
        .map(|id| ("charge".to_owned(), (*id).to_owned()))
        .collect();
    let versions = store
        .object_versions(&c.account_id, &c.id, &keys)
        .await
        .unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[&("charge".to_owned(), "ch_1".to_owned())], 20);
    assert_eq!(versions[&("charge".to_owned(), "ch_2".to_owned())], 30);
    let other = store
        .object_versions("another-account", &c.id, &keys)
        .await
        .unwrap();
    assert!(other.is_empty(), "scoped by account: {other:?}");
}

async fn pruning_deletes_only_events_applied_before_the_cutoff(store: Store) {
    let c = default_connection(&store).await;
    store
        .insert_inbox_deliveries(&[
            delivery(&c, "evt_old", 1),
            delivery(&c, "evt_new", 2),
            delivery(&c, "evt_waiting", 3),
        ])
        .await
        .unwrap();
    for (event_id, now) in [("evt_old", 100), ("evt_new", 10_000)] {
        store
            .apply_inbox_events(&[payscope::store::AppliedEvent {
                account_id: &c.account_id,
                connection_id: &c.id,
                event_id,
                event_created: 1,
                objects: &[],
                payments: &[],
                now,
            }])
            .await
            .unwrap();
    }
    assert_eq!(store.prune_inbox(5_000, 10).await.unwrap(), 1);
    let held = |id: &'static str| {
        let store = store.clone();
        let c = c.clone();
        async move { store.inbox_holds(&c.account_id, &c.id, id).await.unwrap() }
    };
    assert!(!held("evt_old").await);
    assert!(held("evt_new").await && held("evt_waiting").await);
    assert_eq!(store.prune_inbox(i64::MAX, 10).await.unwrap(), 1);
    assert!(!held("evt_new").await);
    assert!(
        held("evt_waiting").await,
        "an unapplied event is never pruned"
    );
}

async fn background_writers_yield_to_urgent_writes_until_they_end(store: Store) {
    let urgent = store.urgent_write();
    if store.dialect() == payscope::store::Dialect::Postgres {
        // No single writer to share: background work never waits.
        store
            .yield_to_urgent_writes(std::time::Duration::from_secs(600))
            .await;
        return;
    }
    let waiting = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .yield_to_urgent_writes(std::time::Duration::from_secs(600))
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "it waits while an urgent write is pending"
    );
    drop(urgent);
    waiting.await.unwrap();
    // Nothing pending: no wait at all.
    store
        .yield_to_urgent_writes(std::time::Duration::from_secs(600))
        .await;
}

async fn payment_methods_named_by_stored_objects_are_counted_with_those_not_stored(store: Store) {
    let c = default_connection(&store).await;
    let typed = |object_type: &str, id: &str, json: serde_json::Value| RawObject {
        object_type: object_type.into(),
        json: json.to_string(),
        ..object(id, 1, "")
    };
    let objects = [
        typed(
            "payment_intent",
            "pi_a",
            serde_json::json!({"payment_method": "pm_a", "last_payment_error": null}),
        ),
        typed(
            "payment_intent",
            "pi_a2",
            serde_json::json!({"payment_method": "pm_a"}),
        ),
        typed(
            "payment_intent",
            "pi_b",
            serde_json::json!({"payment_method": null, "last_payment_error": {"payment_method": {"id": "pm_b"}}}),
        ),
        typed(
            "setup_intent",
            "seti_c",
            serde_json::json!({"payment_method": "pm_c", "last_setup_error": null}),
        ),
        typed(
            "customer",
            "cus_d",
            serde_json::json!({"invoice_settings": {"default_payment_method": "pm_d"}}),
        ),
        typed(
            "customer",
            "cus_none",
            serde_json::json!({"invoice_settings": {"default_payment_method": null}}),
        ),
        typed(
            "charge",
            "ch_e",
            serde_json::json!({"payment_method": "pm_e"}),
        ),
        typed(
            "charge",
            "ch_a",
            serde_json::json!({"payment_method": "pm_a"}),
        ),
        typed("payment_method", "pm_a", serde_json::json!({"id": "pm_a"})),
        typed("payment_method", "pm_c", serde_json::json!({"id": "pm_c"})),
    ];
    store
        .upsert_objects(&c.account_id, &c.id, &objects)
        .await
        .unwrap();
    // pm_a (named twice), pm_b, pm_c, pm_d are named; pm_b and pm_d are not stored.
    assert_eq!(
        store
            .payment_method_references(&c.account_id, &c.id)
            .await
            .unwrap(),
        (4, 2)
    );
    assert_eq!(
        store
            .payment_methods_named_by_charges(&c.account_id, &c.id)
            .await
            .unwrap(),
        (2, 1)
    );
    // Another connection's objects are not counted.
    let other = connection(&c.account_id, "other");
    store.insert_connection(&other).await.unwrap();
    assert_eq!(
        store
            .payment_method_references(&c.account_id, &other.id)
            .await
            .unwrap(),
        (0, 0)
    );
}

async fn inbox_claims_are_renewed_by_their_holder_and_released_by_it_or_all_at_once(store: Store) {
    let c = default_connection(&store).await;
    let deliveries: Vec<_> = (0..6)
        .map(|i| delivery(&c, &format!("evt_{i}"), 100 + i))
        .collect();
    store.insert_inbox_deliveries(&deliveries).await.unwrap();
    let ids = |claimed: Vec<payscope::store::PendingEvent>| -> Vec<String> {
        claimed.into_iter().map(|p| p.event.event_id).collect()
    };
    let now = 1_000;
    assert_eq!(
        ids(store
            .claim_inbox_events("w1", now, now + 30, 2)
            .await
            .unwrap()),
        ["evt_0", "evt_1"]
    );
    assert_eq!(
        ids(store
            .claim_inbox_events("w2", now, now + 30, 2)
            .await
            .unwrap()),
        ["evt_2", "evt_3"]
    );
    assert_eq!(
        store.renew_inbox_claims("w1", now + 1_000).await.unwrap(),
        2,
        "only the holder's claims are renewed"
    );
    let later = now + 500;
    assert_eq!(
        ids(store
            .claim_inbox_events("w3", later, later + 30, 100)
            .await
            .unwrap()),
        ["evt_2", "evt_3", "evt_4", "evt_5"],
        "renewed claims hold, expired ones come back"
    );
    assert_eq!(
        store.release_inbox_claims(Some("w3")).await.unwrap(),
        4,
        "a worker releases its own claims"
    );
    assert_eq!(
        ids(store
            .claim_inbox_events("w4", later, later + 30, 100)
            .await
            .unwrap()),
        ["evt_2", "evt_3", "evt_4", "evt_5"],
        "released claims are handed out at once, the renewed ones still not"
    );
    store
        .apply_inbox_events(&[payscope::store::AppliedEvent {
            account_id: &c.account_id,
            connection_id: &c.id,
            event_id: "evt_5",
            event_created: 105,
            objects: &[],
            payments: &[],
            now: later,
        }])
        .await
        .unwrap();
    assert_eq!(
        store.release_inbox_claims(None).await.unwrap(),
        5,
        "every claim on an unapplied event is released"
    );
    assert_eq!(
        ids(store
            .claim_inbox_events("w5", later, later + 30, 100)
            .await
            .unwrap()),
        ["evt_0", "evt_1", "evt_2", "evt_3", "evt_4"]
    );
}

async fn a_new_password_ends_the_users_other_sessions_and_forgets_their_failed_sign_ins(
    store: Store,
) {
    let account = store.ensure_account("default").await.unwrap();
    let other = store.ensure_account("other").await.unwrap();
    let ann = store
        .create_user(&account.id, "ann@example.com", "old", true)
        .await
        .unwrap();
    let zoe = store
        .create_user(&account.id, "zoe@example.com", "zoe", false)
        .await
        .unwrap();
    for (digest, user) in [("ann-here", &ann), ("ann-there", &ann), ("zoe", &zoe)] {
        store
            .create_session(digest, user, "csrf", i64::MAX / 2)
            .await
            .unwrap();
    }
    store
        .record_login_failure("ann@example.com", 100)
        .await
        .unwrap();
    store
        .record_login_failure("zoe@example.com", 100)
        .await
        .unwrap();
    // Not through another account.
    assert!(
        !store
            .set_password(&other.id, &ann.id, "stolen", None)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user_by_email("ann@example.com")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "old"
    );
    assert!(store.session("ann-there", 0).await.unwrap().is_some());
    // Ann changes hers from one session: it stays, her other one ends, Zoe's is untouched.
    assert!(
        store
            .set_password(&account.id, &ann.id, "new", Some("ann-here"))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user_by_email("ann@example.com")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new"
    );
    assert!(store.session("ann-here", 0).await.unwrap().is_some());
    assert!(store.session("ann-there", 0).await.unwrap().is_none());
    assert!(store.session("zoe", 0).await.unwrap().is_some());
    assert_eq!(
        store
            .login_failures_since("ann@example.com", 0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .login_failures_since("zoe@example.com", 0)
            .await
            .unwrap(),
        1
    );
    // A reset by an admin keeps no session.
    assert!(
        store
            .set_password(&account.id, &zoe.id, "reset", None)
            .await
            .unwrap()
    );
    assert!(store.session("zoe", 0).await.unwrap().is_none());
}

async fn the_receivers_own_connection_keeps_payloads_exactly_and_each_event_once(store: Store) {
    let a = default_connection(&store).await;
    let b = connection(&a.account_id, "US Stripe");
    store.insert_connection(&b).await.unwrap();
    // A body as signed: quotes, backslashes, escapes written out, non-ASCII, a newline, spaces kept.
    let tricky = "{\"id\": \"evt_2\",\n \"q\": \"\\\"\\\\ \\u00e9\", \"t\": \"é ✓ 𝄞\"}  ";
    let mut second = delivery(&a, "evt_2", 11);
    second.event.payload = tricky.to_owned();
    let batch = [
        delivery(&a, "evt_1", 10),
        second,
        delivery(&b, "evt_1", 12),
        delivery(&a, "evt_1", 10),
    ];
    let mut own = payscope::store::InboxConnection::default();
    assert_eq!(
        store
            .insert_inbox_deliveries_on(&mut own, &[])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .insert_inbox_deliveries_on(&mut own, &batch)
            .await
            .unwrap(),
        3,
        "a duplicate inside the batch is kept once"
    );
    assert_eq!(
        store
            .insert_inbox_deliveries_on(&mut own, &batch[1..3])
            .await
            .unwrap(),
        0,
        "redeliveries are not kept twice"
    );
    store.close_inbox_connection(own).await;
    let pending = store.pending_inbox_events(10).await.unwrap();
    let kept: Vec<(&str, &str, i64)> = pending
        .iter()
        .map(|p| {
            (
                p.connection_id.as_str(),
                p.event.event_id.as_str(),
                p.event.event_created,
            )
        })
        .collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    let held = pending
        .iter()
        .find(|p| p.connection_id == a.id && p.event.event_id == "evt_2")
        .unwrap();
    assert_eq!(
        held.event.payload, tricky,
        "the payload is kept byte for byte"
    );
    assert_eq!(held.event.event_type, "charge.succeeded");
    for c in [&a, &b] {
        let state = store.live_state(&c.account_id, &c.id).await.unwrap();
        assert!(
            state.last_received_at.is_some_and(|at| at > 1_700_000_000),
            "{state:?}"
        );
    }
    // A closed connection is opened again by the next batch.
    let mut own = payscope::store::InboxConnection::default();
    assert_eq!(
        store
            .insert_inbox_deliveries_on(&mut own, &[delivery(&b, "evt_3", 13)])
            .await
            .unwrap(),
        1
    );
    store.close_inbox_connection(own).await;
}

async fn a_store_for_another_runtime_reads_and_writes_the_same_data(store: Store) {
    let a = default_connection(&store).await;
    let dialect = store.dialect();
    let other = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let other = store.for_another_runtime().await.unwrap();
            assert_eq!(other.dialect(), dialect);
            assert_eq!(
                other
                    .insert_inbox_deliveries(&[delivery(&a, "evt_other", 10)])
                    .await
                    .unwrap(),
                1
            );
            assert!(
                other
                    .connection(&a.account_id, &a.id)
                    .await
                    .unwrap()
                    .is_some()
            );
            if dialect == payscope::store::Dialect::Postgres {
                // Its own pool: closing it leaves the original open.
                other.close().await;
            }
            (store, a)
        })
    })
    .join()
    .unwrap();
    let (store, a) = other;
    assert!(
        store
            .inbox_holds(&a.account_id, &a.id, "evt_other")
            .await
            .unwrap()
    );
}

async fn a_pasted_webhook_secret_keeps_the_replaced_one_until_its_grace_ends_and_refusals_are_tallied(
    store: Store,
) {
    use payscope::store::{WebhookSecretState, unix_now};
    let c = default_connection(&store).await;
    let now = unix_now();
    store
        .record_webhook_signature_refusals(&c.id, 3, now - 10)
        .await
        .unwrap();
    let state = store
        .webhook_secret_state(&c.account_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.refused_count, state.last_refused_at, state.set_at),
        (3, Some(now - 10), None)
    );

    assert!(
        store
            .set_connection_webhook_secret(&c.account_id, &c.id, "ps1.new", now + 60, now)
            .await
            .unwrap()
    );
    let target = store.webhook_target(&c.id).await.unwrap().unwrap();
    assert_eq!(
        target.webhook_secrets_sealed,
        ["ps1.new", "ps1.sealed-secret"]
    );
    assert_eq!(
        store
            .webhook_secret_state(&c.account_id, &c.id)
            .await
            .unwrap(),
        Some(WebhookSecretState {
            set_at: Some(now),
            previous_accepted_until: Some(now + 60),
            refused_count: 0,
            last_refused_at: None,
        })
    );
    // A tally flushed late, of refusals from before the paste, does not count against the new secret.
    store
        .record_webhook_signature_refusals(&c.id, 2, now - 1)
        .await
        .unwrap();
    store
        .record_webhook_signature_refusals(&c.id, 5, now + 1)
        .await
        .unwrap();
    let state = store
        .webhook_secret_state(&c.account_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.refused_count, state.last_refused_at),
        (5, Some(now + 1))
    );

    // Past its grace period the replaced secret is no longer accepted.
    store
        .set_connection_webhook_secret(&c.account_id, &c.id, "ps1.newer", now - 1, now)
        .await
        .unwrap();
    let target = store.webhook_target(&c.id).await.unwrap().unwrap();
    assert_eq!(target.webhook_secrets_sealed, ["ps1.newer"]);
    // ... and the sweep forgets it; a secret still in its grace stays.
    assert_eq!(store.drop_expired_webhook_secrets(now).await.unwrap(), 1);
    assert_eq!(store.drop_expired_webhook_secrets(now).await.unwrap(), 0);
    let swept = store
        .webhook_secret_state(&c.account_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(swept.previous_accepted_until, None);

    // Another account cannot set it; Replace webhook and removal drop every secret.
    assert!(
        !store
            .set_connection_webhook_secret("acc_other", &c.id, "ps1.evil", now + 60, now)
            .await
            .unwrap()
    );
    store
        .set_connection_webhook_secret(&c.account_id, &c.id, "ps1.x", now + 60, now)
        .await
        .unwrap();
    assert_eq!(store.drop_expired_webhook_secrets(now).await.unwrap(), 0);
    assert_eq!(
        store
            .webhook_target(&c.id)
            .await
            .unwrap()
            .unwrap()
            .webhook_secrets_sealed,
        ["ps1.x", "ps1.newer"]
    );
    store
        .replace_connection_webhook(&c.account_id, &c.id, "we_2", "ps1.y", now)
        .await
        .unwrap();
    let target = store.webhook_target(&c.id).await.unwrap().unwrap();
    assert_eq!(target.webhook_secrets_sealed, ["ps1.y"]);
    let state = store
        .webhook_secret_state(&c.account_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.previous_accepted_until, state.refused_count),
        (None, 0)
    );
    store
        .set_connection_webhook_secret(&c.account_id, &c.id, "ps1.z", now + 60, now)
        .await
        .unwrap();
    store
        .disconnect_connection(&c.account_id, &c.id, now)
        .await
        .unwrap();
    let target = store.webhook_target(&c.id).await.unwrap().unwrap();
    assert!(target.webhook_secrets_sealed.is_empty(), "{target:?}");
}
