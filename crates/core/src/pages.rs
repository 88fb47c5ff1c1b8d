//! The pages readers see: one Askama template struct per page, data shaped here, not in templates.

use crate::archive::{self, ArchiveYear, PageLinks};
use crate::content::{Neighbour, PostMeta, PostRecord, TagLink};
use crate::date::Timestamp;
use crate::lists::Shown;
use crate::markdown::Heading;
use crate::routes::{self, FeedKind, Route};
use crate::settings::Settings;
use askama::Template;

/// What every page's `<head>` says about it.
pub struct Head {
    pub title: String,
    pub description: String,
    /// Absolute canonical URL.
    pub canonical: String,
    /// OpenGraph type: `website` or `article`.
    pub og_type: &'static str,
    /// `BlogPosting` structured data, already serialised and safe to embed.
    pub json_ld: Option<String>,
    /// A tag page's own feed, besides the site's.
    pub tag_feed: Option<(String, String)>,
    /// Error pages ask not to be indexed.
    pub noindex: bool,
    /// The picture shown when the page is shared (a post's cover, else its card).
    pub image: Option<ShareImage>,
    /// A numbered page's neighbours in its list (`<link rel="prev">`, `rel="next"`), absolute.
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// An OpenGraph/Twitter image: absolute URL and, when known, its size.
pub struct ShareImage {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl Head {
    pub(crate) fn page(site: &Settings, title: String, description: &str, path: &str) -> Self {
        Head {
            title,
            description: description.to_string(),
            canonical: site.absolute(path),
            og_type: "website",
            json_ld: None,
            tag_feed: None,
            noindex: false,
            image: None,
            previous: None,
            next: None,
        }
    }

    /// The head of a numbered page: linked to the pages before and after it.
    fn paged(mut self, site: &Settings, links: &PageLinks) -> Self {
        self.previous = links.previous.as_deref().map(|p| site.absolute(p));
        self.next = links.next.as_deref().map(|p| site.absolute(p));
        self
    }
}

/// Posts of one calendar year, in index order.
pub struct YearGroup<'a> {
    pub year: i64,
    pub posts: Vec<&'a PostMeta>,
}

/// Groups newest-first posts under their year, newest year first.
pub fn group_by_year<'a>(posts: impl IntoIterator<Item = &'a PostMeta>) -> Vec<YearGroup<'a>> {
    let mut groups: Vec<YearGroup<'a>> = Vec::new();
    for post in posts {
        let year = post.year();
        match groups.last_mut() {
            Some(group) if group.year == year => group.posts.push(post),
            _ => groups.push(YearGroup {
                year,
                posts: vec![post],
            }),
        }
    }
    groups
}

/// A strong ETag over everything that shapes a response (content hashes, build id).
pub fn etag(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    format!("\"{}\"", crate::hex::encode(&digest[..12]))
}

/// Whether an `If-None-Match` header names this ETag (or is `*`).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// "1,234": digits grouped by thousands.
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// "1 read", "1,234 reads".
pub fn format_reads(reads: u64) -> String {
    let noun = if reads == 1 { "read" } else { "reads" };
    format!("{} {noun}", group_digits(reads))
}

/// "1 post", "2,000 posts": how archive, year and tag pages count.
pub fn posts_label(count: &usize) -> String {
    let noun = if *count == 1 { "post" } else { "posts" };
    format!("{} {noun}", group_digits(*count as u64))
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub years: Vec<YearGroup<'a>>,
    pub popular: Vec<&'a PostMeta>,
    /// Whether older posts than these exist: the page then ends with a link to the archive.
    pub more: bool,
}

#[derive(Template)]
#[template(path = "archive.html")]
pub struct ArchivePage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub years: Vec<ArchiveYear>,
    pub total: usize,
}

#[derive(Template)]
#[template(path = "year.html")]
pub struct YearPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub year: i64,
    pub count: usize,
    pub posts: &'a [&'a PostMeta],
    pub links: PageLinks,
}

#[derive(Template)]
#[template(path = "post.html")]
pub struct PostPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub post: &'a PostMeta,
    pub body_html: &'a str,
    /// Shown when the post has three or more sections.
    pub toc: &'a [Heading],
    pub reading_minutes: usize,
    pub tags: Vec<TagLink<'a>>,
    /// The post published just before this one.
    pub previous: Option<&'a Neighbour>,
    /// The post published just after this one, once it is published.
    pub next: Option<&'a Neighbour>,
    /// Posts like this one, already out.
    pub related: Vec<&'a Neighbour>,
    /// The post's series, as out at the page's moment.
    pub series: Option<crate::content::SeriesAt<'a>>,
    /// Read before it is public, at its preview link: marked so, `noindex`, no read count.
    pub preview: bool,
}

#[derive(Template)]
#[template(path = "series.html")]
pub struct SeriesPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub name: &'a str,
    pub feed_url: String,
    /// The parts out, in reading order.
    pub posts: Vec<&'a PostMeta>,
}

