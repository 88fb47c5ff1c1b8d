//! The content model shared by the author's tools and the edge: what a post and the index
//! look like once validated, and the rules a slug must follow.

use crate::date::{self, Timestamp};
use crate::routes;
use crate::settings::Settings;
pub use crate::slug::{tag_slug, validate_slug, MAX_SLUG_BYTES};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the index page needs to know about one published post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMeta {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Publication instant, Unix seconds.
    pub published: Timestamp,
    /// The site's UTC offset at that instant, in minutes, from its time zone setting
    /// (resolved by `blog sync`): the date readers see is the date on the site's clock.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub utc_offset: i32,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Old paths of this post (`/posts/old-slug`, `/2019/01/post.html`): each answers 301 here,
    /// and reads counted under an old `/posts/` slug still count for this post.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// When the post's text last changed, Unix seconds: `updated` in the front matter, else
    /// what `blog sync` recorded in the content's lock file. Only ever after `published`
    /// (see [`Self::with_updated`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// The series the post is a part of (`series` in the front matter), and its place in it
    /// when the author numbered it (`series_part`; else date order, see [`series_order`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_part: Option<u32>,
    /// A draft, published only by `blog sync --drafts` (local dev): its pages say so.
    #[serde(default, skip_serializing_if = "is_false")]
    pub draft: bool,
    /// Content hash of the whole post record: changes whenever anything a reader sees changes.
    pub hash: String,
}

impl PostMeta {
    /// "Jun 14, 2026", on the site's clock.
    pub fn display_date(&self) -> String {
        date::format_long(date::local(self.published, self.utc_offset))
    }

    /// The year the post is listed under, on the site's clock.
    pub fn year(&self) -> i64 {
        date::year(date::local(self.published, self.utc_offset))
    }

    /// RFC 3339 with the site's offset at publication, as in `2026-06-14T09:00:00+02:00`.
    pub fn iso_date(&self) -> String {
        date::format_rfc3339_at(self.published, self.utc_offset)
    }

    pub fn url(&self) -> String {
        routes::post_path(&self.slug)
    }

    /// Sets when the text last changed, kept only when a reader could tell it from the
    /// publication: on a later day on the site's clock. An edit on the day of publication
    /// (or before it, a scheduled post or a draft) is part of publishing it.
    pub fn with_updated(mut self, updated: Option<Timestamp>) -> Self {
        let day = |t: Timestamp| date::local(t, self.utc_offset).div_euclid(86_400);
        self.updated = updated.filter(|&u| day(u) > day(self.published));
        self
    }

    /// The last change readers were told of: the update, else the publication.
    pub fn modified(&self) -> Timestamp {
        self.updated.unwrap_or(self.published)
    }

    /// "Jul 1, 2026", on the site's clock (at the offset of publication), when updated.
    pub fn display_updated(&self) -> Option<String> {
        self.updated
            .map(|u| date::format_long(date::local(u, self.utc_offset)))
    }

    /// RFC 3339 of the update, at the site's offset of publication.
    pub fn iso_updated(&self) -> Option<String> {
        self.updated
            .map(|u| date::format_rfc3339_at(u, self.utc_offset))
    }

    /// RFC 3339 of [`Self::modified`].
    pub fn iso_modified(&self) -> String {
        date::format_rfc3339_at(self.modified(), self.utc_offset)
    }

    /// The post's read count badge.
    pub fn reads_badge_url(&self) -> String {
        routes::reads_badge_path(&self.slug)
    }

    /// The same count as text, which the badge links to.
    pub fn reads_text_url(&self) -> String {
        routes::reads_text_path(&self.slug)
    }

    /// Every slug this post's reads were counted under: its own and its former `/posts/` slugs.
    pub fn counted_slugs(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.slug.as_str()).chain(
            self.aliases
                .iter()
                .filter_map(|a| without_trailing_slash(a).strip_prefix("/posts/"))
                .filter(|slug| !slug.contains('/')),
        )
    }

    pub fn tag_links(&self) -> Vec<TagLink<'_>> {
        self.tags
            .iter()
            .map(|t| TagLink {
                name: t,
                slug: tag_slug(t),
            })
            .collect()
    }
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A tag as a link: its name as written and its URL segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagLink<'a> {
    pub name: &'a str,
    pub slug: String,
}

impl TagLink<'_> {
    pub fn url(&self) -> String {
        routes::tag_path(&self.slug)
    }
}

