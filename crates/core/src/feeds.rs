//! Syndication: Atom, RSS and JSON Feed documents carrying full post content, plus the sitemap and robots.txt.
//!
//! Everything here is pure string building so it runs the same on the host and in the Worker.
//! The XML is written by hand: the documents are small and fixed in shape, and one escaping
//! function (`push_xml`) is easier to audit than a dependency.
//!
//! Callers pass entries newest first and already cut to `settings.feed_posts`; the builders
//! emit them in the order given. Each entry's HTML must already have absolute links (see
//! [`absolutize`]): feed readers show content away from the site, with nothing to resolve
//! a relative URL against.

use crate::content::{tag_slug, PostMeta, PostRecord, SiteRecord};
use crate::date::{self, Timestamp};
use crate::html::escape_xml_into;
use crate::lists::{ListRecord, TagsRecord};

use crate::routes::{self, FeedKind, Route};
use crate::settings::Settings;
use serde::Serialize;
use std::borrow::Cow;

pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const JSON_FEED_TYPE: &str = "application/feed+json; charset=utf-8";
pub const SITEMAP_TYPE: &str = "application/xml; charset=utf-8";
pub const ROBOTS_TYPE: &str = "text/plain; charset=utf-8";

/// One feed item: a post's metadata and its full rendered HTML content, with every link and
/// image URL already absolute.
#[derive(Debug, Clone, Copy)]
pub struct FeedEntry<'a> {
    pub meta: &'a PostMeta,
    pub content_html: &'a str,
}

/// What a feed is about: the whole site, or one tag. Build one per format, since `self_path`
/// names the document itself.
#[derive(Debug, Clone)]
pub struct FeedInfo<'a> {
    pub title: String,
    /// This document's own path, such as `/feed.xml` or `/tags/rust/feed.xml`.
    pub self_path: String,
    /// The HTML page the feed mirrors, such as `/` or `/tags/rust`.
    pub home_path: String,
    pub settings: &'a Settings,
}

impl FeedInfo<'_> {
    fn url(&self, path: &str) -> String {
        absolute_url(self.settings, path)
    }

    fn author(&self) -> &str {
        // Atom requires an author name: fall back to the site's name rather than emit an empty one.
        let author = self.settings.author.trim();
        if author.is_empty() {
            &self.settings.title
        } else {
            author
        }
    }
}

/// The instant a feed last changed: its newest entry, or the epoch for an empty feed so the
/// document stays byte-for-byte stable until a post appears.
fn updated(entries: &[FeedEntry]) -> Timestamp {
    entries.iter().map(|e| e.meta.modified()).max().unwrap_or(0)
}

/// Room for the escaped content (escaping grows HTML by about a quarter) and each entry's metadata.
fn xml_capacity(entries: &[FeedEntry]) -> usize {
    1024 + entries
        .iter()
        .map(|e| e.content_html.len() * 5 / 4 + 512)
        .sum::<usize>()
}

