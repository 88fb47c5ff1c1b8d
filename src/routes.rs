//! The one route table: which page a method and path ask for.

use crate::content::validate_slug;
use crate::store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Index,
    Post { slug: String },
    /// A post's read count as a small image: `/posts/{slug}/reads.svg`.
    ReadsBadge { slug: String },
    Tags,
    Tag { slug: String },
    Feed { kind: FeedKind, tag: Option<String> },
    Sitemap,
    Robots,
    Stylesheet,
    Favicon,
    Manifest,
    /// A file a post links to, by its content-addressed name: `/files/{hash}.{ext}`.
    File { name: String },
    /// A non-canonical spelling of a real route: answer 301 to `location`.
    Redirect { location: String },
    NotFound,
    /// Anything but GET and HEAD.
    MethodNotAllowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Atom,
    Rss,
    Json,
}

pub const ALLOWED_METHODS: &str = "GET, HEAD";
pub const STYLESHEET_PATH: &str = "/style.css";

/// Resolves a request. `path` is the URL path as received (percent-encoded, no query).
pub fn resolve(method: &str, path: &str) -> Route {
    if method != "GET" && method != "HEAD" {
        return Route::MethodNotAllowed;
    }
    match path {
        "/" => return Route::Index,
        STYLESHEET_PATH => return Route::Stylesheet,
        "/feed.xml" | "/atom.xml" => return Route::Feed { kind: FeedKind::Atom, tag: None },
        "/rss.xml" => return Route::Feed { kind: FeedKind::Rss, tag: None },
        "/feed.json" => return Route::Feed { kind: FeedKind::Json, tag: None },
        "/sitemap.xml" => return Route::Sitemap,
        "/robots.txt" => return Route::Robots,
        "/favicon.svg" => return Route::Favicon,
        "/favicon.ico" => return Route::Redirect { location: "/favicon.svg".into() },
        "/site.webmanifest" => return Route::Manifest,
        "/tags" => return Route::Tags,
        "/tags/" => return Route::Redirect { location: "/tags".into() },
        "/index.html" | "/posts" | "/posts/" => return Route::Redirect { location: "/".into() },
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/tags/") {
        return tag_route(rest);
    }
    if let Some(name) = path.strip_prefix(store::FILE_URL_PREFIX) {
        // Only a well-formed name ever reaches KV.
        return if store::is_file_name(name) { Route::File { name: name.into() } } else { Route::NotFound };
    }
    let Some(rest) = path.strip_prefix("/posts/") else {
        return Route::NotFound;
    };
    if let Some(segment) = rest.strip_suffix("/reads.svg") {
        return match percent_decode(segment) {
            Some(slug) if validate_slug(&slug).is_ok() => Route::ReadsBadge { slug },
            _ => Route::NotFound,
        };
    }
    // One canonical spelling: `/posts/slug`; `/posts/slug/` redirects there.
    let (segment, trailing_slash) = match rest.strip_suffix('/') {
        Some(segment) => (segment, true),
        None => (rest, false),
    };
    let Some(slug) = percent_decode(segment) else {
        return Route::NotFound;
    };
    if validate_slug(&slug).is_err() {
        return Route::NotFound;
    }
    if trailing_slash {
        return Route::Redirect { location: format!("/posts/{segment}") };
    }
    Route::Post { slug }
}