/// One post as stored at the edge: its metadata and its Markdown source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    #[serde(flatten)]
    pub meta: PostMeta,
    /// The Markdown, on the author's machine only: the edge gets [`Self::html`].
    #[serde(skip)]
    pub body: String,
    /// Highlighted HTML of each fenced code block, in order, made by `blog sync` so the edge
    /// carries no grammar data; `None` where the language is unknown. Author side only, as
    /// the body is.
    #[serde(skip)]
    pub code_html: Vec<Option<String>>,
    /// Each formula of the body as MathML, in order, made by `blog sync`. Author side only.
    #[serde(skip)]
    pub math_html: Vec<String>,
    /// The body as HTML, rendered by `blog sync` ([`Self::render`]): the edge renders a
    /// page around it and parses no Markdown.
    #[serde(default)]
    pub html: String,
    /// The body's second-level headings: the page's contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<crate::markdown::Heading>,
    /// How many words the body has: the page's reading time.
    #[serde(default)]
    pub words: usize,
    /// The files the body links to (images, PDFs…) by the URL written in the Markdown,
    /// made by `blog sync` from the files beside the post.
    #[serde(default, skip_serializing_if = "AssetMap::is_empty")]
    pub assets: AssetMap,
    /// The image shown when the post is shared (`cover` in the front matter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<Asset>,
    /// The post's social card, made by `blog sync` when it has no cover: a PNG of its title,
    /// the site's title, its date and reading time, stored as a file like any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Asset>,
    /// The posts just before and after this one, written by `blog sync` so that the page
    /// needs this record and the small [`SiteRecord`], never the list of every post.
    #[serde(default, skip_serializing_if = "Neighbours::is_empty")]
    pub neighbours: Neighbours,
    /// Up to three posts like this one, best first, chosen by `blog sync` from shared tags
    /// and words; never this post nor a neighbour its page already links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Neighbour>,
    /// Every part of the post's series, in reading order, written by `blog sync` like the
    /// neighbours: the page shows "Part 2 of 3" and the parts out at its moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
}

/// A series as a post's page shows it: its name, its page, its parts in reading order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub slug: String,
    pub parts: Vec<Neighbour>,
}

/// What a part's page shows of its series at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesAt<'a> {
    pub name: &'a str,
    pub url: String,
    /// The parts out, in reading order.
    pub parts: Vec<&'a Neighbour>,
    /// This post's place among them, from 1.
    pub part: usize,
    pub previous: Option<&'a Neighbour>,
    pub next: Option<&'a Neighbour>,
}

impl Series {
    /// The series as `slug`'s page shows it at `now`: scheduled parts hidden until due.
    pub fn at(&self, slug: &str, now: Timestamp) -> Option<SeriesAt<'_>> {
        let parts: Vec<&Neighbour> = self.parts.iter().filter(|p| p.published <= now).collect();
        let i = parts.iter().position(|p| p.slug == slug)?;
        Some(SeriesAt {
            name: &self.name,
            url: routes::series_path(&self.slug),
            previous: i.checked_sub(1).map(|j| parts[j]),
            next: parts.get(i + 1).copied(),
            part: i + 1,
            parts,
        })
    }
}

/// A series' reading order: parts the author numbered by number, then by date (and title).
pub fn series_order(posts: &mut [&PostMeta]) {
    posts.sort_by(|a, b| {
        (a.series_part.unwrap_or(u32::MAX), a.published, &a.title).cmp(&(
            b.series_part.unwrap_or(u32::MAX),
            b.published,
            &b.title,
        ))
    });
}

/// Posts that claim a place in a series another post of it claimed first: for each, its
/// position and the first claimant's, in the order given. A series is one by its slug (the
/// page its parts share), so `Building` and `building` are one series. Two parts numbered
/// alike would read in an order no one chose.
pub fn clashing_parts<'a>(posts: impl IntoIterator<Item = &'a PostMeta>) -> Vec<(usize, usize)> {
    let mut claimed: BTreeMap<(String, u32), usize> = BTreeMap::new();
    let mut clashes = Vec::new();
    for (i, meta) in posts.into_iter().enumerate() {
        let (Some(name), Some(part)) = (&meta.series, meta.series_part) else {
            continue;
        };
        match claimed.entry((series_slug(name), part)) {
            std::collections::btree_map::Entry::Occupied(first) => clashes.push((i, *first.get())),
            std::collections::btree_map::Entry::Vacant(place) => {
                place.insert(i);
            }
        }
    }
    clashes
}

/// The URL segment of a series' name, as a tag's.
pub fn series_slug(name: &str) -> String {
    tag_slug(name)
}

impl PostRecord {
    /// A record with nothing but its metadata and body HTML: what a feed entry is made of
    /// (and where a test needs no more).
    pub fn of_meta(meta: PostMeta, html: String) -> Self {
        PostRecord {
            meta,
            body: String::new(),
            code_html: Vec::new(),
            html,
            sections: Vec::new(),
            words: 0,
            assets: AssetMap::default(),
            cover: None,
            card: None,
            neighbours: Neighbours::default(),
            math_html: Vec::new(),
            related: Vec::new(),
            series: None,
        }
    }

    /// The reading time the page and the card show, in minutes: 230 words a minute, at
    /// least one.
    pub fn reading_minutes(&self) -> usize {
        self.words.div_ceil(230).max(1)
    }

    /// The picture shown when the post is shared: its cover when it has one, else its card.
    pub fn share_image(&self) -> Option<&Asset> {
        self.cover.as_ref().or(self.card.as_ref())
    }

    /// The related posts a reader sees at `now`: those already out.
    pub fn related_at(&self, now: Timestamp) -> Vec<&Neighbour> {
        self.related.iter().filter(|r| r.published <= now).collect()
    }

