//! A tiny static file server for `web/`: GET and HEAD only, one thread per connection.
//! It serves only files under its root, so it rejects `..` after percent-decoding.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

/// The port `cargo xtask web` uses unless told otherwise.
pub(crate) const DEFAULT_PORT: u16 = 8080;

/// Whether the server prints one line per request.
#[derive(Clone, Copy)]
pub(crate) enum Log {
    /// Print `GET /path 200`; for a developer watching the terminal.
    Requests,
    /// Print nothing; for tests, whose own output matters more.
    Quiet,
}

/// Serves `root` on `127.0.0.1:port` until the process is killed.
pub(crate) fn serve_forever(root: &Path, port: u16) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}; try `--port N`"))?;
    let port = listener.local_addr()?.port();
    println!(
        "serving {} on http://127.0.0.1:{port}/ (Ctrl-C to stop)",
        root.display()
    );
    serve(listener, root.to_path_buf(), Log::Requests);
    Ok(())
}

/// Listens on a free port of 127.0.0.1 and serves `root` from a background thread; returns the port.
pub(crate) fn spawn(root: &Path) -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("cannot listen on 127.0.0.1")?;
    let port = listener.local_addr()?.port();
    let root = root.to_path_buf();
    std::thread::spawn(move || serve(listener, root, Log::Quiet));
    Ok(port)
}

fn serve(listener: TcpListener, root: PathBuf, log: Log) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let root = root.clone();
        std::thread::spawn(move || {
            // A client that hangs up early is its own problem, not the server's.
            let _ = handle(stream, &root, log);
        });
    }
}

fn handle(stream: TcpStream, root: &Path, log: Log) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    // Bound each line so a hostile client cannot make us buffer without end.
    let mut request_line = Vec::new();
    (&mut reader)
        .take(8192)
        .read_until(b'\n', &mut request_line)?;
    // Skip the headers: nothing here depends on them.
    let mut header = Vec::new();
    for _ in 0..100 {
        header.clear();
        if (&mut reader).take(8192).read_until(b'\n', &mut header)? == 0
            || header.trim_ascii().is_empty()
        {
            break;
        }
    }

    let request_line = String::from_utf8_lossy(&request_line);
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let response = if request_line.ends_with('\n') {
        respond(root, method, target)
    } else {
        text(400, "request line too long or cut short\n")
    };
    if let Log::Requests = log {
        println!("{method} {target} {}", response.status);
    }
    write_response(stream, method, response)
}

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

enum Body {
    Text(&'static str),
    File(std::fs::File, u64),
}

fn respond(root: &Path, method: &str, target: &str) -> Response {
    if method != "GET" && method != "HEAD" {
        let mut response = text(405, "method not allowed\n");
        response.headers.push(("Allow", "GET, HEAD".to_string()));
        return response;
    }
    let Some(relative) = relative_path(target) else {
        return text(400, "bad path\n");
    };
    let path = root.join(&relative);
    let (target_path, query) = target.split_at(target.find('?').unwrap_or(target.len()));
    if path.is_dir() && !target_path.ends_with('/') {
        // `/docs` must become `/docs/`, or the page's relative links resolve against `/`.
        // One leading slash only: `//host/` would send the browser to another host.
        let mut response = text(301, "moved\n");
        let location = format!("/{}/{query}", target_path.trim_start_matches('/'));
        response.headers.push(("Location", location));
        return response;
    }
    match std::fs::File::open(&path).and_then(|file| {
        let meta = file.metadata()?;
        Ok((file, meta))
    }) {
        Ok((file, meta)) if meta.is_file() => Response {
            status: 200,
            headers: vec![("Content-Type", content_type(&path).to_string())],
            body: Body::File(file, meta.len()),
        },
        _ => text(404, "not found\n"),
    }
}

fn text(status: u16, body: &'static str) -> Response {
    Response {
        status,
        headers: vec![("Content-Type", "text/plain; charset=utf-8".to_string())],
        body: Body::Text(body),
    }
}

fn write_response(stream: TcpStream, method: &str, response: Response) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(stream);
    let length = match &response.body {
        Body::Text(text) => text.len() as u64,
        Body::File(_, length) => *length,
    };
    write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    )?;
    for (name, value) in &response.headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    // Always revalidate: a stale `.wasm` after a rebuild is a confusing bug to chase.
    write!(
        out,
        "Content-Length: {length}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
    )?;
    if method != "HEAD" {
        match response.body {
            Body::Text(text) => out.write_all(text.as_bytes())?,
            Body::File(mut file, _) => {
                std::io::copy(&mut file, &mut out)?;
            }
        }
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    }
}

/// The file a request target names, relative to the served root, or `None` if it is not a safe path.
///
/// The query and fragment are dropped, the path is percent-decoded, and a path ending in `/` means its `index.html`.
fn relative_path(target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_prefix('/')?;
    let decoded = String::from_utf8(percent_decode(path)?).ok()?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            // `C:` would make `join` replace the root on Windows.
            _ if segment.contains(':') => return None,
            _ => relative.push(segment),
        }
    }
    if decoded.is_empty() || decoded.ends_with('/') {
        relative.push("index.html");
    }
    Some(relative)
}

/// Decodes `%XX` escapes; `None` if an escape is malformed.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        if bytes[idx] == b'%' {
            let hex = std::str::from_utf8(bytes.get(idx + 1..idx + 3)?).ok()?;
            if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return None;
            }
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            idx += 3;
        } else {
            decoded.push(bytes[idx]);
            idx += 1;
        }
    }
    Some(decoded)
}

fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(target: &str, expected: Option<&str>) {
        assert_eq!(relative_path(target), expected.map(PathBuf::from));
    }

    #[test]
    fn request_paths() {
        check("/", Some("index.html"));
        check("/?seed=3", Some("index.html"));
        check("/#run", Some("index.html"));
        check("/app.js", Some("app.js"));
        check(
            "/pkg/underhood_sim_wasm_bg.wasm",
            Some("pkg/underhood_sim_wasm_bg.wasm"),
        );
        check("/docs/", Some("docs/index.html"));
        check("//a//b", Some("a/b"));
        check("/./a", Some("a"));
        check("/a%20b.html", Some("a b.html"));
        check("/%E2%9C%93.svg", Some("\u{2713}.svg"));
        check("/a.js?x=../..", Some("a.js"));

        check("", None);
        check("*", None);
        check("http://example.com/", None);
        check("/..", None);
        check("/../etc/passwd", None);
        check("/a/../../b", None);
        check("/%2e%2e/etc/passwd", None);
        check("/%2E%2E%2Fetc", None);
        check("/a%2f..%2f..%2fb", None);
        check("/..%5c..%5cwin.ini", None);
        check("/%00", None);
        check("/%", None);
        check("/%4", None);
        check("/%zz", None);
        check("/%ff", None);
        check("/C:/Windows", None);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("pkg/x_bg.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("app.mjs")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("INDEX.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("logo.svg")), "image/svg+xml");
        assert_eq!(
            content_type(Path::new("Makefile")),
            "application/octet-stream"
        );
    }
}
