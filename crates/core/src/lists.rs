//! The records list pages are built from, each bounded by what its page shows: the front
//! page's newest posts, each numbered page of a year and of a tag, each feed's entries, and
//! the tags with their counts. `blog sync` writes them ([`records`]); the edge reads the one
//! a page needs and takes what is visible at its moment ([`ListRecord::page_at`]).
//!
//! Scheduled posts are what makes this more than slicing: they come due between syncs, and
//! each one that does pushes every older post one place down its lists. They are always the
//! newest posts of a list (they are dated after the sync), so a page's record holds the
//! list's scheduled posts and the published ones its page can show however many of those
//! have come due: `per_page` plus one per scheduled post. A page that only exists once
//! scheduled posts come due is written too.

use crate::archive::Paging;
use crate::content::{tag_slug, PostMeta, SiteIndex, TagLink};
use crate::date::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One page of a list as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRecord {
    /// The list's posts that were scheduled at the sync, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<PostMeta>,
    /// How many of the list's posts were published at the sync.
    pub published: usize,
    /// How many published posts come before `posts` in the list.
    pub skipped: usize,
    /// Published posts, from place `skipped` on.
    pub posts: Vec<PostMeta>,
    /// A feed's record only: each listed post's body HTML, by slug, written by `blog sync`
    /// so that a feed is built from its own record, in one read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub html: BTreeMap<String, String>,
}

/// Whether a list record is a feed's, which carries its posts' HTML ([`ListRecord::html`]).
pub fn is_feed_key(key: &str) -> bool {
    key == "list/feed" || key.starts_with("list/feed/")
}

impl ListRecord {
    /// The slugs of every post the record lists, scheduled ones first.
    pub fn slugs(&self) -> impl Iterator<Item = &str> {
        self.scheduled
            .iter()
            .chain(&self.posts)
            .map(|p| p.slug.as_str())
    }

    /// A listed post as its feed entry needs it (its metadata and body HTML, one version),
    /// when this record carries its HTML.
    pub fn feed_post(&self, meta: &PostMeta) -> Option<crate::content::PostRecord> {
        let html = self.html.get(&meta.slug)?;
        Some(crate::content::PostRecord::of_meta(
            meta.clone(),
            html.clone(),
        ))
    }
}

/// What one page of a list shows at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown<'a> {
    pub posts: Vec<&'a PostMeta>,
    pub paging: Paging,
    /// How many posts the whole list has at that moment.
    pub total: usize,
}

impl ListRecord {
    /// Every page's record of a list: `posts` newest first (scheduled ones too), `now` the
    /// sync's clock. An empty list has no page.
    pub fn pages(posts: &[&PostMeta], now: Timestamp, per_page: usize) -> Vec<ListRecord> {
        let per_page = per_page.max(1);
        let split = posts.partition_point(|p| p.published > now);
        let (scheduled, published) = posts.split_at(split);
        let pages = (published.len() + scheduled.len()).div_ceil(per_page);
        (1..=pages)
            .map(|page| {
                let lo = ((page - 1) * per_page)
                    .saturating_sub(scheduled.len())
                    .min(published.len());
                let hi = (page * per_page).min(published.len());
                ListRecord {
                    scheduled: scheduled.iter().map(|p| (*p).clone()).collect(),
                    published: published.len(),
                    skipped: lo,
                    posts: published[lo..hi].iter().map(|p| (*p).clone()).collect(),
                    html: BTreeMap::new(),
                }
            })
            .collect()
    }