    /// Renders the body (see [`crate::markdown::render`]) into [`Self::html`], with its
    /// highlighted code and files; `strip_raw_html` drops the raw HTML the author wrote
    /// (`Settings::raw_html`).
    pub fn render(&mut self, strip_raw_html: bool) {
        let rendered = crate::markdown::render(
            &self.body,
            &crate::markdown::RenderOptions {
                code_html: &self.code_html,
                strip_raw_html,
                assets: &self.assets,
                math_html: &self.math_html,
            },
        );
        self.html = rendered.html;
        self.sections = rendered
            .headings
            .into_iter()
            .filter(|h| h.level == 2)
            .collect();
        self.words = rendered.words;
    }

    /// The record with its body rendered: what the edge reads.
    pub fn rendered(mut self, strip_raw_html: bool) -> Self {
        self.render(strip_raw_html);
        self
    }

    /// The record as KV stores it: its JSON without the HTML, a line break, then the HTML as
    /// it is. The edge reads the HTML as one piece of UTF-8, where inside JSON every quote
    /// of every attribute was an escape to undo (most of an uncached post's parsing).
    pub fn to_stored(&self) -> String {
        let mut json = serde_json::to_value(self).expect("plain data serialises");
        if let Some(fields) = json.as_object_mut() {
            fields.remove("html");
        }
        let mut out = serde_json::to_string(&json).expect("plain data serialises");
        out.reserve(1 + self.html.len());
        out.push('\n');
        out.push_str(&self.html);
        out
    }

    /// A record from what [`Self::to_stored`] wrote, or from plain JSON (a record written
    /// before the HTML was kept apart, its HTML inside).
    pub fn from_stored(bytes: &[u8]) -> Result<Self, String> {
        let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<PostRecord>();
        let mut record = match stream.next() {
            Some(record) => record.map_err(|e| e.to_string())?,
            None => return Err("empty record".into()),
        };
        match &bytes[stream.byte_offset()..] {
            [] => {}
            [b'\n', html @ ..] => {
                record.html = std::str::from_utf8(html)
                    .map_err(|e| format!("the HTML after the JSON is not UTF-8: {e}"))?
                    .to_string();
            }
            _ => return Err("trailing characters after the record's JSON".into()),
        }
        Ok(record)
    }
}

/// A post's neighbours in reading order, as the sync saw them. The newer one may still be
/// scheduled: it shows from its publication on. Nothing newer can show before it does (the
/// list is in publication order), and the older one is published whenever this post is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbours {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older: Option<Neighbour>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer: Option<Neighbour>,
}

/// What a post's page shows of a neighbour (its title, as a link), and when it is out. Only
/// these: editing a neighbour's text leaves this post's record and page as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbour {
    pub slug: String,
    pub title: String,
    pub published: Timestamp,
}

impl Neighbour {
    pub fn of(meta: &PostMeta) -> Self {
        Neighbour {
            slug: meta.slug.clone(),
            title: meta.title.clone(),
            published: meta.published,
        }
    }

    pub fn url(&self) -> String {
        routes::post_path(&self.slug)
    }
}

impl Neighbours {
    pub fn is_empty(&self) -> bool {
        self.older.is_none() && self.newer.is_none()
    }

    /// The neighbours of each post of a newest-first list, in its order.
    pub fn of_list(posts: &[PostMeta]) -> Vec<Neighbours> {
        (0..posts.len())
            .map(|i| Neighbours {
                older: posts.get(i + 1).map(Neighbour::of),
                newer: i.checked_sub(1).map(|i| Neighbour::of(&posts[i])),
            })
            .collect()
    }

    /// The neighbours a reader sees at `now`: (older, newer).
    pub fn at(&self, now: Timestamp) -> (Option<&Neighbour>, Option<&Neighbour>) {
        (
            self.older.as_ref(),
            self.newer.as_ref().filter(|n| n.published <= now),
        )
    }
}

/// A path as aliases are compared: `/a/b/` and `/a/b` are one path; `/` stays itself.
fn without_trailing_slash(path: &str) -> &str {
    path.strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path)
}

/// Every old path of a post (its aliases) and the post it leads to, from its publication on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aliases(pub BTreeMap<String, (String, Timestamp)>);

impl Aliases {
    pub fn of(index: &SiteIndex) -> Self {
        let mut map = BTreeMap::new();
        for post in &index.posts {
            for alias in &post.aliases {
                // Kept without a trailing slash: `/posts/old/` first meets the site's own
                // redirect to `/posts/old`, which must still find it.
                let key = without_trailing_slash(alias);
                map.insert(key.to_string(), (post.slug.clone(), post.published));
            }
        }
        Aliases(map)
    }

    /// The slug of the post an old path leads to at `now` (with or without a trailing slash).
    pub fn target(&self, path: &str, now: Timestamp) -> Option<&str> {
        self.0
            .get(without_trailing_slash(path))
            .filter(|(_, published)| *published <= now)
            .map(|(slug, _)| slug.as_str())
    }

