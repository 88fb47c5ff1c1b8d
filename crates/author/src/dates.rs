//! Honest dates: when each post's text last changed, kept in a lock file beside the content
//! folder (`content.lock` beside `content/`) that the author commits, so every machine and
//! CI show the same date and a re-sync never moves it.
//!
//! The text is the title and the body with every run of whitespace as one space: reflowing
//! a paragraph, reordering the front matter or retagging is no change. A post seen for the
//! first time has no date of change (it is as published); `minor = true` keeps the date
//! there was; `updated` in the front matter wins over the lock.

use crate::diagnostic::Diagnostic;
use crate::source::{self, SourcePost};
use blog_core::date::{self, Timestamp};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const HEADER: &str = "\
# When the text (title and body) of each post last changed, as `blog sync` saw it.
# `blog sync` writes this file: commit it, so every machine shows the same dates.
";

/// What the lock remembers of one post, by its file's path inside the content folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// [`text_hash`] of the post's text when last seen.
    pub text: String,
    /// When that text was first synced, if it was not the text first seen.
    pub changed: Option<Timestamp>,
}

/// The lock file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    pub posts: BTreeMap<String, Entry>,
}

/// Where the lock of a content folder lives: beside it, named after it (`content` ->
/// `content.lock`).
pub fn lock_path(content_dir: &Path) -> PathBuf {
    let trimmed = content_dir.to_string_lossy();
    let trimmed = trimmed.trim_end_matches('/');
    PathBuf::from(format!(
        "{}.lock",
        if trimmed.is_empty() { "/" } else { trimmed }
    ))
}

/// A post's text as the reader reads it, for telling a real change from a reflow.
pub fn text_hash(title: &str, body: &str) -> String {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    source::hash_of(&(words(title), words(body)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    text: String,
    #[serde(default)]
    changed: Option<String>,
}

impl Lock {
    /// Parses a lock's text; `file` names it in the diagnostic.
    pub fn parse(file: &str, text: &str) -> Result<Lock, Diagnostic> {
        let line_of = |pos: usize| 1 + text[..pos.min(text.len())].matches('\n').count();
        let redo = "fix the line or delete the file (the next sync writes it again, losing the dates it held)";
        let raw: BTreeMap<String, RawEntry> = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(s.start));
            Diagnostic::error(
                file,
                line,
                format!(
                    "the dates lock is not valid: {}: {redo}",
                    e.message().trim_end()
                ),
            )
        })?;
        let mut posts = BTreeMap::new();
        for (key, entry) in raw {
            let changed = match entry.changed {
                None => None,
                Some(when) => Some(
                    date::parse_rfc3339(&when)
                        .map_err(|e| {
                            let line = text.find(&when).map_or(1, line_of);
                            Diagnostic::error(
                                file,
                                line,
                                format!("`changed` of {key}: {e}: {redo}"),
                            )
                        })?
                        .timestamp(),
                ),
            };
            posts.insert(
                key,
                Entry {
                    text: entry.text,
                    changed,
                },
            );
        }
        Ok(Lock { posts })
    }

    /// Reads the lock at `path`; none yet is an empty lock.
    pub fn read(path: &Path) -> Result<Lock, Diagnostic> {
        match std::fs::read_to_string(path) {
            Ok(text) => Lock::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
            Err(e) => Err(Diagnostic::error(
                &path.display().to_string(),
                0,
                format!("cannot read the dates lock: {e}"),
            )),
        }
    }

    /// The lock as a file: a line a post, sorted by file, so a change is a one-line diff.
    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        for (key, entry) in &self.posts {
            out.push_str(&toml::Value::String(key.clone()).to_string());
            out.push_str(" = { text = \"");
            out.push_str(&entry.text);
            out.push('"');
            if let Some(changed) = entry.changed {
                out.push_str(", changed = \"");
                out.push_str(&date::format_rfc3339(changed));
                out.push('"');
            }
            out.push_str(" }\n");
        }
        out
    }
}

/// Gives each post the date its text last changed, and returns the lock as it now stands:
/// `key` names a post's file in the lock, `now` is the sync's clock. Posts gone from the
/// content leave the lock.
pub fn stamp(
    posts: &mut [SourcePost],
    key: impl Fn(&SourcePost) -> String,
    lock: &Lock,
    now: Timestamp,
) -> Lock {
    let mut next = Lock::default();
    for post in posts {
        let text = text_hash(&post.record.meta.title, &post.record.body);
        let changed = match lock.posts.get(&key(post)) {
            None => None,
            Some(seen) if seen.text == text || post.minor => seen.changed,
            Some(_) => Some(now),
        };
        post.set_updated(post.updated_at.or(changed));
        next.posts.insert(key(post), Entry { text, changed });
    }
    next
}