/// An Atom 1.0 (RFC 4287) feed of `entries`, which come newest first and are already limited to
/// `settings.feed_posts`. Entry ids are the absolute post URLs, so they stay stable across
/// rebuilds and match the RSS guid and JSON Feed id.
pub fn atom(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let settings = info.settings;
    let mut out = String::with_capacity(xml_capacity(entries));
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"",
    );
    if !settings.language.is_empty() {
        out.push_str(" xml:lang=\"");
        push_xml(&mut out, &settings.language);
        out.push('"');
    }
    out.push_str(">\n");
    element(&mut out, 1, "title", &info.title);
    if !settings.tagline.is_empty() {
        element(&mut out, 1, "subtitle", &settings.tagline);
    }
    let self_url = info.url(&info.self_path);
    link(&mut out, 1, "self", "application/atom+xml", &self_url);
    link(
        &mut out,
        1,
        "alternate",
        "text/html",
        &info.url(&info.home_path),
    );
    element(&mut out, 1, "id", &self_url);
    element(
        &mut out,
        1,
        "updated",
        &date::format_rfc3339(updated(entries)),
    );
    out.push_str("  <author>\n");
    element(&mut out, 2, "name", info.author());
    element(&mut out, 2, "uri", &info.url(routes::INDEX_PATH));
    out.push_str("  </author>\n");
    for entry in entries {
        let meta = entry.meta;
        let url = info.url(&meta.url());
        let when = meta.iso_date();
        out.push_str("  <entry>\n");
        element(&mut out, 2, "title", &meta.title);
        link(&mut out, 2, "alternate", "text/html", &url);
        element(&mut out, 2, "id", &url);
        element(&mut out, 2, "published", &when);
        // Atom requires `updated`: the post's last change of text, else its publication.
        element(&mut out, 2, "updated", &meta.iso_modified());
        if !meta.summary.is_empty() {
            element(&mut out, 2, "summary", &meta.summary);
        }
        for tag in &meta.tags {
            out.push_str("    <category term=\"");
            push_xml(&mut out, tag);
            out.push_str("\"/>\n");
        }
        out.push_str("    <content type=\"html\">");
        push_xml(&mut out, entry.content_html);
        out.push_str("</content>\n  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// An RSS 2.0 feed of `entries` (newest first, already limited to `settings.feed_posts`), with
/// `atom:link rel="self"`, the summary in `<description>` and the full post in `<content:encoded>`.
pub fn rss(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let settings = info.settings;
    let mut out = String::with_capacity(xml_capacity(entries));
    out.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" ",
        "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" ",
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n",
        "<channel>\n"
    ));
    element(&mut out, 1, "title", &info.title);
    element(&mut out, 1, "link", &info.url(&info.home_path));
    // RSS requires a channel description; the title is the best stand-in when there is no tagline.
    let description = if settings.tagline.is_empty() {
        &info.title
    } else {
        &settings.tagline
    };
    element(&mut out, 1, "description", description);
    if !settings.language.is_empty() {
        element(&mut out, 1, "language", &settings.language);
    }
    out.push_str("  <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
    push_xml(&mut out, &info.url(&info.self_path));
    out.push_str("\"/>\n");
    element(&mut out, 1, "lastBuildDate", &rfc2822(updated(entries)));
    for entry in entries {
        let meta = entry.meta;
        let url = info.url(&meta.url());
        out.push_str("  <item>\n");
        element(&mut out, 2, "title", &meta.title);
        element(&mut out, 2, "link", &url);
        out.push_str("    <guid isPermaLink=\"true\">");
        push_xml(&mut out, &url);
        out.push_str("</guid>\n");
        element(&mut out, 2, "pubDate", &rfc2822(meta.published));
        // RSS `<author>` must be an email address; Dublin Core's creator takes a name.
        element(&mut out, 2, "dc:creator", info.author());
        for tag in &meta.tags {
            element(&mut out, 2, "category", tag);
        }
        if !meta.summary.is_empty() {
            // `<description>` holds HTML, and the summary is plain text: escape it for HTML
            // first, so `<b>` in a summary shows as written instead of becoming markup.
            element(&mut out, 2, "description", &escape_html(&meta.summary));
        }
        element(&mut out, 2, "content:encoded", entry.content_html);
        out.push_str("  </item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    language: String,
    authors: [JsonAuthor; 1],
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonAuthor {
    name: String,
    url: String,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: String,
    title: String,
    content_html: Cow<'a, str>,
    #[serde(skip_serializing_if = "String::is_empty")]
    summary: String,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
}

/// A JSON Feed 1.1 document of `entries` (newest first, already limited to `settings.feed_posts`).
/// Items inherit the feed's `authors` and `language`.
pub fn json_feed(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let settings = info.settings;
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: strip_control(&info.title),
        home_page_url: info.url(&info.home_path),
        feed_url: info.url(&info.self_path),
        description: strip_control(&settings.tagline),
        language: strip_control(&settings.language),
        authors: [JsonAuthor {
            name: strip_control(info.author()),
            url: info.url(routes::INDEX_PATH),
        }],
        items: entries
            .iter()
            .map(|entry| {
                let meta = entry.meta;
                let url = info.url(&meta.url());
                JsonItem {
                    id: url.clone(),
                    url,
                    title: strip_control(&meta.title),
                    content_html: strip_control_cow(entry.content_html),
                    summary: strip_control(&meta.summary),
                    date_published: meta.iso_date(),
                    date_modified: meta.iso_updated(),
                    tags: meta.tags.iter().map(|t| strip_control(t)).collect(),
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&feed).expect("a tree of strings always serializes to JSON")
}

/// A sitemaps.org 0.9 URL set. `urls` are site paths with an optional last-modified instant;
/// [`sitemap_part`] keeps each set within the protocol's 50,000 URLs.
pub fn sitemap(settings: &Settings, urls: &[(String, Option<i64>)]) -> String {
    let mut out = String::with_capacity(128 + urls.len() * 128);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (path, lastmod) in urls {
        out.push_str("  <url>\n");
        element(&mut out, 2, "loc", &absolute_url(settings, path));
        if let Some(ts) = lastmod {
            element(&mut out, 2, "lastmod", &date::format_rfc3339(*ts));
        }
        out.push_str("  </url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

/// robots.txt: every crawler may fetch everything, and the sitemap is named by absolute URL,
/// which is what the robots.txt `Sitemap` line requires.
pub fn robots(settings: &Settings) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        strip_control(&absolute_url(settings, routes::SITEMAP_PATH))
    )
}

/// Makes every relative link and image URL in rendered post HTML absolute against `base_url`,
/// for feed readers that have no page to resolve against.
///
/// Rewrites `href` and `src` attributes inside tags only, so text that merely mentions
/// `href="/x"` (escaped inside `<code>`) is untouched. `/x` resolves against the site root;
/// `x`, `../x`, `?q` and `#fragment` resolve against `page_path` as a browser on that page would;
/// URLs with a scheme (`https:`, `mailto:`, `data:`) are left alone.
pub fn absolutize(html: &str, base_url: &str, page_path: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            let end = rest.find("-->").map_or(rest.len(), |i| i + 3);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let len = rewrite_tag(rest, base, page_path, &mut out);
            rest = &rest[len..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Copies one start tag (which begins at `tag[0] == '<'`) into `out`, resolving its URL
/// attributes; returns how many bytes of `tag` it consumed.
fn rewrite_tag(tag: &str, base: &str, page_path: &str, out: &mut String) -> usize {
    let bytes = tag.as_bytes();
    let mut i = 1;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/'
    {
        i += 1;
    }
    let mut copied = 0;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            let end = (i + 1).min(bytes.len());
            out.push_str(&tag[copied..end]);
            return end;
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let name = &tag[name_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let (value_start, value_end, quoted) = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = tag[i + 1..]
                    .find(q as char)
                    .map_or(bytes.len(), |n| i + 1 + n);
                (i + 1, end, true)
            }
            _ => {
                let mut end = i;
                while end < bytes.len() && !bytes[end].is_ascii_whitespace() && bytes[end] != b'>' {
                    end += 1;
                }
                (i, end, false)
            }
        };
        i = if quoted {
            (value_end + 1).min(bytes.len())
        } else {
            value_end
        };
        let value = &tag[value_start..value_end];
        let resolved = if name.eq_ignore_ascii_case("href") || name.eq_ignore_ascii_case("src") {
            resolve(value, base, page_path)
        } else if name.eq_ignore_ascii_case("srcset") {
            resolve_srcset(value, base, page_path)
        } else {
            None
        };
        if let Some(resolved) = resolved {
            if quoted {
                out.push_str(&tag[copied..value_start]);
                out.push_str(&resolved);
                copied = value_end;
            } else {
                // An unquoted value gains a quote so the base URL cannot end the attribute early.
                out.push_str(&tag[copied..value_start]);
                out.push('"');
                out.push_str(&resolved.replace('"', "&quot;"));
                out.push('"');
                copied = value_end;
            }
        }
    }
}

/// A `srcset` (`url 480w, url 960w`) with each candidate's URL made absolute.
fn resolve_srcset(value: &str, base: &str, page_path: &str) -> Option<String> {
    let candidates: Vec<String> = value
        .split(',')
        .map(|candidate| {
            let candidate = candidate.trim();
            let (url, descriptor) = candidate
                .split_once(|c: char| c.is_ascii_whitespace())
                .unwrap_or((candidate, ""));
            let url = resolve(url, base, page_path).unwrap_or_else(|| url.to_string());
            match descriptor.trim() {
                "" => url,
                d => format!("{url} {d}"),
            }
        })
        .collect();
    Some(candidates.join(", "))
}

/// The absolute form of one attribute value (still attribute-escaped), or `None` to leave it.
fn resolve(reference: &str, base: &str, page_path: &str) -> Option<String> {
    let reference = reference.trim_matches(|c: char| c.is_ascii_whitespace());
    if has_scheme(reference) {
        return None;
    }
    let base = escape_attr(base);
    let page = escape_attr(page_path.split(['?', '#']).next().unwrap_or(page_path));
    if let Some(rest) = reference.strip_prefix("//") {
        let scheme = base.split_once(':').map_or("https", |(s, _)| s);
        return Some(format!("{scheme}://{rest}"));
    }
    if reference.is_empty() || reference.starts_with(['#', '?']) {
        return Some(format!("{base}{page}{reference}"));
    }
    let merged = if reference.starts_with('/') {
        reference.to_string()
    } else {
        let dir = page.rfind('/').map_or("/", |i| &page[..=i]);
        let dir = if dir.starts_with('/') {
            dir.to_string()
        } else {
            format!("/{dir}")
        };
        format!("{dir}{reference}")
    };
    let split = merged.find(['?', '#']).unwrap_or(merged.len());
    let (path, tail) = merged.split_at(split);
    Some(format!("{base}{}{tail}", remove_dot_segments(path)))
}

/// `scheme:` per RFC 3986: a letter, then letters, digits, `+`, `-` or `.`, then a colon.
fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// RFC 3986 §5.2.4 on an absolute path: `/posts/../img/a.png` -> `/img/a.png`.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {}
            ".." => {
                kept.pop();
            }
            other => {
                kept.push(other);
                continue;
            }
        }
        // A trailing `.` or `..` names a directory: keep the slash.
        if last {
            kept.push("");
        }
    }
    format!("/{}", kept.join("/"))
}

/// Removes characters not allowed in XML 1.0 (control characters except tab, newline,
/// carriage return; U+FFFE/U+FFFF). One stray byte would make a strict parser reject the
/// whole feed, and readers cannot show these characters anyway.
pub fn strip_control(text: &str) -> String {
    strip_control_cow(text).into_owned()
}

fn strip_control_cow(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_disallowed) {
        Cow::Owned(text.chars().filter(|&c| !is_disallowed(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

fn is_disallowed(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Appends `text` as XML character data or an attribute value: escaped, and stripped of
/// characters XML cannot carry. Escaping `>` too keeps `]]>` out of character data.
fn push_xml(out: &mut String, text: &str) {
    escape_xml_into(out, &strip_control_cow(text));
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_xml(&mut out, text);
    out
}

/// Escapes what could end or confuse a double-quoted HTML attribute value.
fn escape_attr(text: &str) -> Cow<'_, str> {
    if text.contains(['&', '"', '<', '>']) {
        Cow::Owned(escape_html(text))
    } else {
        Cow::Borrowed(text)
    }
}

/// `<name>text</name>` on its own line, indented two spaces per level.
fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_xml(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn link(out: &mut String, depth: usize, rel: &str, kind: &str, href: &str) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str("<link rel=\"");
    out.push_str(rel);
    out.push_str("\" type=\"");
    out.push_str(kind);
    out.push_str("\" href=\"");
    push_xml(out, href);
    out.push_str("\"/>\n");
}

/// The absolute URL of a site path, as a URI: slugs may be non-ASCII (`/posts/café`), and
/// feed ids, RSS links and sitemap locations must be plain ASCII URIs.
fn absolute_url(settings: &Settings, path: &str) -> String {
    iri_to_uri(&settings.absolute(path))
}

/// RFC 3987 §3.1: percent-encodes the bytes a URI cannot hold. Existing `%XX` escapes and
/// reserved characters are kept, so an already-encoded URL passes through unchanged.
fn iri_to_uri(iri: &str) -> String {
    let mut out = String::with_capacity(iri.len());
    for &b in iri.as_bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sun, 14 Jun 2026 00:00:00 +0000`: the RFC 2822 date RSS requires, in UTC.
fn rfc2822(ts: Timestamp) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let (y, m, d) = date::civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    format!(
        "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} +0000",
        MONTHS[m as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// What a feed lists and what it is called: the whole site, or the posts of one tag.
#[derive(Debug, Clone)]
pub struct FeedPlan<'a> {
    pub kind: FeedKind,
    /// Newest first, at most `settings.feed_posts`.
    pub posts: Vec<&'a PostMeta>,
    pub info: FeedInfo<'a>,
}

/// The feed a route asks for, from its list's newest posts (the site's, or the tag's);
/// `None` for a tag that none of them carries.
pub fn plan<'a>(
    settings: &'a Settings,
    posts: Vec<&'a PostMeta>,
    kind: FeedKind,
    tag: Option<&str>,
) -> Option<FeedPlan<'a>> {
    let self_path = Route::Feed {
        kind,
        tag: tag.map(str::to_string),
    }
    .href();
    let (title, home_path): (String, String) = match tag {
        None => (settings.title.clone(), routes::INDEX_PATH.into()),
        Some(tag) => {
            let name = posts
                .iter()
                .flat_map(|p| &p.tags)
                .find(|t| tag_slug(t) == tag)?;
            let title = format!("{} · {name}", settings.title);
            (title, routes::tag_path(tag))
        }
    };
    let posts = posts.into_iter().take(settings.feed_posts).collect();
    Some(FeedPlan {
        kind,
        posts,
        info: FeedInfo {
            title,
            self_path,
            home_path,
            settings,
        },
    })
}

/// A series' Atom feed, from its parts newest first; `None` when none is out.
pub fn series_plan<'a>(
    settings: &'a Settings,
    posts: Vec<&'a PostMeta>,
    slug: &str,
) -> Option<FeedPlan<'a>> {
    let name = posts.iter().find_map(|p| p.series.as_ref())?;
    Some(FeedPlan {
        kind: FeedKind::Atom,
        info: FeedInfo {
            title: format!("{} · {name}", settings.title),
            self_path: routes::series_feed_path(slug),
            home_path: routes::series_path(slug),
            settings,
        },
        posts: posts.into_iter().take(settings.feed_posts).collect(),
    })
}

/// A feed document, and whether it may be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    pub body: String,
    pub content_type: &'static str,
    /// Every entry is the version the index lists: only then may the feed be kept, since its
    /// key names the index's version.
    pub complete: bool,
}

/// The feed of `plan` from the records KV holds: `records[i]` is `plan.posts[i]`'s, `None`
/// when it is missing or unreadable. Such a post is left out rather than failing the feed;
/// each entry comes from its own record, so its title and its content are one version.
pub fn assemble(plan: &FeedPlan, records: &[Option<PostRecord>]) -> Assembled {
    let settings = plan.info.settings;
    let complete = records.len() == plan.posts.len()
        && plan
            .posts
            .iter()
            .zip(records)
            .all(|(meta, record)| record.as_ref().is_some_and(|r| r.meta.hash == meta.hash));
    let records: Vec<&PostRecord> = records.iter().flatten().collect();
    let rendered: Vec<String> = records
        .iter()
        .map(|record| absolutize(&record.html, &settings.base_url, &record.meta.url()))
        .collect();
    let entries: Vec<FeedEntry<'_>> = records
        .iter()
        .zip(&rendered)
        .map(|(record, html)| FeedEntry {
            meta: &record.meta,
            content_html: html,
        })
        .collect();
    let (body, content_type) = match plan.kind {
        FeedKind::Atom => (atom(&plan.info, &entries), ATOM_TYPE),
        FeedKind::Rss => (rss(&plan.info, &entries), RSS_TYPE),
        FeedKind::Json => (json_feed(&plan.info, &entries), JSON_FEED_TYPE),
    };
    Assembled {
        body,
        content_type,
        complete,
    }
}

/// How many URLs one part of the sitemap holds at most: the protocol's limit. The other
/// limit, 50 MB a part, is never the one reached: an entry is at most some 700 bytes (a
/// `base_url` and a slug of bounded length, a date), 35 MB for a full part.
pub const SITEMAP_PART_URLS: usize = 50_000;
/// How many posts one part lists: the first part also lists the site's own pages (the front
/// page, the archive, the tags, each year and each tag), which leaves room for 5,000 of them.
pub const SITEMAP_PART_POSTS: usize = 45_000;

/// How many parts the sitemap has at `now`: one per `per_part` posts
/// ([`SITEMAP_PART_POSTS`]), at least one.
pub fn sitemap_parts(site: &SiteRecord, now: Timestamp, per_part: usize) -> usize {
    site.visible_count(now).div_ceil(per_part.max(1)).max(1)
}

/// The sitemap index (`/sitemap.xml`): one entry per part, dated by the newest post.
pub fn sitemap_index(
    settings: &Settings,
    site: &SiteRecord,
    now: Timestamp,
    per_part: usize,
) -> String {
    let parts = sitemap_parts(site, now, per_part);
    let newest = site.newest_at(now);
    let mut out = String::with_capacity(128 + parts * 160);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for part in 1..=parts {
        out.push_str("  <sitemap>\n");
        let path = Route::SitemapPart { part }.href();
        element(&mut out, 2, "loc", &absolute_url(settings, &path));
        if let Some(ts) = newest {
            element(&mut out, 2, "lastmod", &date::format_rfc3339(ts));
        }
        out.push_str("  </sitemap>\n");
    }
    out.push_str("</sitemapindex>\n");
    out
}

/// The site's own pages, for the first part: the front page, the archive and the tags page
/// (changed with the newest post), each year's first page and every tag, as many as the part
/// has room for beside `posts` of its posts.
fn sitemap_pages(
    site: &SiteRecord,
    tags: &TagsRecord,
    now: Timestamp,
    posts: usize,
) -> Vec<(String, Option<i64>)> {
    let newest = site.newest_at(now);
    let mut urls: Vec<(String, Option<i64>)> = vec![
        (routes::INDEX_PATH.into(), newest),
        (routes::ARCHIVE_PATH.into(), newest),
        (routes::TAGS_PATH.into(), newest),
    ];
    for (year, _) in site.years_at(now) {
        urls.push((routes::year_path(year, 1), None));
    }
    urls.extend(tags.at(now).into_iter().map(|(t, _)| (t.url(), None)));
    urls.truncate(SITEMAP_PART_URLS.saturating_sub(posts));
    urls
}

/// Part `part` (1-based) of the sitemap at `now`, or `None` past the last part: the posts of
/// its page of the sitemap's list (`list`, `per_part` a page), and in the first part the
/// site's own pages, from `tags` (read for that part only).
pub fn sitemap_part(
    settings: &Settings,
    site: &SiteRecord,
    tags: Option<&TagsRecord>,
    list: Option<&ListRecord>,
    part: usize,
    now: Timestamp,
    per_part: usize,
) -> Option<String> {
    if part == 0 || part > sitemap_parts(site, now, per_part) {
        return None;
    }
    let shown = list.and_then(|l| l.page_at(now, per_part, part));
    let posts = shown.map(|s| s.posts).unwrap_or_default();
    let mut urls = match (part, tags) {
        (1, Some(tags)) => sitemap_pages(site, tags, now, posts.len()),
        _ => Vec::new(),
    };
    urls.extend(posts.iter().map(|p| (p.url(), Some(p.modified()))));
    Some(sitemap(settings, &urls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::SiteIndex;

    const DAY: Timestamp = 86_400;
    /// 2026-06-14T00:00:00Z, a Sunday.
    const JUNE_14: Timestamp = 1_781_395_200;

    fn settings() -> Settings {
        Settings {
            title: "Writing & <Notes>".into(),
            tagline: "Tips \"and\" tricks".into(),
            author: "Ada 'A' Lovelace".into(),
            base_url: "https://blog.example.com".into(),
            language: "en".into(),
            ..Settings::default()
        }
    }

    fn meta(slug: &str, title: &str, published: Timestamp) -> PostMeta {
        PostMeta {
            draft: false,
            slug: slug.into(),
            title: title.into(),
            summary: format!("About {title}"),
            published,
            utc_offset: 0,
            tags: vec!["rust".into(), "c&c".into()],
            aliases: vec![],
            updated: None,
            series: None,
            series_part: None,
            hash: "h".into(),
        }
    }

    fn info<'a>(settings: &'a Settings, self_path: &str) -> FeedInfo<'a> {
        FeedInfo {
            title: settings.title.clone(),
            self_path: self_path.into(),
            home_path: "/".into(),
            settings,
        }
    }

    fn posts() -> Vec<PostMeta> {
        vec![
            meta(
                "newer",
                "<script>alert(\"x\")</script> & 'friends'",
                JUNE_14,
            ),
            meta(
                "older",
                "Bell\u{7}s and\u{0} nulls\u{FFFF}",
                JUNE_14 - 30 * DAY,
            ),
        ]
    }

    const CONTENT: &str =
        "<p>Hi <a href=\"https://blog.example.com/posts/older\">there</a>\u{1b}</p>";

    fn record(meta: &PostMeta, body: &str) -> PostRecord {
        PostRecord {
            meta: meta.clone(),
            body: body.into(),
            code_html: Default::default(),
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: Default::default(),
            cover: None,
            card: None,
            neighbours: Default::default(),
            related: Vec::new(),
            series: None,
        }
        .rendered(false)
    }

    #[test]
    fn a_feed_plan_names_its_document_and_page() {
        let settings = Settings {
            feed_posts: 1,
            ..settings()
        };
        let index = SiteIndex::new(posts(), settings.clone(), "v".into());
        let visible = index.visible(JUNE_14);
        let site = plan(
            &settings,
            visible.posts.iter().collect(),
            FeedKind::Rss,
            None,
        )
        .unwrap();
        assert_eq!(
            (site.info.self_path.as_str(), site.info.home_path.as_str()),
            ("/rss.xml", "/")
        );
        assert_eq!(site.posts.len(), 1, "feed_posts caps the entries");
        assert_eq!(site.posts[0].slug, "newer");
        let tag = plan(
            &settings,
            visible.tagged("c-c"),
            FeedKind::Atom,
            Some("c-c"),
        )
        .unwrap();
        assert_eq!(tag.info.self_path, "/tags/c-c/feed.xml");
        assert_eq!(tag.info.home_path, "/tags/c-c");
        assert_eq!(tag.info.title, "Writing & <Notes> · c&c");
        assert!(plan(
            &settings,
            visible.tagged("nobody"),
            FeedKind::Atom,
            Some("nobody")
        )
        .is_none());
    }

    #[test]
    fn a_feed_with_a_missing_or_other_version_entry_is_not_kept() {
        let settings = settings();
        let index = SiteIndex::new(posts(), settings.clone(), "v".into());
        let visible = index.visible(JUNE_14);
        let feed = plan(
            &settings,
            visible.posts.iter().collect(),
            FeedKind::Atom,
            None,
        )
        .unwrap();
        let whole: Vec<Option<PostRecord>> = feed
            .posts
            .iter()
            .map(|m| Some(record(m, "Hello [x](/posts/older).")))
            .collect();
        let assembled = assemble(&feed, &whole);
        assert!(assembled.complete);
        assert_eq!(assembled.content_type, ATOM_TYPE);
        assert!(
            assembled
                .body
                .contains("https://blog.example.com/posts/older"),
            "links absolute"
        );
        assert_eq!(assembled.body.matches("<entry>").count(), 2);

        let missing = vec![whole[0].clone(), None];
        let assembled = assemble(&feed, &missing);
        assert!(!assembled.complete);
        assert_eq!(
            assembled.body.matches("<entry>").count(),
            1,
            "the missing post is left out"
        );

        let mut other = whole.clone();
        other[1].as_mut().unwrap().meta.hash = "newer-version".into();
        assert!(!assemble(&feed, &other).complete);
        let json = plan(
            &settings,
            visible.posts.iter().collect(),
            FeedKind::Json,
            None,
        )
        .unwrap();
        assert_eq!(assemble(&json, &whole).content_type, JSON_FEED_TYPE);
    }

    /// Part `part` of the sitemap at `now`, from the records a sync at `synced` wrote.
    fn part_of(
        index: &SiteIndex,
        synced: Timestamp,
        now: Timestamp,
        part: usize,
        per_part: usize,
    ) -> Option<String> {
        use crate::lists::{self, List};
        let settings = &index.settings;
        let (lists, tags) = lists::records(index, synced);
        // The sync pages the sitemap's list by SITEMAP_PART_POSTS; a test pages it smaller.
        let located: Vec<&PostMeta> = index.posts.iter().collect();
        let pages = crate::lists::ListRecord::pages(&located, synced, per_part);
        assert!(lists.contains_key(&List::Sitemap.key(1)) || index.posts.is_empty());
        let site = SiteRecord::of(index, synced);
        let tags = (part == 1).then_some(&tags);
        sitemap_part(
            settings,
            &site,
            tags,
            pages.get(part.wrapping_sub(1)),
            part,
            now,
            per_part,
        )
    }

    #[test]
    fn the_sitemap_lists_the_index_tags_posts_and_each_tag() {
        let settings = settings();
        let index = SiteIndex::new(posts(), settings.clone(), "v".into());
        let xml = part_of(&index, JUNE_14, JUNE_14, 1, SITEMAP_PART_POSTS).unwrap();
        for url in [
            "/</loc>",
            "/archive</loc>",
            "/2026/</loc>",
            "/tags</loc>",
            "/posts/newer</loc>",
            "/posts/older</loc>",
            "/tags/rust</loc>",
        ] {
            assert!(
                xml.contains(&format!("https://blog.example.com{url}")),
                "{url} in {xml}"
            );
        }
        // Synced the second before `newer` came out, read then and after.
        let early = part_of(&index, JUNE_14 - 1, JUNE_14 - 1, 1, SITEMAP_PART_POSTS).unwrap();
        assert!(
            !early.contains("/posts/newer"),
            "a scheduled post is not listed yet"
        );
        let due = part_of(&index, JUNE_14 - 1, JUNE_14, 1, SITEMAP_PART_POSTS).unwrap();
        assert!(due.contains("/posts/newer"), "and is once it is out");
    }

    #[test]
    fn the_sitemap_index_names_parts_that_together_list_every_url_once() {
        let settings = settings();
        let many: Vec<PostMeta> = (0..25)
            .map(|i| meta(&format!("p{i}"), "T", JUNE_14 - i * DAY))
            .collect();
        let index = SiteIndex::new(many, settings.clone(), "v".into());
        let site = SiteRecord::of(&index, JUNE_14);
        let xml = sitemap_index(&settings, &site, JUNE_14, 10);
        assert!(
            xml.contains("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">")
        );
        let parts: Vec<&str> = xml.matches("<loc>").collect();
        assert_eq!(parts.len(), 3, "25 posts in parts of 10: {xml}");
        assert!(xml.contains("<loc>https://blog.example.com/sitemap-3.xml</loc>"));
        let mut listed = Vec::new();
        for part in 1..=3 {
            let part = part_of(&index, JUNE_14, JUNE_14, part, 10).unwrap();
            listed.extend(part.matches("<loc>").map(|_| ()));
        }
        assert_eq!(
            listed.len(),
            3 + 1 + 25 + 2,
            "/, archive, tags, 2026, posts, two tags"
        );
        assert_eq!(part_of(&index, JUNE_14, JUNE_14, 4, 10), None);
        assert_eq!(part_of(&index, JUNE_14, JUNE_14, 0, 10), None);
        // An empty site still has its front page in part 1.
        let empty = SiteIndex::new(vec![], settings.clone(), "v".into());
        let site = SiteRecord::of(&empty, JUNE_14);
        assert!(sitemap_index(&settings, &site, JUNE_14, 10).contains("/sitemap-1.xml"));
        assert!(part_of(&empty, JUNE_14, JUNE_14, 1, 10)
            .unwrap()
            .contains("<loc>https://blog.example.com/</loc>"));
    }

    fn entries(posts: &[PostMeta]) -> Vec<FeedEntry<'_>> {
        posts
            .iter()
            .map(|meta| FeedEntry {
                meta,
                content_html: CONTENT,
            })
            .collect()
    }

    /// Every string a feed could show, with the hostile parts a broken escaper would leak.
    fn assert_no_raw_hostile_text(xml: &str) {
        assert!(!xml.contains("<script>"), "{xml}");
        assert!(!xml.contains("& "), "unescaped ampersand: {xml}");
        assert!(!xml.contains("Writing & <"), "{xml}");
        assert!(
            !xml.chars().any(is_disallowed),
            "control character left in {xml:?}"
        );
    }

    #[test]
    fn atom_escapes_hostile_titles_and_strips_control_characters() {
        let settings = settings();
        let posts = posts();
        let xml = atom(&info(&settings, "/feed.xml"), &entries(&posts));
        assert_no_raw_hostile_text(&xml);
        assert!(
            xml.contains("<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;friends&apos;</title>"),
            "{xml}"
        );
        assert!(xml.contains("<title>Bells and nulls</title>"), "{xml}");
        assert!(xml.contains("<title>Writing &amp; &lt;Notes&gt;</title>"));
        assert!(xml.contains("<name>Ada &apos;A&apos; Lovelace</name>"));
        assert!(xml.contains("<category term=\"c&amp;c\"/>"));
        assert!(xml.contains("<content type=\"html\">&lt;p&gt;Hi &lt;a href=&quot;https://blog.example.com/posts/older&quot;&gt;there&lt;/a&gt;&lt;/p&gt;</content>"), "{xml}");
    }

    #[test]
    fn atom_has_absolute_ids_links_and_the_newest_date() {
        let settings = settings();
        let posts = posts();
        let xml = atom(&info(&settings, "/feed.xml"), &entries(&posts));
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">"
        ));
        assert!(xml
            .contains("<link rel=\"self\" type=\"application/atom+xml\" href=\"https://blog.example.com/feed.xml\"/>"));
        assert!(xml.contains(
            "<link rel=\"alternate\" type=\"text/html\" href=\"https://blog.example.com/\"/>"
        ));
        assert!(xml.contains("<id>https://blog.example.com/posts/newer</id>"));
        assert!(
            xml.contains("<link rel=\"alternate\" type=\"text/html\" href=\"https://blog.example.com/posts/older\"/>")
        );
        assert!(
            xml.contains("  <updated>2026-06-14T00:00:00Z</updated>\n  <author>"),
            "{xml}"
        );
        assert!(xml.contains("<published>2026-05-15T00:00:00Z</published>"));
        assert!(
            xml.find("posts/newer").unwrap() < xml.find("posts/older").unwrap(),
            "order kept"
        );
    }

    #[test]
    fn empty_feeds_are_dated_at_the_epoch() {
        let settings = settings();
        let xml = atom(&info(&settings, "/feed.xml"), &[]);
        assert!(xml.contains("<updated>1970-01-01T00:00:00Z</updated>"));
        assert!(!xml.contains("<entry>"));
        assert!(rss(&info(&settings, "/rss.xml"), &[])
            .contains("<lastBuildDate>Thu, 01 Jan 1970 00:00:00 +0000</lastBuildDate>"));
    }

    #[test]
    fn rss_carries_summary_full_content_and_self_link() {
        let settings = settings();
        let posts = posts();
        let xml = rss(&info(&settings, "/rss.xml"), &entries(&posts));
        assert_no_raw_hostile_text(&xml);
        assert!(xml.contains(
            "<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"https://blog.example.com/rss.xml\"/>"
        ));
        assert!(xml.contains("<link>https://blog.example.com/</link>"));
        assert!(xml.contains("<language>en</language>"));
        assert!(
            xml.contains("<guid isPermaLink=\"true\">https://blog.example.com/posts/newer</guid>")
        );
        assert!(xml.contains("<pubDate>Sun, 14 Jun 2026 00:00:00 +0000</pubDate>"));
        assert!(xml.contains("<lastBuildDate>Sun, 14 Jun 2026 00:00:00 +0000</lastBuildDate>"));
        assert!(xml.contains("<category>c&amp;c</category>"));
        assert!(xml.contains("<dc:creator>Ada &apos;A&apos; Lovelace</dc:creator>"));
        // The plain-text summary is HTML-escaped, then XML-escaped: readers show `<script>` as text.
        assert!(
            xml.contains("<description>About &amp;lt;script&amp;gt;"),
            "{xml}"
        );
        assert!(
            xml.contains("<content:encoded>&lt;p&gt;Hi &lt;a href=&quot;https://blog.example.com/posts/older&quot;")
        );
    }

    #[test]
    fn rfc2822_names_the_right_weekday() {
        assert_eq!(rfc2822(JUNE_14), "Sun, 14 Jun 2026 00:00:00 +0000");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(-1), "Wed, 31 Dec 1969 23:59:59 +0000");
        assert_eq!(rfc2822(946_684_800), "Sat, 01 Jan 2000 00:00:00 +0000");
        assert_eq!(
            rfc2822(1_709_164_800 + 13 * 3600 + 5 * 60 + 9),
            "Thu, 29 Feb 2024 13:05:09 +0000"
        );
        assert_eq!(rfc2822(-2_203_891_200), "Thu, 01 Mar 1900 00:00:00 +0000");
    }

    #[test]
    fn json_feed_parses_and_has_the_1_1_fields() {
        let settings = settings();
        let posts = posts();
        let text = json_feed(&info(&settings, "/feed.json"), &entries(&posts));
        let feed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(feed["title"], "Writing & <Notes>");
        assert_eq!(feed["home_page_url"], "https://blog.example.com/");
        assert_eq!(feed["feed_url"], "https://blog.example.com/feed.json");
        assert_eq!(feed["language"], "en");
        assert_eq!(feed["authors"][0]["name"], "Ada 'A' Lovelace");
        let items = feed["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["id"], "https://blog.example.com/posts/newer");
        assert_eq!(items[0]["url"], "https://blog.example.com/posts/newer");
        assert_eq!(
            items[0]["title"],
            "<script>alert(\"x\")</script> & 'friends'"
        );
        assert_eq!(items[0]["date_published"], "2026-06-14T00:00:00Z");
        assert_eq!(items[0]["tags"], serde_json::json!(["rust", "c&c"]));
        assert_eq!(items[1]["title"], "Bells and nulls");
        assert!(!items[0]["content_html"]
            .as_str()
            .unwrap()
            .contains('\u{1b}'));
        assert!(items[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("About <script>"));
    }

    #[test]
    fn non_ascii_slugs_become_percent_encoded_uris() {
        let settings = settings();
        let post = meta("café", "Café", JUNE_14);
        let xml = atom(
            &info(&settings, "/feed.xml"),
            &[FeedEntry {
                meta: &post,
                content_html: "",
            }],
        );
        assert!(
            xml.contains("<id>https://blog.example.com/posts/caf%C3%A9</id>"),
            "{xml}"
        );
        assert_eq!(
            iri_to_uri("https://x/a%20b?q=1&r=2#f"),
            "https://x/a%20b?q=1&r=2#f"
        );
    }

    #[test]
    fn sitemap_lists_absolute_urls_with_optional_lastmod() {
        let settings = settings();
        let xml = sitemap(
            &settings,
            &[
                ("/".into(), None),
                ("/posts/a?x=1&y=2".into(), Some(JUNE_14)),
            ],
        );
        assert!(xml.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
        assert!(
            xml.contains("<url>\n    <loc>https://blog.example.com/</loc>\n  </url>"),
            "{xml}"
        );
        assert!(xml.contains(
            "<loc>https://blog.example.com/posts/a?x=1&amp;y=2</loc>\n    <lastmod>2026-06-14T00:00:00Z</lastmod>"
        ));
    }

    #[test]
    fn an_updated_post_carries_its_last_change_in_atom_and_json_feed() {
        let settings = settings();
        let mut posts = posts();
        posts[1] = posts[1].clone().with_updated(Some(JUNE_14 + 17 * DAY));
        let xml = atom(&info(&settings, "/feed.xml"), &entries(&posts));
        assert!(
            xml.contains("  <updated>2026-07-01T00:00:00Z</updated>\n  <author>"),
            "the feed changed with the update: {xml}"
        );
        assert!(
            xml.contains("<published>2026-05-15T00:00:00Z</published>\n    <updated>2026-07-01T00:00:00Z</updated>"),
            "{xml}"
        );
        assert!(
            xml.contains("<published>2026-06-14T00:00:00Z</published>\n    <updated>2026-06-14T00:00:00Z</updated>"),
            "{xml}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&json_feed(&info(&settings, "/feed.json"), &entries(&posts)))
                .unwrap();
        assert_eq!(json["items"][1]["date_modified"], "2026-07-01T00:00:00Z");
        assert!(json["items"][0].get("date_modified").is_none());
    }

    #[test]
    fn robots_allows_all_and_names_the_absolute_sitemap() {
        let text = robots(&settings());
        assert!(text.starts_with("User-agent: *\nAllow: /\n"));
        assert!(text.contains("\nSitemap: https://blog.example.com/sitemap.xml\n"));
    }

    #[test]
    fn xml_text_is_escaped_quotes_and_all_and_stripped_of_control_characters() {
        let mut out = String::new();
        push_xml(&mut out, "a\u{7}<b> & \"c\" 'd'\u{FFFF}\t\u{e9}]]>");
        assert_eq!(
            out,
            "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\t\u{e9}]]&gt;"
        );
        assert_eq!(
            escape_html("<p>it's</p>\u{0}"),
            "&lt;p&gt;it&apos;s&lt;/p&gt;"
        );
    }

    #[test]
    fn attribute_values_are_escaped_only_when_they_hold_markup_or_double_quotes() {
        // Without `&`, `"`, `<` or `>`, a value is left as it is, apostrophes included.
        assert!(matches!(
            escape_attr("/posts/it's"),
            Cow::Borrowed("/posts/it's")
        ));
        assert_eq!(escape_attr("/a?b=1&c='d'"), "/a?b=1&amp;c=&apos;d&apos;");
    }

    #[test]
    fn strip_control_keeps_whitespace_and_drops_the_rest() {
        assert_eq!(
            strip_control("a\tb\nc\rd\u{0}e\u{8}f\u{b}g\u{1f}h\u{7f}i\u{85}j\u{FFFE}k\u{FFFF}l"),
            "a\tb\nc\rdefghijkl"
        );
        assert_eq!(strip_control("émoji 🦀 ok"), "émoji 🦀 ok");
    }

    const BASE: &str = "https://blog.example.com";
    const PAGE: &str = "/posts/hello";

    #[test]
    fn absolutize_resolves_root_relative_links_and_images() {
        assert_eq!(
            absolutize("<p><a href=\"/posts/other\">x</a> <img src=\"/img/a.png\" alt=\"a\"></p>", BASE, PAGE),
            "<p><a href=\"https://blog.example.com/posts/other\">x</a> <img src=\"https://blog.example.com/img/a.png\" alt=\"a\"></p>"
        );
    }

    #[test]
    fn absolutize_resolves_every_candidate_of_a_srcset() {
        assert_eq!(
            absolutize("<picture><source type=\"image/webp\" srcset=\"/files/a.webp 480w, /files/b.webp 960w\" sizes=\"42rem\"><img src=\"/files/c.png\"></picture>", BASE, PAGE),
            "<picture><source type=\"image/webp\" srcset=\"https://blog.example.com/files/a.webp 480w, https://blog.example.com/files/b.webp 960w\" sizes=\"42rem\"><img src=\"https://blog.example.com/files/c.png\"></picture>"
        );
        assert_eq!(
            absolutize(
                "<img srcset=\"https://x.example/a.png 2x,b.png\">",
                BASE,
                PAGE
            ),
            "<img srcset=\"https://x.example/a.png 2x, https://blog.example.com/posts/b.png\">"
        );
    }

    #[test]
    fn absolutize_resolves_fragments_and_relative_paths_against_the_post() {
        let html = "<a href=\"#why\">w</a><sup><a href='#fn-1'>1</a></sup><img src=\"diagram.svg\"><a href=\"../about?x=1&amp;y=2\">a</a><a href=\"./\">d</a><a href=\"?page=2\">q</a>";
        assert_eq!(
            absolutize(html, BASE, PAGE),
            "<a href=\"https://blog.example.com/posts/hello#why\">w</a>\
             <sup><a href='https://blog.example.com/posts/hello#fn-1'>1</a></sup>\
             <img src=\"https://blog.example.com/posts/diagram.svg\">\
             <a href=\"https://blog.example.com/about?x=1&amp;y=2\">a</a>\
             <a href=\"https://blog.example.com/posts/\">d</a>\
             <a href=\"https://blog.example.com/posts/hello?page=2\">q</a>"
        );
    }

    #[test]
    fn absolutize_leaves_absolute_and_non_http_urls_alone() {
        let html =
            "<a href=\"https://other.example/x\">o</a><a href=\"mailto:me@example.com\">m</a>\
                    <img src=\"data:image/png;base64,AAAA\"><a href=\"HTTP://X/\">u</a>";
        assert_eq!(absolutize(html, BASE, PAGE), html);
        assert_eq!(
            absolutize("<img src=\"//cdn.example/a.png\">", BASE, PAGE),
            "<img src=\"https://cdn.example/a.png\">"
        );
    }

    #[test]
    fn absolutize_touches_only_url_attributes_inside_tags() {
        let html = "<pre><code>&lt;a href=\"/x\"&gt; href=\"/y\"</code></pre><!-- <a href=\"/z\"> --><p data-href=\"/q\" title=\"src=/w\">1 < 2</p>";
        assert_eq!(absolutize(html, BASE, PAGE), html);
    }

    #[test]
    fn absolutize_quotes_unquoted_values_and_ignores_attribute_case() {
        assert_eq!(
            absolutize("<A HREF=/x>x</A><img src=y.png alt=y>", "https://blog.example.com/", PAGE),
            "<A HREF=\"https://blog.example.com/x\">x</A><img src=\"https://blog.example.com/posts/y.png\" alt=y>"
        );
    }
}
