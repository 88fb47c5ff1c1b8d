//! The Workers KV layout, written by `blog sync` and read by the edge.
//!
//! | key           | value                                  | metadata            |
//! |---------------|----------------------------------------|---------------------|
//! | `site`        | JSON [`SiteRecord`]: settings, content version, scheduled instants | `{"hash": its hash}` |
//! | `version`     | the content version, as text           | `{"hash": version}` |
//! | `post/{slug}` | [`PostRecord`]: JSON (metadata, neighbours, sections, files), a line break, then the body as HTML | `{"hash": stored hash, "file": "name.md"}` |
//! | `list/{list}/{page}` | JSON [`ListRecord`]: one page of the front page, a year, a tag or a feed | `{"hash": its hash}` |
//! | `tags`        | JSON [`TagsRecord`]: every tag with its count | `{"hash": its hash}` |
//! | `aliases`     | JSON [`Aliases`]: every old path and the post it leads to | `{"hash": its hash}` |
//! | `file/{hash}.{ext}` | the bytes of an image or other file a post links to | `{"hash": hash, "type": content type}` |
//! | `file/{hash}.webp` | an image's resized variant | `{"hash": hash, "type": content type, "file": the original's name}` |
//!
//! A file's key is named by its content (the first 16 bytes of its SHA-256, in hex), so a
//! key never changes meaning: the edge may tell browsers to keep it forever, and `blog sync`
//! knows a file is already there from its name alone. A variant's name is the hash of what
//! makes it (the original's hash, the width, the format and the encoder's settings), so it
//! too names one picture for good, and sync knows it is there before encoding anything.
//!
//! [`PostRecord`]: crate::content::PostRecord
//! [`SiteRecord`]: crate::content::SiteRecord
//! [`ListRecord`]: crate::lists::ListRecord
//! [`TagsRecord`]: crate::lists::TagsRecord
//! [`Aliases`]: crate::content::Aliases

use serde::{Deserialize, Serialize};

/// How a record is read from the bytes KV holds: JSON, but for a post, whose HTML follows
/// its JSON as it is ([`crate::content::PostRecord::to_stored`]).
pub trait Stored: Sized {
    fn from_stored(bytes: &[u8]) -> Result<Self, String>;
}

macro_rules! stored_as_json {
    ($($record:ty),*) => {$(
        impl Stored for $record {
            fn from_stored(bytes: &[u8]) -> Result<Self, String> {
                serde_json::from_slice(bytes).map_err(|e| e.to_string())
            }
        }
    )*};
}

stored_as_json!(
    crate::content::SiteRecord,
    crate::content::Aliases,
    crate::lists::ListRecord,
    crate::lists::TagsRecord,
    crate::search_store::DocTable
);

impl Stored for crate::content::PostRecord {
    fn from_stored(bytes: &[u8]) -> Result<Self, String> {
        crate::content::PostRecord::from_stored(bytes)
    }
}

/// Where earlier versions kept the whole site in one record: a sync deletes it when found.
pub const INDEX_KEY: &str = "index";
/// The small record every post page reads beside its own (see [`crate::content::SiteRecord`]).
pub const SITE_KEY: &str = "site";
/// The content version alone (the index's `version`), written right after the index: the
/// edge reads this small key to know whether its cached pages are current.
pub const VERSION_KEY: &str = "version";
/// How long an isolate trusts the `version` it read, in milliseconds: under load it reads the
/// key once per window instead of once per request.
pub const VERSION_RECHECK_MS: u64 = 1000;
/// How long `blog sync` waits after writing the `version` key before it says it is done: one
/// window, plus a margin for the edge's clock, which stands still while a request computes.
/// Every version read that finishes later began after the write, so the next request after
/// a sync shows the new content, on every isolate.
pub const SYNC_SETTLE_MS: u64 = VERSION_RECHECK_MS + 250;
/// The Worker variable that shortens the window: `blog serve` starts `wrangler dev` with
/// `--var VERSION_RECHECK_MS:0`, so a local isolate reads `version` on every request and a
/// save shows at the next reload without the sync waiting out the window. Never set in
/// `wrangler.toml`, so a deployed Worker keeps [`VERSION_RECHECK_MS`].
pub const RECHECK_VAR: &str = "VERSION_RECHECK_MS";

