//! The one-command promise, end to end: the real `rolodex-server` binary, started in an empty
//! working directory with no settings but a free port, creates `./rolodex.db`, prints its URL and
//! an admin API key, answers `/v1/contacts` with that key, and exits 0 on SIGINT. A second start
//! on the same database prints no key.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Starts the server in `dir` with a clean environment; returns it and its stdout lines.
fn start(dir: &std::path::Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolodex-server"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ROLODEX_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rolodex-server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Reads lines until the URL; returns (url, api key if printed).
fn wait_for_url(rx: &mpsc::Receiver<String>) -> (String, Option<String>) {
    let mut key = None;
    loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("the server prints its URL within a minute");
        if let Some(k) = line.split("API key: ").nth(1) {
            key = Some(k.trim().to_owned());
        }
        if let Some(url) = line.strip_prefix("Listening on ") {
            return (url.trim().to_owned(), key);
        }
    }
}

/// A minimal HTTP/1.1 GET; returns the status code and body.
fn get(url: &str, path: &str, key: Option<&str>) -> (u16, String) {
    let addr = url.strip_prefix("http://").expect("http URL");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Sends SIGINT and waits for the exit status.
fn interrupt(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(status.success());
    for _ in 0..300 {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("rolodex-server did not stop within 30 s of SIGINT");
}

#[test]
fn one_command_starts_serves_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (child, rx) = start(dir.path());
    let (url, key) = wait_for_url(&rx);
    let key = key.expect("the first start prints `API key: …`");
    assert!(dir.path().join("rolodex.db").exists(), "./rolodex.db is created");
    assert!(dir.path().join("rolodex.db.key").exists(), "the token key is kept beside the database");

    let (status, body) = get(&url, "/v1/contacts", Some(&key));
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_else(|_| {
        // Chunked transfer encoding: the JSON is inside the chunk.
        let start = body.find('{').expect("a JSON body");
        let end = body.rfind('}').expect("a JSON body");
        serde_json::from_str(&body[start..=end]).expect("JSON")
    });
    assert_eq!(json["items"], serde_json::json!([]));
    assert_eq!(get(&url, "/v1/contacts", None).0, 401);
    assert_eq!(get(&url, "/readyz", None).0, 200);

    let status = interrupt(child);
    assert_eq!(status.code(), Some(0), "exit status after SIGINT: {status:?}");

    // The second start finds the organisation: no new key.
    let (child, rx) = start(dir.path());
    let (url, key) = wait_for_url(&rx);
    assert_eq!(key, None, "a key is printed on the first start only");
    assert_eq!(get(&url, "/healthz", None).0, 200);
    assert_eq!(interrupt(child).code(), Some(0));
}
