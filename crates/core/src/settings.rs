//! Site settings: who the site is and how it behaves. Read from `site.toml` by `blog sync`
//! and carried to the edge inside the index record, so a change needs a sync, not a rebuild.

use serde::{Deserialize, Serialize};

/// A link in the site's header navigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavLink {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The site's name: the index heading, the feed title, the suffix of page titles.
    pub title: String,
    pub tagline: String,
    pub author: String,
    /// Absolute base URL with no trailing slash, such as `https://blog.example.com`:
    /// canonical links, feeds and the sitemap are built on it.
    pub base_url: String,
    /// BCP 47 language tag of the content, such as `en`.
    pub language: String,
    /// IANA time zone the site's dates are shown in, such as `Europe/Berlin`: a post's `date`
    /// written without an offset is a time on this clock, and every page shows dates on it.
    /// Resolved by `blog sync` (the Worker only adds the stored offset).
    pub time_zone: String,
    /// How many posts the front page lists, newest first; the archive has the rest.
    pub front_page_posts: usize,
    /// How many posts a page of a year or of a tag lists before it goes on to a next page.
    pub posts_per_page: usize,
    /// How many posts the feeds carry, newest first.
    pub feed_posts: usize,
    /// How many posts Popular Reads lists.
    pub popular_count: usize,
    /// Popular Reads weighs a read by half every this many days.
    pub popular_half_life_days: f64,
    /// How many days of daily read counts (and referring sites) the counter keeps; older
    /// days are rolled up into each post's all-time total.
    pub stats_retention_days: u32,
    pub nav: Vec<NavLink>,
    /// Whether raw HTML written inside Markdown bodies is kept (the author's choice, the
    /// default) or stripped. The Content-Security-Policy blocks scripts either way.
    pub raw_html: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            title: "Writing".into(),
            tagline: "I write about development techniques, project insights, and lessons learned building software.".into(),
            author: "The author".into(),
            base_url: "http://127.0.0.1:8787".into(),
            language: "en".into(),
            time_zone: "UTC".into(),
            front_page_posts: 30,
            posts_per_page: 50,
            feed_posts: 20,
            popular_count: 5,
            popular_half_life_days: 30.0,
            stats_retention_days: crate::stats::DEFAULT_RETENTION_DAYS,
            nav: vec![],
            raw_html: true,
        }
    }
}

impl Settings {
    /// An absolute URL for a site path (`/posts/x` -> `https://host/posts/x`).
    pub fn absolute(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        format!("{}{}", self.base_url, path)
    }
}
