//! The one route table: which page a method and path ask for ([`resolve`]), and the one
//! spelling of every page's path ([`Route::path`]), used wherever a link, a feed's address
//! or a redirect is written.

use crate::kv;
use crate::slug::validate_slug;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Index,
    Post {
        slug: String,
    },
    /// A post's read count as a small image: `/posts/{slug}/reads.svg`.
    ReadsBadge {
        slug: String,
    },
    /// The same count as plain text, linked from the badge for text browsers and screen
    /// readers: `/posts/{slug}/reads.txt`.
    ReadsText {
        slug: String,
    },
    /// The author's read statistics as JSON, for the holder of the stats token only:
    /// [`crate::stats::STATS_PATH`]. Without the token it is the ordinary 404.
    Stats,
    Tags,
    /// One page of a tag's posts, newest first; page 1 is `/tags/{slug}`.
    Tag {
        slug: String,
        page: usize,
    },
    /// A series' parts in reading order: `/series/{slug}`.
    Series {
        slug: String,
    },
    /// A series' Atom feed: `/series/{slug}/feed.xml`.
    SeriesFeed {
        slug: String,
    },
    /// Every year with its number of posts and its pages: `/archive`.
    Archive,
    /// One page of a year's posts, newest first: `/{year}/`, then `/{year}/page/{n}/`.
    Year {
        year: i64,
        page: usize,
    },
    Feed {
        kind: FeedKind,
        tag: Option<String>,
    },
    /// The sitemap index, naming every part.
    Sitemap,
    /// One part of the sitemap (1-based): `/sitemap-{n}.xml`.
    SitemapPart {
        part: usize,
    },
    Robots,
    Stylesheet,
    Favicon,
    Manifest,
    /// Search results for the URL's query: `/search?q=…&page=n`.
    Search,
    /// The OpenSearch description of the site's search.
    OpenSearch,
    /// A file a post links to, by its content-addressed name: `/files/{hash}.{ext}`.
    File {
        name: String,
    },
    /// A draft or scheduled post at its secret link: `/preview/{token}` (see
    /// [`crate::preview`]). Only a segment of a token's form is one.
    Preview {
        token: String,
    },
    /// A non-canonical spelling of a real route: answer 301 to `location`.
    Redirect {
        location: String,
    },
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

// The fixed paths, spelled once: `resolve` matches them, `Route::path` and the templates
// write them (a template writes the constant itself: no allocation on every page).
pub const INDEX_PATH: &str = "/";
pub const TAGS_PATH: &str = "/tags";
pub const ARCHIVE_PATH: &str = "/archive";
pub const ATOM_PATH: &str = "/feed.xml";
pub const RSS_PATH: &str = "/rss.xml";
pub const JSON_FEED_PATH: &str = "/feed.json";
pub const SITEMAP_PATH: &str = "/sitemap.xml";
pub const ROBOTS_PATH: &str = "/robots.txt";
pub const STYLESHEET_PATH: &str = "/style.css";
pub const FAVICON_PATH: &str = "/favicon.svg";
pub const MANIFEST_PATH: &str = "/site.webmanifest";
pub const SEARCH_PATH: &str = "/search";
pub const OPENSEARCH_PATH: &str = "/opensearch.xml";
pub const POSTS_PREFIX: &str = "/posts/";
const TAGS_PREFIX: &str = "/tags/";
const SERIES_PREFIX: &str = "/series/";
const PREVIEW_PREFIX: &str = "/preview/";
const TAG_FEED_SUFFIX: &str = "/feed.xml";
const READS_BADGE_SUFFIX: &str = "/reads.svg";
const READS_TEXT_SUFFIX: &str = "/reads.txt";
const PAGE_SEGMENT: &str = "/page/";
const SITEMAP_PART_PREFIX: &str = "/sitemap-";
const SITEMAP_PART_SUFFIX: &str = ".xml";
/// The years a year page may name: four digits, as the path spells them.
const YEARS: std::ops::RangeInclusive<i64> = 1000..=9999;

