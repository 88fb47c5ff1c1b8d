//! What a response is kept under, and for how long: the keys of the pages an isolate keeps
//! in memory and in the Cache API, their ETags, and every `Cache-Control` the site sends.
//!
//! Architecture invariant: a page's key names everything the page shows. A page built from
//! the post list (index, tags, feeds, sitemap) is keyed by the content version and how many
//! posts are visible; a post's page by the post, its two neighbours and the settings, so it
//! outlives a sync that changed only other posts. Every key also names the build, so a
//! deploy that changes rendering changes every key. No lifetime outlives the moment the
//! next scheduled post comes due, because that changes the post list.

use crate::content::{PostMeta, SiteIndex, Visible};
use crate::date::Timestamp;
use crate::pages;
use crate::ranking::{self, ReadStats};
use crate::routes::Route;
use std::collections::HashMap;
use std::fmt::Write;

/// Assets that change only with a deploy, asked for without their fingerprint.
pub const ASSET_CACHE: &str = "public, max-age=86400";
/// Named by their content (a file's hash, an asset's fingerprint): the bytes never change.
pub const FILE_CACHE: &str = "public, max-age=31536000, immutable";
/// Error pages, and pages served while KV and the index disagree: kept nowhere.
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

/// A site at one second: the index, the posts visible then, and the build serving them.
/// Everything the keys and lifetimes of its pages depend on.
pub struct Moment<'a> {
    pub build_id: &'a str,
    pub index: &'a SiteIndex,
    pub visible: Visible<'a>,
    pub now: Timestamp,
}

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

impl<'a> Moment<'a> {
    pub fn new(build_id: &'a str, index: &'a SiteIndex, now: Timestamp) -> Self {
        Moment {
            build_id,
            index,
            visible: index.visible(now),
            now,
        }
    }

    /// The key of a page built from the post list, in both caches: same build, content
    /// version, set of visible posts and path (`extra` tells variants of one path apart).
    pub fn list_key(&self, path: &str, extra: &str) -> String {
        format!(
            "{}:{}:{}:{path}{extra}",
            self.build_id,
            self.index.version,
            self.visible.posts.len()
        )
    }

    /// The index page's key and its Popular Reads: the page shows them, so the key names
    /// their order. Without counts, Popular Reads ranks by date.
    pub fn home_key(
        &self,
        path: &str,
        stats: Option<&HashMap<String, ReadStats>>,
    ) -> (String, Vec<&'a PostMeta>) {
        let settings = &self.index.settings;
        let popular = ranking::popular(
            self.visible.posts,
            stats.unwrap_or(&Default::default()),
            settings.popular_count,
        );
        let order: Vec<&str> = popular.iter().map(|p| p.slug.as_str()).collect();
        let key = self.list_key(path, &format!("#{}", order.join(",")));
        (key, popular)
    }

    /// A post's page key; `None` when the index does not list the post (yet): then it is
    /// not served.
    pub fn post_key(&self, slug: &str) -> Option<(&'a PostMeta, PostKey)> {
        let (position, meta) = self.visible.find(slug)?;
        let (previous, next) = pages::neighbours_at(&self.visible, position);
        let mut memory = format!(
            "{}:{}:{}:{}:{}",
            self.build_id,
            meta.hash,
            previous.map_or("", |p| p.hash.as_str()),
            next.map_or("", |p| p.hash.as_str()),
            self.index.settings_version(),
        );
        let shown = memory.len();
        if let Some(at) = self.visible.next_publication {
            let _ = write!(memory, "@{at}");
        }
        Some((meta, PostKey { memory, shown }))
    }

