//! The one table from error to HTTP status and code. Every error body is
//! `{"error":{"code":"snake_case","message":"..."}}`; internal details go to the log, never
//! to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API failure, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No, malformed, badly signed or expired token.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The query string `q` cannot be parsed.
    #[error("{0}")]
    BadQuery(String),
    /// Another parameter is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// The cursor is not one we issued for this query.
    #[error("{0}")]
    BadCursor(String),
    /// Free tier past its daily quota.
    #[error("the daily quota of free searches is used up; it renews at midnight UTC")]
    QuotaExhausted {
        /// Seconds until the quota renews.
        retry_after_s: u64,
    },
    /// Too many requests from this user.
    #[error("too many requests; slow down")]
    RateLimited {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// Request body over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// No such route or object.
    #[error("{0}")]
    NotFound(String),
    /// A moderator's rule or classifier setting is invalid; the message says why.
    #[error("{0}")]
    InvalidRule(String),
    /// The object changed since the client read it, or the id is taken.
    #[error("{0}")]
    Conflict(String),
    /// The server is at its concurrency limit.
    #[error("the server is busy; retry shortly")]
    Overloaded,
    /// The request took too long.
    #[error("the request timed out")]
    Timeout,
    /// Our fault; the message is logged, the client sees a generic one.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// Status and code of each variant.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::BadQuery(_) => (StatusCode::BAD_REQUEST, "bad_query"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::BadCursor(_) => (StatusCode::BAD_REQUEST, "bad_cursor"),
            ApiError::QuotaExhausted { .. } => (StatusCode::TOO_MANY_REQUESTS, "quota_exhausted"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::InvalidRule(_) => (StatusCode::BAD_REQUEST, "invalid_rule"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// An internal error from anything displayable.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<moderation::Error> for ApiError {
    fn from(e: moderation::Error) -> ApiError {
        use moderation::Error as E;
        match e {
            E::InvalidRule(_) | E::InvalidClassifiers(_) => ApiError::InvalidRule(e.to_string()),
            E::NotFound(_) => ApiError::NotFound(e.to_string()),
            E::Exists(_) | E::Conflict { .. } => ApiError::Conflict(e.to_string()),
            E::Missing { .. } | E::Corrupt { .. } | E::Sql(_) => ApiError::internal(e),
        }
    }
}

/// The error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code (`bad_query`, `quota_exhausted`, ...).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: self.to_string(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let retry = match &self {
            ApiError::QuotaExhausted { retry_after_s }
            | ApiError::RateLimited { retry_after_s } => Some(*retry_after_s),
            ApiError::Overloaded => Some(1),
            _ => None,
        };
        if let Some(s) = retry
            && let Ok(v) = HeaderValue::from_str(&s.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// A request body as bytes, whose rejections are [`ApiError`]s (JSON, like every error), not
/// axum's plain-text ones: over the configured limit it is a 413 `payload_too_large`.
#[derive(Debug)]
pub struct Body(pub axum::body::Bytes);

impl axum::extract::FromRequest<std::sync::Arc<crate::state::AppState>> for Body {
    type Rejection = ApiError;

    async fn from_request(
        req: axum::extract::Request,
        state: &std::sync::Arc<crate::state::AppState>,
    ) -> Result<Body, ApiError> {
        use axum::extract::rejection::BytesRejection;
        match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(BytesRejection::FailedToBufferBody(_)) => Err(ApiError::PayloadTooLarge(format!(
                "the body is over the {}-byte limit",
                state.config.limits.max_body_bytes
            ))),
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}
