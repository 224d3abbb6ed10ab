//! The moderators' web page, `GET /moderation`: one HTML page, its script and its style sheet,
//! embedded in the binary (no CDN, no build step; it works offline).
//!
//! Loading the page needs no token: it holds no data. The moderator pastes a token, which the
//! script keeps in `sessionStorage` and sends as `Authorization: Bearer` on every API call, so
//! every action is checked by the API's own role check (moderator). No cookie is ever set or
//! read, which is the page's anti-CSRF measure: a forged cross-site request carries no
//! credentials.
//!
//! The headers forbid inline script and style, framing, referrers and MIME sniffing; the
//! script builds every element with `textContent`, never `innerHTML` of server text.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

const HTML: &str = include_str!("../assets/moderation.html");
const JS: &str = include_str!("../assets/moderation.js");
const CSS: &str = include_str!("../assets/moderation.css");

/// The page's Content-Security-Policy: only our own script, style and API; nothing inline.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// `GET /moderation`.
pub async fn page() -> Response {
    asset(HTML, "text/html; charset=utf-8")
}

/// `GET /moderation/app.js`.
pub async fn script() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

/// `GET /moderation/app.css`.
pub async fn style() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let headers: [(HeaderName, HeaderValue); 7] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // The assets change with the binary; a moderator's browser must not keep an old one.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_asset_has_the_strict_headers() {
        for (response, kind) in [
            (page().await, "text/html"),
            (script().await, "text/javascript"),
            (style().await, "text/css"),
        ] {
            let h = response.headers();
            assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind));
            assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
            assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        }
    }

    #[test]
    fn the_page_has_no_inline_script_or_style_and_no_remote_assets() {
        assert!(HTML.contains(r#"<script src="/moderation/app.js" defer></script>"#));
        assert!(HTML.contains(r#"<link rel="stylesheet" href="/moderation/app.css">"#));
        assert_eq!(HTML.matches("<script").count(), 1, "one external script");
        for forbidden in [
            "<style", " style=", " onclick", " onload", "http://", "https://", "//cdn",
        ] {
            assert!(!HTML.contains(forbidden), "{forbidden}");
        }
        for forbidden in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "eval(",
            "document.write",
        ] {
            assert!(!JS.contains(forbidden), "{forbidden}");
        }
        assert!(!JS.contains("document.cookie"), "bearer-only: no cookies");
    }
}
