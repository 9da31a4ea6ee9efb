//! The HTTP layer: `/v1/` routing, `LIST`, both token headers, percent-decoding, the body limit,
//! the request timeout (on tokio's paused clock), the log line, and TLS through rustls.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use underhood_secret_server::{Core, LogSink, RouterConfig, SystemClock, router};

struct App {
    router: axum::Router,
    log: Arc<Mutex<Vec<String>>>,
}

fn app(config: impl FnOnce(&mut RouterConfig)) -> App {
    let (core, _) = Core::dev(Some("root"), Arc::new(SystemClock)).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let mut settings = RouterConfig {
        log: Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())) as LogSink,
        ..RouterConfig::default()
    };
    config(&mut settings);
    App {
        router: router(Arc::new(core), settings),
        log,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

impl App {
    fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        runtime().block_on(async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
    }

    fn call(
        &self,
        method: &str,
        uri: &str,
        header: Option<(&str, &str)>,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        self.send(request.body(Body::from(body.to_owned())).unwrap())
    }
}

#[test]
fn routing_methods_headers_and_percent_decoding() {
    let app = app(|_| {});
    let root = Some(("X-Vault-Token", "root"));
    let bearer = Some(("Authorization", "Bearer root"));
    assert_eq!(
        app.call(
            "POST",
            "/v1/secret/data/a%20b",
            root,
            r#"{"data": {"k": 1}}"#
        )
        .0,
        StatusCode::OK
    );
    assert_eq!(
        app.call("PUT", "/v1/secret/data/c", bearer, r#"{"data": {"k": 2}}"#)
            .0,
        StatusCode::OK
    );
    let (status, body) = app.call("LIST", "/v1/secret/metadata", bearer, "");
    assert_eq!(
        (status, &body["data"]["keys"]),
        (StatusCode::OK, &json!(["a b", "c"]))
    );
    let (status, body) = app.call("GET", "/v1/secret/metadata/?list=true", root, "");
    assert_eq!(
        (status, &body["data"]["keys"]),
        (StatusCode::OK, &json!(["a b", "c"]))
    );
    assert_eq!(
        app.call("GET", "/v1/secret/data/a%20b?version=1", root, "")
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.call("HEAD", "/v1/sys/health", None, "").0,
        StatusCode::OK
    );
    assert_eq!(
        app.call(
            "GET",
            "/v1/secret/data/c",
            Some(("Authorization", "Basic root")),
            ""
        )
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = app.call("GET", "/secret/data/c", root, "");
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"errors": ["not found: the API lives under /v1/"]})
        )
    );
    assert_eq!(
        app.call("BREW", "/v1/sys/health", root, "").0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        app.call("GET", "/v1/secret/data/%zz", root, "").0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = app.call("POST", "/v1/secret/data/c", root, "{not json");
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"errors": ["failed to parse JSON input: invalid JSON at line 1, column 2"]})
        )
    );
}

#[test]
fn bodies_over_the_limit_are_refused_with_413() {
    let app = app(|config| config.body_limit = 1024);
    let small = format!(r#"{{"data": {{"k": "{}"}}}}"#, "x".repeat(900));
    let large = format!(r#"{{"data": {{"k": "{}"}}}}"#, "x".repeat(2000));
    let root = Some(("X-Vault-Token", "root"));
    assert_eq!(
        app.call("POST", "/v1/secret/data/small", root, &small).0,
        StatusCode::OK
    );
    let (status, body) = app.call("POST", "/v1/secret/data/large", root, &large);
    assert_eq!(
        (status, body),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"errors": ["request body too large"]})
        )
    );
    assert_eq!(
        app.call("GET", "/v1/secret/data/large", root, "").0,
        StatusCode::NOT_FOUND
    );
}

/// A request body that never arrives.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Pending
    }
}

#[test]
fn a_request_that_outlives_the_timeout_gets_503_and_is_logged() {
    let app = app(|config| config.request_timeout = Duration::from_secs(30));
    let request = Request::builder()
        .method("POST")
        .uri("/v1/secret/data/slow?token=hunter2")
        .header("X-Vault-Token", "root")
        .body(Body::new(Stalled))
        .unwrap();
    // The runtime's clock is paused: the 30 seconds pass at once when nothing else can run.
    let (status, body) = app.send(request);
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"errors": ["request timed out"]})
        )
    );
    let log = app.log.lock().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].starts_with("POST /v1/secret/data/slow 503 "),
        "{log:?}"
    );
    assert!(
        !log[0].contains("hunter2") && !log[0].contains("root"),
        "{log:?}"
    );
}

#[test]
fn tls_serves_the_api_and_stops_on_shutdown() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    let tls = underhood_secret_server::TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    assert!(underhood_secret_server::TlsConfig::from_pem_files(&key_path, &key_path).is_err());
    let app = app(|_| {});
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(underhood_secret_server::serve(
            listener,
            app.router.clone(),
            Some(tls),
            async {
                let _ = stopped.await;
            },
        ));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certified.cert.der().clone()).unwrap();
        #[allow(deprecated)] // The ring provider, as the server uses.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        tls.write_all(
            b"GET /v1/sys/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        let mut response = String::new();
        tls.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.contains("\"sealed\":false"), "{response}");
        // Plain HTTP on a TLS port gets no answer.
        let mut plain = tokio::net::TcpStream::connect(address).await.unwrap();
        plain
            .write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut bytes = Vec::new();
        let _ = plain.read_to_end(&mut bytes).await;
        assert!(!String::from_utf8_lossy(&bytes).contains("200 OK"));
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(tokio::net::TcpStream::connect(address).await.is_err());
    });
}
