//! The guide's path in headless Chromium (Debian's `chromium` and `chromium-driver`), driven over WebDriver:
//! sign in, add a connection in the side panel (a key lacking permissions first, then a good one), watch the import
//! finish, open every dashboard, download a CSV, sign out. Skips with a message when Chromium is missing, unless
//! `CI=true`, where a missing browser fails the test.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use payscope::crypto::MasterKey;
use payscope::stripe_access::StripeAccess;
use payscope::sync::{ImportConfig, Importer};
use payscope::web::layout::DASHBOARDS;
use serde_json::json;
use support::app::TestApp;
use support::web::create_user;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "correct horse battery";

/// Chromium and its driver, or `None` after saying why (a failure under CI).
fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        let message =
            "headless Chromium is not installed (apt-get install -y chromium chromium-driver)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; CI must run the browser test");
        }
        eprintln!("skipping the browser test: {message}");
    }
    present
}

/// A chromedriver on a free port, killed when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_driver() -> (Driver, Client) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url,
        _profile: profile,
    };
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await;
        match attempt {
            Ok(client) => return (driver, client),
            Err(error) if Instant::now() > deadline => {
                panic!("chromedriver did not start a session: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn text_of(client: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let element = client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        match element.text().await {
            Ok(text) => return text,
            // The page was replaced between finding the element and reading it (a navigation, or the progress
            // refresh): find it again on the new page.
            Err(error) if Instant::now() < deadline => {
                tracing::debug!(%error, css, "element went stale; looking again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("{css}: {error}"),
        }
    }
}

/// Waits until the browser has left `path` (a form post answered with a redirect), so what is read next is on the
/// new page and not the one the form was on.
async fn left_page(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.current_url().await.unwrap().path() == path {
        assert!(Instant::now() < deadline, "still on {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_signs_in_adds_a_connection_in_the_side_panel_and_reads_every_dashboard() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    // The test app serves pages only; the import workers run here as `payscope serve` would run them.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let importer = Importer::new(
        app.db.store.clone(),
        StripeAccess::new(&app.stripe_url, 80),
        MasterKey::parse(&"11".repeat(32).into()).unwrap(),
        ImportConfig::default(),
    );
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            importer
                .run_pending(Duration::from_millis(200), shutdown)
                .await
        }
    });
    let _stop = shutdown.clone().drop_guard();
    let (_driver, client) = start_driver().await;
    let base = app.url.clone();

    // Sign in.
    client.goto(&format!("{base}/connections")).await.unwrap();
    assert!(client.current_url().await.unwrap().path() == "/sign-in");
    client
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys("ann@example.com")
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("#sign-in-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_of(&client, "#add-connection").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/connections");

    // The side panel, first with a key lacking permissions.
    client
        .find(Locator::Css("#add-connection"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let weak = app
        .guide_key_without(0, &["charge_read", "dispute_read"])
        .await;
    let panel_name = client
        .wait()
        .for_element(Locator::Css("#add-panel #connection-name"))
        .await
        .unwrap();
    panel_name.send_keys("EU shop").await.unwrap();
    client
        .find(Locator::Css("#add-panel #api-key"))
        .await
        .unwrap()
        .send_keys(&weak)
        .await
        .unwrap();
    client
        .find(Locator::Css("#add-connection-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let missing = text_of(&client, "#missing-permissions").await;
    assert!(missing.contains("rak_charge_read"), "{missing}");
    assert!(missing.contains("rak_dispute_read"), "{missing}");

    // Then a good key; the name typed before is still there.
    client
        .find(Locator::Css("#add-panel #api-key"))
        .await
        .unwrap()
        .send_keys(&app.guide_key(0))
        .await
        .unwrap();
    client
        .find(Locator::Css("#add-connection-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The side panel's name field has the same id as the new connection page's heading.
    left_page(&client, "/connections").await;
    assert_eq!(text_of(&client, "#connection-name").await, "EU shop");

    // Import progress reaches done (the page refreshes itself while the import runs).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = client
            .find(Locator::Css("#import-status"))
            .await
            .ok()
            .map(|e| async move { e.attr("data-status").await.ok().flatten() });
        let status = match status {
            Some(f) => f.await,
            None => None,
        };
        if status.as_deref() == Some("done") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not finish; last status {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Every dashboard renders with the connection's name; those the small history surely fills (a month of
    // 200 charges may hold no dispute or payout) draw charts.
    for (_, label, path) in DASHBOARDS {
        client.goto(&format!("{base}{path}")).await.unwrap();
        let source = client.source().await.unwrap();
        assert!(
            source.contains("EU shop"),
            "{label}: the connection's name is missing"
        );
        if matches!(*label, "Overview" | "Approvals" | "Declines" | "Cards") {
            assert!(source.contains("<svg"), "{label}: no chart");
        }
    }

    // Download one chart's CSV with the browser's session.
    client
        .goto(&format!("{base}/dashboards/overview"))
        .await
        .unwrap();
    let csv_link = client
        .find(Locator::Css("a[href*='format=csv']"))
        .await
        .expect("a CSV link")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let download = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])));",
            vec![json!(csv_link)],
        )
        .await
        .unwrap();
    assert_eq!(download[0], 200, "{download}");
    assert!(
        download[1].as_str().unwrap_or_default().contains("csv"),
        "{download}"
    );
    assert!(
        download[2].as_str().unwrap_or_default().lines().count() > 1,
        "{download}"
    );

    // Sign out from the profile menu; the dashboard then asks to sign in.
    client
        .find(Locator::Css(".profile-menu summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css(".profile-menu button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_of(&client, "#sign-in-form").await;
    client
        .goto(&format!("{base}/dashboards/overview"))
        .await
        .unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/sign-in");
    client.close().await.unwrap();
}