/// The window an isolate trusts a `version` read for, from [`RECHECK_VAR`]'s value: a number
/// of milliseconds no longer than [`VERSION_RECHECK_MS`] (a longer one would outlast the
/// wait of `blog sync`, which would then finish before its content shows); anything else,
/// or nothing, is the default.
pub fn recheck_window(var: Option<&str>) -> u64 {
    var.and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms <= VERSION_RECHECK_MS)
        .unwrap_or(VERSION_RECHECK_MS)
}
// Sync must wait longer than the window, or a read it waited out could still be trusted.
const _: () = assert!(SYNC_SETTLE_MS > VERSION_RECHECK_MS);
/// The last `version` an isolate read, and when that read began (ms since the epoch, on the
/// isolate's clock): trusted for [`VERSION_RECHECK_MS`], then read again.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecentVersion(Option<(u64, Option<String>)>);

impl RecentVersion {
    /// The value (none before the first sync) if its read began less than a window before
    /// `now`. A clock that went backwards trusts nothing.
    pub fn at(&self, now: u64) -> Option<&Option<String>> {
        self.within(now, VERSION_RECHECK_MS)
    }

    /// As [`Self::at`], for a window of `window` ms ([`recheck_window`]); 0 trusts nothing.
    pub fn within(&self, now: u64, window: u64) -> Option<&Option<String>> {
        self.0
            .as_ref()
            .filter(|(read_at, _)| now >= *read_at && now - read_at < window)
            .map(|(_, v)| v)
    }

    /// Records a read that began at `read_at`, unless one that began later is already known
    /// (two reads can finish out of order).
    pub fn remember(&mut self, read_at: u64, version: Option<String>) {
        if self.0.as_ref().is_none_or(|(known, _)| *known <= read_at) {
            self.0 = Some((read_at, version));
        }
    }
}

/// How long a Workers KV location may go on serving a key's previous value (or its absence)
/// after a write: reads are cached at each location for up to 60 s. `blog sync --remote`
/// lets this pass between the steps that depend on each other (see `blog sync`'s help).
pub const REMOTE_STALE_MS: u64 = 60_000;

pub const POST_PREFIX: &str = "post/";
/// A list page's record (see [`crate::lists`]).
pub const LIST_PREFIX: &str = "list/";
/// The tags page's record ([`crate::lists::TagsRecord`]).
pub const TAGS_KEY: &str = "tags";
/// Every alias with the post it leads to ([`crate::content::Aliases`]).
pub const ALIASES_KEY: &str = "aliases";
pub const FILE_PREFIX: &str = "file/";
/// Where the edge serves what `file/{name}` holds: `/files/{name}`.
pub const FILE_URL_PREFIX: &str = "/files/";

/// KV's own limits (bytes).
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_METADATA_BYTES: usize = 1024;

pub fn post_key(slug: &str) -> String {
    format!("{POST_PREFIX}{slug}")
}

pub fn file_key(name: &str) -> String {
    format!("{FILE_PREFIX}{name}")
}