    /// Every former slug of a post, and the post it names at `now`: what
    /// [`Aliases::counted_as`] gives for each slug it does not give back unchanged.
    pub fn renamed_posts(&self, now: Timestamp) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().filter_map(move |(path, (to, published))| {
            let from = path.strip_prefix(routes::POSTS_PREFIX)?;
            (*published <= now && !from.contains('/') && routes::post_path(from) == *path)
                .then_some((from, to.as_str()))
        })
    }

    /// The post a read counted under `slug` belongs to now: one renamed from it, if any.
    pub fn counted_as<'a>(&'a self, slug: &'a str, now: Timestamp) -> &'a str {
        self.0
            .get(&routes::post_path(slug))
            .filter(|(_, published)| *published <= now)
            .map_or(slug, |(to, _)| to.as_str())
    }
}

/// What every page needs besides its own records, small whatever the size of the archive:
/// the settings, the content version and when the scheduled posts come due. A post's page
/// reads this and its own record, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SiteRecord {
    /// The index's content version ([`SiteIndex::version`]).
    pub version: String,
    #[serde(default)]
    pub settings: Settings,
    /// [`SiteIndex::settings_version`].
    #[serde(default)]
    pub settings_version: String,
    /// When each post scheduled at the sync comes due, earliest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<Timestamp>,
    /// Every year with posts, newest first: how many were published at the sync, and when
    /// each of its scheduled ones comes due.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearCount>,
    /// The newest post published at the sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<Timestamp>,
    /// The `post/…`, `list/…` and `search/…` keys the sync that published this version
    /// deleted, sorted.
    /// A KV location may still serve a deleted key for a while after the delete: whatever
    /// it answers for these, this version has no such record (see [`Self::removes`]).
    /// Not part of the record's hash: a later sync that changes nothing keeps it as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// A year's posts, as the site record counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCount {
    pub year: i64,
    pub published: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<Timestamp>,
}

impl SiteRecord {
    /// The site record of an index, as of `now` (the sync's clock).
    pub fn of(index: &SiteIndex, now: Timestamp) -> Self {
        let mut scheduled: Vec<Timestamp> = index
            .posts
            .iter()
            .map(|p| p.published)
            .filter(|&t| t > now)
            .collect();
        scheduled.sort_unstable();
        let mut years: Vec<YearCount> = Vec::new();
        for post in &index.posts {
            let year = post.year();
            if years.last().is_none_or(|y| y.year != year) {
                years.push(YearCount {
                    year,
                    ..YearCount::default()
                });
            }
            let count = years.last_mut().expect("just pushed");
            if post.published > now {
                count.scheduled.push(post.published);
            } else {
                count.published += 1;
            }
        }
        SiteRecord {
            version: index.version.clone(),
            settings: index.settings.clone(),
            settings_version: index.settings_version().to_string(),
            scheduled,
            years,
            newest: index.posts.iter().map(|p| p.published).find(|&t| t <= now),
            removed: Vec::new(),
        }
    }

    /// Whether this version deleted the record under `key`: it is absent, whatever a KV
    /// read of it answers.
    pub fn removes(&self, key: &str) -> bool {
        self.removed
            .binary_search_by(|k| k.as_str().cmp(key))
            .is_ok()
    }

    /// When the newest post visible at `now` was published.
    pub fn newest_at(&self, now: Timestamp) -> Option<Timestamp> {
        let due = self.scheduled.iter().copied().filter(|&t| t <= now).max();
        due.or(self.newest)
    }

    /// Every year with posts at `now` and how many, newest first.
    pub fn years_at(&self, now: Timestamp) -> Vec<(i64, usize)> {
        self.years
            .iter()
            .map(|y| {
                let due = y.scheduled.iter().filter(|&&t| t <= now).count();
                (y.year, y.published + due)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// How many posts are visible at `now`.
    pub fn visible_count(&self, now: Timestamp) -> usize {
        self.years_at(now).iter().map(|(_, n)| n).sum()
    }

    /// How many of the scheduled posts have come due at `now`: what changes list pages
    /// between syncs.
    pub fn due(&self, now: Timestamp) -> usize {
        self.scheduled.iter().filter(|&&t| t <= now).count()
    }

    /// The instant the next scheduled post appears after `now`: no cache may outlive it.
    pub fn next_publication(&self, now: Timestamp) -> Option<Timestamp> {
        self.scheduled.iter().copied().find(|&t| t > now)
    }
}

/// A file a post links to, as published: its content-addressed URL and, for an image, the
/// size it is drawn at (so the page does not shift when it loads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// `/files/{hash}.{ext}`: never changes meaning, so it is cached forever.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// For a raster image in a post's body: the same picture resized, narrowest first
    /// (`blog sync` makes them), which pages offer with `srcset` beside the original.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
}

/// One resized copy of an image: its content-addressed URL (`/files/{hash}.{ext}`, the
/// extension naming its format) and its width in pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub url: String,
    pub width: u32,
}

/// A post's files by the URL as written in its Markdown, without any `?query` or `#fragment`.
pub type AssetMap = BTreeMap<String, Asset>;

/// Splits a URL into the part that names a file and its `?query`/`#fragment` suffix.
pub fn split_url_suffix(url: &str) -> (&str, &str) {
    url.split_at(url.find(['?', '#']).unwrap_or(url.len()))
}

/// The published URL for a URL written in a post, when it names one of the post's files;
/// any `#fragment` (a PDF page, say) is kept.
pub fn published_url<'a>(assets: &'a AssetMap, url: &str) -> Option<(String, &'a Asset)> {
    let (path, suffix) = split_url_suffix(url);
    let asset = assets.get(path)?;
    Some((format!("{}{suffix}", asset.url), asset))
}