#[derive(Template)]
#[template(path = "tags.html")]
pub struct TagsPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub tags: Vec<(TagLink<'a>, usize)>,
}

#[derive(Template)]
#[template(path = "tag.html")]
pub struct TagPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    pub name: &'a str,
    pub feed_url: String,
    /// How many visible posts carry the tag, on every page.
    pub count: usize,
    pub posts: &'a [&'a PostMeta],
    pub links: PageLinks,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
}

/// The front page: the newest `front_page_posts` of `posts` (newest first) by year, and
/// Popular Reads.
pub fn index<'a>(
    site: &'a Settings,
    shown: &[&'a PostMeta],
    more: bool,
    popular: Vec<&'a PostMeta>,
) -> String {
    let head = Head::page(site, site.title.clone(), &site.tagline, routes::INDEX_PATH);
    IndexPage {
        site,
        head,
        years: group_by_year(shown.iter().copied()),
        popular,
        more,
    }
    .render()
    .expect("index template renders")
}

/// Every year with its number of posts and links to its pages.
pub fn archive(site: &Settings, years: &[(i64, usize)]) -> String {
    let head = Head::page(
        site,
        format!("Archive · {}", site.title),
        "Every post, by year.",
        routes::ARCHIVE_PATH,
    );
    ArchivePage {
        site,
        head,
        years: archive::years_of(years, site.posts_per_page),
        total: years.iter().map(|(_, n)| n).sum(),
    }
    .render()
    .expect("archive template renders")
}

/// A page of a year's posts, as [`ListRecord::page_at`] shows it.
///
/// [`ListRecord::page_at`]: crate::lists::ListRecord::page_at
pub fn year(site: &Settings, year: i64, shown: &Shown<'_>) -> String {
    let page = shown.paging.page;
    let links = PageLinks::new(shown.paging.clone(), |n| routes::year_path(year, n));
    let title = match page {
        1 => format!("{year} · {}", site.title),
        n => format!("{year}, page {n} · {}", site.title),
    };
    let description = format!("Posts written in {year}.");
    let head =
        Head::page(site, title, &description, &routes::year_path(year, page)).paged(site, &links);
    YearPage {
        site,
        head,
        year,
        count: shown.total,
        posts: &shown.posts,
        links,
    }
    .render()
    .expect("year template renders")
}

/// Renders a post among the neighbours its record names, as a reader sees them at `now`.
/// The page carries no read count in its HTML (that comes from [`reads_badge`]), so it
/// changes only with content.
pub fn post(site: &Settings, record: &PostRecord, now: Timestamp) -> String {
    post_page(site, record, now, false)
}

/// A draft or scheduled post at its preview link ([`crate::preview`]): the post's page with
/// a visible "Preview" note, `noindex`, and no read count (a preview is never a read).
pub fn preview(site: &Settings, record: &PostRecord, now: Timestamp) -> String {
    post_page(site, record, now, true)
}

fn post_page(site: &Settings, record: &PostRecord, now: Timestamp, preview: bool) -> String {
    let meta = &record.meta;
    let (previous, next) = record.neighbours.at(now);
    let mut head = Head::page(
        site,
        format!("{} · {}", meta.title, site.title),
        &meta.summary,
        &meta.url(),
    );
    head.og_type = "article";
    head.image = record.share_image().map(|c| ShareImage {
        url: site.absolute(&c.url),
        width: c.width,
        height: c.height,
    });
    head.json_ld = Some(blog_posting(site, meta, head.image.as_ref()));
    head.noindex = preview;
    // The page is the body and some 3 KB around it: sized once rather than grown.
    let mut html = String::with_capacity(record.html.len() + 4096);
    PostPage {
        site,
        head,
        post: meta,
        body_html: &record.html,
        toc: if record.sections.len() >= 3 {
            &record.sections
        } else {
            &[]
        },
        reading_minutes: record.reading_minutes(),
        tags: meta.tag_links(),
        previous,
        next,
        related: record.related_at(now),
        series: record.series.as_ref().and_then(|s| s.at(&meta.slug, now)),
        preview,
    }
    .render_into(&mut html)
    .expect("post template renders");
    html
}