fn tag_route(rest: &str) -> Route {
    let (segment, feed) = match rest.strip_suffix("/feed.xml") {
        Some(segment) => (segment, true),
        None => (rest, false),
    };
    let (segment, trailing_slash) = match segment.strip_suffix('/') {
        Some(segment) if !feed => (segment, true),
        _ => (segment, false),
    };
    let Some(slug) = percent_decode(segment) else {
        return Route::NotFound;
    };
    // Tag segments are made by `markdown::slugify`: lower-case letters, digits and `-`.
    if slug.is_empty() || slug.len() > 100 || !slug.chars().all(|c| c == '-' || (c.is_alphanumeric() && !c.is_uppercase())) {
        return Route::NotFound;
    }
    match (feed, trailing_slash) {
        (true, _) => Route::Feed { kind: FeedKind::Atom, tag: Some(slug) },
        (false, true) => Route::Redirect { location: format!("/tags/{segment}") },
        (false, false) => Route::Tag { slug },
    }
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits, checked here: `from_str_radix` alone takes `%+e` as byte 14.
            let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(slug: &str) -> Route {
        Route::Post { slug: slug.into() }
    }

    #[test]
    fn routes_pages() {
        assert_eq!(resolve("GET", "/"), Route::Index);
        assert_eq!(resolve("HEAD", "/"), Route::Index);
        assert_eq!(resolve("GET", "/posts/hello-world"), post("hello-world"));
        assert_eq!(resolve("GET", "/style.css"), Route::Stylesheet);
    }

    #[test]
    fn routes_feeds_tags_and_crawler_files() {
        let feed = |kind, tag: Option<&str>| Route::Feed { kind, tag: tag.map(String::from) };
        assert_eq!(resolve("GET", "/feed.xml"), feed(FeedKind::Atom, None));
        assert_eq!(resolve("GET", "/rss.xml"), feed(FeedKind::Rss, None));
        assert_eq!(resolve("GET", "/feed.json"), feed(FeedKind::Json, None));
        assert_eq!(resolve("GET", "/tags/rust/feed.xml"), feed(FeedKind::Atom, Some("rust")));
        assert_eq!(resolve("GET", "/tags"), Route::Tags);
        assert_eq!(resolve("GET", "/tags/go"), Route::Tag { slug: "go".into() });
        assert_eq!(resolve("GET", "/tags/go/"), Route::Redirect { location: "/tags/go".into() });
        assert_eq!(resolve("GET", "/sitemap.xml"), Route::Sitemap);
        assert_eq!(resolve("GET", "/robots.txt"), Route::Robots);
        assert_eq!(resolve("GET", "/favicon.svg"), Route::Favicon);
        assert_eq!(resolve("GET", "/site.webmanifest"), Route::Manifest);
        for bad in ["/tags/Go", "/tags/a/b", "/tags/%2e%2e", "/tags/", "/tags//feed.xml"] {
            assert!(matches!(resolve("GET", bad), Route::NotFound | Route::Redirect { .. }), "{bad}");
        }
        assert_eq!(resolve("GET", "/tags/a/b"), Route::NotFound);
    }

    #[test]
    fn routes_read_count_badges() {
        assert_eq!(resolve("GET", "/posts/a-b/reads.svg"), Route::ReadsBadge { slug: "a-b".into() });
        assert_eq!(resolve("GET", "/posts/../reads.svg"), Route::NotFound);
        assert_eq!(resolve("GET", "/posts/a/b/reads.svg"), Route::NotFound);
    }

    #[test]
    fn routes_files_by_their_content_addressed_name_only() {
        let name = "0123456789abcdef0123456789abcdef.png";
        assert_eq!(resolve("GET", &format!("/files/{name}")), Route::File { name: name.into() });
        assert_eq!(resolve("HEAD", &format!("/files/{name}")), Route::File { name: name.into() });
        for bad in [
            "/files/",
            "/files/photo.png",
            "/files/0123456789ABCDEF0123456789abcdef.png",
            "/files/0123456789abcdef0123456789abcdef.png/",
            "/files/0123456789abcdef0123456789abcdef.PNG",
            "/files/0123456789abcdef0123456789abcdef",
            "/files/../0123456789abcdef0123456789abcde.png",
            "/files/0123456789abcdef0123456789abcdef.png%00",
            "/files/x/0123456789abcdef0123456789abcdef.png",
        ] {
            assert_eq!(resolve("GET", bad), Route::NotFound, "{bad}");
        }
        assert_eq!(resolve("POST", &format!("/files/{name}")), Route::MethodNotAllowed);
    }

    #[test]
    fn decodes_unicode_slugs() {
        assert_eq!(resolve("GET", "/posts/caf%C3%A9"), post("café"));
    }

    #[test]
    fn redirects_to_one_canonical_form() {
        let to = |l: &str| Route::Redirect { location: l.into() };
        assert_eq!(resolve("GET", "/posts/hello/"), to("/posts/hello"));
        assert_eq!(resolve("GET", "/posts/"), to("/"));
        assert_eq!(resolve("GET", "/index.html"), to("/"));
    }

    #[test]
    fn unknown_or_hostile_paths_are_not_found() {
        for path in [
            "/nope", "/posts/a/b", "/posts/%2e%2e", "/posts/..", "/posts/a%2Fb", "/posts/%ff",
            "/posts/%zz", "/posts/%", "//posts/x", "/posts//x", "/POSTS/x",
        ] {
            assert_eq!(resolve("GET", path), Route::NotFound, "{path}");
        }
        assert_eq!(resolve("GET", &format!("/posts/{}", "a".repeat(16 * 1024))), Route::NotFound);
    }

    #[test]
    fn escapes_need_two_hex_digits() {
        assert_eq!(percent_decode("a%41%c3%A9").as_deref(), Some("aAé"));
        for malformed in ["%+e", "%-1", "%+", "%e", "%g0", "% 1"] {
            assert_eq!(percent_decode(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn other_methods_are_not_allowed() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            assert_eq!(resolve(method, "/"), Route::MethodNotAllowed, "{method}");
        }
    }
}