    /// Page `page` (1-based) as a reader sees it at `now`; `None` when the list then has no
    /// such page.
    pub fn page_at(&self, now: Timestamp, per_page: usize, page: usize) -> Option<Shown<'_>> {
        let per_page = per_page.max(1);
        let due = self.scheduled.iter().filter(|p| p.published <= now).count();
        // Newest first, so the ones due are the last of them.
        let due_posts = &self.scheduled[self.scheduled.len() - due..];
        let total = due + self.published;
        let pages = total.div_ceil(per_page);
        if page == 0 || page > pages {
            return None;
        }
        let start = (page - 1) * per_page;
        let end = (start + per_page).min(total);
        let posts = (start..end)
            .filter_map(|i| match i.checked_sub(due) {
                None => due_posts.get(i),
                Some(j) => j.checked_sub(self.skipped).and_then(|j| self.posts.get(j)),
            })
            .collect::<Vec<_>>();
        // A record always holds what its page can show; anything else is a sync's bug.
        debug_assert_eq!(posts.len(), end - start);
        Some(Shown {
            posts,
            paging: Paging { page, pages },
            total,
        })
    }

    /// When the next of this list's scheduled posts comes due after `now`.
    pub fn next_publication(&self, now: Timestamp) -> Option<Timestamp> {
        self.scheduled
            .iter()
            .rev()
            .map(|p| p.published)
            .find(|&t| t > now)
    }
}

/// A tag and how many published posts carry it, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub name: String,
    pub slug: String,
    pub published: usize,
}

/// The tags page's record: every tag with its count, and the tags of each scheduled post.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagsRecord {
    pub tags: Vec<TagCount>,
    /// `(publication, tag names)` of each post scheduled at the sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<(Timestamp, Vec<String>)>,
}

