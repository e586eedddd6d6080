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