/// The record behind every page: the site's settings and all synced posts' metadata,
/// newest first. Posts dated in the future are here too; the edge hides them until their time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SiteIndex {
    /// Hash over the settings and every post's metadata: the content version of the site.
    pub version: String,
    #[serde(default)]
    pub settings: Settings,
    pub posts: Vec<PostMeta>,
    /// Hash over the settings alone: what every page shows besides its own content, so a
    /// post page's ETag need not change when another post does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub settings_version: String,
    /// Where each slug sits in `posts`, built on first use: finding a post is one lookup
    /// however many there are (the edge finds one on every post request).
    #[serde(skip)]
    positions: SlugPositions,
}

/// A lookup table derived from `posts`: never serialised, and not part of equality.
#[derive(Default, Clone)]
struct SlugPositions(std::cell::OnceCell<std::collections::HashMap<String, usize>>);

impl PartialEq for SlugPositions {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for SlugPositions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlugPositions")
    }
}

impl SiteIndex {
    /// Builds the index in reading order: newest first, ties broken by title so the order is stable.
    pub fn new(mut posts: Vec<PostMeta>, settings: Settings, version: String) -> Self {
        sort_newest_first(&mut posts);
        Self {
            version,
            settings,
            posts,
            settings_version: String::new(),
            positions: SlugPositions::default(),
        }
    }

    /// The settings' version; an index written before it existed falls back to the whole
    /// content version (always correct, just changes more often).
    pub fn settings_version(&self) -> &str {
        if self.settings_version.is_empty() {
            &self.version
        } else {
            &self.settings_version
        }
    }

    /// The posts readers may see at `now`, newest first.
    pub fn visible(&self, now: Timestamp) -> Visible<'_> {
        let first = self.posts.partition_point(|p| p.published > now);
        let positions = self.positions.0.get_or_init(|| {
            self.posts
                .iter()
                .enumerate()
                .map(|(i, p)| (p.slug.clone(), i))
                .collect()
        });
        Visible {
            posts: &self.posts[first..],
            next_publication: first.checked_sub(1).map(|i| self.posts[i].published),
            first,
            positions,
        }
    }
}

/// What is published at one instant, and when that will next change.
#[derive(Debug, Clone, Copy)]
pub struct Visible<'a> {
    pub posts: &'a [PostMeta],
    /// The instant the next scheduled post appears: no cache may outlive it.
    pub next_publication: Option<Timestamp>,
    /// Where `posts` starts in the index's list, and the index's slug positions.
    first: usize,
    positions: &'a std::collections::HashMap<String, usize>,
}

impl<'a> Visible<'a> {
    pub fn find(&self, slug: &str) -> Option<(usize, &'a PostMeta)> {
        let i = self
            .positions
            .get(slug)
            .and_then(|i| i.checked_sub(self.first));
        match i.and_then(|i| self.posts.get(i)) {
            Some(post) if post.slug == slug => i.map(|i| (i, post)),
            // Not where the table says (the list changed after it was built): look.
            _ => self.posts.iter().enumerate().find(|(_, p)| p.slug == slug),
        }
    }

    /// The post an old path should redirect to.
    pub fn alias_target(&self, path: &str) -> Option<&'a PostMeta> {
        let path = without_trailing_slash(path);
        self.posts
            .iter()
            .find(|p| p.aliases.iter().any(|a| without_trailing_slash(a) == path))
    }

    /// Every tag with how many visible posts carry it, by name.
    pub fn tags(&self) -> Vec<(TagLink<'a>, usize)> {
        let mut tags: std::collections::BTreeMap<String, (TagLink<'a>, usize)> = Default::default();
        for post in self.posts {
            for tag in post.tag_links() {
                tags.entry(tag.slug.clone()).or_insert((tag, 0)).1 += 1;
            }
        }
        tags.into_values().collect()
    }

    pub fn tagged(&self, tag_slug: &str) -> Vec<&'a PostMeta> {
        self.posts
            .iter()
            .filter(|p| p.tags.iter().any(|t| self::tag_slug(t) == tag_slug))
            .collect()
    }
}

