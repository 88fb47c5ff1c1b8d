//! What a response is kept under, and for how long: the keys of the pages an isolate keeps
//! in memory and in the Cache API, their ETags, and every `Cache-Control` the site sends.
//!
//! Architecture invariant: a page's key names everything the page shows. A page built from
//! the post list (index, tags, feeds, sitemap) is keyed by the content version and how many
//! posts are visible; a post's page by the post, its two neighbours and the settings, so it
//! outlives a sync that changed only other posts. Every key also names the build, so a
//! deploy that changes rendering changes every key. No lifetime outlives the moment the
//! next scheduled post comes due, because that changes the post list.

use crate::content::{PostMeta, PostRecord, SiteRecord};
use crate::date::Timestamp;
use crate::pages;
use crate::routes::Route;
use std::fmt::Write;

/// Assets that change only with a deploy, asked for without their fingerprint.
pub const ASSET_CACHE: &str = "public, max-age=86400";
/// Named by their content (a file's hash, an asset's fingerprint): the bytes never change.
pub const FILE_CACHE: &str = "public, max-age=31536000, immutable";
/// Error pages, pages served while KV and the index disagree, the author's stats and a
/// read count as text: kept nowhere, by no cache.
pub const NO_STORE: &str = "no-store";
/// Redirects from old or non-canonical paths.
pub const REDIRECT_CACHE: &str = "public, max-age=3600";
/// What a page is stored under in the Cache API (its own lifetime, not the reader's).
pub const CACHE_API_ENTRY: &str = "public, max-age=604800";
/// Browsers and shared caches may keep a post this long, then serve it stale while they
/// revalidate (a 304 when nothing changed).
pub const POST_MAX_AGE: i64 = 300;
pub const POST_STALE: i64 = 86_400;
/// The index shows Popular Reads; counts are at most 10 s old in the isolate, so a 30 s
/// browser lifetime keeps what a reader sees under a minute old.
pub const INDEX_MAX_AGE: i64 = 30;
pub const FEED_MAX_AGE: i64 = 300;
pub const SITEMAP_MAX_AGE: i64 = 3600;
/// A read count badge with counts behind it; one without (the counter is down) is not kept.
pub const BADGE_CACHE: &str = "public, max-age=30";

/// Where a post's page is kept. Its ETag and its Cache API entry follow what the page shows
/// (this post, its neighbours, the site settings, the build): [`PostKey::shown`]. In an
/// isolate's memory, which keeps it across syncs that changed other posts, the key also
/// names the next scheduled publication, which caps the page's `Cache-Control`:
/// [`PostKey::memory`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostKey {
    memory: String,
    shown: usize,
}

impl PostKey {
    pub fn shown(&self) -> &str {
        &self.memory[..self.shown]
    }

    pub fn memory(&self) -> &str {
        &self.memory
    }

    pub fn into_memory(self) -> String {
        self.memory
    }
}

/// A moment and the next scheduled publication after it, which changes what pages show:
/// every lifetime is capped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub now: Timestamp,
    pub next_publication: Option<Timestamp>,
}

impl Lifetime {
    pub fn of_site(site: &SiteRecord, now: Timestamp) -> Self {
        Lifetime {
            now,
            next_publication: site.next_publication(now),
        }
    }

    /// A lifetime, capped at the next scheduled publication (which changes the post list).
    pub fn age(&self, max_age: i64) -> i64 {
        self.next_publication
            .map_or(max_age, |t| max_age.min((t - self.now).max(0)))
    }

    /// `Cache-Control` for a page built from the post list or a post: kept `max_age`, then
    /// served stale while revalidating, never past the next publication. `0` means every
    /// use revalidates.
    pub fn page_cache(&self, max_age: i64) -> String {
        if max_age == 0 {
            return "public, max-age=0, must-revalidate".into();
        }
        format!(
            "public, max-age={}, stale-while-revalidate={}",
            self.age(max_age),
            self.age(POST_STALE)
        )
    }

    /// `Cache-Control` for the index, whose Popular Reads change without a sync.
    pub fn index_cache(&self) -> String {
        format!("public, max-age={}", self.age(INDEX_MAX_AGE))
    }
}