/// Writes the lock's text whole or not at all (a temporary file renamed over it).
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::files::write_whole(path, text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse_post;

    const DAY: Timestamp = 86_400;
    /// 2026-06-14, the posts' date.
    const PUBLISHED: Timestamp = 20_618 * DAY;

    fn post(body: &str, extra: &str) -> SourcePost {
        let text = format!(
            "+++\ntitle = \"A\"\ndate = 2026-06-14\nsummary = \"S.\"\n{extra}+++\n\n{body}\n"
        );
        let mut post = parse_post("content/a.md", "a", text.as_bytes()).unwrap().0;
        post.localise(&jiff::tz::TimeZone::UTC);
        post
    }

    /// Syncs `post` over `lock` at `now`: the date shown and the new lock.
    fn sync(mut post: SourcePost, lock: &Lock, now: Timestamp) -> (Option<Timestamp>, Lock) {
        let next = stamp(
            std::slice::from_mut(&mut post),
            |_| "a.md".into(),
            lock,
            now,
        );
        (post.record.meta.updated, next)
    }

    #[test]
    fn a_post_seen_first_has_no_update_and_a_resync_moves_nothing() {
        assert_eq!(PUBLISHED, date::days_from_civil(2026, 6, 14) * DAY);
        let (shown, lock) = sync(post("Body.", ""), &Lock::default(), PUBLISHED + 9 * DAY);
        assert_eq!(shown, None);
        assert_eq!(lock.posts["a.md"].changed, None);
        let (shown, again) = sync(post("Body.", ""), &lock, PUBLISHED + 30 * DAY);
        assert_eq!((shown, &again), (None, &lock));
    }

    #[test]
    fn an_edit_of_the_text_dates_it_and_the_date_stays_on_every_later_sync() {
        let (_, first) = sync(post("Body.", ""), &Lock::default(), PUBLISHED);
        let edited_at = PUBLISHED + 17 * DAY + 3600;
        let (shown, lock) = sync(post("Body, longer.", ""), &first, edited_at);
        assert_eq!(shown, Some(edited_at));
        for later in [edited_at + 60, edited_at + 100 * DAY] {
            let (shown, again) = sync(post("Body, longer.", ""), &lock, later);
            assert_eq!(
                (shown, &again),
                (Some(edited_at), &lock),
                "the date does not move"
            );
        }
        // The lock reads back as written.
        let text = lock.to_text();
        assert!(
            text.ends_with(&format!(
                "\"a.md\" = {{ text = \"{}\", changed = \"2026-07-01T01:00:00Z\" }}\n",
                lock.posts["a.md"].text
            )),
            "{text}"
        );
        assert_eq!(Lock::parse("content.lock", &text).unwrap(), lock);
    }

    #[test]
    fn whitespace_front_matter_and_tags_are_no_change_of_text() {
        let (_, lock) = sync(post("One two.\n\nThree.", ""), &Lock::default(), PUBLISHED);
        let reflowed = post("One\ntwo.\n\n\nThree.  ", "tags = [\"new\"]\n");
        assert_eq!(sync(reflowed, &lock, PUBLISHED + 20 * DAY).0, None);
        let retitled = {
            let mut p = post("One two.\n\nThree.", "");
            p.record.meta.title = "B".into();
            p
        };
        assert_eq!(
            sync(retitled, &lock, PUBLISHED + 20 * DAY).0,
            Some(PUBLISHED + 20 * DAY),
            "a new title is a change"
        );
    }

    #[test]
    fn a_minor_edit_keeps_the_last_date_and_updated_in_front_matter_wins() {
        let (_, first) = sync(post("Body.", ""), &Lock::default(), PUBLISHED);
        let (_, edited) = sync(post("Body two.", ""), &first, PUBLISHED + 10 * DAY);
        let (shown, minor) = sync(
            post("Body two, typo fixed.", "minor = true\n"),
            &edited,
            PUBLISHED + 40 * DAY,
        );
        assert_eq!(shown, Some(PUBLISHED + 10 * DAY));
        assert_ne!(minor.posts["a.md"].text, edited.posts["a.md"].text);
        // Dropping `minor` later, with no new edit, moves nothing either.
        let (shown, _) = sync(
            post("Body two, typo fixed.", ""),
            &minor,
            PUBLISHED + 50 * DAY,
        );
        assert_eq!(shown, Some(PUBLISHED + 10 * DAY));
        let (shown, lock) = sync(
            post("Body.", "updated = 2026-07-01\n"),
            &first,
            PUBLISHED + 90 * DAY,
        );
        assert_eq!(shown, Some(PUBLISHED + 17 * DAY));
        assert_eq!(
            lock.posts["a.md"].changed, None,
            "the lock keeps its own record"
        );
    }

    #[test]
    fn an_update_changes_the_posts_hash_and_only_then() {
        let plain = post("Body.", "").record.meta.hash;
        let (_, first) = sync(post("Body.", ""), &Lock::default(), PUBLISHED);
        let mut same = post("Body.", "");
        stamp(
            std::slice::from_mut(&mut same),
            |_| "a.md".into(),
            &first,
            PUBLISHED + 5 * DAY,
        );
        assert_eq!(same.record.meta.hash, plain);
        let mut dated = post("Body.", "updated = 2026-07-01\n");
        stamp(
            std::slice::from_mut(&mut dated),
            |_| "a.md".into(),
            &first,
            PUBLISHED,
        );
        assert_ne!(dated.record.meta.hash, plain);
    }

    #[test]
    fn a_broken_lock_is_an_error_at_its_line() {
        let e = Lock::parse("content.lock", "# x\n\"a.md\" = { text = 1 }\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("content.lock", 2), "{e}");
        assert!(e.message.contains("not valid"), "{e}");
        let e = Lock::parse(
            "content.lock",
            "\"a.md\" = { text = \"x\", changed = \"July\" }\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("`changed` of a.md"), "{e}");
        assert_eq!(Lock::parse("x", "").unwrap(), Lock::default());
    }

    #[test]
    fn the_lock_sits_beside_the_content_folder() {
        assert_eq!(lock_path(Path::new("content")), Path::new("content.lock"));
        assert_eq!(
            lock_path(Path::new("/site/posts/")),
            Path::new("/site/posts.lock")
        );
    }
}