pub fn tags(site: &Settings, tags: Vec<(TagLink<'_>, usize)>) -> String {
    let head = Head::page(
        site,
        format!("Tags · {}", site.title),
        "Every topic written about, with its posts.",
        routes::TAGS_PATH,
    );
    TagsPage { site, head, tags }
        .render()
        .expect("tags template renders")
}

/// A page of a tag's posts, as [`ListRecord::page_at`] shows it; `None` when none of them
/// carries the tag.
///
/// [`ListRecord::page_at`]: crate::lists::ListRecord::page_at
pub fn tag(site: &Settings, tag_slug: &str, shown: &Shown<'_>) -> Option<String> {
    let page = shown.paging.page;
    let name = shown
        .posts
        .iter()
        .flat_map(|p| &p.tags)
        .find(|t| crate::content::tag_slug(t) == tag_slug)?;
    let links = PageLinks::new(shown.paging.clone(), |n| routes::tag_page_path(tag_slug, n));
    let path = Route::Tag {
        slug: tag_slug.into(),
        page,
    }
    .href();
    let feed_url = Route::Feed {
        kind: FeedKind::Atom,
        tag: Some(tag_slug.into()),
    }
    .href();
    let title = match page {
        1 => format!("{name} · {}", site.title),
        n => format!("{name}, page {n} · {}", site.title),
    };
    let mut head =
        Head::page(site, title, &format!("Posts about {name}."), &path).paged(site, &links);
    head.tag_feed = Some((format!("{} · {name}", site.title), feed_url.clone()));
    Some(
        TagPage {
            site,
            head,
            name,
            feed_url,
            count: shown.total,
            posts: &shown.posts,
            links,
        }
        .render()
        .expect("tag template renders"),
    )
}

/// A series' page: its parts out at the moment `shown` was taken, in reading order; `None`
/// when none is.
pub fn series(site: &Settings, slug: &str, shown: &Shown<'_>) -> Option<String> {
    let name = shown.posts.iter().find_map(|p| p.series.as_deref())?;
    let mut posts = shown.posts.clone();
    crate::content::series_order(&mut posts);
    let feed_url = routes::series_feed_path(slug);
    let mut head = Head::page(
        site,
        format!("{name} · {}", site.title),
        &format!("{name}: a series in {} parts.", posts.len()),
        &routes::series_path(slug),
    );
    head.tag_feed = Some((format!("{} · {name}", site.title), feed_url.clone()));
    Some(
        SeriesPage {
            site,
            head,
            name,
            feed_url,
            posts,
        }
        .render()
        .expect("series template renders"),
    )
}

pub fn not_found(site: &Settings) -> String {
    let mut head = Head::page(
        site,
        format!("Page not found · {}", site.title),
        &site.tagline,
        "/",
    );
    head.noindex = true;
    NotFoundPage { site, head }
        .render()
        .expect("404 template renders")
}

pub fn error(site: &Settings) -> String {
    let mut head = Head::page(
        site,
        format!("Something went wrong · {}", site.title),
        &site.tagline,
        "/",
    );
    head.noindex = true;
    ErrorPage { site, head }
        .render()
        .expect("error template renders")
}

/// A post's read count as a small SVG, fetched by the post page as an image so that the
/// page itself stays cacheable while the count stays fresh. Follows the colour scheme.
pub fn reads_badge(reads: u64) -> String {
    badge(&format_reads(reads))
}

/// A post's read count as plain text (`1,234 reads`), which the badge links to: what a text
/// browser or a screen reader gets by following it.
pub fn reads_text(reads: Option<u64>) -> String {
    match reads {
        Some(reads) => format!("{}\n", format_reads(reads)),
        None => "The read count is not available right now.\n".into(),
    }
}

/// The badge while the counts cannot be read: no number rather than a wrong one (0).
pub fn reads_badge_unknown() -> String {
    badge("– reads")
}

fn badge(text: &str) -> String {
    // About 0.55em per character of the page's 15px muted text, plus a little room.
    let width = (text.chars().count() as f64 * 8.4).ceil() as u32 + 2;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" viewBox=\"0 0 {width} 20\" role=\"img\" aria-label=\"{text}\">\
<title>{text}</title>\
<style>text{{fill:#5f6368;font:15px system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}}@media (prefers-color-scheme:dark){{text{{fill:#a0a4a8}}}}</style>\
<text x=\"0\" y=\"15\">{text}</text></svg>"
    )
}

/// The web app manifest: lets a reader add the site to a home screen.
/// Fingerprints of the stylesheet and the favicon: pages link `/style.css?v=…`, and a request
/// carrying the current one may be cached for a year (a deploy that changes the file changes
/// the link).
pub const STYLE_VERSION: &str = env!("BLOG_STYLE_VERSION");
pub const FAVICON_VERSION: &str = env!("BLOG_FAVICON_VERSION");