/// A post's page key, from its record and the site record; `None` while the post is
/// scheduled (it is not served before its time).
pub fn post_key(
    build_id: &str,
    site: &SiteRecord,
    record: &PostRecord,
    now: Timestamp,
) -> Option<PostKey> {
    let meta = &record.meta;
    if meta.published > now {
        return None;
    }
    let (older, newer) = record.neighbours.at(now);
    // A neighbour shows as its title linking to its slug; a NUL keeps the two apart.
    let shows = |n: Option<&crate::content::Neighbour>| {
        n.map_or(String::new(), |n| format!("{}\0{}", n.slug, n.title))
    };
    let mut memory = format!(
        "{}:{}:{}:{}:{}",
        build_id,
        meta.hash,
        shows(older),
        shows(newer),
        site.settings_version,
    );
    // Related posts and a series' parts show the same way, those out at `now`.
    for related in record.related_at(now) {
        let _ = write!(memory, ":{}", shows(Some(related)));
    }
    if let Some(series) = record.series.as_ref() {
        let _ = write!(memory, ":series\0{}", series.name);
        for part in series.parts.iter().filter(|p| p.published <= now) {
            let _ = write!(memory, ":{}", shows(Some(part)));
        }
    }
    let shown = memory.len();
    if let Some(at) = site.next_publication(now) {
        let _ = write!(memory, "@{at}");
    }
    Some(PostKey { memory, shown })
}

/// Where an isolate finds a post's page without reading its record: under the content
/// version it last checked the record in, and the next publication (which may bring its
/// newer neighbour). Dropped with the other pages of that version.
pub fn post_memory_key(build_id: &str, site: &SiteRecord, slug: &str, now: Timestamp) -> String {
    let mut key = format!("{build_id}:{}:post:{slug}", site.version);
    if let Some(at) = site.next_publication(now) {
        let _ = write!(key, "@{at}");
    }
    key
}

/// `Cache-Control` of an asset (stylesheet, favicon, manifest): a year under the
/// fingerprinted link pages use, a day under a bare or outdated one.
pub fn asset_cache(names_fingerprint: bool) -> &'static str {
    if names_fingerprint {
        FILE_CACHE
    } else {
        ASSET_CACHE
    }
}

/// The manifest's key suffix: it is kept apart under its fingerprinted link.
pub fn manifest_variant(names_fingerprint: bool) -> &'static str {
    if names_fingerprint {
        "?v"
    } else {
        ""
    }
}

/// The ETag of a deployed asset: it changes only with the build.
pub fn asset_etag(build_id: &str, content_type: &str) -> String {
    pages::etag(&[build_id, content_type])
}

/// A stored file's ETag: its content hash, which its name starts with, so a reader who has
/// it gets a 304 without a KV read.
pub fn file_etag(hash: &str) -> String {
    format!("\"{hash}\"")
}

/// Where the Cache API keeps a page: a URL on the request's host. `None` on `*.workers.dev`
/// (and without a host), where the Cache API stores nothing, so no call is made at all.
pub fn cache_api_url(host: Option<&str>, key: &str) -> Option<String> {
    let host = host.filter(|host| !host.ends_with(".workers.dev"))?;
    Some(format!(
        "https://{host}/__page-cache/{}",
        pages::etag(&[key]).trim_matches('"')
    ))
}

/// What a request reads in its first round trip to KV, besides the small `version` key:
/// the site record, and the record the route's page is built from (a post, a list page,
/// the tags), never anything that grows with the archive. An isolate that holds a site record (of any version) reads `version` alone: the
/// rest is read again only when the version changed, and a page is usually in memory. A
/// cold isolate reads all of it with `version`, so a cold request costs one round trip of
/// KV latency, not two or three one after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstReads {
    pub site: bool,
    pub record: Option<String>,
    /// The aliases too: the front page folds old slugs' reads into Popular Reads with them.
    pub aliases: bool,
}

impl FirstReads {
    /// Whether anything besides `version` is read.
    pub fn any(&self) -> bool {
        self.site || self.record.is_some() || self.aliases
    }
}