pub fn sort_newest_first(posts: &mut [PostMeta]) {
    posts.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| a.title.cmp(&b.title))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(slug: &str, title: &str, published: Timestamp) -> PostMeta {
        PostMeta {
            draft: false,
            slug: slug.into(),
            title: title.into(),
            summary: String::new(),
            published,
            utc_offset: 0,
            tags: vec![],
            aliases: vec![],
            updated: None,
            series: None,
            series_part: None,
            hash: String::new(),
        }
    }

    #[test]
    fn finds_posts_by_slug_among_the_visible_ones() {
        let posts = vec![
            meta("future", "F", 300),
            meta("b", "B", 200),
            meta("a", "A", 100),
        ];
        let mut index = SiteIndex::new(posts, Settings::default(), "v".into());
        let visible = index.visible(250);
        assert_eq!(
            visible.find("b").map(|(i, p)| (i, p.title.as_str())),
            Some((0, "B"))
        );
        assert_eq!(visible.find("a").map(|(i, _)| i), Some(1));
        assert!(visible.find("future").is_none(), "not yet published");
        assert!(visible.find("nope").is_none());
        assert_eq!(index.visible(400).find("future").map(|(i, _)| i), Some(0));
        // The list changed after the lookup table was built: still found, where it is now.
        index.posts.insert(0, meta("new", "N", 500));
        index.posts.remove(1);
        let visible = index.visible(1000);
        assert_eq!(visible.find("new").map(|(i, _)| i), Some(0));
        assert_eq!(visible.find("b").map(|(i, _)| i), Some(1));
        assert_eq!(visible.find("a").map(|(i, _)| i), Some(2));
        assert!(visible.find("future").is_none(), "removed");
    }

    #[test]
    fn an_update_shows_only_from_the_day_after_publication_on_the_sites_clock() {
        let day = 86_400;
        let post = meta("a", "A", 10 * day);
        let at = |t| post.clone().with_updated(t).updated;
        assert_eq!(at(None), None);
        assert_eq!(at(Some(10 * day + 3600)), None, "the day it came out");
        assert_eq!(at(Some(5 * day)), None, "before it came out (a draft)");
        assert_eq!(at(Some(11 * day)), Some(11 * day));
        // 23:30 UTC is the next day in Berlin in summer (+02:00).
        let berlin = PostMeta {
            utc_offset: 120,
            ..post.clone()
        };
        let late = 10 * day + 23 * 3600 + 1800;
        assert_eq!(berlin.clone().with_updated(Some(late)).updated, Some(late));
        let shown = berlin.with_updated(Some(late));
        assert_eq!(shown.display_updated().as_deref(), Some("Jan 12, 1970"));
        assert_eq!(
            shown.iso_updated().as_deref(),
            Some("1970-01-12T01:30:00+02:00")
        );
        assert_eq!(shown.modified(), late);
        assert_eq!(post.modified(), 10 * day);
    }

    #[test]
    fn two_parts_of_one_series_with_one_number_clash_with_the_first_to_claim_it() {
        let part = |slug: &str, series: &str, n: Option<u32>| PostMeta {
            series: Some(series.into()),
            series_part: n,
            ..meta(slug, slug, 0)
        };
        let posts = [
            part("a", "Building", Some(1)),
            part("b", "Building", Some(2)),
            part("c", "Other", Some(2)),
            part("d", "building", Some(2)),
            part("e", "Building", None),
            part("f", "Building", None),
            part("g", "Building", Some(2)),
            meta("h", "h", 0),
        ];
        assert_eq!(clashing_parts(&posts), [(3, 1), (6, 1)]);
        assert!(clashing_parts(&posts[..3]).is_empty());
    }

    #[test]
    fn a_series_shows_its_parts_out_in_reading_order_with_this_ones_place() {
        let part = |slug: &str, published, n: Option<u32>| PostMeta {
            series: Some("Building".into()),
            series_part: n,
            ..meta(slug, slug, published)
        };
        let (one, two, three) = (
            part("one", 300, Some(1)),
            part("two", 100, Some(2)),
            part("three", 900, None),
        );
        let mut parts = vec![&three, &two, &one];
        series_order(&mut parts);
        let order: Vec<&str> = parts.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(order, ["one", "two", "three"], "numbers first, then dates");
        let series = Series {
            name: "Building".into(),
            slug: series_slug("Building"),
            parts: parts.into_iter().map(Neighbour::of).collect(),
        };
        let at = series.at("two", 500).unwrap();
        assert_eq!(
            (at.part, at.parts.len(), at.url.as_str()),
            (2, 2, "/series/building")
        );
        assert_eq!(at.previous.map(|p| p.slug.as_str()), Some("one"));
        assert!(at.next.is_none(), "part three is not out yet");
        let at = series.at("two", 900).unwrap();
        assert_eq!(
            (at.parts.len(), at.next.map(|p| p.slug.as_str())),
            (3, Some("three"))
        );
        assert!(series.at("three", 500).is_none());
    }

    #[test]
    fn index_is_newest_first_with_stable_ties() {
        let index = SiteIndex::new(
            vec![
                meta("a", "Zeta", 10),
                meta("b", "Beta", 30),
                meta("c", "Alpha", 10),
            ],
            Settings::default(),
            "v".into(),
        );
        let order: Vec<_> = index.posts.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(order, ["b", "c", "a"]);
    }

    #[test]
    fn future_posts_are_hidden_until_their_time() {
        let index = SiteIndex::new(
            vec![
                meta("past", "P", 10),
                meta("soon", "S", 100),
                meta("later", "L", 200),
            ],
            Settings::default(),
            "v".into(),
        );
        let at = |now| {
            let v = index.visible(now);
            (
                v.posts.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(),
                v.next_publication,
            )
        };
        assert_eq!(at(50), (vec!["past"], Some(100)));
        assert_eq!(at(100), (vec!["soon", "past"], Some(200)));
        assert_eq!(at(500), (vec!["later", "soon", "past"], None));
    }

    #[test]
    fn finds_alias_targets_and_counts_tags() {
        let mut a = meta("new-name", "A", 10);
        a.aliases = vec![
            "/posts/old-name".into(),
            "/2019/a.html".into(),
            "/posts/was-slashed/".into(),
        ];
        a.tags = vec!["Rust".into(), "web".into()];
        let mut b = meta("b", "B", 20);
        b.tags = vec!["rust".into()];
        let index = SiteIndex::new(vec![a, b], Settings::default(), "v".into());
        let visible = index.visible(100);
        assert_eq!(
            visible
                .alias_target("/posts/old-name/")
                .map(|p| p.slug.as_str()),
            Some("new-name")
        );
        assert_eq!(
            visible
                .alias_target("/2019/a.html")
                .map(|p| p.slug.as_str()),
            Some("new-name")
        );
        assert!(visible.alias_target("/posts/other").is_none());
        let aliases = Aliases::of(&index);
        assert_eq!(aliases.target("/posts/old-name/", 100), Some("new-name"));
        assert_eq!(aliases.target("/2019/a.html", 100), Some("new-name"));
        assert_eq!(aliases.target("/2019/a.html", 5), None, "not published yet");
        // An alias written with a trailing slash answers without one too: under /posts/ the
        // site redirects `/posts/x/` to `/posts/x` before any alias is looked up.
        assert_eq!(aliases.target("/posts/was-slashed", 100), Some("new-name"));
        assert_eq!(aliases.target("/posts/was-slashed/", 100), Some("new-name"));
        assert_eq!(
            visible
                .alias_target("/posts/was-slashed")
                .map(|p| p.slug.as_str()),
            Some("new-name")
        );
        assert_eq!(aliases.target("/posts/other", 100), None);
        assert_eq!(aliases.counted_as("old-name", 100), "new-name");
        assert_eq!(aliases.counted_as("b", 100), "b");
        // The same, as the stats endpoint sends it: former post slugs only, once published.
        let renamed: Vec<_> = aliases.renamed_posts(100).collect();
        assert_eq!(
            renamed,
            [("old-name", "new-name"), ("was-slashed", "new-name")]
        );
        assert_eq!(aliases.renamed_posts(5).count(), 0, "not published yet");
        let tags: Vec<_> = visible
            .tags()
            .into_iter()
            .map(|(t, n)| (t.slug, n))
            .collect();
        assert_eq!(tags, [("rust".to_string(), 2), ("web".to_string(), 1)]);
        assert_eq!(visible.tagged("rust").len(), 2);
        let counted: Vec<_> = visible.posts[1].counted_slugs().collect();
        assert_eq!(counted, ["new-name", "old-name", "was-slashed"]);
    }

    #[test]
    fn a_record_carries_its_body_as_html_and_never_its_markdown() {
        let mut record: PostRecord = serde_json::from_str(
            r#"{"slug":"a","title":"A","summary":"","published":0,"hash":"h"}"#,
        )
        .unwrap();
        record.body = "## One\n\nTwo words <b>raw</b>\n\n### Deeper\n\n## Two\n".into();
        let kept = record.clone().rendered(false);
        assert!(kept.html.contains("<b>raw</b>"), "{}", kept.html);
        let ids: Vec<&str> = kept.sections.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["one", "two"], "second-level headings only");
        assert!(kept.words >= 4, "{}", kept.words);
        let stripped = record.rendered(true);
        assert!(
            !stripped.html.contains("<b>") && stripped.html.contains("raw"),
            "{}",
            stripped.html
        );
        let json = serde_json::to_string(&kept).unwrap();
        assert!(
            !json.contains("## One") && json.contains(r#""html":"#),
            "{json}"
        );
        let back: PostRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (back.html, back.sections, back.words),
            (kept.html, kept.sections, kept.words)
        );
        assert!(back.body.is_empty());
    }

    #[test]
    fn a_stored_record_keeps_its_html_apart_and_reads_back_whole() {
        let old = r#"{"slug":"a","title":"A","summary":"","published":0,"hash":"h"}"#;
        let record = PostRecord {
            html: "<p class=\"x\">Body with \"quotes\"\nand a line\n</p>\n".into(),
            words: 5,
            ..serde_json::from_str(old).unwrap()
        };
        let stored = record.to_stored();
        let (json, html) = stored.split_once('\n').unwrap();
        assert!(!json.contains("html") && !json.contains("Body"), "{json}");
        assert_eq!(html, record.html, "the HTML is stored as it is");
        assert_eq!(PostRecord::from_stored(stored.as_bytes()).unwrap(), record);
        // A record written as plain JSON, the HTML inside, still reads.
        let old = serde_json::to_vec(&record).unwrap();
        assert_eq!(PostRecord::from_stored(&old).unwrap(), record);
        let empty = PostRecord {
            html: String::new(),
            ..record.clone()
        };
        assert_eq!(
            PostRecord::from_stored(empty.to_stored().as_bytes()).unwrap(),
            empty
        );
        for bad in [
            &b""[..],
            b"not json",
            b"{\"slug\":1}",
            b"{}x",
            &[b"{}\n".as_slice(), &[0xff]].concat(),
        ] {
            assert!(
                PostRecord::from_stored(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn records_written_before_files_existed_still_parse_and_round_trip() {
        let old = r#"{"slug":"a","title":"A","summary":"","published":0,"hash":"h","body":"b"}"#;
        let record: PostRecord = serde_json::from_str(old).unwrap();
        assert!(record.assets.is_empty() && record.cover.is_none());
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"slug":"a","title":"A","summary":"","published":0,"tags":[],"hash":"h","html":"","words":0}"#,
            "the Markdown stays on the author's machine"
        );
        let asset = Asset {
            url: "/files/x.pdf".into(),
            width: None,
            height: None,
            variants: Vec::new(),
        };
        let with = PostRecord {
            assets: [("r.pdf".to_string(), asset.clone())].into_iter().collect(),
            ..record
        };
        let json = serde_json::to_string(&with).unwrap();
        assert!(
            json.contains(r#""assets":{"r.pdf":{"url":"/files/x.pdf"}}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<PostRecord>(&json).unwrap(), with);
        assert_eq!(
            published_url(&with.assets, "r.pdf#page=3").map(|(u, _)| u),
            Some("/files/x.pdf#page=3".into())
        );
        assert!(published_url(&with.assets, "other.pdf").is_none());
    }

    #[test]
    fn each_post_knows_its_neighbours_and_a_scheduled_one_shows_from_its_time() {
        let index = SiteIndex::new(
            vec![
                meta("a", "A", 100),
                meta("b", "B", 200),
                meta("soon", "S", 900),
            ],
            Settings::default(),
            "v".into(),
        );
        let all = Neighbours::of_list(&index.posts);
        let slugs = |n: &Neighbours, now| {
            let (older, newer) = n.at(now);
            (older.map(|p| p.slug.clone()), newer.map(|p| p.slug.clone()))
        };
        assert_eq!(
            slugs(&all[2], 1_000),
            (None, Some("b".into())),
            "a is oldest"
        );
        assert_eq!(
            slugs(&all[1], 1_000),
            (Some("a".into()), Some("soon".into()))
        );
        assert_eq!(
            slugs(&all[1], 500),
            (Some("a".into()), None),
            "soon is not out yet"
        );
        assert_eq!(slugs(&all[0], 1_000), (Some("b".into()), None));
        // Stored with the post, and read back the same; a post alone stores none.
        let record = PostRecord {
            meta: index.posts[1].clone(),
            body: String::new(),
            code_html: vec![],
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: Default::default(),
            cover: None,
            card: None,
            neighbours: all[1].clone(),
            related: Vec::new(),
            series: None,
        };
        let json = serde_json::to_string(&record).unwrap();
        assert!(
            json.contains(r#""neighbours":{"older":{"slug":"a""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<PostRecord>(&json).unwrap(), record);
        assert!(Neighbours::of_list(&index.posts[..1])[0].is_empty());
        // The site record: what comes due after the sync's clock, and when.
        let site = SiteRecord::of(&index, 500);
        assert_eq!(site.scheduled, [900]);
        assert_eq!(site.next_publication(500), Some(900));
        assert_eq!(site.next_publication(900), None);
        assert_eq!(site.version, "v");
        let year = index.posts[0].year();
        assert_eq!(site.years_at(500), [(year, 2)]);
        assert_eq!(site.years_at(900), [(year, 3)]);
        assert_eq!(
            (site.due(500), site.due(900), site.visible_count(900)),
            (0, 1, 3)
        );
    }

    #[test]
    fn a_site_record_removes_exactly_the_keys_its_sync_deleted() {
        let site = SiteRecord {
            removed: vec!["list/tag/gone/1".into(), "post/a".into(), "post/c".into()],
            ..SiteRecord::default()
        };
        assert!(site.removes("post/a") && site.removes("post/c"));
        assert!(site.removes("list/tag/gone/1"));
        for kept in ["post/b", "post/", "post/a2", "list/tag/gone/2", "site"] {
            assert!(!site.removes(kept), "{kept}");
        }
        assert!(!SiteRecord::default().removes("post/a"));
        // Older records have no such field, and an empty one is not written.
        let json = serde_json::to_string(&SiteRecord::default()).unwrap();
        assert!(!json.contains("removed"), "{json}");
        let read: SiteRecord = serde_json::from_str(r#"{"version":"v"}"#).unwrap();
        assert!(read.removed.is_empty());
    }

    #[test]
    fn accepts_plain_and_unicode_slugs() {
        for ok in ["hello-world", "go_1.22-notes", "café", "日本語"] {
            validate_slug(ok).unwrap();
        }
    }

    #[test]
    fn rejects_slugs_that_are_not_one_path_segment() {
        for bad in [
            "",
            "..",
            "a/b",
            "a b",
            "a..b",
            ".hidden",
            "tab\there",
            "nul\0",
            "q?x",
            "p%2f",
        ] {
            assert!(validate_slug(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(validate_slug(&"x".repeat(MAX_SLUG_BYTES + 1)).is_err());
    }
}
