//! The Workers KV layout, written by `blog sync` and read by the edge.
//!
//! | key           | value                                  | metadata            |
//! |---------------|----------------------------------------|---------------------|
//! | `index`       | JSON [`SiteIndex`]: settings and every synced post's metadata, newest first | `{"hash": version}` |
//! | `version`     | the index's content version, as text   | none                |
//! | `post/{slug}` | JSON [`PostRecord`]: metadata, Markdown body, highlighted code | `{"hash": post hash, "file": "name.md"}` |
//!
//! [`SiteIndex`]: crate::content::SiteIndex
//! [`PostRecord`]: crate::content::PostRecord

use serde::{Deserialize, Serialize};

pub const INDEX_KEY: &str = "index";
/// The content version alone (the index's `version`), written right after the index: the
/// edge reads this small key on every request to know whether its cached pages are current.
pub const VERSION_KEY: &str = "version";
pub const POST_PREFIX: &str = "post/";

/// KV's own limits (bytes).
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_METADATA_BYTES: usize = 1024;

pub fn post_key(slug: &str) -> String {
    format!("{POST_PREFIX}{slug}")
}

/// The metadata stored beside every key: lets `blog sync` see what the edge holds by
/// listing keys, without reading a single value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    pub hash: String,
    /// The post's file within the content folder: lets sync notice a renamed slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}