impl Route {
    /// The page's canonical path (what links to it say); a redirect's location. `None` for
    /// the answers that are not a page: [`Route::NotFound`] and [`Route::MethodNotAllowed`].
    /// Slugs are written as they are: [`validate_slug`] and tag slugs admit only characters a
    /// path segment carries as they are.
    pub fn path(&self) -> Option<String> {
        Some(match self {
            Route::Index => INDEX_PATH.into(),
            Route::Post { slug } => post_path(slug),
            Route::ReadsBadge { slug } => reads_badge_path(slug),
            Route::ReadsText { slug } => reads_text_path(slug),
            Route::Stats => crate::stats::STATS_PATH.into(),
            Route::Tags => TAGS_PATH.into(),
            Route::Tag { slug, page } => tag_page_path(slug, *page),
            Route::Series { slug } => series_path(slug),
            Route::SeriesFeed { slug } => series_feed_path(slug),
            Route::Archive => ARCHIVE_PATH.into(),
            Route::Year { year, page } => year_path(*year, *page),
            // A tag has one feed, in Atom.
            Route::Feed { tag: Some(tag), .. } => format!("{TAGS_PREFIX}{tag}{TAG_FEED_SUFFIX}"),
            Route::Feed {
                kind: FeedKind::Atom,
                tag: None,
            } => ATOM_PATH.into(),
            Route::Feed {
                kind: FeedKind::Rss,
                tag: None,
            } => RSS_PATH.into(),
            Route::Feed {
                kind: FeedKind::Json,
                tag: None,
            } => JSON_FEED_PATH.into(),
            Route::Sitemap => SITEMAP_PATH.into(),
            Route::SitemapPart { part } => {
                format!("{SITEMAP_PART_PREFIX}{part}{SITEMAP_PART_SUFFIX}")
            }
            Route::Robots => ROBOTS_PATH.into(),
            Route::Stylesheet => STYLESHEET_PATH.into(),
            Route::Favicon => FAVICON_PATH.into(),
            Route::Manifest => MANIFEST_PATH.into(),
            Route::Search => SEARCH_PATH.into(),
            Route::OpenSearch => OPENSEARCH_PATH.into(),
            Route::File { name } => format!("{}{name}", kv::FILE_URL_PREFIX),
            Route::Preview { token } => preview_path(token),
            Route::Redirect { location } => location.clone(),
            Route::NotFound | Route::MethodNotAllowed => return None,
        })
    }

    /// The path of a page route: for the routes the code names itself, which always have one.
    pub fn href(&self) -> String {
        self.path().expect("a page route has a path")
    }
}

/// [`Route::Post`]'s path, for the links every list of posts writes (without a `Route`).
pub fn post_path(slug: &str) -> String {
    format!("{POSTS_PREFIX}{slug}")
}

/// [`Route::Preview`]'s path: what `blog preview` prints, after the site's address.
pub fn preview_path(token: &str) -> String {
    format!("{PREVIEW_PREFIX}{token}")
}

/// [`Route::ReadsBadge`]'s path.
pub fn reads_badge_path(slug: &str) -> String {
    format!("{POSTS_PREFIX}{slug}{READS_BADGE_SUFFIX}")
}

/// [`Route::ReadsText`]'s path.
pub fn reads_text_path(slug: &str) -> String {
    format!("{POSTS_PREFIX}{slug}{READS_TEXT_SUFFIX}")
}

/// [`Route::Series`]'s path.
pub fn series_path(slug: &str) -> String {
    format!("{SERIES_PREFIX}{slug}")
}

/// [`Route::SeriesFeed`]'s path.
pub fn series_feed_path(slug: &str) -> String {
    format!("{SERIES_PREFIX}{slug}{TAG_FEED_SUFFIX}")
}

/// [`Route::Tag`]'s path, first page.
pub fn tag_path(slug: &str) -> String {
    format!("{TAGS_PREFIX}{slug}")
}

/// [`Route::Tag`]'s path: `/tags/{slug}`, then `/tags/{slug}/page/{n}` (as tags are written).
pub fn tag_page_path(slug: &str, page: usize) -> String {
    match page {
        0 | 1 => tag_path(slug),
        n => format!("{TAGS_PREFIX}{slug}{PAGE_SEGMENT}{n}"),
    }
}

