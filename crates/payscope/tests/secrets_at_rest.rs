//! A Stripe key handed to payscope never reaches the disk in plaintext: not in the SQLite file, nor its WAL.

mod support;

use payscope::crypto::MasterKey;
use payscope::domain::connection::{Connection, ConnectionStatus, Mode, Processor};
use payscope::domain::ids::new_id;
use secrecy::ExposeSecret;

const API_KEY: &str = "rk_live_51PlaintextMustNeverBeOnDisk0123456789abcdefXYZ";
const WEBHOOK_SECRET: &str = "whsec_PlaintextSecretMustNeverBeOnDisk42";

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|entry| {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn a_stored_api_key_is_nowhere_in_the_sqlite_files_in_plaintext() {
    let db = support::sqlite_store().await;
    let key = MasterKey::from_bytes(&[42u8; 32]);
    let account = db.store.ensure_account("default").await.unwrap();
    let id = new_id("con");
    let connection = Connection {
        id: id.clone(),
        account_id: account.id.clone(),
        name: "US Stripe".into(),
        processor: Processor::Stripe,
        mode: Mode::Live,
        processor_account_id: Some("acct_1Plain".into()),
        api_key_sealed: key.seal(API_KEY, &Connection::api_key_context(&id)),
        api_key_hint: "rk_live_…cdefXYZ".into(),
        webhook_endpoint_id: Some("we_1".into()),
        webhook_secret_sealed: Some(
            key.seal(WEBHOOK_SECRET, &Connection::webhook_secret_context(&id)),
        ),
        status: ConnectionStatus::Active,
        status_reason: None,
        created_at: 1,
        updated_at: 1,
    };
    db.store.insert_connection(&connection).await.unwrap();

    // While the process runs, the row sits in the WAL; the name proves the scan reads what was written.
    let dir = db.dir.path().to_path_buf();
    assert!(
        files_contain(&dir, b"US Stripe")
            .iter()
            .any(|f| f.starts_with("payscope.db")),
        "the scan must see the stored row"
    );
    for secret in [API_KEY, WEBHOOK_SECRET, &API_KEY[8..40]] {
        assert_eq!(
            files_contain(&dir, secret.as_bytes()),
            Vec::<String>::new(),
            "{secret} found on disk"
        );
    }

    // And after a checkpoint folds the WAL into the main file.
    db.store.close().await;
    for secret in [API_KEY, WEBHOOK_SECRET] {
        assert_eq!(
            files_contain(&dir, secret.as_bytes()),
            Vec::<String>::new(),
            "{secret} found on disk"
        );
    }

    // The sealed key still opens to the original with the master key.
    let reopened = payscope::store::Store::open(&format!("sqlite://{}", db.path().display()))
        .await
        .unwrap();
    let stored = reopened
        .connection(&account.id, &id)
        .await
        .unwrap()
        .unwrap();
    let opened = key
        .open(&stored.api_key_sealed, &Connection::api_key_context(&id))
        .unwrap();
    assert_eq!(opened.expose_secret(), API_KEY);
}
