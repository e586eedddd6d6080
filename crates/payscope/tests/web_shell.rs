//! The web shell over real HTTP: sign-in, sessions, CSRF, throttling, the setup page, the Data Connections pages
//! with the side panel against the emulator, API tokens, and account isolation of every route.

mod support;

use payscope::store::unix_now;
use support::app::TestApp;
use support::web::{Browser, create_user};

const PASSWORD: &str = "correct horse battery";

/// A test app with one signed-in admin of the default account.
async fn signed_in_app() -> (TestApp, Browser) {
    let app = TestApp::spawn().await;
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app.url);
    let page = browser.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    (app, browser)
}

#[tokio::test]
async fn every_page_redirects_an_unsigned_browser_to_sign_in_and_back_after() {
    let app = TestApp::spawn().await;
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app.url);
    for path in [
        "/",
        "/connections",
        "/connections?add=1",
        "/connections/con_x",
        "/connections/con_x/progress",
        "/settings/tokens",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        let location = page.location.unwrap();
        assert!(location.starts_with("/sign-in"), "{path} → {location}");
    }
    for path in ["/sign-out", "/connections", "/settings/tokens"] {
        let page = browser.post(path, &[("csrf", "x")]).await;
        assert_eq!(page.status, 303, "POST {path}");
        assert_eq!(page.location.as_deref(), Some("/sign-in"), "POST {path}");
    }
    let redirect = browser.get("/settings/tokens").await.location.unwrap();
    assert_eq!(redirect, "/sign-in?next=%2Fsettings%2Ftokens");
    let form = browser.get(&redirect).await;
    let csrf = form.csrf();
    let page = browser
        .post(
            "/sign-in",
            &[
                ("email", "Ann@Example.com "),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("next", "/settings/tokens"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/settings/tokens"));
    assert_eq!(browser.get("/settings/tokens").await.status, 200);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax_and_sign_out_ends_the_session() {
    let (_app, mut browser) = signed_in_app().await;
    let page = browser.get("/connections").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("ann@example.com"),
        "the frame names the user"
    );
    let csrf = page.csrf();

    let mut fresh = Browser::new(&_app.url);
    let signed = fresh.sign_in("ann@example.com", PASSWORD).await;
    let cookie = signed
        .set_cookies
        .iter()
        .find(|c| c.starts_with("payscope_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http instance sets no Secure: {cookie}"
    );

    let out = browser.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    assert!(!browser.has_session());
    // The other browser's session is separate and still works.
    assert_eq!(fresh.get("/connections").await.status, 200);
}

#[tokio::test]
async fn a_copied_session_cookie_stops_working_after_sign_out() {
    let (app, mut browser) = signed_in_app().await;
    let cookie = browser.session_value().expect("signed in");
    let csrf = browser.get("/connections").await.csrf();
    browser.post("/sign-out", &[("csrf", &csrf)]).await;
    let mut thief = Browser::new(&app.url);
    thief.set_session(&cookie);
    let page = thief.get("/connections").await;
    assert_eq!(page.status, 303);
}

#[tokio::test]
async fn form_posts_without_the_session_csrf_token_are_refused() {
    let (app, mut browser) = signed_in_app().await;
    let key = app.guide_key(0);
    for csrf in ["", "not-the-token"] {
        let page = browser
            .post(
                "/connections",
                &[("csrf", csrf), ("name", "Shop"), ("api_key", &key)],
            )
            .await;
        assert_eq!(page.status, 403, "csrf {csrf:?}");
        let out = browser.post("/sign-out", &[("csrf", csrf)]).await;
        assert_eq!(out.status, 403);
    }
    assert!(
        app.db
            .store
            .connections(&app.account_id)
            .await
            .unwrap()
            .is_empty()
    );
    // Sign-in itself is protected by a double-submit token.
    let mut other = Browser::new(&app.url);
    let page = other
        .post(
            "/sign-in",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(!other.has_session());
}

#[tokio::test]
async fn one_client_trying_many_emails_runs_out_of_sign_in_attempts() {
    use payscope::web::sign_in_guard::ATTEMPTS_PER_ADDRESS;
    let app = TestApp::spawn().await;
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app.url);
    // A common password tried on many emails: no email reaches its own lock of failed sign-ins.
    for n in 0..ATTEMPTS_PER_ADDRESS {
        let page = browser
            .sign_in(&format!("user{n}@example.com"), "password1")
            .await;
        assert_eq!(page.status, 401, "attempt {n}: {}", page.body);
    }
    // The address's budget is spent: even the right password waits, and says for how long.
    let page = browser.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.body
            .contains("Too many sign-in attempts from your network. Wait "),
        "{}",
        page.body
    );
    assert!(!browser.has_session());
    // Nothing was written for the refused attempt: ann's own record is clean.
    assert_eq!(
        app.db
            .store
            .login_failures_since("ann@example.com", 0)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_failures_lock_the_email_for_a_while() {
    let app = TestApp::spawn().await;
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app.url);
    for _ in 0..5 {
        let page = browser.sign_in("ann@example.com", "wrong password").await;
        assert_eq!(page.status, 401);
        assert!(page.body.contains("The email or password is not right"));
        assert!(!browser.has_session());
    }
    let page = browser.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.body.contains("Too many failed sign-ins"));
    assert!(!browser.has_session());
    // An unknown email gets the same answer as a wrong password.
    let page = browser.sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(page.status, 401);
    // The window passes: failures older than it no longer count.
    app.db
        .store
        .clear_login_failures("ann@example.com")
        .await
        .unwrap();
    app.db
        .store
        .record_login_failure("ann@example.com", unix_now() - 3600)
        .await
        .unwrap();
    assert_eq!(
        browser.sign_in("ann@example.com", PASSWORD).await.status,
        303
    );
}

#[tokio::test]
async fn the_setup_page_creates_the_first_admin_and_then_disappears() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app.url);
    let page = browser.get("/sign-in").await;
    assert_eq!(page.location.as_deref(), Some("/setup"));
    let short = browser
        .submit(
            "/setup",
            "/setup",
            &[
                ("email", "root@example.com"),
                ("password", "short"),
                ("password_confirmation", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(
        short.body.contains("at least 10 characters"),
        "{}",
        short.body
    );
    let page = browser
        .submit(
            "/setup",
            "/setup",
            &[
                ("email", "root@example.com"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/connections"));
    assert_eq!(browser.get("/connections").await.status, 200);
    let user = app
        .db
        .store
        .user_by_email("root@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.is_admin);
    assert_eq!(user.account_id, app.account_id);
    assert!(user.password_hash.starts_with("$argon2id$"));

    let mut late = Browser::new(&app.url);
    assert_eq!(
        late.get("/setup").await.location.as_deref(),
        Some("/sign-in")
    );
    let csrf_page = late.get("/sign-in").await;
    let page = late
        .post(
            "/setup",
            &[
                ("email", "intruder@example.com"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
                ("csrf", &csrf_page.csrf()),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/sign-in"));
    assert!(
        app.db
            .store
            .user_by_email("intruder@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_side_panel_lists_every_missing_permission_then_adds_the_connection_with_a_good_key() {
    let (app, mut browser) = signed_in_app().await;
    let panel = browser.get("/connections?add=1").await;
    assert_eq!(panel.status, 200);
    for text in [
        "id=\"add-panel\"",
        "<option value=\"stripe\" selected>Stripe</option>",
        "Data Connection Name",
        "Restricted API key",
        ">Add Data Connection</button>",
    ] {
        assert!(panel.body.contains(text), "panel lacks {text}");
    }
    let weak = app
        .guide_key_without(0, &["charge_read", "dispute_read"])
        .await;
    let refused = browser
        .submit(
            "/connections?add=1",
            "/connections",
            &[
                ("processor", "stripe"),
                ("name", "EU shop"),
                ("api_key", &weak),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("data-code=\"missing_permissions\""));
    assert!(refused.body.contains("rak_charge_read"));
    assert!(refused.body.contains("rak_dispute_read"));
    assert!(refused.body.contains("id=\"key-link\""));
    assert!(
        refused.body.contains("value=\"EU shop\""),
        "the name is kept"
    );
    assert!(!refused.body.contains(&weak), "the key is never echoed");

    let good = app.guide_key(0);
    let added = browser
        .submit(
            "/connections?add=1",
            "/connections",
            &[
                ("processor", "stripe"),
                ("name", "EU shop"),
                ("api_key", &good),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let location = added.location.unwrap();
    assert!(location.starts_with("/connections/con_"), "{location}");
    let page = browser.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("EU shop"));
    assert!(page.body.contains(&app.stripe_accounts[0].id));
    assert!(page.body.contains("receiving events"));
    let quality = page
        .body
        .contains(&format!("href=\"{location}/data-quality\""));
    assert!(quality, "the connection page links its data-quality check");
    assert_eq!(
        browser
            .get(&format!("{location}/data-quality"))
            .await
            .status,
        200
    );
    assert!(
        page.body.contains("id=\"import-status\""),
        "import progress is shown"
    );
    assert!(!page.body.contains(&good), "only the masked key is shown");
    let list = browser.get("/connections").await;
    assert!(list.body.contains(&location));
}

#[tokio::test]
async fn a_webhook_conflict_offers_to_replace_the_existing_payscope_webhook() {
    let (app, mut browser) = signed_in_app().await;
    let key = app.guide_key(0);
    let first = browser
        .submit(
            "/connections",
            "/connections",
            &[("name", "First"), ("api_key", &key)],
        )
        .await;
    assert_eq!(first.status, 303);
    let conflict = browser
        .submit(
            "/connections",
            "/connections",
            &[("name", "Second"), ("api_key", &key)],
        )
        .await;
    assert_eq!(conflict.status, 422);
    assert!(conflict.body.contains("data-code=\"webhook_conflict\""));
    assert!(
        conflict
            .body
            .contains("Replace the existing payscope webhook")
    );
    let replaced = browser
        .submit(
            "/connections",
            "/connections",
            &[
                ("name", "Second"),
                ("api_key", &key),
                ("replace_webhook", "1"),
            ],
        )
        .await;
    assert_eq!(replaced.status, 303, "{}", replaced.body);
    assert_eq!(app.stripe_endpoints(0).await.len(), 1);
}

#[tokio::test]
async fn a_connection_can_be_renamed_rotated_retried_and_removed_from_its_page() {
    let (app, mut browser) = signed_in_app().await;
    let key = app.guide_key(0);
    let added = browser
        .submit(
            "/connections",
            "/connections",
            &[("name", "Shop"), ("api_key", &key)],
        )
        .await;
    let page_path = added.location.unwrap();
    let id = page_path.trim_start_matches("/connections/").to_owned();

    let renamed = browser
        .submit(
            &page_path,
            &format!("{page_path}/rename"),
            &[("name", "Shop EU")],
        )
        .await;
    assert_eq!(renamed.status, 303);
    assert!(browser.get(&page_path).await.body.contains("Shop EU"));

    let bad = browser
        .submit(
            &page_path,
            &format!("{page_path}/rotate-key"),
            &[("api_key", "pk_test_123")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"action-error\""), "{}", bad.body);
    let new_key = app.guide_key_without(0, &[]).await;
    let rotated = browser
        .submit(
            &page_path,
            &format!("{page_path}/rotate-key"),
            &[("api_key", &new_key)],
        )
        .await;
    assert_eq!(rotated.status, 303, "{}", rotated.body);
    let tail = &new_key[new_key.len() - 4..];
    assert!(browser.get(&page_path).await.body.contains(tail));

    // A stopped import gets a Retry button that resumes it.
    let job = app
        .db
        .store
        .import_jobs(&app.account_id, &id, 1)
        .await
        .unwrap()
        .remove(0);
    app.db
        .store
        .set_import_job_status(&job.job.id, "failed", Some("stripe refused"), unix_now())
        .await
        .unwrap();
    let page = browser.get(&page_path).await;
    assert!(page.body.contains(">Retry</button>"));
    assert!(page.body.contains("stripe refused"));
    let retry = browser
        .submit(
            &page_path,
            &format!("{page_path}/imports/{}/retry", job.job.id),
            &[],
        )
        .await;
    assert_eq!(retry.status, 303);
    let record = app
        .db
        .store
        .import_job(&app.account_id, &job.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.job.status, "running");

    let removed = browser
        .submit(
            &page_path,
            &format!("{page_path}/remove"),
            &[("delete_data", "1")],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(browser.get(&page_path).await.status, 404);
    assert!(app.stripe_endpoints(0).await.is_empty());
}

#[tokio::test]
async fn an_api_token_made_on_the_tokens_page_works_once_shown_and_stops_when_revoked() {
    let (app, mut browser) = signed_in_app().await;
    let created = browser
        .submit(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "reporting")],
        )
        .await;
    assert_eq!(created.status, 200);
    let token = support::web::field_between(&created.body, "id=\"new-token-value\">", "<")
        .expect("the token is shown");
    assert!(token.starts_with("pst_"));
    let (status, _) = app
        .api_as(&token, reqwest::Method::GET, "/api/v1/connections", None)
        .await;
    assert_eq!(status, 200);
    let list = browser.get("/settings/tokens").await;
    assert!(!list.body.contains(&token), "shown only once");
    let tokens = app.db.store.api_tokens(&app.account_id).await.unwrap();
    let id = &tokens.iter().find(|t| t.name == "reporting").unwrap().id;
    let revoked = browser
        .submit(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, 303);
    let (status, _) = app
        .api_as(&token, reqwest::Method::GET, "/api/v1/connections", None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_user_of_one_account_gets_404_for_every_url_of_another_account() {
    let app = TestApp::spawn().await;
    let other = app.db.store.ensure_account("other").await.unwrap();
    create_user(&app.db.store, &app.account_id, "ann@example.com", PASSWORD).await;
    let bob_user = create_user(&app.db.store, &other.id, "bob@example.com", PASSWORD)
        .await
        .id;
    let mut bob = Browser::new(&app.url);
    bob.sign_in("bob@example.com", PASSWORD).await;
    let key = app.guide_key(1);
    let added = bob
        .submit(
            "/connections",
            "/connections",
            &[("name", "Bob's shop"), ("api_key", &key)],
        )
        .await;
    let bob_path = added.location.expect("bob's connection");
    let bob_id = bob_path.trim_start_matches("/connections/").to_owned();
    let job = app
        .db
        .store
        .import_jobs(&other.id, &bob_id, 1)
        .await
        .unwrap()
        .remove(0)
        .job
        .id;
    app.db
        .store
        .set_import_job_status(&job, "failed", Some("x"), unix_now())
        .await
        .unwrap();
    bob.submit("/settings/tokens", "/settings/tokens", &[("name", "bob")])
        .await;
    let bob_token = app
        .db
        .store
        .api_tokens(&other.id)
        .await
        .unwrap()
        .remove(0)
        .id;

    let mut ann = Browser::new(&app.url);
    ann.sign_in("ann@example.com", PASSWORD).await;
    let csrf = ann.get("/connections").await.csrf();
    for path in [bob_path.clone(), format!("{bob_path}/progress")] {
        assert_eq!(ann.get(&path).await.status, 404, "GET {path}");
    }
    let new_key = app.guide_key(1);
    for (path, extra) in [
        (format!("{bob_path}/rename"), ("name", "mine now")),
        (
            format!("{bob_path}/rotate-key"),
            ("api_key", new_key.as_str()),
        ),
        (format!("{bob_path}/remove"), ("delete_data", "1")),
        (format!("{bob_path}/imports/{job}/retry"), ("x", "")),
        (format!("/settings/tokens/{bob_token}/revoke"), ("x", "")),
        (format!("/settings/users/{bob_user}/remove"), ("x", "")),
        (
            format!("/settings/users/{bob_user}/reset-password"),
            ("x", ""),
        ),
    ] {
        let page = ann.post(&path, &[("csrf", &csrf), extra]).await;
        assert_eq!(page.status, 404, "POST {path}");
    }
    // Ann's own connection id with Bob's job is a 404 too.
    let ann_added = ann
        .submit(
            "/connections",
            "/connections",
            &[("name", "Ann's shop"), ("api_key", &app.guide_key(0))],
        )
        .await;
    let ann_path = ann_added.location.unwrap();
    let page = ann
        .post(
            &format!("{ann_path}/imports/{job}/retry"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, 404);
    // Nothing of Bob's changed, and Ann's list does not show it.
    assert!(
        !ann.get("/connections")
            .await
            .body
            .contains("Bob&#x27;s shop")
    );
    assert!(!ann.get("/connections").await.body.contains(&bob_id));
    let bobs = app.db.store.connections(&other.id).await.unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].name, "Bob's shop");
    let record = app
        .db
        .store
        .import_job(&other.id, &job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.job.status, "failed");
    assert!(
        app.db.store.api_tokens(&other.id).await.unwrap()[0]
            .revoked_at
            .is_none()
    );
    // Ann's Users page lists her account's users only, and Bob still signs in.
    assert!(
        !ann.get("/settings/users")
            .await
            .body
            .contains("bob@example.com")
    );
    assert_eq!(app.db.store.users(&other.id).await.unwrap().len(), 1);
    assert_eq!(bob.get("/settings/users").await.status, 200);
}

#[tokio::test]
async fn an_admin_adds_and_removes_users_and_a_member_cannot_manage_anything() {
    let (app, mut ann) = signed_in_app().await;
    let added = ann
        .submit(
            "/settings/users",
            "/settings/users",
            &[("email", " Bob@Example.com ")],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let password = added
        .body
        .split(r#"<code id="new-user-password">"#)
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the generated password is shown once")
        .to_owned();
    assert!(password.len() >= 20, "{password}");
    let again = ann
        .submit(
            "/settings/users",
            "/settings/users",
            &[("email", "bob@example.com")],
        )
        .await;
    assert!(
        again.body.contains("already signs in to payscope"),
        "{}",
        again.body
    );
    assert!(!again.body.contains("new-user-password"));
    let list = ann.get("/settings/users").await;
    assert!(!list.body.contains(&password), "shown once only");
    assert!(list.body.contains("bob@example.com") && list.body.contains("member"));

    // Bob signs in with it as a member: he sees the data, not the management.
    let mut bob = Browser::new(&app.url);
    assert_eq!(bob.sign_in("bob@example.com", &password).await.status, 303);
    let connections = bob.get("/connections").await;
    assert_eq!(connections.status, 200);
    assert!(!connections.body.contains(r#"id="add-connection""#));
    assert!(!bob.get("/settings/users").await.body.contains("Add a user"));
    assert!(
        !bob.get("/settings/tokens")
            .await
            .body
            .contains("Create token")
    );
    let key = app.guide_key(0);
    let tokens_before = app
        .db
        .store
        .api_tokens(&app.account_id)
        .await
        .unwrap()
        .len();
    for (page, action, form) in [
        (
            "/connections",
            "/connections",
            vec![("name", "Shop"), ("api_key", key.as_str())],
        ),
        (
            "/settings/tokens",
            "/settings/tokens",
            vec![("name", "script")],
        ),
        (
            "/settings/users",
            "/settings/users",
            vec![("email", "eve@example.com"), ("admin", "1")],
        ),
    ] {
        let refused = bob.submit(page, action, &form).await;
        assert_eq!(refused.status, 403, "POST {action}");
        assert!(
            refused.body.contains("Only an admin of this account"),
            "{}",
            refused.body
        );
    }
    assert!(
        app.db
            .store
            .connections(&app.account_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.db
            .store
            .api_tokens(&app.account_id)
            .await
            .unwrap()
            .len(),
        tokens_before
    );
    assert_eq!(app.db.store.users(&app.account_id).await.unwrap().len(), 2);

    // Ann cannot remove herself; removing Bob signs him out at once.
    let users = app.db.store.users(&app.account_id).await.unwrap();
    let id_of = |email: &str| users.iter().find(|u| u.email == email).unwrap().id.clone();
    let own = ann
        .submit(
            "/settings/users",
            &format!("/settings/users/{}/remove", id_of("ann@example.com")),
            &[],
        )
        .await;
    assert!(
        own.body.contains("You cannot remove yourself"),
        "{}",
        own.body
    );
    let removed = ann
        .submit(
            "/settings/users",
            &format!("/settings/users/{}/remove", id_of("bob@example.com")),
            &[],
        )
        .await;
    assert_eq!(removed.status, 303);
    let after = bob.get("/connections").await;
    assert_eq!(after.status, 303);
    assert!(after.location.unwrap().starts_with("/sign-in"));
    assert_eq!(bob.sign_in("bob@example.com", &password).await.status, 401);
}

#[tokio::test]
async fn the_stylesheet_and_script_are_served_with_a_long_cache() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app.url);
    for path in ["/static/app.css", "/static/app.js"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.cache_control
                .as_deref()
                .is_some_and(|c| c.contains("max-age=31536000")),
            "{path}: {:?}",
            page.cache_control
        );
        assert!(page.body.len() > 500);
    }
}

/// The generated password a Users page response shows once.
fn shown_password(body: &str) -> String {
    body.split(r#"<code id="new-user-password">"#)
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the generated password is shown once")
        .to_owned()
}

#[tokio::test]
async fn a_user_changes_their_password_and_an_admin_resets_another_users() {
    let (app, mut ann) = signed_in_app().await;
    let mut ann_elsewhere = Browser::new(&app.url);
    assert_eq!(
        ann_elsewhere
            .sign_in("ann@example.com", PASSWORD)
            .await
            .status,
        303
    );
    let change = |current: &'static str, new: &'static str, again: &'static str| {
        [
            ("current_password", current),
            ("new_password", new),
            ("new_password_confirmation", again),
        ]
    };
    // Refusals change nothing: a wrong current password, a short one, two that differ.
    for (form, says) in [
        (
            change(
                "not the password",
                "a brand new password",
                "a brand new password",
            ),
            "current password is not right",
        ),
        (change(PASSWORD, "short", "short"), "at least 10 characters"),
        (
            change(PASSWORD, "a brand new password", "another new password"),
            "differ",
        ),
    ] {
        let refused = ann
            .submit("/settings/users", "/settings/password", &form)
            .await;
        assert_eq!(refused.status, 200);
        assert!(refused.body.contains(says), "{says}: {}", refused.body);
    }
    assert_eq!(
        ann_elsewhere.get("/connections").await.status,
        200,
        "refusals end no session"
    );
    let changed = ann
        .submit(
            "/settings/users",
            "/settings/password",
            &change(PASSWORD, "a brand new password", "a brand new password"),
        )
        .await;
    assert!(
        changed.body.contains("Your password is changed"),
        "{}",
        changed.body
    );
    // This session stays, the other one ends; the new password signs in and the old one no longer does.
    assert_eq!(ann.get("/connections").await.status, 200);
    let ended = ann_elsewhere.get("/connections").await;
    assert!(ended.location.unwrap().starts_with("/sign-in"));
    assert_eq!(
        Browser::new(&app.url)
            .sign_in("ann@example.com", PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        Browser::new(&app.url)
            .sign_in("ann@example.com", "a brand new password")
            .await
            .status,
        303
    );

    // Ann adds Bob, a member; Bob cannot reset Ann's password; Ann resets Bob's, which signs him out.
    let added = ann
        .submit(
            "/settings/users",
            "/settings/users",
            &[("email", "bob@example.com")],
        )
        .await;
    let first = shown_password(&added.body);
    let mut bob = Browser::new(&app.url);
    assert_eq!(bob.sign_in("bob@example.com", &first).await.status, 303);
    let users = app.db.store.users(&app.account_id).await.unwrap();
    let id_of = |email: &str| users.iter().find(|u| u.email == email).unwrap().id.clone();
    let refused = bob
        .submit(
            "/settings/users",
            &format!(
                "/settings/users/{}/reset-password",
                id_of("ann@example.com")
            ),
            &[],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        !bob.get("/settings/users")
            .await
            .body
            .contains("Reset password")
    );
    let own = ann
        .submit(
            "/settings/users",
            &format!(
                "/settings/users/{}/reset-password",
                id_of("ann@example.com")
            ),
            &[],
        )
        .await;
    assert!(
        own.body.contains("Change your own password"),
        "{}",
        own.body
    );
    let reset = ann
        .submit(
            "/settings/users",
            &format!(
                "/settings/users/{}/reset-password",
                id_of("bob@example.com")
            ),
            &[],
        )
        .await;
    assert!(reset.body.contains("has a new password"), "{}", reset.body);
    let second = shown_password(&reset.body);
    assert_ne!(first, second);
    assert!(
        !ann.get("/settings/users").await.body.contains(&second),
        "shown once only"
    );
    assert!(
        bob.get("/connections")
            .await
            .location
            .unwrap()
            .starts_with("/sign-in")
    );
    assert_eq!(bob.sign_in("bob@example.com", &first).await.status, 401);
    assert_eq!(bob.sign_in("bob@example.com", &second).await.status, 303);
}