/// The KV record a route's page is built from, besides the site record.
pub fn route_record(route: &Route) -> Option<String> {
    use crate::lists::List;
    Some(match route {
        Route::Post { slug } | Route::ReadsBadge { slug } | Route::ReadsText { slug } => {
            crate::kv::post_key(slug)
        }
        Route::Index => List::Front.key(1),
        Route::Year { year, page } => List::Year(*year).key(*page),
        Route::Tag { slug, page } => List::Tag(slug).key(*page),
        Route::Tags => crate::kv::TAGS_KEY.into(),
        Route::Feed { tag: None, .. } => List::Feed.key(1),
        Route::Feed { tag: Some(tag), .. } => List::TagFeed(tag).key(1),
        Route::Series { slug } | Route::SeriesFeed { slug } => List::Series(slug).key(1),
        Route::SitemapPart { part } => List::Sitemap.key(*part),
        Route::Preview { token } => crate::preview::key(token),
        _ => return None,
    })
}

pub fn first_reads(route: &Route, holds_site: bool) -> FirstReads {
    FirstReads {
        site: !holds_site,
        record: if holds_site {
            None
        } else {
            route_record(route)
        },
        aliases: !holds_site && *route == Route::Index,
    }
}

/// The front page's key: its list's, and the order of its Popular Reads, which it shows.
pub fn home_key(
    build_id: &str,
    site: &SiteRecord,
    now: Timestamp,
    path: &str,
    popular: &[&PostMeta],
) -> String {
    let order: Vec<&str> = popular.iter().map(|p| p.slug.as_str()).collect();
    list_key(build_id, site, now, path, &format!("#{}", order.join(",")))
}

