//! Any request line `METHOD PATH` (a bare path means GET): `resolve` never panics, only
//! routes valid slugs, and redirects only to a same-site page in one hop.
#![no_main]

use blog_core::content::validate_slug;
use blog_core::routes::{percent_decode, resolve, Route};
use libfuzzer_sys::fuzz_target;

/// `%XX` with two hex digits decodes; anything else after a `%` is malformed.
fn strict_percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_tag_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.chars().all(|c| c == '-' || (c.is_alphanumeric() && !c.is_uppercase()))
}

fuzz_target!(|line: &str| {
    let (method, path) = line.split_once(' ').unwrap_or(("GET", line));
    let route = resolve(method, path);
    assert_eq!(percent_decode(path), strict_percent_decode(path), "decoding {path:?}");
    if method != "GET" && method != "HEAD" {
        assert_eq!(route, Route::MethodNotAllowed, "{method:?}");
        return;
    }
    let other = if method == "GET" { "HEAD" } else { "GET" };
    assert_eq!(resolve(other, path), route, "GET and HEAD differ on {path:?}");
    match &route {
        Route::Post { slug } => {
            if let Err(e) = validate_slug(slug) {
                panic!("{path:?} routed to the invalid slug {slug:?}: {e}");
            }
        }
        Route::Tag { slug, .. } | Route::Feed { tag: Some(slug), .. } => {
            assert!(is_tag_slug(slug), "{path:?} routed to the tag {slug:?}");
        }
        Route::Redirect { location } => {
            assert!(
                location.starts_with('/') && !location.starts_with("//") && !location.starts_with("/\\"),
                "{path:?} redirects off-site to {location:?}"
            );
            assert!(!location.contains(|c: char| c.is_control() || c.is_whitespace()), "{location:?}");
            assert_ne!(location, path, "{path:?} redirects to itself");
            let next = resolve("GET", location);
            assert!(
                !matches!(next, Route::Redirect { .. } | Route::NotFound | Route::MethodNotAllowed),
                "{path:?} redirects to {location:?}, which is {next:?}"
            );
        }
        _ => {}
    }
});
