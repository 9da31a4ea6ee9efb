//! Vault's HTTP surface: `/v1/…` with `X-Vault-Token` or `Authorization: Bearer`, JSON bodies,
//! the `LIST` method, body limits, a timeout per request, and one log line per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body as HttpBody, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response as HttpResponse};

use crate::{Core, Operation, Request, Response};

/// Where the one-line-per-request log goes.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How the HTTP layer guards the core.
#[derive(Clone)]
pub struct RouterConfig {
    /// Largest accepted request body, in bytes (413 beyond it).
    pub body_limit: usize,
    /// Longest a request may take, body upload included (it then gets a 503).
    pub request_timeout: Duration,
    /// Receives `METHOD /path STATUS DURATION` for every request: no query, header or body.
    pub log: LogSink,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            log: Arc::new(|line| eprintln!("{line}")),
        }
    }
}

struct App {
    core: Arc<Core>,
    config: RouterConfig,
}

/// The axum router serving `core` at `/v1/`.
pub fn router(core: Arc<Core>, config: RouterConfig) -> Router {
    Router::new()
        .fallback(serve_request)
        .with_state(Arc::new(App { core, config }))
}

async fn serve_request(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: HttpBody,
) -> HttpResponse {
    let started = Instant::now();
    let response = match tokio::time::timeout(
        app.config.request_timeout,
        respond(&app, &method, &uri, &headers, body),
    )
    .await
    {
        Ok(response) => response,
        Err(_) => errors(StatusCode::SERVICE_UNAVAILABLE, "request timed out"),
    };
    let line = format!(
        "{method} {} {} {:.3}ms",
        uri.path(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    (app.config.log)(&line);
    response
}

async fn respond(
    app: &Arc<App>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: HttpBody,
) -> HttpResponse {
    let Some(path) = uri.path().strip_prefix("/v1/") else {
        return errors(StatusCode::NOT_FOUND, "not found: the API lives under /v1/");
    };
    let Some(path) = percent_decode(path) else {
        return errors(
            StatusCode::BAD_REQUEST,
            "invalid percent-encoding in the path",
        );
    };
    let operation = match method.as_str() {
        "GET" | "HEAD" => Operation::Read,
        "LIST" => Operation::List,
        "POST" | "PUT" => Operation::Write,
        "DELETE" => Operation::Delete,
        "PATCH" => Operation::Patch,
        _ => return errors(StatusCode::METHOD_NOT_ALLOWED, "unsupported operation"),
    };
    let body = match axum::body::to_bytes(body, app.config.body_limit).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            return if too_large {
                errors(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
            } else {
                errors(StatusCode::BAD_REQUEST, "failed to read the request body")
            };
        }
    };
    let token = headers
        .get("x-vault-token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let request = Request {
        operation,
        path,
        query: parse_query(uri.query().unwrap_or("")),
        token,
        body: body_vec(body),
    };
    let core = app.core.clone();
    let response = if operation == Operation::Read || operation == Operation::List {
        core.handle(&request)
    } else {
        // Writes fsync; keep them off the async workers.
        match tokio::task::spawn_blocking(move || core.handle(&request)).await {
            Ok(response) => response,
            Err(_) => return errors(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        }
    };
    to_http(response)
}

fn body_vec(bytes: Bytes) -> Vec<u8> {
    bytes.to_vec()
}

fn to_http(response: Response) -> HttpResponse {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match response.body {
        None => status.into_response(),
        Some(body) => {
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let mut http = (status, bytes).into_response();
            http.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            http
        }
    }
}

fn errors(status: StatusCode, message: &str) -> HttpResponse {
    to_http(Response {
        status: status.as_u16(),
        body: Some(serde_json::json!({ "errors": [message] })),
    })
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(&v.replace('+', " "))?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        if bytes[idx] == b'%' {
            let hex = bytes.get(idx + 1..idx + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            idx += 3;
        } else {
            out.push(bytes[idx]);
            idx += 1;
        }
    }
    String::from_utf8(out).ok()
}
