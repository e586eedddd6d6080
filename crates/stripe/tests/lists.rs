//! List streams over real HTTP against a scripted Stripe: query parameters, cursors in both directions, resume
//! points and errors ending the stream.

mod common;

use common::{Reply, ScriptedStripe, init_test_log, test_key};
use futures::{StreamExt, TryStreamExt};
use stripe::views::Charge;
use stripe::{Client, CreatedRange, Error, ListParams, Params, RetryPolicy};

fn client(server: &ScriptedStripe) -> Client {
    init_test_log();
    Client::builder(test_key())
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
}

fn page(ids: &[&str], has_more: bool) -> Reply {
    let data: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id":"{id}","object":"charge","amount":100,"status":"succeeded"}}"#))
        .collect();
    Reply::json(
        200,
        &format!(
            r#"{{"object":"list","url":"/v1/charges","has_more":{has_more},"data":[{}]}}"#,
            data.join(",")
        ),
    )
}

fn pairs(sent: &common::Recorded) -> Vec<(String, String)> {
    sent.pairs(false)
}

fn has(pairs: &[(String, String)], name: &str, value: &str) -> bool {
    pairs.iter().any(|(n, v)| n == name && v == value)
}

#[tokio::test]
async fn pages_follow_starting_after_until_has_more_is_false() {
    let server = ScriptedStripe::start(vec![
        page(&["ch_3", "ch_2"], true),
        page(&["ch_1"], false),
        page(&["ch_never"], false),
    ])
    .await;
    let params = ListParams {
        created: CreatedRange {
            gte: Some(1_700_000_000),
            lt: Some(1_800_000_000),
            ..CreatedRange::default()
        },
        expand: vec!["data.balance_transaction".into()],
        ..ListParams::default()
    };
    let pages: Vec<_> = client(&server)
        .list_pages("/v1/charges", params)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].next_cursor.as_deref(), Some("ch_2"));
    assert_eq!(pages[1].next_cursor, None);
    let charges: Vec<Charge> = pages
        .iter()
        .flat_map(|p| p.parse::<Charge>().unwrap())
        .collect();
    let ids: Vec<&str> = charges.iter().filter_map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, ["ch_3", "ch_2", "ch_1"]);
    assert_eq!(pages[0].request_id.as_deref(), Some("req_scripted1"));

    let sent = server.recorded();
    assert_eq!(sent.len(), 2, "no request after has_more=false");
    let first = pairs(&sent[0]);
    assert!(has(&first, "limit", "100"));
    assert!(has(&first, "created[gte]", "1700000000"));
    assert!(has(&first, "created[lt]", "1800000000"));
    assert!(has(&first, "expand[]", "data.balance_transaction"));
    assert!(!first.iter().any(|(n, _)| n == "starting_after"));
    let second = pairs(&sent[1]);
    assert!(has(&second, "starting_after", "ch_2"));
    assert!(
        has(&second, "created[gte]", "1700000000"),
        "filters stay on every page"
    );
}

#[tokio::test]
async fn ending_before_pages_towards_newer_objects_from_the_first_id() {
    let server =
        ScriptedStripe::start(vec![page(&["ch_9", "ch_8"], true), page(&["ch_10"], false)]).await;
    let params = ListParams {
        ending_before: Some("ch_7".into()),
        ..ListParams::default()
    };
    let pages: Vec<_> = client(&server)
        .list_pages("/v1/charges", params)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages[0].next_cursor.as_deref(), Some("ch_9"));
    let sent = server.recorded();
    assert!(has(&pairs(&sent[0]), "ending_before", "ch_7"));
    assert!(has(&pairs(&sent[1]), "ending_before", "ch_9"));
}

#[tokio::test]
async fn a_stream_resumes_from_a_saved_cursor_with_extra_filters() {
    let server = ScriptedStripe::start(vec![page(&[], false)]).await;
    let params = ListParams {
        limit: 1,
        starting_after: Some("sub_42".into()),
        extra: Params::new().text("status", "all"),
        ..ListParams::default()
    };
    let pages: Vec<_> = client(&server)
        .list_pages("/v1/subscriptions", params)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].objects.is_empty() && pages[0].next_cursor.is_none());
    let sent = pairs(&server.recorded()[0]);
    assert!(has(&sent, "limit", "1"));
    assert!(has(&sent, "starting_after", "sub_42"));
    assert!(has(&sent, "status", "all"));
}

#[tokio::test]
async fn an_error_ends_the_stream_after_the_pages_already_read() {
    let server = ScriptedStripe::start(vec![
        page(&["ch_2"], true),
        Reply::error(
            403,
            None,
            "Having the 'rak_charge_read' permission would allow this request to continue.",
        ),
    ])
    .await;
    let items: Vec<Result<_, Error>> = client(&server)
        .list_pages("/v1/charges", ListParams::default())
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(matches!(&items[1], Err(Error::Permission { .. })));
}

#[tokio::test]
async fn raw_objects_keep_stripes_json_byte_for_byte() {
    let body = r#"{"object":"list","has_more":false,"data":[{"id":"ch_1","amount": 100,"future_field":{"nested":[1,2]}}]}"#;
    let server = ScriptedStripe::start(vec![Reply::json(200, body)]).await;
    let pages: Vec<_> = client(&server)
        .list_pages("/v1/charges", ListParams::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages[0].objects[0].get(),
        r#"{"id":"ch_1","amount": 100,"future_field":{"nested":[1,2]}}"#
    );
}