    /// A lifetime, capped at the next scheduled publication (which changes the post list).
    pub fn age(&self, max_age: i64) -> i64 {
        self.visible
            .next_publication
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

/// What a request that needs the index reads in its first round trip to KV, besides the
/// small `version` key. An isolate that holds an index reads `version` alone: the index is
/// read again only when the version changed, and a post's page is usually in memory. A cold
/// isolate holds nothing: it reads the index with `version`, and a post page its post
/// too, so a cold post costs one round trip of KV latency, not three one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstReads<'a> {
    pub index: bool,
    pub post: Option<&'a str>,
}

pub fn first_reads(route: &Route, holds_index: bool) -> FirstReads<'_> {
    if holds_index {
        return FirstReads {
            index: false,
            post: None,
        };
    }
    FirstReads {
        index: true,
        post: match route {
            Route::Post { slug } => Some(slug),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn a_post_key_names_the_post_its_neighbours_settings_and_build() {
        let site = index(vec![post("old", 100), post("mid", 200), post("new", 300)]);
        let moment = Moment::new("b1", &site, 1_000);
        let (meta, key) = moment.post_key("mid").unwrap();
        assert_eq!(meta.slug, "mid");
        assert_eq!(key.shown(), "b1:h-mid:h-old:h-new:s1");
        assert_eq!(key.memory(), key.shown(), "nothing scheduled: one key");
        assert!(moment.post_key("missing").is_none());
        // The newest has no next, the oldest no previous.
        assert_eq!(
            moment.post_key("new").unwrap().1.shown(),
            "b1:h-new:h-mid::s1"
        );
        assert_eq!(
            moment.post_key("old").unwrap().1.shown(),
            "b1:h-old::h-mid:s1"
        );
        // Another build is another key.
        let other = Moment::new("b2", &site, 1_000);
        assert_ne!(other.post_key("mid").unwrap().1, key);
    }

    #[test]
    fn a_post_key_in_memory_names_the_next_publication_but_its_etag_does_not() {
        let site = index(vec![post("a", 100), post("b", 200), post("later", 5_000)]);
        let moment = Moment::new("b1", &site, 1_000);
        let (_, key) = moment.post_key("a").unwrap();
        assert_eq!(key.shown(), "b1:h-a::h-b:s1");
        assert_eq!(key.memory(), "b1:h-a::h-b:s1@5000");
        assert!(
            moment.post_key("later").is_none(),
            "a scheduled post is not served"
        );
    }

    #[test]
    fn another_post_changing_leaves_a_post_key_alone_unless_it_is_a_neighbour() {
        let before = index(vec![
            post("a", 100),
            post("b", 200),
            post("c", 300),
            post("d", 400),
        ]);
        let mut edited = vec![
            post("a", 100),
            post("b", 200),
            post("c", 300),
            post("d", 400),
        ];
        edited[3].hash = "h-d2".into();
        let after = index(edited);
        let key =
            |site: &SiteIndex, slug: &str| Moment::new("b", site, 1_000).post_key(slug).unwrap().1;
        assert_eq!(key(&before, "a"), key(&after, "a"));
        assert_ne!(
            key(&before, "c"),
            key(&after, "c"),
            "d is c's newer neighbour"
        );
    }

    #[test]
    fn list_keys_name_build_version_visible_count_and_path() {
        let site = index(vec![post("a", 100), post("b", 2_000)]);
        let early = Moment::new("b1", &site, 1_000);
        let late = Moment::new("b1", &site, 3_000);
        assert_eq!(early.list_key("/tags", ""), "b1:v1:1:/tags");
        assert_eq!(
            late.list_key("/tags", ""),
            "b1:v1:2:/tags",
            "a post came due"
        );
        assert_eq!(
            early.list_key("/site.webmanifest", "?v"),
            "b1:v1:1:/site.webmanifest?v"
        );
    }

    #[test]
    fn the_home_key_names_the_popular_order() {
        let site = index(vec![post("a", 100), post("b", 200)]);
        let moment = Moment::new("b1", &site, 1_000);
        let (by_date, popular) = moment.home_key("/", None);
        assert_eq!(by_date, "b1:v1:2:/#b,a");
        assert_eq!(popular.len(), 2);
        let stats: HashMap<String, ReadStats> = [(
            "a".to_string(),
            ReadStats {
                reads: 9,
                score: 9.0,
            },
        )]
        .into();
        let (by_reads, popular) = moment.home_key("/", Some(&stats));
        assert_eq!(by_reads, "b1:v1:2:/#a,b");
        assert_eq!(popular[0].slug, "a");
    }

    #[test]
    fn lifetimes_never_outlive_the_next_publication() {
        let site = index(vec![post("a", 100), post("soon", 1_120)]);
        let moment = Moment::new("b", &site, 1_000);
        assert_eq!(moment.age(300), 120);
        assert_eq!(moment.age(30), 30);
        assert_eq!(
            moment.page_cache(300),
            "public, max-age=120, stale-while-revalidate=120"
        );
        assert_eq!(moment.index_cache(), "public, max-age=30");
        assert_eq!(moment.page_cache(0), "public, max-age=0, must-revalidate");
        let calm = index(vec![post("a", 100)]);
        let moment = Moment::new("b", &calm, 1_000);
        assert_eq!(
            moment.page_cache(300),
            "public, max-age=300, stale-while-revalidate=86400"
        );
        // A publication already past (the index is a second behind): never negative.
        let due = index(vec![post("a", 100), post("due", 1_001)]);
        assert_eq!(Moment::new("b", &due, 1_000).age(300), 1);
        let site = index(vec![post("a", 100), post("due", 999)]);
        assert_eq!(
            Moment::new("b", &site, 1_000).visible.next_publication,
            None
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
        assert_eq!(
            first_reads(&post, false),
            FirstReads {
                index: true,
                post: Some("a")
            }
        );
        assert_eq!(
            first_reads(&Route::Index, false),
            FirstReads {
                index: true,
                post: None
            }
        );
        for route in [post, Route::Index, Route::Tags] {
            assert_eq!(
                first_reads(&route, true),
                FirstReads {
                    index: false,
                    post: None
                },
                "{route:?}"
            );
        }
    }
}
