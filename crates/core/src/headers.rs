//! The security headers every response carries, and the stricter policies of the responses
//! that are documents of their own (an SVG file, the read count badge).

/// Set on every response; a `content-security-policy` a response already has is stricter
/// for what it serves and is kept.
pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-frame-options", "DENY"),
];

/// An SVG opened on its own is a document that could run script: this lets none run.
pub const SVG_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
/// The read count badge styles itself inline and loads nothing.
pub const BADGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

pub const HTML: &str = "text/html; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const JSON: &str = "application/json; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
pub const SVG: &str = "image/svg+xml";
pub const MANIFEST: &str = "application/manifest+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_page_may_be_framed_run_script_or_load_from_elsewhere() {
        let csp = SECURITY_HEADERS
            .iter()
            .find(|(n, _)| *n == "content-security-policy")
            .unwrap()
            .1;
        assert!(csp.starts_with("default-src 'none'"));
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"));
        assert!(SECURITY_HEADERS.contains(&("x-frame-options", "DENY")));
        assert!(SVG_CSP.contains("sandbox") && !SVG_CSP.contains("script-src"));
        assert!(!BADGE_CSP.contains("script-src"));
    }
}