/// Fingerprint of the web app manifest, which is built from the settings: pages link
/// `/site.webmanifest?v=…`, so a changed title or tagline changes the link.
pub fn manifest_version(site: &Settings) -> String {
    // FNV-1a over what the manifest is made of; cheap enough to run with every page render.
    let mut hash: u32 = 0x811c_9dc5;
    for part in [
        site.title.as_str(),
        site.tagline.as_str(),
        site.language.as_str(),
        FAVICON_VERSION,
    ] {
        for b in part.bytes().chain([0]) {
            hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    format!("{hash:08x}")
}

pub fn manifest(site: &Settings) -> String {
    serde_json::json!({
        "name": site.title,
        "short_name": site.title,
        "description": site.tagline,
        "lang": site.language,
        "start_url": routes::INDEX_PATH,
        "display": "browser",
        "background_color": "#fdfdfc",
        "theme_color": "#1a56b0",
        "icons": [{ "src": format!("{}?v={FAVICON_VERSION}", routes::FAVICON_PATH), "sizes": "any", "type": "image/svg+xml" }],
    })
    .to_string()
}

/// schema.org `BlogPosting` for search engines, safe inside `<script>`.
fn blog_posting(site: &Settings, meta: &PostMeta, image: Option<&ShareImage>) -> String {
    /// Its fields in the order of their names, as a `serde_json::Value` map writes them.
    #[derive(serde::Serialize)]
    struct BlogPosting<'a> {
        #[serde(rename = "@context")]
        context: &'static str,
        #[serde(rename = "@type")]
        kind: &'static str,
        author: Person<'a>,
        #[serde(rename = "dateModified", skip_serializing_if = "Option::is_none")]
        date_modified: Option<String>,
        #[serde(rename = "datePublished")]
        date_published: String,
        description: &'a str,
        headline: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<&'a str>,
        #[serde(rename = "inLanguage")]
        in_language: &'a str,
        keywords: String,
        #[serde(rename = "mainEntityOfPage")]
        main_entity_of_page: &'a str,
        url: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Person<'a> {
        #[serde(rename = "@type")]
        kind: &'static str,
        name: &'a str,
    }
    let url = site.absolute(&meta.url());
    let value = BlogPosting {
        context: "https://schema.org",
        kind: "BlogPosting",
        author: Person {
            kind: "Person",
            name: &site.author,
        },
        date_modified: meta.iso_updated(),
        date_published: meta.iso_date(),
        description: &meta.summary,
        headline: &meta.title,
        image: image.map(|image| image.url.as_str()),
        in_language: &site.language,
        keywords: meta.tags.join(", "),
        main_entity_of_page: &url,
        url: &url,
    };
    let json = serde_json::to_string(&value).expect("json");
    // `<` escaped keeps any `</script>` in a title from closing the element.
    if json.contains('<') {
        json.replace('<', "\\u003c")
    } else {
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Neighbours, SiteIndex, SiteRecord};
    use crate::date;
    use crate::lists::{self, List};

    /// A page of a list as the edge shows it, from the records `blog sync` writes.
    fn page_of(index: &SiteIndex, list: List<'_>, page: usize) -> Option<String> {
        let (records, _) = lists::records(index, i64::MAX);
        let record = records.get(&list.key(page))?;
        let shown = record.page_at(i64::MAX, list.per_page(&index.settings), page)?;
        match list {
            List::Year(y) => Some(year(&index.settings, y, &shown)),
            List::Tag(slug) => tag(&index.settings, slug, &shown),
            _ => unreachable!(),
        }
    }

    /// The front page of `posts` as the edge shows it.
    fn front(site: &Settings, posts: &[PostMeta], popular: Vec<&PostMeta>) -> String {
        let shown: Vec<&PostMeta> = posts.iter().take(site.front_page_posts.max(1)).collect();
        index(site, &shown, shown.len() < posts.len(), popular)
    }

    fn meta(slug: &str, title: &str, day: &str) -> PostMeta {
        PostMeta {
            draft: false,
            slug: slug.into(),
            title: title.into(),
            summary: format!("About {title}."),
            published: date::parse_rfc3339(day).unwrap().timestamp(),
            utc_offset: 0,
            tags: vec!["Rust".into()],
            aliases: vec![],
            updated: None,
            series: None,
            series_part: None,
            hash: "h".into(),
        }
    }

    fn site() -> Settings {
        Settings {
            base_url: "https://blog.example".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn groups_posts_by_year_newest_first() {
        let posts = [
            meta("a", "A", "2026-01-02"),
            meta("b", "B", "2026-01-01"),
            meta("c", "C", "2025-12-31"),
        ];
        let groups = group_by_year(&posts);
        let shape: Vec<_> = groups.iter().map(|g| (g.year, g.posts.len())).collect();
        assert_eq!(shape, [(2026, 2), (2025, 1)]);
    }

    #[test]
    fn etags_are_strong_quoted_and_change_with_any_part() {
        let a = etag(&["build", "hash1"]);
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 26);
        assert_eq!(a, etag(&["build", "hash1"]));
        assert_ne!(a, etag(&["build", "hash2"]));
        assert_ne!(etag(&["ab", "c"]), etag(&["a", "bc"]));
        assert!(etag_matches(&a, &a));
        assert!(etag_matches(&format!("\"x\", W/{a}"), &a));
        assert!(etag_matches("*", &a));
        assert!(!etag_matches("\"x\"", &a));
    }

    #[test]
    fn formats_read_counts() {
        assert_eq!(format_reads(0), "0 reads");
        assert_eq!(format_reads(1), "1 read");
        assert_eq!(format_reads(999), "999 reads");
        assert_eq!(format_reads(1234), "1,234 reads");
        assert_eq!(format_reads(1_234_567), "1,234,567 reads");
    }

    #[test]
    fn read_badges_say_the_count_in_text_and_for_assistive_technology() {
        let svg = reads_badge(1234);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("<title>1,234 reads</title>") && svg.contains(">1,234 reads</text>"));
        assert!(reads_badge(1).contains(">1 read</text>"));
        assert!(reads_badge(10_000_000).len() > reads_badge(1).len());
        assert_eq!(reads_text(Some(1234)), "1,234 reads\n");
        assert_eq!(reads_text(Some(1)), "1 read\n");
        assert!(
            !reads_text(None).contains('0'),
            "no count rather than a wrong one"
        );
        let unknown = reads_badge_unknown();
        assert!(
            unknown.contains(">– reads</text>") && !unknown.contains("0 reads"),
            "{unknown}"
        );
    }

    #[test]
    fn index_page_shows_years_posts_and_popular_reads() {
        let site = site();
        let posts = [
            meta("new", "New <post>", "2026-06-14"),
            meta("old", "Old", "2025-03-01"),
        ];
        let html = front(&site, &posts, vec![&posts[1]]);
        assert!(html.contains("<h1 id=\"writing\">Writing</h1>"));
        assert!(html.contains(&site.tagline));
        assert!(html.contains("<h2 class=\"year\">2026</h2>"));
        assert!(
            html.contains("<a href=\"/posts/new\">New &#60;post&#62;</a>"),
            "{html}"
        );
        assert!(html.contains("Jun 14, 2026"));
        assert!(html.contains("<link rel=\"canonical\" href=\"https://blog.example/\">"));
        assert!(html.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
        let popular = html.split("Popular Reads").nth(1).unwrap();
        assert!(popular.contains("/posts/old") && !popular.contains("/posts/new"));
    }

    #[test]
    fn post_page_has_metadata_neighbours_tags_toc_and_reads() {
        let site = site();
        let index = SiteIndex::new(
            vec![
                meta("newer", "Newer", "2026-06-01"),
                meta("p", "Tom & <Jerry>", "2026-05-02"),
                meta("older", "Older", "2026-04-01"),
            ],
            site.clone(),
            "v".into(),
        );
        let record = PostRecord {
            meta: index.posts[1].clone(),
            body: "## One\n\nSome **bold** text.\n\n## Two\n\n## Three\n".into(),
            code_html: vec![],
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: Default::default(),
            cover: None,
            card: None,
            neighbours: Neighbours::of_list(&index.posts).swap_remove(1),
            related: Vec::new(),
            series: None,
        }
        .rendered(false);
        let html = post(&site, &record, i64::MAX);
        assert!(
            html.contains("<title>Tom &#38; &#60;Jerry&#62; · Writing</title>"),
            "{html}"
        );
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("May 2, 2026"));
        // The badge links to the count as text, for text browsers and screen readers.
        assert!(
            html.contains("<a href=\"/posts/p/reads.txt\"><img class=\"reads\" src=\"/posts/p/reads.svg\" alt=\"Read count\""),
            "{html}"
        );
        assert!(html.contains("<meta property=\"og:type\" content=\"article\">"));
        assert!(
            html.contains("<meta property=\"og:url\" content=\"https://blog.example/posts/p\">")
        );
        assert!(html.contains("<meta name=\"twitter:card\" content=\"summary\">"));
        assert!(html.contains("\"@type\":\"BlogPosting\""));
        assert!(
            html.contains("\"headline\":\"Tom & \\u003cJerry>\""),
            "{html}"
        );
        assert!(html.contains("href=\"/tags/rust\""));
        assert!(html.contains("<nav class=\"toc\""));
        assert!(html.contains("href=\"#three\""));
        let neighbours = html.split("class=\"neighbours\"").nth(1).unwrap();
        assert!(neighbours.contains("/posts/older") && neighbours.contains("/posts/newer"));
        // Before the newer post is published, it is no neighbour.
        let before = post(&site, &record, record.meta.published);
        let neighbours = before.split("class=\"neighbours\"").nth(1).unwrap();
        assert!(neighbours.contains("/posts/older") && !neighbours.contains("/posts/newer"));
    }

    #[test]
    fn a_preview_is_the_post_page_marked_as_one_noindex_and_without_a_read_count() {
        let site = site();
        let record = PostRecord::of_meta(
            meta("draft", "A draft", "2026-05-02"),
            "<p>Draft text.</p>\n".into(),
        );
        let page = post(&site, &record, i64::MAX);
        let shown = preview(&site, &record, i64::MAX);
        assert!(shown.contains("<p>Draft text.</p>"));
        assert!(shown.contains("<h1>A draft</h1>"));
        assert!(
            shown.contains("<p class=\"preview-note\" role=\"note\"><strong>Preview</strong>"),
            "{shown}"
        );
        assert!(shown.contains("<meta name=\"robots\" content=\"noindex\">"));
        assert!(!shown.contains("reads.svg"), "a preview is never a read");
        // The published page has neither the note nor noindex, and counts its reads.
        assert!(!page.contains("preview-note") && !page.contains("noindex"));
        assert!(page.contains("/posts/draft/reads.svg"));
        // Otherwise the two are the same page.
        let badge = "\n · <a href=\"/posts/draft/reads.txt\"><img class=\"reads\" src=\"/posts/draft/reads.svg\" alt=\"Read count\" width=\"120\" height=\"20\"></a>";
        let marks = |html: &str| {
            html.lines()
                .filter(|l| !l.contains("preview-note") && !l.contains("noindex"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(page.replace(badge, ""), marks(&shown));
    }

    #[test]
    fn a_draft_synced_for_local_dev_says_so_on_its_page_and_in_lists() {
        let site = site();
        let mut draft = meta("wip", "Work in progress", "2026-05-02");
        draft.draft = true;
        let done = meta("done", "Done", "2026-05-01");
        let html = front(&site, &[draft.clone(), done.clone()], vec![]);
        assert!(
            html.contains(
                "<a href=\"/posts/wip\">Work in progress</a> <span class=\"draft\">Draft</span>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("class=\"draft\"").count(), 1, "{html}");
        let page = |meta: PostMeta| {
            let record = PostRecord::of_meta(meta, "<p>Text.</p>".into());
            post(&site, &record, i64::MAX)
        };
        let shown = page(draft);
        assert!(
            shown.contains(
                "<p class=\"draft-note\" role=\"note\"><strong>Draft</strong>: not published."
            ),
            "{shown}"
        );
        assert!(!page(done).contains("draft-note"));
    }

    #[test]
    fn a_cover_becomes_the_share_image_and_body_images_get_their_size() {
        let site = site();
        let index = SiteIndex::new(vec![meta("p", "P", "2026-05-02")], site.clone(), "v".into());
        let visible = index.visible(i64::MAX);
        let asset = |url: &str, w, h| crate::content::Asset {
            url: url.into(),
            width: Some(w),
            height: Some(h),
            variants: Vec::new(),
        };
        let record = PostRecord {
            meta: visible.posts[0].clone(),
            body: "![A chart](chart.png)\n".into(),
            code_html: vec![],
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: [("chart.png".to_string(), asset("/files/aa.png", 640, 360))]
                .into_iter()
                .collect(),
            cover: Some(asset("/files/bb.png", 1200, 630)),
            // A cover wins over the card sync makes.
            card: Some(asset("/files/cc.png", 1200, 630)),
            neighbours: Neighbours::default(),
            related: Vec::new(),
            series: None,
        }
        .rendered(false);
        let html = post(&site, &record, i64::MAX);
        assert!(
            html.contains(
                "<meta property=\"og:image\" content=\"https://blog.example/files/bb.png\">"
            ),
            "{html}"
        );
        assert!(html.contains("<meta property=\"og:image:width\" content=\"1200\">"));
        assert!(html.contains("<meta property=\"og:image:height\" content=\"630\">"));
        assert!(html.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
        assert!(html.contains(
            "<meta name=\"twitter:image\" content=\"https://blog.example/files/bb.png\">"
        ));
        assert!(html.contains("\"image\":\"https://blog.example/files/bb.png\""));
        assert!(html.contains("<img src=\"/files/aa.png\" alt=\"A chart\" width=\"640\" height=\"360\" decoding=\"async\" loading=\"eager\">"));
        let carded = post(
            &site,
            &PostRecord {
                cover: None,
                ..record.clone()
            },
            i64::MAX,
        );
        assert!(carded.contains(
            "<meta property=\"og:image\" content=\"https://blog.example/files/cc.png\">"
        ));
        assert!(carded.contains("<meta property=\"og:image:height\" content=\"630\">"));
        assert!(carded.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
        let plain = post(
            &site,
            &PostRecord {
                cover: None,
                card: None,
                ..record
            },
            i64::MAX,
        );
        assert!(!plain.contains("og:image") && plain.contains("content=\"summary\""));
    }

    #[test]
    fn blog_posting_json_has_its_fields_in_name_order_and_no_lt() {
        let mut site = site();
        site.author = "A \"B\"".into();
        let mut post = meta("p", "</script> & co", "2026-05-02");
        post.tags.push("Web".into());
        let image = ShareImage {
            url: "https://blog.example/files/c.png".into(),
            width: None,
            height: None,
        };
        assert_eq!(
            blog_posting(&site, &post, Some(&image)),
            "{\"@context\":\"https://schema.org\",\"@type\":\"BlogPosting\",\"author\":{\"@type\":\"Person\",\"name\":\"A \\\"B\\\"\"},\
             \"datePublished\":\"2026-05-02T00:00:00Z\",\"description\":\"About \\u003c/script> & co.\",\"headline\":\"\\u003c/script> & co\",\
             \"image\":\"https://blog.example/files/c.png\",\"inLanguage\":\"en\",\"keywords\":\"Rust, Web\",\
             \"mainEntityOfPage\":\"https://blog.example/posts/p\",\"url\":\"https://blog.example/posts/p\"}"
        );
        assert!(!blog_posting(&site, &post, None).contains("image"));
    }

    #[test]
    fn an_updated_post_says_so_beside_its_date_and_in_its_json_ld() {
        let site = site();
        let published = meta("p", "P", "2026-05-02");
        let updated = published.clone().with_updated(Some(
            date::parse_rfc3339("2026-07-01T10:00:00Z")
                .unwrap()
                .timestamp(),
        ));
        let record = |meta: PostMeta| PostRecord {
            words: 1,
            ..PostRecord::of_meta(meta, "<p>x</p>".into())
        };
        let page = post(&site, &record(updated.clone()), i64::MAX);
        assert!(
            page.contains("<time datetime=\"2026-05-02T00:00:00Z\">May 2, 2026</time> · Updated <time datetime=\"2026-07-01T10:00:00Z\">Jul 1, 2026</time> · 1 min read"),
            "{page}"
        );
        assert!(blog_posting(&site, &updated, None)
            .contains("\"dateModified\":\"2026-07-01T10:00:00Z\",\"datePublished\""),);
        let page = post(&site, &record(published.clone()), i64::MAX);
        assert!(
            !page.contains("Updated") && !page.contains("dateModified"),
            "{page}"
        );
    }

    #[test]
    fn a_post_ends_with_its_related_posts_that_are_out() {
        let site = site();
        let mut record = PostRecord {
            words: 1,
            ..PostRecord::of_meta(meta("p", "P", "2026-05-02"), "<p>x</p>".into())
        };
        assert!(!post(&site, &record, i64::MAX).contains("Related"));
        record.related = vec![
            Neighbour::of(&meta("q", "Q & co", "2026-04-01")),
            Neighbour::of(&meta("later", "Later", "2026-09-01")),
        ];
        let at = date::parse_rfc3339("2026-06-01").unwrap().timestamp();
        let page = post(&site, &record, at);
        assert!(
            page.contains("<nav class=\"related\" aria-labelledby=\"related-title\">\n<h2 id=\"related-title\">Related posts</h2>\n<ul>\n<li><a href=\"/posts/q\">Q &#38; co</a></li>\n</ul>"),
            "{page}"
        );
        assert!(!page.contains("/posts/later"), "not out yet");
    }

    #[test]
    fn short_posts_have_no_table_of_contents() {
        let site = site();
        let index = SiteIndex::new(vec![meta("p", "P", "2026-05-02")], site.clone(), "v".into());
        let visible = index.visible(i64::MAX);
        let record = PostRecord {
            meta: visible.posts[0].clone(),
            body: "## One\n\n## Two\n".into(),
            code_html: vec![],
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: Default::default(),
            cover: None,
            card: None,
            neighbours: Neighbours::default(),
            related: Vec::new(),
            series: None,
        }
        .rendered(false);
        let html = post(&site, &record, i64::MAX);
        assert!(!html.contains("class=\"toc\""));
        assert!(!html.contains("neighbours\"><a"));
    }

    #[test]
    fn tag_pages_list_tagged_posts_and_their_feed() {
        let site = site();
        let index = SiteIndex::new(vec![meta("p", "P", "2026-05-02")], site.clone(), "v".into());
        let html = page_of(&index, List::Tag("rust"), 1).unwrap();
        assert!(html.contains("<h1>Rust</h1>") && html.contains("/posts/p"));
        assert!(html.contains("href=\"/tags/rust/feed.xml\""));
        assert!(
            !html.contains("class=\"pagination\""),
            "one page needs no page links"
        );
        assert!(page_of(&index, List::Tag("nope"), 1).is_none());
        assert!(
            page_of(&index, List::Tag("rust"), 2).is_none(),
            "no second page"
        );
        let html = tags(&site, lists::records(&index, i64::MAX).1.at(i64::MAX));
        assert!(html.contains("href=\"/tags/rust\"") && html.contains("1 post"));
    }

    /// `count` posts a day apart, newest first, ending on 2026-01-02.
    fn daily(count: usize) -> Vec<PostMeta> {
        let last = date::parse_rfc3339("2026-01-02T12:00:00Z")
            .unwrap()
            .timestamp();
        (0..count)
            .map(|i| {
                let mut post = meta(&format!("p{i}"), &format!("Post {i}"), "2026-01-01");
                post.published = last - i as i64 * 86_400;
                post
            })
            .collect()
    }

    #[test]
    fn the_front_page_shows_the_newest_posts_and_links_the_archive_for_the_rest() {
        let site = Settings {
            front_page_posts: 3,
            ..site()
        };
        let posts = daily(5);
        let html = front(&site, &posts, vec![]);
        assert_eq!(html.matches("<li class=\"post\">").count(), 3);
        assert!(html.contains("/posts/p0") && html.contains("/posts/p2"));
        assert!(!html.contains("/posts/p3\""));
        assert!(html.contains("class=\"more\"><a href=\"/archive\""));
        // The newest three span two years: both headings are there.
        assert!(html.contains(">2026</h2>") && html.contains(">2025</h2>"));
        let all = front(&site, &posts[..3], vec![]);
        assert!(!all.contains("class=\"more\""), "nothing older to link to");
    }

    #[test]
    fn year_pages_cut_a_year_into_linked_pages() {
        let site = Settings {
            posts_per_page: 2,
            ..site()
        };
        // 2 posts in 2026 (Jan 1 and 2), then 2025 from Dec 31 back.
        let index = SiteIndex::new(daily(7), site.clone(), "v".into());
        let archive_html = archive(&site, &SiteRecord::of(&index, i64::MAX).years_at(i64::MAX));
        assert!(archive_html.contains("href=\"/2026/\">2026</a> <span class=\"count\">2 posts"));
        assert_eq!(posts_label(&1), "1 post");
        assert_eq!(posts_label(&12_345), "12,345 posts");
        assert!(archive_html.contains("href=\"/2025/\">2025</a> <span class=\"count\">5 posts"));
        assert!(
            archive_html.contains("href=\"/2025/page/3/\""),
            "every page linked"
        );
        let first = page_of(&index, List::Year(2025), 1).unwrap();
        assert!(
            first.contains("<h1>2025</h1>")
                && first.contains("/posts/p2\"")
                && first.contains("/posts/p3\"")
        );
        assert!(!first.contains("/posts/p4\""));
        assert!(first.contains("<link rel=\"next\" href=\"https://blog.example/2025/page/2/\">"));
        assert!(!first.contains("rel=\"prev\""));
        let middle = page_of(&index, List::Year(2025), 2).unwrap();
        assert!(middle.contains("<title>2025, page 2 · "));
        assert!(middle.contains("<link rel=\"prev\" href=\"https://blog.example/2025/\">"));
        assert!(middle.contains("<a href=\"/2025/page/3/\" rel=\"next\">"));
        assert!(middle.contains("<a href=\"/2025/page/2/\" aria-current=\"page\">2</a>"));
        assert!(
            middle.contains("<link rel=\"canonical\" href=\"https://blog.example/2025/page/2/\">")
        );
        let last = page_of(&index, List::Year(2025), 3).unwrap();
        assert!(last.contains("/posts/p6\"") && !last.contains("rel=\"next\""));
        assert!(page_of(&index, List::Year(2025), 4).is_none());
        assert!(
            page_of(&index, List::Year(2019), 1).is_none(),
            "a year without posts"
        );
    }

    #[test]
    fn a_long_tag_is_paged_like_a_year() {
        let site = Settings {
            posts_per_page: 3,
            ..site()
        };
        let index = SiteIndex::new(daily(7), site.clone(), "v".into());
        let second = page_of(&index, List::Tag("rust"), 2).unwrap();
        assert!(
            second.contains("7 posts"),
            "the count is the tag's, not the page's"
        );
        assert!(second.contains("/posts/p3\"") && second.contains("/posts/p5\""));
        assert!(!second.contains("/posts/p2\"") && !second.contains("/posts/p6\""));
        assert!(second.contains("<link rel=\"prev\" href=\"https://blog.example/tags/rust\">"));
        assert!(
            second.contains("<link rel=\"next\" href=\"https://blog.example/tags/rust/page/3\">")
        );
        assert!(page_of(&index, List::Tag("rust"), 4).is_none());
    }

    #[test]
    fn pages_link_fingerprinted_assets_and_the_manifest_follows_the_settings() {
        let site = Settings::default();
        let page = front(&site, &[], vec![]);
        assert!(
            page.contains("<a href=\"/archive\">Archive</a>"),
            "the header links the archive"
        );
        assert!(
            page.contains(&format!("href=\"/style.css?v={STYLE_VERSION}\"")),
            "{page}"
        );
        assert!(
            page.contains(&format!("href=\"/favicon.svg?v={FAVICON_VERSION}\"")),
            "{page}"
        );
        assert!(
            page.contains(&format!(
                "href=\"/site.webmanifest?v={}\"",
                manifest_version(&site)
            )),
            "{page}"
        );
        let renamed = Settings {
            title: "Notes".into(),
            ..Settings::default()
        };
        assert_ne!(manifest_version(&renamed), manifest_version(&site));
        let same = Settings {
            popular_count: 9,
            ..Settings::default()
        };
        assert_eq!(
            manifest_version(&same),
            manifest_version(&site),
            "only what the manifest shows counts"
        );
    }

    #[test]
    fn error_pages_are_not_indexed() {
        let html = not_found(&site());
        assert!(html.contains("Page not found") && html.contains("href=\"/\""));
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    }
}