/// Whether `name` is a stored file's name: 32 lower-case hex digits, a dot, and an
/// extension of 1 to 5 lower-case letters or digits. Nothing else reaches KV from a URL.
pub fn is_file_name(name: &str) -> bool {
    let Some((hash, ext)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 32
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (1..=5).contains(&ext.len())
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The content type a file is served with, by its (lower-case) extension. Unknown kinds are
/// `application/octet-stream`, which browsers download rather than display.
pub fn content_type(ext: &str) -> &'static str {
    match ext {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "tar" => "application/x-tar",
        "gz" | "tgz" => "application/gzip",
        "bz2" => "application/x-bzip2",
        "xz" => "application/x-xz",
        "7z" => "application/x-7z-compressed",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// The metadata stored beside every key: lets `blog sync` see what the edge holds by
/// listing keys, without reading a single value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    pub hash: String,
    /// The post's file within the content folder: lets sync notice a renamed slug. For an
    /// image variant (`file/…`), the stored name of the original it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A stored file's content type: the edge serves it without a lookup of its own.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A post's social card (`file/{hash}.png`), when it has one: a sync that leaves the post
    /// alone still knows the card it uses, and keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_read_is_trusted_for_one_window_from_when_it_began() {
        let mut recent = RecentVersion::default();
        assert_eq!(recent.at(1_000), None, "nothing read yet");
        recent.remember(10_000, Some("v1".into()));
        assert_eq!(recent.at(10_000), Some(&Some("v1".into())));
        assert_eq!(
            recent.at(10_000 + VERSION_RECHECK_MS - 1),
            Some(&Some("v1".into()))
        );
        assert_eq!(
            recent.at(10_000 + VERSION_RECHECK_MS),
            None,
            "the window has passed"
        );
        assert_eq!(recent.at(9_999), None, "the clock went backwards");
        // A read that began earlier but finished later does not replace a newer one.
        recent.remember(9_500, Some("v0".into()));
        assert_eq!(recent.at(10_100), Some(&Some("v1".into())));
        recent.remember(10_500, None);
        assert_eq!(
            recent.at(10_600),
            Some(&None),
            "no version key: known, and trusted too"
        );
    }

    #[test]
    fn local_dev_may_shorten_the_version_window_but_never_lengthen_it() {
        assert_eq!(recheck_window(None), VERSION_RECHECK_MS);
        assert_eq!(recheck_window(Some("0")), 0);
        assert_eq!(recheck_window(Some(" 250 ")), 250);
        assert_eq!(
            recheck_window(Some("5000")),
            VERSION_RECHECK_MS,
            "longer than sync waits"
        );
        assert_eq!(recheck_window(Some("soon")), VERSION_RECHECK_MS);
        assert_eq!(recheck_window(Some("-1")), VERSION_RECHECK_MS);
        let mut recent = RecentVersion::default();
        recent.remember(10_000, Some("v1".into()));
        assert_eq!(
            recent.within(10_000, 0),
            None,
            "a zero window trusts no read"
        );
        assert_eq!(recent.within(10_249, 250), Some(&Some("v1".into())));
        assert_eq!(recent.within(10_250, 250), None);
    }

    #[test]
    fn file_names_are_a_hash_and_a_short_extension() {
        assert!(is_file_name("0123456789abcdef0123456789abcdef.png"));
        assert!(is_file_name("0123456789abcdef0123456789abcdef.tgz"));
        for bad in [
            "0123456789abcdef0123456789abcdef",
            "0123456789ABCDEF0123456789abcdef.png",
            "0123456789abcdef0123456789abcde.png",
            "0123456789abcdef0123456789abcdef.PNG",
            "0123456789abcdef0123456789abcdef.",
            "0123456789abcdef0123456789abcdef.toolong",
            "0123456789abcdef0123456789abcdef.png.png",
            "../0123456789abcdef0123456789abcd.png",
            "",
        ] {
            assert!(!is_file_name(bad), "{bad:?} was accepted");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("svg"), "image/svg+xml");
        assert_eq!(content_type("jpeg"), content_type("jpg"));
        assert_eq!(content_type("pdf"), "application/pdf");
        assert_eq!(content_type("exe"), "application/octet-stream");
    }

    #[test]
    fn old_key_metadata_still_parses() {
        let meta: KeyMeta = serde_json::from_str(r#"{"hash":"h"}"#).unwrap();
        assert_eq!(
            meta,
            KeyMeta {
                hash: "h".into(),
                file: None,
                content_type: None,
                card: None
            }
        );
        let json = serde_json::to_string(&KeyMeta {
            hash: "h".into(),
            file: None,
            content_type: Some("image/png".into()),
            card: None,
        })
        .unwrap();
        assert_eq!(json, r#"{"hash":"h","type":"image/png"}"#);
    }
}
