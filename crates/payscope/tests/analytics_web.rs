//! The dashboards over real HTTP: pages for a signed-in user (charts labelled with the connection's name, hover
//! titles, filter links, CSV downloads), the JSON API for API tokens, the data-quality page, and account scoping.

mod support;

use payscope::crypto::{api_token_digest, new_api_token};
use reqwest::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use serde_json::Value;

use support::analytics::seed;
use support::app::TestApp;
use support::web::{Browser, create_user};

const NOVEMBER: &str = "range=custom&from=2026-11-01&to=2026-11-30";

async fn get_with_token(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_serves_every_dashboard_with_series_named_after_connections() {
    let app = TestApp::spawn().await;
    seed(&app.db.store, "default").await;
    for name in [
        "overview",
        "approvals",
        "declines",
        "cards",
        "disputes",
        "refunds",
        "costs",
        "payouts",
    ] {
        let response = get_with_token(
            &app,
            &app.token,
            &format!("/api/v1/dashboards/{name}?{NOVEMBER}"),
        )
        .await;
        assert_eq!(response.status(), 200, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["name"], name);
        assert!(!body["charts"].as_array().unwrap().is_empty(), "{name}");
        let names: Vec<&str> = body["charts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["series"].as_array().unwrap())
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"Shop EU"), "{name}: {names:?}");
    }
    let approvals: Value = get_with_token(
        &app,
        &app.token,
        &format!("/api/v1/dashboards/approvals?{NOVEMBER}&dedup=1"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(approvals["kpis"][0]["label"], "Approval rate");
    assert_eq!(approvals["kpis"][0]["value"], 0.8);
    assert_eq!(approvals["filter"]["approval"]["dedup_retries"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_downloads_as_csv_and_bad_requests_say_what_to_fix() {
    let app = TestApp::spawn().await;
    seed(&app.db.store, "default").await;
    let response = get_with_token(
        &app,
        &app.token,
        &format!("/api/v1/dashboards/declines?{NOVEMBER}&format=csv&chart=decline_codes"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    assert!(
        csv.starts_with("series,connection_id,label,count\n"),
        "{csv}"
    );
    assert!(csv.contains(",insufficient_funds,2\n"), "{csv}");

    let missing = get_with_token(&app, &app.token, "/api/v1/dashboards/nope").await;
    assert_eq!(missing.status(), 400);
    let bad_range = get_with_token(&app, &app.token, "/api/v1/dashboards/overview?range=12d").await;
    assert_eq!(bad_range.status(), 400);
    let body: Value = bad_range.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("7d, 30d"),
        "{body}"
    );
    let anonymous = reqwest::get(format!("{}/api/v1/dashboards/overview", app.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_user_sees_charts_with_hover_titles_filter_links_and_csv_links() {
    let app = TestApp::spawn().await;
    let known = seed(&app.db.store, "default").await;
    create_user(
        &app.db.store,
        &app.account_id,
        "ana@shop.test",
        "a long passphrase",
    )
    .await;
    let mut browser = Browser::new(&app.url);
    let signed_out = browser.get("/dashboards/overview").await;
    assert!(
        signed_out.status == 303
            && signed_out
                .location
                .as_deref()
                .unwrap_or("")
                .contains("/sign-in"),
        "{signed_out:?}"
    );
    browser.sign_in("ana@shop.test", "a long passphrase").await;
    let page = browser.get(&format!("/dashboards/cards?{NOVEMBER}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "charts render as svg");
    assert!(
        page.body.contains(">Shop EU</text>"),
        "the legend names the connection"
    );
    assert!(
        page.body
            .contains("<title>Shop EU · visa: 75.0% (3 of 4 attempts approved)</title>"),
        "{}",
        page.body
    );
    let brand_link = format!("connection={}&amp;brand=visa", known.a);
    assert!(
        page.body.contains(&brand_link),
        "bars link to the page filtered by their brand"
    );
    assert!(page.body.contains("<td>424242</td>"), "the BIN table");
    assert!(
        page.body.contains("format=csv&amp;chart=brand"),
        "a CSV link per chart"
    );

    let filtered = browser
        .get(&format!("/dashboards/cards?{NOVEMBER}&brand=mastercard"))
        .await;
    assert!(filtered.body.contains("<td>555555</td>"));
    assert!(
        !filtered.body.contains("<td>424242</td>"),
        "the brand filter applies"
    );

    let csv = browser
        .get(&format!(
            "/dashboards/cards?{NOVEMBER}&format=csv&chart=top_bins"
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.starts_with("BIN,Attempted,Approval rate"),
        "{}",
        csv.body
    );

    for name in [
        "overview",
        "approvals",
        "declines",
        "disputes",
        "refunds",
        "costs",
        "payouts",
    ] {
        let page = browser
            .get(&format!("/dashboards/{name}?{NOVEMBER}&compare=1"))
            .await;
        assert_eq!(page.status, 200, "{name}");
        assert!(page.body.contains("Shop EU"), "{name}");
        assert!(page.body.contains("aria-current=\"page\""), "{name}");
    }
    assert_eq!(browser.get("/dashboards/nope").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_quality_page_explains_missing_card_details_and_lists_affected_payments() {
    let app = TestApp::spawn().await;
    let known = seed(&app.db.store, "default").await;
    create_user(
        &app.db.store,
        &app.account_id,
        "ana@shop.test",
        "a long passphrase",
    )
    .await;
    let mut browser = Browser::new(&app.url);
    browser.sign_in("ana@shop.test", "a long passphrase").await;
    let page = browser
        .get(&format!("/connections/{}/data-quality", known.a))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<td>60.0%</td><td>40.0%</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Contact Stripe support"));
    assert!(
        page.body.contains("<code>ch_a8</code>"),
        "affected payments are listed"
    );
    let response = get_with_token(
        &app,
        &app.token,
        &format!("/api/v1/connections/{}/data-quality", known.a),
    )
    .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["overall"]["with_bin"], 6);
    assert_eq!(body["overall"]["card_payments"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_gets_404_for_data_quality_and_sees_no_payments_on_dashboards() {
    let app = TestApp::spawn().await;
    let known = seed(&app.db.store, "default").await;
    let other = app.db.store.ensure_account("other").await.unwrap();
    create_user(
        &app.db.store,
        &other.id,
        "eve@other.test",
        "another passphrase",
    )
    .await;
    let token = new_api_token();
    app.db
        .store
        .create_api_token(&other.id, "eve", &api_token_digest(token.expose_secret()))
        .await
        .unwrap();
    let mut browser = Browser::new(&app.url);
    browser
        .sign_in("eve@other.test", "another passphrase")
        .await;
    let page = browser
        .get(&format!("/connections/{}/data-quality", known.a))
        .await;
    assert_eq!(page.status, 404);
    let api = get_with_token(
        &app,
        token.expose_secret(),
        &format!("/api/v1/connections/{}/data-quality", known.a),
    )
    .await;
    assert_eq!(api.status(), 404);
    let body: Value = get_with_token(
        &app,
        token.expose_secret(),
        &format!(
            "/api/v1/dashboards/overview?{NOVEMBER}&connection={}",
            known.a
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    let volume = body["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["label"] == "Transactions")
        .unwrap();
    assert_eq!(volume["value"], 0.0, "{body}");
    let page = browser
        .get(&format!(
            "/dashboards/overview?{NOVEMBER}&connection={}",
            known.a
        ))
        .await;
    assert!(
        !page.body.contains("Shop EU"),
        "other accounts' connection names never show"
    );
}
