//! The content model shared by the author's tools and the edge: what a post and the index
//! look like once validated, and the rules a slug must follow.

use crate::date::{self, Timestamp};
use serde::{Deserialize, Serialize};

/// Everything the index page needs to know about one published post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMeta {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Publication instant, Unix seconds.
    pub published: Timestamp,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Content hash of the whole post record: changes whenever anything a reader sees changes.
    pub hash: String,
}

impl PostMeta {
    pub fn display_date(&self) -> String {
        date::format_long(self.published)
    }

    pub fn iso_date(&self) -> String {
        date::format_rfc3339(self.published)
    }

    pub fn url(&self) -> String {
        format!("/posts/{}", self.slug)
    }
}

/// One post as stored at the edge: its metadata and its Markdown source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    #[serde(flatten)]
    pub meta: PostMeta,
    pub body: String,
}

/// The record behind the index page: all published posts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SiteIndex {
    /// Hash over every post hash: the content version of the whole site.
    pub version: String,
    pub posts: Vec<PostMeta>,
}

impl SiteIndex {
    /// Builds the index in reading order: newest first, ties broken by title so the order is stable.
    pub fn new(mut posts: Vec<PostMeta>, version: String) -> Self {
        sort_newest_first(&mut posts);
        Self { version, posts }
    }

    pub fn find(&self, slug: &str) -> Option<&PostMeta> {
        self.posts.iter().find(|p| p.slug == slug)
    }
}

pub fn sort_newest_first(posts: &mut [PostMeta]) {
    posts.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.title.cmp(&b.title)));
}

/// The longest slug we accept: KV keys are at most 512 bytes and carry a prefix.
pub const MAX_SLUG_BYTES: usize = 200;

/// Checks that a slug can stand alone as one URL path segment and inside a KV key.
/// Letters and digits of any script are fine; separators are `-`, `_` and `.`.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("the slug is empty".into());
    }
    if slug.len() > MAX_SLUG_BYTES {
        return Err(format!("the slug is {} bytes long; the limit is {MAX_SLUG_BYTES}", slug.len()));
    }
    if slug.starts_with('.') || slug.contains("..") {
        return Err(format!("the slug `{slug}` starts with a dot or contains `..`"));
    }
    if let Some(c) = slug.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!(
            "the slug `{}` contains {:?}, which cannot be part of a URL path segment; use letters, digits, `-`, `_` or `.`",
            slug.escape_debug(),
            c
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(slug: &str, title: &str, published: Timestamp) -> PostMeta {
        PostMeta {
            slug: slug.into(),
            title: title.into(),
            summary: String::new(),
            published,
            tags: vec![],
            hash: String::new(),
        }
    }

    #[test]
    fn index_is_newest_first_with_stable_ties() {
        let index = SiteIndex::new(
            vec![meta("a", "Zeta", 10), meta("b", "Beta", 30), meta("c", "Alpha", 10)],
            "v".into(),
        );
        let order: Vec<_> = index.posts.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(order, ["b", "c", "a"]);
    }

    #[test]
    fn accepts_plain_and_unicode_slugs() {
        for ok in ["hello-world", "go_1.22-notes", "café", "日本語"] {
            validate_slug(ok).unwrap();
        }
    }

    #[test]
    fn rejects_slugs_that_are_not_one_path_segment() {
        for bad in ["", "..", "a/b", "a b", "a..b", ".hidden", "tab\there", "nul\0", "q?x", "p%2f"] {
            assert!(validate_slug(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(validate_slug(&"x".repeat(MAX_SLUG_BYTES + 1)).is_err());
    }
}
