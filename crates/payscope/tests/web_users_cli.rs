//! `payscope users add`: the first admin made on the command line (password on standard input) signs in on the web.

mod support;

use support::app::TestApp;
use support::web::Browser;

#[tokio::test]
async fn an_admin_added_on_the_command_line_signs_in_with_the_password_from_stdin() {
    let app = TestApp::spawn().await;
    let output = app
        .cli(
            &["users", "add", "--email", "Root@Example.com", "--admin"],
            "a long enough password\n",
        )
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let user = app
        .db
        .store
        .user_by_email("root@example.com")
        .await
        .unwrap()
        .expect("the user exists, email lowercased");
    assert!(user.is_admin);
    assert_eq!(user.account_id, app.account_id);
    assert!(user.password_hash.starts_with("$argon2id$"));
    let mut browser = Browser::new(&app.url);
    let page = browser
        .sign_in("root@example.com", "a long enough password")
        .await;
    assert_eq!(page.status, 303, "{}", page.body);

    let again = app
        .cli(
            &["users", "add", "--email", "root@example.com"],
            "another long password\n",
        )
        .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let short = app
        .cli(&["users", "add", "--email", "b@example.com"], "short\n")
        .await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
    let empty = app
        .cli(&["users", "add", "--email", "c@example.com"], "")
        .await;
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("standard input"));
}

#[tokio::test]
async fn a_password_set_on_the_command_line_replaces_the_old_one_and_ends_the_sessions() {
    let app = TestApp::spawn().await;
    let added = app
        .cli(
            &["users", "add", "--email", "root@example.com", "--admin"],
            "the first long password\n",
        )
        .await;
    assert!(added.status.success());
    let mut browser = Browser::new(&app.url);
    assert_eq!(
        browser
            .sign_in("root@example.com", "the first long password")
            .await
            .status,
        303
    );
    let set = app
        .cli(
            &["users", "set-password", "--email", " Root@Example.com"],
            "the second long password\n",
        )
        .await;
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let after = browser.get("/connections").await;
    assert!(
        after.location.unwrap().starts_with("/sign-in"),
        "signed out"
    );
    let mut fresh = Browser::new(&app.url);
    assert_eq!(
        fresh
            .sign_in("root@example.com", "the first long password")
            .await
            .status,
        401
    );
    assert_eq!(
        fresh
            .sign_in("root@example.com", "the second long password")
            .await
            .status,
        303
    );
    let unknown = app
        .cli(
            &["users", "set-password", "--email", "nobody@example.com"],
            "a long enough password\n",
        )
        .await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user signs in with"));
}