impl TagsRecord {
    /// Every tag with its count at `now`, by slug.
    pub fn at(&self, now: Timestamp) -> Vec<(TagLink<'_>, usize)> {
        let mut tags: BTreeMap<&str, (TagLink<'_>, usize)> = self
            .tags
            .iter()
            .map(|t| {
                let link = TagLink {
                    name: &t.name,
                    slug: t.slug.clone(),
                };
                (t.slug.as_str(), (link, t.published))
            })
            .collect();
        let mut extra: BTreeMap<String, (TagLink<'_>, usize)> = BTreeMap::new();
        for (_, names) in self.scheduled.iter().filter(|(at, _)| *at <= now) {
            for name in names {
                let slug = tag_slug(name);
                match tags.get_mut(slug.as_str()) {
                    Some((_, n)) => *n += 1,
                    None => {
                        extra
                            .entry(slug.clone())
                            .or_insert((TagLink { name, slug }, 0))
                            .1 += 1
                    }
                }
            }
        }
        let mut all: Vec<(TagLink<'_>, usize)> = tags.into_values().collect();
        all.extend(extra.into_values());
        all.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
        all
    }
}

/// The lists a site has, by name, with how many posts a page of each holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List<'a> {
    /// The front page's newest posts (one page).
    Front,
    /// The main feed's entries (one page).
    Feed,
    Year(i64),
    Tag(&'a str),
    /// A tag's feed entries (one page).
    TagFeed(&'a str),
    /// The sitemap's posts, a part's worth a page (slugs and dates only).
    Sitemap,
    /// A series' parts, its page's and its feed's (one page).
    Series(&'a str),
}

/// The most parts a series page lists.
pub const SERIES_PARTS: usize = 200;

impl List<'_> {
    pub fn per_page(&self, settings: &crate::settings::Settings) -> usize {
        match self {
            List::Front => settings.front_page_posts,
            List::Feed | List::TagFeed(_) => settings.feed_posts,
            List::Year(_) | List::Tag(_) => settings.posts_per_page,
            List::Sitemap => crate::feeds::SITEMAP_PART_POSTS,
            List::Series(_) => SERIES_PARTS,
        }
        .max(1)
    }

    /// Its page's KV key (a one-page list has page 1 only).
    pub fn key(&self, page: usize) -> String {
        match self {
            List::Front => "list/front".into(),
            List::Feed => "list/feed".into(),
            List::Year(year) => format!("list/year/{year}/{page}"),
            List::Tag(slug) => format!("list/tag/{slug}/{page}"),
            List::TagFeed(slug) => format!("list/feed/{slug}"),
            List::Sitemap => format!("list/sitemap/{page}"),
            List::Series(slug) => format!("list/series/{slug}"),
        }
    }

    fn one_page(&self) -> bool {
        matches!(
            self,
            List::Front | List::Feed | List::TagFeed(_) | List::Series(_)
        )
    }
}

/// Every list record of an index as of `now` (the sync's clock), by KV key, and the tags
/// page's record.
pub fn records(index: &SiteIndex, now: Timestamp) -> (BTreeMap<String, ListRecord>, TagsRecord) {
    let settings = &index.settings;
    let all: Vec<&PostMeta> = index.posts.iter().collect();
    let mut out = BTreeMap::new();
    let mut add = |list: List<'_>, posts: &[&PostMeta]| {
        let mut pages = ListRecord::pages(posts, now, list.per_page(settings));
        if list.one_page() {
            pages.truncate(1);
        }
        for (i, record) in pages.into_iter().enumerate() {
            out.insert(list.key(i + 1), record);
        }
    };
    add(List::Front, &all);
    add(List::Feed, &all);
    // The sitemap needs a post's address and dates, nothing else.
    let located: Vec<PostMeta> = all
        .iter()
        .map(|p| PostMeta {
            slug: p.slug.clone(),
            published: p.published,
            utc_offset: p.utc_offset,
            updated: p.updated,
            ..PostMeta::default()
        })
        .collect();
    add(List::Sitemap, &located.iter().collect::<Vec<_>>());
    let mut years: BTreeMap<i64, Vec<&PostMeta>> = BTreeMap::new();
    let mut tagged: BTreeMap<String, (String, Vec<&PostMeta>)> = BTreeMap::new();
    for post in &all {
        years.entry(post.year()).or_default().push(post);
        for tag in &post.tags {
            tagged
                .entry(tag_slug(tag))
                .or_insert_with(|| (tag.clone(), Vec::new()))
                .1
                .push(post);
        }
    }
    for (year, posts) in &years {
        add(List::Year(*year), posts);
    }
    let mut tags = TagsRecord::default();
    for (slug, (name, posts)) in &tagged {
        add(List::Tag(slug), posts);
        add(List::TagFeed(slug), posts);
        let published = posts.iter().filter(|p| p.published <= now).count();
        if published > 0 {
            tags.tags.push(TagCount {
                name: name.clone(),
                slug: slug.clone(),
                published,
            });
        }
    }
    // Each series' parts, newest first as every list is: its page orders them to read.
    let mut series: BTreeMap<String, Vec<&PostMeta>> = BTreeMap::new();
    for post in &all {
        if let Some(name) = &post.series {
            series
                .entry(crate::content::series_slug(name))
                .or_default()
                .push(post);
        }
    }
    for (slug, posts) in &series {
        add(List::Series(slug), posts);
    }
    tags.scheduled = all
        .iter()
        .filter(|p| p.published > now)
        .map(|p| (p.published, p.tags.clone()))
        .collect();
    (out, tags)
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
            tags: vec!["Rust".into()],
            ..PostMeta::default()
        }
    }

    /// Posts p0 (newest) .. p{n-1}, a day apart; the first `scheduled` dated after `now`.
    fn list(n: usize, scheduled: usize, now: Timestamp) -> Vec<PostMeta> {
        (0..n)
            .map(|i| {
                let t = now + (scheduled as i64 - i as i64) * 86_400;
                post(&format!("p{i}"), if i < scheduled { t } else { t - 1 })
            })
            .collect()
    }

    fn slugs(shown: &Shown<'_>) -> Vec<String> {
        shown.posts.iter().map(|p| p.slug.clone()).collect()
    }

    #[test]
    fn a_feed_record_gives_its_posts_with_their_html_when_it_carries_it() {
        let now = 1_000_000;
        let posts = list(4, 1, now);
        let (lists, _) = records(
            &SiteIndex::new(posts.clone(), Settings::default(), "v".into()),
            now,
        );
        let feeds: Vec<&String> = lists.keys().filter(|k| is_feed_key(k)).collect();
        assert_eq!(feeds, ["list/feed", "list/feed/rust"]);
        assert!(!is_feed_key("list/front") && !is_feed_key("list/feedback/1"));
        let mut record = lists["list/feed"].clone();
        assert_eq!(record.slugs().collect::<Vec<_>>(), ["p0", "p1", "p2", "p3"]);
        assert!(record.feed_post(&posts[1]).is_none(), "no HTML carried yet");
        record.html = record
            .slugs()
            .map(|s| (s.to_string(), format!("<p>{s}</p>")))
            .collect();
        let back: ListRecord =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        let entry = back.feed_post(&posts[1]).unwrap();
        assert_eq!(
            (entry.meta, entry.html.as_str()),
            (posts[1].clone(), "<p>p1</p>")
        );
        let plain = serde_json::to_string(&lists["list/front"]).unwrap();
        assert!(!plain.contains("html"), "other lists carry none: {plain}");
    }

    #[test]
    fn pages_of_a_list_show_the_same_as_slicing_it_whatever_has_come_due() {
        let now = 1_000_000;
        for (n, scheduled, per_page) in [(7, 0, 3), (7, 2, 3), (10, 4, 3), (3, 3, 2), (1, 0, 5)] {
            let posts = list(n, scheduled, now);
            let refs: Vec<&PostMeta> = posts.iter().collect();
            let records = ListRecord::pages(&refs, now, per_page);
            assert_eq!(
                records.len(),
                n.div_ceil(per_page),
                "{n} {scheduled} {per_page}"
            );
            // At each moment, from none of the scheduled posts due to all of them.
            for due in 0..=scheduled + 1 {
                let at = now + due as i64 * 86_400 - 1;
                let visible: Vec<&PostMeta> =
                    refs.iter().copied().filter(|p| p.published <= at).collect();
                let pages = visible.len().div_ceil(per_page);
                for page in 1..=records.len() + 1 {
                    let shown = records
                        .get(page - 1)
                        .and_then(|r| r.page_at(at, per_page, page));
                    let expected: Vec<String> = visible
                        .chunks(per_page)
                        .nth(page - 1)
                        .map(|c| c.iter().map(|p| p.slug.clone()).collect())
                        .unwrap_or_default();
                    match shown {
                        Some(shown) => {
                            assert_eq!(
                                slugs(&shown),
                                expected,
                                "{n} {scheduled} {per_page} due {due} page {page}"
                            );
                            assert_eq!(shown.paging, Paging { page, pages });
                            assert_eq!(shown.total, visible.len());
                        }
                        None => assert!(expected.is_empty(), "page {page} missing at due {due}"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_page_record_is_bounded_by_its_page_and_the_scheduled_posts() {
        let now = 1_000_000;
        let posts = list(1_000, 2, now);
        let refs: Vec<&PostMeta> = posts.iter().collect();
        let records = ListRecord::pages(&refs, now, 50);
        assert!(records
            .iter()
            .all(|r| r.posts.len() <= 50 + 2 && r.scheduled.len() == 2));
        assert_eq!(records[0].next_publication(now), Some(posts[1].published));
        assert_eq!(records[0].next_publication(posts[0].published), None);
    }

    #[test]
    fn a_site_has_a_record_per_list_page_and_one_for_its_tags() {
        let now = 1_000_000;
        let mut posts = list(5, 1, now);
        posts[2].tags.push("Web".into());
        let settings = Settings {
            front_page_posts: 2,
            posts_per_page: 2,
            feed_posts: 3,
            ..Settings::default()
        };
        let index = SiteIndex::new(posts, settings, "v".into());
        let (lists, tags) = records(&index, now);
        let keys: Vec<&str> = lists.keys().map(String::as_str).collect();
        let year = index.posts[0].year();
        for key in [
            "list/front",
            "list/feed",
            "list/tag/rust/1",
            "list/tag/rust/3",
            "list/feed/rust",
            "list/tag/web/1",
            "list/feed/web",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        assert!(keys.contains(&format!("list/year/{year}/1").as_str()));
        assert!(!keys.contains(&"list/tag/rust/4"));
        assert_eq!(lists["list/front"].posts.len(), 2);
        // The scheduled post carries Rust alone: counted once it is due.
        let counts = |at| -> Vec<(String, usize)> {
            tags.at(at).into_iter().map(|(t, n)| (t.slug, n)).collect()
        };
        assert_eq!(counts(now), [("rust".into(), 4), ("web".into(), 1)]);
        assert_eq!(
            counts(now + 86_400),
            [("rust".into(), 5), ("web".into(), 1)]
        );
    }
}