/// The key of a page built from a list (a list page, a feed, the tags, the archive), in both
/// caches: same build, content version, number of scheduled posts come due (each changes
/// the lists) and path (`extra` tells variants of one path apart).
pub fn list_key(
    build_id: &str,
    site: &SiteRecord,
    now: Timestamp,
    path: &str,
    extra: &str,
) -> String {
    format!(
        "{build_id}:{}:{}:{path}{extra}",
        site.version,
        site.due(now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::SiteIndex;
    use crate::settings::Settings;

    fn post(slug: &str, published: Timestamp) -> PostMeta {
        PostMeta {
            slug: slug.into(),
            title: slug.into(),
            published,
            hash: format!("h-{slug}"),
            ..PostMeta::default()
        }
    }

    fn index(posts: Vec<PostMeta>) -> SiteIndex {
        let mut index = SiteIndex::new(posts, Settings::default(), "v1".into());
        index.settings_version = "s1".into();
        index
    }

    fn site(scheduled: Vec<Timestamp>) -> SiteRecord {
        SiteRecord {
            version: "v1".into(),
            settings_version: "s1".into(),
            scheduled,
            ..SiteRecord::default()
        }
    }

    /// The record of `slug` with its neighbours in a newest-first list of `(slug, published)`.
    fn record_in(list: &[(&str, Timestamp)], slug: &str) -> PostRecord {
        let metas: Vec<PostMeta> = list.iter().map(|(s, t)| post(s, *t)).collect();
        let i = metas.iter().position(|p| p.slug == slug).unwrap();
        PostRecord {
            meta: metas[i].clone(),
            body: String::new(),
            code_html: vec![],
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: Default::default(),
            cover: None,
            card: None,
            neighbours: crate::content::Neighbours::of_list(&metas).swap_remove(i),
            related: Vec::new(),
            series: None,
        }
    }

    #[test]
    fn a_post_key_names_the_post_its_neighbours_settings_and_build() {
        let list = [("new", 300), ("mid", 200), ("old", 100)];
        let key = |slug: &str| post_key("b1", &site(vec![]), &record_in(&list, slug), 1_000);
        let mid = key("mid").unwrap();
        assert_eq!(mid.shown(), "b1:h-mid:old\0old:new\0new:s1");
        assert_eq!(mid.memory(), mid.shown(), "nothing scheduled: one key");
        // The newest has no newer neighbour, the oldest no older one.
        assert_eq!(key("new").unwrap().shown(), "b1:h-new:mid\0mid::s1");
        assert_eq!(key("old").unwrap().shown(), "b1:h-old::mid\0mid:s1");
        // Another build is another key.
        let other = post_key("b2", &site(vec![]), &record_in(&list, "mid"), 1_000);
        assert_ne!(other.unwrap(), mid);
    }

    #[test]
    fn a_post_key_in_memory_names_the_next_publication_but_its_etag_does_not() {
        let list = [("later", 5_000), ("b", 200), ("a", 100)];
        let scheduled = site(vec![5_000]);
        let b = post_key("b1", &scheduled, &record_in(&list, "b"), 1_000).unwrap();
        assert_eq!(
            b.shown(),
            "b1:h-b:a\0a::s1",
            "the scheduled post is no neighbour yet"
        );
        assert_eq!(b.memory(), "b1:h-b:a\0a::s1@5000");
        assert!(
            post_key("b1", &scheduled, &record_in(&list, "later"), 1_000).is_none(),
            "a scheduled post is not served"
        );
        // Once it is due, it is b's newer neighbour and is served itself.
        let due = post_key("b1", &scheduled, &record_in(&list, "b"), 5_000).unwrap();
        assert_eq!(due.memory(), "b1:h-b:a\0a:later\0later:s1");
        assert!(post_key("b1", &scheduled, &record_in(&list, "later"), 5_000).is_some());
        assert_eq!(
            post_memory_key("b1", &scheduled, "b", 1_000),
            "b1:v1:post:b@5000"
        );
        assert_eq!(
            post_memory_key("b1", &scheduled, "b", 5_000),
            "b1:v1:post:b"
        );
    }

    #[test]
    fn a_post_key_names_the_related_posts_it_shows_once_they_are_out() {
        let list = [("c", 300), ("b", 200), ("a", 100)];
        let plain = record_in(&list, "a");
        let key = |record: &PostRecord, now| {
            post_key("b1", &site(vec![5_000]), record, now)
                .unwrap()
                .shown()
                .to_string()
        };
        let mut related = plain.clone();
        related.related = vec![crate::content::Neighbour::of(&post("c", 300))];
        assert_ne!(key(&plain, 1_000), key(&related, 1_000));
        let mut retitled = related.clone();
        retitled.related[0].title = "C, again".into();
        assert_ne!(key(&related, 1_000), key(&retitled, 1_000));
        // One not out yet shows nothing, and names nothing, until it is.
        let mut soon = plain.clone();
        soon.related = vec![crate::content::Neighbour::of(&post("soon", 5_000))];
        assert_eq!(key(&plain, 1_000), key(&soon, 1_000));
        assert_ne!(key(&plain, 5_000), key(&soon, 5_000));
        assert!(soon.related_at(1_000).is_empty() && soon.related_at(5_000).len() == 1);
    }

    #[test]
    fn another_post_changing_leaves_a_post_key_alone_unless_it_shows_on_the_page() {
        let before = [("d", 400), ("c", 300), ("b", 200), ("a", 100)];
        let key = |list: &[PostMeta], slug: &str| {
            let i = list.iter().position(|p| p.slug == slug).unwrap();
            let record = PostRecord {
                meta: list[i].clone(),
                body: String::new(),
                code_html: vec![],
                math_html: Vec::new(),
                html: String::new(),
                sections: Vec::new(),
                words: 0,
                assets: Default::default(),
                cover: None,
                card: None,
                neighbours: crate::content::Neighbours::of_list(list).swap_remove(i),
                related: Vec::new(),
                series: None,
            };
            post_key("b", &site(vec![]), &record, 1_000).unwrap()
        };
        let before: Vec<PostMeta> = before.iter().map(|(s, t)| post(s, *t)).collect();
        let mut edited = before.clone();
        edited[0].hash = "h-d2".into();
        assert_eq!(key(&before, "a"), key(&edited, "a"));
        assert_eq!(
            key(&before, "c"),
            key(&edited, "c"),
            "c shows d's title, not its text"
        );
        assert_ne!(key(&before, "d"), key(&edited, "d"));
        let mut retitled = before.clone();
        retitled[0].title = "D, again".into();
        assert_eq!(key(&before, "b"), key(&retitled, "b"));
        assert_ne!(
            key(&before, "c"),
            key(&retitled, "c"),
            "d is c's newer neighbour"
        );
    }

    #[test]
    fn a_list_key_names_the_version_and_the_posts_come_due() {
        let site = SiteRecord::of(&index(vec![post("a", 100), post("b", 2_000)]), 1_000);
        assert_eq!(list_key("b1", &site, 1_000, "/tags", ""), "b1:v1:0:/tags");
        assert_eq!(
            list_key("b1", &site, 3_000, "/tags", "?v"),
            "b1:v1:1:/tags?v"
        );
    }

    #[test]
    fn the_home_key_names_the_popular_order() {
        let site = SiteRecord::of(&index(vec![post("a", 100), post("b", 200)]), 1_000);
        let (a, b) = (post("a", 100), post("b", 200));
        assert_eq!(
            home_key("b1", &site, 1_000, "/", &[&b, &a]),
            "b1:v1:0:/#b,a"
        );
        assert_eq!(
            home_key("b1", &site, 1_000, "/", &[&a, &b]),
            "b1:v1:0:/#a,b"
        );
    }

    #[test]
    fn lifetimes_never_outlive_the_next_publication() {
        let at =
            |posts: Vec<PostMeta>, now| Lifetime::of_site(&SiteRecord::of(&index(posts), 0), now);
        let soon = at(vec![post("a", 100), post("soon", 1_120)], 1_000);
        assert_eq!(soon.age(300), 120);
        assert_eq!(soon.age(30), 30);
        assert_eq!(
            soon.page_cache(300),
            "public, max-age=120, stale-while-revalidate=120"
        );
        assert_eq!(soon.index_cache(), "public, max-age=30");
        assert_eq!(soon.page_cache(0), "public, max-age=0, must-revalidate");
        let calm = at(vec![post("a", 100)], 1_000);
        assert_eq!(
            calm.page_cache(300),
            "public, max-age=300, stale-while-revalidate=86400"
        );
        // A publication already past (the record is a second behind): never negative.
        let late = Lifetime {
            now: 1_000,
            next_publication: Some(999),
        };
        assert_eq!(late.age(300), 0);
        assert_eq!(
            at(vec![post("a", 100), post("due", 999)], 1_000).next_publication,
            None
        );
        assert_eq!(
            at(vec![post("a", 100), post("soon", 1_120)], 1_120).age(300),
            300
        );
    }

    #[test]
    fn assets_are_kept_a_year_only_under_their_fingerprint() {
        assert_eq!(asset_cache(true), "public, max-age=31536000, immutable");
        assert_eq!(asset_cache(false), "public, max-age=86400");
        assert_eq!(manifest_variant(true), "?v");
        assert_eq!(manifest_variant(false), "");
        assert_ne!(asset_etag("b1", "text/css"), asset_etag("b2", "text/css"));
        assert_eq!(file_etag("0123abcd"), "\"0123abcd\"");
    }

    #[test]
    fn the_cache_api_is_skipped_on_workers_dev() {
        assert_eq!(cache_api_url(Some("blog.example.workers.dev"), "k"), None);
        assert_eq!(cache_api_url(None, "k"), None);
        let url = cache_api_url(Some("blog.example.com"), "k").unwrap();
        assert!(
            url.starts_with("https://blog.example.com/__page-cache/"),
            "{url}"
        );
        assert_ne!(url, cache_api_url(Some("blog.example.com"), "k2").unwrap());
    }

    #[test]
    fn a_cold_isolate_reads_what_a_page_needs_at_once_and_a_warm_one_the_version_alone() {
        let post = Route::Post { slug: "a".into() };
        // The site record and the page's own record, never anything that grows.
        let cold_post = FirstReads {
            site: true,
            record: Some("post/a".into()),
            aliases: false,
        };
        assert_eq!(first_reads(&post, false), cold_post);
        let year = Route::Year {
            year: 2026,
            page: 2,
        };
        assert_eq!(
            first_reads(&year, false).record.as_deref(),
            Some("list/year/2026/2")
        );
        // The front page: its list and the aliases Popular Reads folds reads through.
        let cold_front = first_reads(&Route::Index, false);
        assert_eq!(cold_front.record.as_deref(), Some("list/front"));
        assert!(cold_front.aliases && cold_front.site);
        let tag_feed = Route::Feed {
            kind: crate::routes::FeedKind::Atom,
            tag: Some("rust".into()),
        };
        assert_eq!(
            first_reads(&tag_feed, false).record.as_deref(),
            Some("list/feed/rust")
        );
        let part = Route::SitemapPart { part: 2 };
        assert_eq!(
            first_reads(&part, false).record.as_deref(),
            Some("list/sitemap/2")
        );
        let sitemap = first_reads(&Route::Sitemap, false);
        assert!(sitemap.site && sitemap.record.is_none());
        let warm = FirstReads {
            site: false,
            record: None,
            aliases: false,
        };
        assert!(!warm.any() && cold_post.any());
        for route in [
            post,
            Route::Index,
            Route::Tags,
            year,
            Route::Archive,
            Route::Sitemap,
        ] {
            assert_eq!(first_reads(&route, true), warm, "{route:?}");
        }
    }
}
