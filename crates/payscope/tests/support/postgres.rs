//! A disposable PostgreSQL for tests: `PAYSCOPE_TEST_POSTGRES_URL` if set, otherwise a cluster started from the
//! machine's binaries (`/usr/lib/postgresql/*/bin`) in a temp directory on a free port, stopped and removed by a
//! watchdog when the test process exits. Each test gets its own database.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::Connection;

/// The server's base URL (without a database name), started once per test binary.
static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// A URL to a brand-new, empty database, or `None` when PostgreSQL is unavailable outside CI.
pub async fn fresh_database_url() -> Option<String> {
    let base = match SERVER.get_or_init(start_server) {
        Ok(base) => base.clone(),
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true requires PostgreSQL for the store tests, but: {why}")
        }
        Err(why) => {
            eprintln!("skipping a PostgreSQL test: {why}");
            return None;
        }
    };
    sqlx::any::install_default_drivers();
    let name = format!(
        "payscope_test_{}",
        payscope::domain::ids::new_id("db").trim_start_matches("db_")
    );
    let mut admin = sqlx::AnyConnection::connect(&format!("{base}/postgres"))
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.ok();
    Some(format!("{base}/{name}"))
}

fn start_server() -> Result<String, String> {
    if let Ok(url) = std::env::var("PAYSCOPE_TEST_POSTGRES_URL") {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let bin = find_binaries()
        .ok_or("no PostgreSQL binaries (initdb, pg_ctl) found; install the `postgresql` package")?;
    let dir = std::env::temp_dir().join(format!(
        "payscope-pg-{}-{}",
        std::process::id(),
        payscope::domain::ids::new_id("t")
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let as_postgres = is_root();
    if as_postgres {
        // initdb refuses to run as root; the cluster belongs to the `postgres` user.
        run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
    }
    let data = dir.join("data");
    let port = free_port()?;
    run(server_command(as_postgres, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]))?;
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    run(server_command(as_postgres, &bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-o", &options, "-w", "-t", "60", "start"]))?;
    spawn_watchdog(as_postgres, &bin, &dir, &data)?;
    let url = format!("postgres://postgres@127.0.0.1:{port}");
    wait_until_accepting(port)?;
    Ok(url)
}

/// Stops the cluster and removes its directory once this test process is gone, whichever way it ends.
fn spawn_watchdog(as_postgres: bool, bin: &Path, dir: &Path, data: &Path) -> Result<(), String> {
    let stop = format!(
        "{} -D {} -m immediate stop",
        bin.join("pg_ctl").display(),
        data.display()
    );
    let stop = if as_postgres {
        format!("runuser -u postgres -- {stop}")
    } else {
        stop
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("starting the cleanup watchdog: {e}"))
}

fn server_command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin`, else a directory on PATH holding `initdb`.
fn find_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        })
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn wait_until_accepting(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "PostgreSQL did not accept connections on port {port} within 30 s"
    ))
}
