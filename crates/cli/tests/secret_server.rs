//! `underhood secret server` as a process: dev mode, persistent storage, the loopback rule,
//! request logs without secrets, SIGTERM, and `kill -9` during a write storm.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    address: String,
    stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_underhood"))
            .args(["secret", "server", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdout = Vec::new();
        let address = loop {
            let line = lines
                .next()
                .expect("the server prints its address")
                .unwrap();
            stdout.push(line.clone());
            if let Some(address) = line.strip_prefix("Api Address: http://") {
                break address.to_owned();
            }
        };
        // Dev mode prints the credentials after the address.
        if args.contains(&"--dev") {
            for _ in 0..2 {
                stdout.push(lines.next().unwrap().unwrap());
            }
        }
        // Keep reading so the server never writes into a closed pipe.
        thread::spawn(move || for _ in lines {});
        Server {
            child,
            address,
            stdout,
            stderr,
        }
    }

    fn printed(&self, label: &str) -> String {
        self.stdout
            .iter()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("{label} not in {:?}", self.stdout))
            .to_owned()
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        http(&self.address, method, path, token, &body)
            .unwrap_or_else(|| panic!("no answer to {method} {path}"))
    }

    fn terminate(mut self) -> (i32, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        // Let the stderr thread drain.
        thread::sleep(Duration::from_millis(100));
        let log = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), log)
    }
}

impl Drop for Server {
    /// A failing test must not leave its server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`; `None` if the connection fails.
fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let token = token.map_or(String::new(), |t| format!("X-Vault-Token: {t}\r\n"));
    let request = format!(
        "{method} /v1/{path} HTTP/1.1\r\nHost: {address}\r\n{token}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status: u16 = response.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

#[test]
fn dev_mode_serves_logs_one_line_a_request_without_secrets_and_stops_on_sigterm() {
    let server = Server::start(&["--dev", "--dev-root-token-id", "dev-root-1234"]);
    assert_eq!(server.printed("Root Token: "), "dev-root-1234");
    let unseal_key = server.printed("Unseal Key: ");
    assert_eq!(server.call("GET", "sys/health", None, Value::Null).0, 200);
    let (status, _) = server.call(
        "POST",
        "secret/data/app",
        Some("dev-root-1234"),
        json!({"data": {"password": "s3cr3t-value"}}),
    );
    assert_eq!(status, 200);
    let (status, body) = server.call("GET", "secret/data/app", Some("dev-root-1234"), Value::Null);
    assert_eq!(
        (status, &body["data"]["data"]["password"]),
        (200, &json!("s3cr3t-value"))
    );
    let (_, created) = server.call(
        "POST",
        "auth/token/create",
        Some("dev-root-1234"),
        json!({"policies": ["default"]}),
    );
    let child = created["auth"]["client_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .call("GET", "secret/data/app", Some(&child), Value::Null)
            .0,
        403
    );
    assert_eq!(
        server
            .call(
                "POST",
                "sys/init",
                None,
                json!({"secret_shares": 1, "secret_threshold": 1})
            )
            .0,
        400
    );
    let (code, log) = server.terminate();
    assert_eq!(code, 0, "{log}");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("/v1/")).collect();
    assert_eq!(lines.len(), 6, "{log}");
    assert!(
        lines[1].starts_with("POST /v1/secret/data/app 200 "),
        "{log}"
    );
    assert!(
        lines[3].starts_with("POST /v1/auth/token/create 200 "),
        "{log}"
    );
    assert!(
        lines[4].starts_with("GET /v1/secret/data/app 403 "),
        "{log}"
    );
    for secret in ["dev-root-1234", "s3cr3t-value", &unseal_key, &child] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn plain_http_is_refused_off_loopback_and_flags_are_checked() {
    common::check_any(
        &["secret", "server", "--dev", "--listen", "0.0.0.0:0"],
        2,
        "refusing plain HTTP on 0.0.0.0:0",
    );
    common::check_any(&["secret", "server"], 2, "--storage");
    common::check_any(
        &[
            "secret",
            "server",
            "--storage",
            "x",
            "--dev-root-token-id",
            "t",
        ],
        2,
        "cannot be used with",
    );
    common::check_any(
        &["secret", "server", "--dev", "--tls-cert", "c.pem"],
        2,
        "--tls-key",
    );
}

#[test]
fn every_acknowledged_write_survives_kill_9_during_a_write_storm() {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().to_str().unwrap().to_owned();
    let server = Server::start(&["--storage", &storage]);
    assert_eq!(server.call("GET", "sys/health", None, Value::Null).0, 501);
    let (status, init) = server.call(
        "POST",
        "sys/init",
        None,
        json!({"secret_shares": 3, "secret_threshold": 2}),
    );
    assert_eq!(status, 200);
    let keys: Vec<String> = init["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let root = init["root_token"].as_str().unwrap().to_owned();
    for key in &keys[..2] {
        assert_eq!(
            server
                .call("POST", "sys/unseal", None, json!({"key": key}))
                .0,
            200
        );
    }
    assert_eq!(
        server
            .call(
                "POST",
                "sys/mounts/secret",
                Some(&root),
                json!({"type": "kv", "options": {"version": "2"}})
            )
            .0,
        204
    );
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (address, root, stop, acknowledged) = (
                server.address.clone(),
                root.clone(),
                stop.clone(),
                acknowledged.clone(),
            );
            thread::spawn(move || {
                for i in 0u64.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // A new key per write, and a new version of one shared key per writer.
                    let key = format!("storm/w{writer}/k{i}");
                    match http(
                        &address,
                        "POST",
                        &format!("secret/data/{key}"),
                        Some(&root),
                        &json!({"data": {"i": i}}),
                    ) {
                        Some((200, _)) => acknowledged.lock().unwrap().push((key, i)),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 40 && started.elapsed() < Duration::from_secs(30) {
        thread::sleep(Duration::from_millis(20));
    }
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL: no chance to flush anything.
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 40,
        "only {} writes acknowledged",
        acknowledged.len()
    );

    let server = Server::start(&["--storage", &storage]);
    assert!(server.stdout[0].contains("sealed"), "{:?}", server.stdout);
    assert_eq!(
        server
            .call("GET", "secret/data/storm/w0/k0", Some(&root), Value::Null)
            .0,
        503
    );
    for key in &keys[1..3] {
        assert_eq!(
            server
                .call("POST", "sys/unseal", None, json!({"key": key}))
                .0,
            200
        );
    }
    for (key, i) in &acknowledged {
        let (status, body) = server.call(
            "GET",
            &format!("secret/data/{key}"),
            Some(&root),
            Value::Null,
        );
        assert_eq!(
            (status, &body["data"]["data"]["i"]),
            (200, &json!(i)),
            "{key}"
        );
    }
    let (code, log) = server.terminate();
    assert_eq!(code, 0, "{log}");
}
