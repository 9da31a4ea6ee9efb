//! The errors requests answer with, as Vault shapes them: a status and `{"errors": [...]}`.

use std::borrow::Cow;

use serde_json::{Value, json};
use underhood_secret_crypto::barrier::BarrierError;

use crate::Response;

/// Why a request failed. Messages never contain a secret: no token, key, share or value.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 503: the barrier is sealed or not initialized.
    Sealed,
    /// 403: no token, an unknown or expired token, or a capability the policies do not grant.
    PermissionDenied,
    /// 404 with no message, as Vault answers a missing secret.
    NotFound,
    /// 404 with a body (a deleted KV version still shows its metadata).
    NotFoundWith(Value),
    /// 404: no engine or endpoint at this path.
    NoHandler { path: String },
    /// 405: the endpoint exists but not with this method.
    UnsupportedOperation,
    /// 400: the request is wrong; the message says how.
    BadRequest(Cow<'static, str>),
    /// 500: the storage or the barrier failed.
    Internal(Cow<'static, str>),
}

impl ApiError {
    pub(crate) fn bad(message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::BadRequest(message.into())
    }

    pub(crate) fn into_response(self) -> Response {
        let (status, messages): (u16, Vec<Cow<'static, str>>) = match self {
            ApiError::Sealed => (503, vec!["Vault is sealed".into()]),
            ApiError::PermissionDenied => (403, vec!["permission denied".into()]),
            ApiError::NotFound => (404, vec![]),
            ApiError::NotFoundWith(body) => {
                return Response {
                    status: 404,
                    body: Some(body),
                };
            }
            ApiError::NoHandler { path } => (
                404,
                vec![format!("no handler for route \"{path}\". route entry not found.").into()],
            ),
            ApiError::UnsupportedOperation => (405, vec!["unsupported operation".into()]),
            ApiError::BadRequest(message) => (400, vec![message]),
            ApiError::Internal(message) => (500, vec![message]),
        };
        Response {
            status,
            body: Some(json!({ "errors": messages })),
        }
    }
}

impl From<BarrierError> for ApiError {
    fn from(error: BarrierError) -> Self {
        match error {
            BarrierError::Sealed | BarrierError::NotInitialized => ApiError::Sealed,
            // Barrier errors name storage paths and terms, never key material or values.
            other => ApiError::Internal(format!("storage: {other}").into()),
        }
    }
}