/// [`Route::Year`]'s path: `/2026/`, then `/2026/page/2/`.
pub fn year_path(year: i64, page: usize) -> String {
    match page {
        0 | 1 => format!("/{year}/"),
        n => format!("/{year}{PAGE_SEGMENT}{n}/"),
    }
}

/// A page number as a path writes it: digits, no leading zero, at least 1.
fn page_number(segment: &str) -> Option<usize> {
    if segment.is_empty() || segment.len() > 6 || segment.starts_with('0') {
        return None;
    }
    segment
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| segment.parse().ok())
        .flatten()
}

/// A redirect to a page.
fn redirect(to: Route) -> Route {
    Route::Redirect {
        location: to.href(),
    }
}

/// Resolves a request. `path` is the URL path as received (percent-encoded, no query).
pub fn resolve(method: &str, path: &str) -> Route {
    if method != "GET" && method != "HEAD" {
        return Route::MethodNotAllowed;
    }
    match path {
        INDEX_PATH => return Route::Index,
        STYLESHEET_PATH => return Route::Stylesheet,
        ATOM_PATH | "/atom.xml" => {
            return Route::Feed {
                kind: FeedKind::Atom,
                tag: None,
            }
        }
        RSS_PATH => {
            return Route::Feed {
                kind: FeedKind::Rss,
                tag: None,
            }
        }
        JSON_FEED_PATH => {
            return Route::Feed {
                kind: FeedKind::Json,
                tag: None,
            }
        }
        SITEMAP_PATH => return Route::Sitemap,
        ROBOTS_PATH => return Route::Robots,
        FAVICON_PATH => return Route::Favicon,
        "/favicon.ico" => return redirect(Route::Favicon),
        MANIFEST_PATH => return Route::Manifest,
        SEARCH_PATH => return Route::Search,
        "/search/" => return redirect(Route::Search),
        OPENSEARCH_PATH => return Route::OpenSearch,
        crate::stats::STATS_PATH => return Route::Stats,
        TAGS_PATH => return Route::Tags,
        ARCHIVE_PATH => return Route::Archive,
        "/archive/" => return redirect(Route::Archive),
        "/tags/" => return redirect(Route::Tags),
        "/index.html" | "/posts" | "/posts/" => return redirect(Route::Index),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix(TAGS_PREFIX) {
        return tag_route(rest);
    }
    if let Some(rest) = path.strip_prefix(SERIES_PREFIX) {
        return series_route(rest);
    }
    if let Some(route) = year_route(path) {
        return route;
    }
    if let Some(part) = path
        .strip_prefix(SITEMAP_PART_PREFIX)
        .and_then(|rest| rest.strip_suffix(SITEMAP_PART_SUFFIX))
        .and_then(page_number)
    {
        return Route::SitemapPart { part };
    }
    if let Some(token) = path.strip_prefix(PREVIEW_PREFIX) {
        return if crate::preview::is_token(token) {
            Route::Preview {
                token: token.into(),
            }
        } else {
            Route::NotFound
        };
    }
    if let Some(name) = path.strip_prefix(kv::FILE_URL_PREFIX) {
        // Only a well-formed name ever reaches KV.
        return if kv::is_file_name(name) {
            Route::File { name: name.into() }
        } else {
            Route::NotFound
        };
    }
    let Some(rest) = path.strip_prefix(POSTS_PREFIX) else {
        return Route::NotFound;
    };
    if let Some(segment) = rest.strip_suffix(READS_BADGE_SUFFIX) {
        return match percent_decode(segment) {
            Some(slug) if validate_slug(&slug).is_ok() => Route::ReadsBadge { slug },
            _ => Route::NotFound,
        };
    }
    if let Some(segment) = rest.strip_suffix(READS_TEXT_SUFFIX) {
        return match percent_decode(segment) {
            Some(slug) if validate_slug(&slug).is_ok() => Route::ReadsText { slug },
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
        return Route::Redirect {
            location: format!("{POSTS_PREFIX}{segment}"),
        };
    }
    Route::Post { slug }
}

/// `/{yyyy}/` and `/{yyyy}/page/{n}/`, and the spellings that redirect to them; `None` for
/// any other path (an alias such as `/2019/01/old.html` is looked up as a path no page has).
fn year_route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix('/')?;
    let digits = rest.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = digits.parse().ok().filter(|y| YEARS.contains(y))?;
    let rest = &rest[4..];
    let page = match rest {
        "" => return Some(redirect(Route::Year { year, page: 1 })),
        "/" => 1,
        _ => {
            let number = rest.strip_prefix(PAGE_SEGMENT)?;
            let (number, slash) = match number.strip_suffix('/') {
                Some(number) => (number, true),
                None => (number, false),
            };
            let page = page_number(number)?;
            if page == 1 || !slash {
                return Some(redirect(Route::Year { year, page }));
            }
            page
        }
    };
    Some(Route::Year { year, page })
}

/// `/series/{slug}` and its feed; a series' segment is spelled as a tag's.
fn series_route(rest: &str) -> Route {
    if rest.contains(PAGE_SEGMENT) {
        return Route::NotFound;
    }
    match tag_route(rest) {
        Route::Tag { slug, page: 1 } => Route::Series { slug },
        Route::Feed {
            tag: Some(slug), ..
        } => Route::SeriesFeed { slug },
        Route::Redirect { .. } => Route::Redirect {
            location: format!("{SERIES_PREFIX}{}", rest.trim_end_matches('/')),
        },
        _ => Route::NotFound,
    }
}

fn tag_route(rest: &str) -> Route {
    // `/tags/{slug}/page/{n}`: a later page of the tag; page 1 is the tag's own path.
    if let Some((segment, number)) = rest.split_once(PAGE_SEGMENT) {
        let Some(page) = page_number(number.strip_suffix('/').unwrap_or(number)) else {
            return Route::NotFound;
        };
        return match tag_route(segment) {
            Route::Tag { slug, .. } if page == 1 || number.ends_with('/') => {
                redirect(Route::Tag { slug, page })
            }
            Route::Tag { slug, .. } => Route::Tag { slug, page },
            _ => Route::NotFound,
        };
    }
    let (segment, feed) = match rest.strip_suffix(TAG_FEED_SUFFIX) {
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
    if slug.is_empty()
        || slug.len() > 100
        || !slug
            .chars()
            .all(|c| c == '-' || (c.is_alphanumeric() && !c.is_uppercase()))
    {
        return Route::NotFound;
    }
    match (feed, trailing_slash) {
        (true, _) => Route::Feed {
            kind: FeedKind::Atom,
            tag: Some(slug),
        },
        (false, true) => Route::Redirect {
            location: format!("{TAGS_PREFIX}{segment}"),
        },
        (false, false) => Route::Tag { slug, page: 1 },
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
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where the path and the query (without its `?`) sit in an absolute URL's text.
pub fn url_parts(url: &str) -> (Range<usize>, Option<Range<usize>>) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let start = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    let end = url[start..].find('#').map_or(url.len(), |i| start + i);
    match url[start..end].find('?') {
        Some(q) => (start..start + q, Some(start + q + 1..end)),
        None => (start..end, None),
    }
}

/// The host of a URL as the runtime serialises a request's (scheme, `//`, host, port):
/// without userinfo or port, `None` when empty. The runtime's serialisation has already
/// lower-cased and punycoded it, so no parser is needed to read it.
pub fn url_host(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let rest = &url[after_scheme..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => &host_port[..v6.find(']').map_or(host_port.len(), |i| i + 2)],
        None => host_port.split_once(':').map_or(host_port, |(h, _)| h),
    };
    (!host.is_empty()).then_some(host)
}

/// Whether a path is already what a WHATWG URL parser makes of it: it starts with `/`, has
/// only characters the parser leaves alone, and no `.` or `..` segment for it to resolve.
/// Any other path must go through a parser before it is routed.
pub fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// Whether a query has `key=value` among its `&`-separated pairs, exactly as written.
pub fn query_has(query: &str, key: &str, value: &str) -> bool {
    query.split('&').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(k, v)| k == key && v == value)
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_urls_host_is_read_without_its_port_or_userinfo() {
        assert_eq!(
            url_host("https://blog.example/posts/a"),
            Some("blog.example")
        );
        assert_eq!(url_host("http://127.0.0.1:8787/"), Some("127.0.0.1"));
        assert_eq!(
            url_host("https://u:p@host.workers.dev:443?q"),
            Some("host.workers.dev")
        );
        assert_eq!(url_host("http://[::1]:8787/x"), Some("[::1]"));
        assert_eq!(url_host("http:///path"), None);
        assert_eq!(url_host("no scheme"), None);
    }
    use super::*;

    #[test]
    fn a_preview_is_a_token_of_its_form_and_nothing_else() {
        let token = "0123456789abcdef0123456789abcdef0123456789abcdef";
        let page = Route::Preview {
            token: token.into(),
        };
        assert_eq!(page.href(), format!("/preview/{token}"));
        assert_eq!(resolve("GET", &page.href()), page);
        assert_eq!(resolve("HEAD", &page.href()), page);
        for bad in [
            "/preview/".to_string(),
            "/preview".to_string(),
            format!("/preview/{token}/"),
            format!("/preview/{}", &token[1..]),
            format!("/preview/{}", token.to_uppercase()),
            format!("/preview/{token}/x"),
            "/preview/%2e%2e".to_string(),
        ] {
            assert_eq!(resolve("GET", &bad), Route::NotFound, "{bad}");
        }
    }

    #[test]
    fn a_series_has_a_page_and_an_atom_feed() {
        let page = Route::Series {
            slug: "building-a-mini-vercel".into(),
        };
        assert_eq!(page.href(), "/series/building-a-mini-vercel");
        assert_eq!(resolve("GET", &page.href()), page);
        let feed = Route::SeriesFeed {
            slug: "building-a-mini-vercel".into(),
        };
        assert_eq!(feed.href(), "/series/building-a-mini-vercel/feed.xml");
        assert_eq!(resolve("GET", &feed.href()), feed);
        assert_eq!(
            resolve("GET", "/series/building-a-mini-vercel/"),
            Route::Redirect {
                location: "/series/building-a-mini-vercel".into()
            }
        );
        for bad in [
            "/series/",
            "/series/Upper",
            "/series/a/page/2",
            "/series/a/b",
        ] {
            assert_eq!(resolve("GET", bad), Route::NotFound, "{bad}");
        }
    }

    /// Every page's path is one the table routes back to that page, so a link the site
    /// writes never 404s or redirects.
    #[test]
    fn every_page_path_resolves_to_its_page() {
        let pages = [
            Route::Index,
            Route::Post {
                slug: "a-post_1.0".into(),
            },
            Route::Post {
                slug: "café".into(),
            },
            Route::ReadsBadge {
                slug: "a-post".into(),
            },
            Route::ReadsText {
                slug: "a-post".into(),
            },
            Route::Stats,
            Route::Preview {
                token: "ab".repeat(crate::preview::TOKEN_BYTES),
            },
            Route::Tags,
            Route::Tag {
                slug: "cloudflare-workers".into(),
                page: 1,
            },
            Route::Tag {
                slug: "rust".into(),
                page: 12,
            },
            Route::Archive,
            Route::Year {
                year: 2026,
                page: 1,
            },
            Route::Year {
                year: 1999,
                page: 3,
            },
            Route::Feed {
                kind: FeedKind::Atom,
                tag: None,
            },
            Route::Feed {
                kind: FeedKind::Rss,
                tag: None,
            },
            Route::Feed {
                kind: FeedKind::Json,
                tag: None,
            },
            Route::Feed {
                kind: FeedKind::Atom,
                tag: Some("rust".into()),
            },
            Route::Sitemap,
            Route::SitemapPart { part: 1 },
            Route::SitemapPart { part: 20 },
            Route::Robots,
            Route::Stylesheet,
            Route::Favicon,
            Route::Manifest,
            Route::Search,
            Route::OpenSearch,
            Route::File {
                name: "0123456789abcdef0123456789abcdef.png".into(),
            },
        ];
        for page in pages {
            let path = page.href();
            let encoded: String = path
                .chars()
                .map(|c| {
                    if c.is_ascii() {
                        c.to_string()
                    } else {
                        c.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
                    }
                })
                .collect();
            assert_eq!(resolve("GET", &encoded), page, "{path}");
        }
        assert_eq!(Route::NotFound.path(), None);
        assert_eq!(Route::MethodNotAllowed.path(), None);
        let to = Route::Redirect {
            location: "/tags".into(),
        };
        assert_eq!(to.path().as_deref(), Some("/tags"));
    }

    #[test]
    fn redirects_name_the_canonical_path() {
        assert_eq!(
            resolve("GET", "/favicon.ico"),
            Route::Redirect {
                location: Route::Favicon.href()
            }
        );
        assert_eq!(
            resolve("GET", "/tags/"),
            Route::Redirect {
                location: Route::Tags.href()
            }
        );
        assert_eq!(
            resolve("GET", "/index.html"),
            Route::Redirect {
                location: Route::Index.href()
            }
        );
    }

    #[test]
    fn url_parts_find_path_and_query() {
        let url = "https://example.com:8787/posts/a-b?v=1f&x=2#top";
        let (path, query) = url_parts(url);
        assert_eq!(&url[path], "/posts/a-b");
        assert_eq!(&url[query.unwrap()], "v=1f&x=2");
        let url = "http://127.0.0.1:8787/";
        assert_eq!(&url[url_parts(url).0], "/");
        assert!(url_parts(url).1.is_none());
        assert!(query_has("a=1&v=1f", "v", "1f"));
        assert!(!query_has("v=1f0", "v", "1f"));
        assert!(!query_has("", "v", "1f"));
    }

    /// The edge routes a plain path as it is written and any other through `url`'s parser:
    /// for the plain ones, the parser must agree.
    #[test]
    fn plain_paths_are_what_a_url_parser_makes_of_them() {
        for path in [
            "/",
            "/posts/a-b_c.d~e",
            "/tags/rust/feed.xml",
            "/files/0123abcd.png",
            "/posts/x/",
            "/a..b/.c",
        ] {
            assert!(is_plain_path(path), "{path}");
            let parsed = url::Url::parse(&format!("https://example.com{path}?q")).unwrap();
            assert_eq!(parsed.path(), path);
        }
        for path in [
            "/posts/../x",
            "/a/./b",
            "/a/..",
            "/%2e%2e/x",
            "/a%20b",
            "/a\\b",
            "/a b",
            "/é",
            "/a|b",
            "",
        ] {
            assert!(!is_plain_path(path), "{path}");
        }
    }

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
        let feed = |kind, tag: Option<&str>| Route::Feed {
            kind,
            tag: tag.map(String::from),
        };
        assert_eq!(resolve("GET", "/feed.xml"), feed(FeedKind::Atom, None));
        assert_eq!(resolve("GET", "/rss.xml"), feed(FeedKind::Rss, None));
        assert_eq!(resolve("GET", "/feed.json"), feed(FeedKind::Json, None));
        assert_eq!(
            resolve("GET", "/tags/rust/feed.xml"),
            feed(FeedKind::Atom, Some("rust"))
        );
        assert_eq!(resolve("GET", "/tags"), Route::Tags);
        assert_eq!(
            resolve("GET", "/tags/go"),
            Route::Tag {
                slug: "go".into(),
                page: 1
            }
        );
        assert_eq!(
            resolve("GET", "/tags/go/"),
            Route::Redirect {
                location: "/tags/go".into()
            }
        );
        assert_eq!(resolve("GET", "/sitemap.xml"), Route::Sitemap);
        assert_eq!(resolve("GET", "/robots.txt"), Route::Robots);
        assert_eq!(resolve("GET", "/favicon.svg"), Route::Favicon);
        assert_eq!(resolve("GET", "/site.webmanifest"), Route::Manifest);
        for bad in [
            "/tags/Go",
            "/tags/a/b",
            "/tags/%2e%2e",
            "/tags/",
            "/tags//feed.xml",
        ] {
            assert!(
                matches!(
                    resolve("GET", bad),
                    Route::NotFound | Route::Redirect { .. }
                ),
                "{bad}"
            );
        }
        assert_eq!(resolve("GET", "/tags/a/b"), Route::NotFound);
    }

    #[test]
    fn routes_the_archive_years_and_later_pages() {
        let to = |l: &str| Route::Redirect { location: l.into() };
        let year = |year, page| Route::Year { year, page };
        let tag = |page| Route::Tag {
            slug: "go".into(),
            page,
        };
        assert_eq!(resolve("GET", "/archive"), Route::Archive);
        assert_eq!(resolve("GET", "/archive/"), to("/archive"));
        assert_eq!(resolve("GET", "/2026/"), year(2026, 1));
        assert_eq!(resolve("GET", "/2026"), to("/2026/"));
        assert_eq!(resolve("GET", "/2026/page/2/"), year(2026, 2));
        assert_eq!(resolve("GET", "/2026/page/2"), to("/2026/page/2/"));
        assert_eq!(resolve("GET", "/2026/page/1/"), to("/2026/"));
        assert_eq!(resolve("GET", "/tags/go/page/3"), tag(3));
        assert_eq!(resolve("GET", "/tags/go/page/3/"), to("/tags/go/page/3"));
        assert_eq!(resolve("GET", "/tags/go/page/1"), to("/tags/go"));
        assert_eq!(
            resolve("GET", "/sitemap-2.xml"),
            Route::SitemapPart { part: 2 }
        );
        for not_a_page in [
            "/2026/page/0/",
            "/2026/page/02/",
            "/2026/page/x/",
            "/2026/page/",
            "/0999/",
            "/20261/",
            "/2026/01/old-post.html",
            "/2026x/",
            "/tags/go/page/0",
            "/tags/go/page/",
            "/tags/go/page/2/feed.xml",
            "/tags/Go/page/2",
            "/sitemap-0.xml",
            "/sitemap-.xml",
            "/sitemap-1.xml/",
        ] {
            assert_eq!(resolve("GET", not_a_page), Route::NotFound, "{not_a_page}");
        }
    }

    #[test]
    fn routes_read_count_badges() {
        assert_eq!(
            resolve("GET", "/posts/a-b/reads.svg"),
            Route::ReadsBadge { slug: "a-b".into() }
        );
        assert_eq!(resolve("GET", "/posts/../reads.svg"), Route::NotFound);
        assert_eq!(resolve("GET", "/posts/a/b/reads.svg"), Route::NotFound);
        assert_eq!(
            resolve("GET", "/posts/a-b/reads.txt"),
            Route::ReadsText { slug: "a-b".into() }
        );
        assert_eq!(resolve("GET", "/posts/a/b/reads.txt"), Route::NotFound);
    }

    #[test]
    fn routes_files_by_their_content_addressed_name_only() {
        let name = "0123456789abcdef0123456789abcdef.png";
        assert_eq!(
            resolve("GET", &format!("/files/{name}")),
            Route::File { name: name.into() }
        );
        assert_eq!(
            resolve("HEAD", &format!("/files/{name}")),
            Route::File { name: name.into() }
        );
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
        assert_eq!(
            resolve("POST", &format!("/files/{name}")),
            Route::MethodNotAllowed
        );
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
            "/nope",
            "/posts/a/b",
            "/posts/%2e%2e",
            "/posts/..",
            "/posts/a%2Fb",
            "/posts/%ff",
            "/posts/%zz",
            "/posts/%",
            "//posts/x",
            "/posts//x",
            "/POSTS/x",
        ] {
            assert_eq!(resolve("GET", path), Route::NotFound, "{path}");
        }
        assert_eq!(
            resolve("GET", &format!("/posts/{}", "a".repeat(16 * 1024))),
            Route::NotFound
        );
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
