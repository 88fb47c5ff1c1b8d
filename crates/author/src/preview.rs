//! Preview links on the author's side: the tokens kept beside the content folder, a new
//! token from the operating system, and the preview records `blog preview` writes and
//! `blog sync` keeps current. What a preview answers is the core's to say
//! ([`blog_core::preview`]); here is only what is written, and under which key.
//!
//! KV knows a preview by the hash of its token and, in the key's metadata, the post's file:
//! a sync (on any machine) finds the previews in its key listing and rewrites them as their
//! posts change, without ever knowing a token. Only the author's machine keeps the tokens,
//! in `{content}.previews`, so that `blog preview` prints the same link again.

use crate::highlight::Highlighter;
use crate::publish::file_key;
use crate::source::{self, hash_of, Content, SourcePost};
use blog_core::content::PostRecord;
use blog_core::date::Timestamp;
use blog_core::kv::KeyMeta;
use blog_core::preview::{self, Preview, State};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Names, in a preview's stored hash, the form it is written in: a new form rewrites every
/// preview once.
const PREVIEW_FORMAT: &str = "preview 1";

/// Where the tokens live: beside the content folder, `content.previews` for `content/`.
/// Never committed (`.gitignore` names it): a token is the only thing that opens a preview.
pub fn tokens_path(content_dir: &Path) -> PathBuf {
    let trimmed = content_dir.to_string_lossy();
    let trimmed = trimmed.trim_end_matches('/');
    PathBuf::from(format!(
        "{}.previews",
        if trimmed.is_empty() { "/" } else { trimmed }
    ))
}

/// Each previewed post's token, by the post's file within the content folder.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tokens(pub BTreeMap<String, String>);

const TOKENS_HEADER: &str = "\
# Preview links: `blog preview` keeps each post's token here (one `token file` a line) so the
# link stays the same until `blog preview --revoke`. Secret: never commit this file.
";

impl Tokens {
    /// The tokens file; none yet is no token. A line that is not `token file` is an error
    /// naming its line.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Self::parse(&text)
            .map_err(|(line, what)| format!("{}:{line}: error: {what}", path.display()))
    }

    fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut tokens = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((token, file)) = line.split_once(' ') else {
                return Err((n + 1, "expected `token file`".into()));
            };
            if !preview::is_token(token) {
                return Err((
                    n + 1,
                    format!("`{token}` is not a preview token (48 lower-case hex digits); delete the line and preview again"),
                ));
            }
            tokens.insert(file.trim().to_string(), token.to_string());
        }
        Ok(Tokens(tokens))
    }

    pub fn to_text(&self) -> String {
        let mut out = String::from(TOKENS_HEADER);
        for (file, token) in &self.0 {
            out.push_str(&format!("{token} {file}\n"));
        }
        out
    }

    /// Writes the file whole (through a temporary file beside it), readable by its owner only.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let temp = path.with_extension("previews.tmp");
        let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        std::fs::write(&temp, self.to_text()).map_err(failed)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
        std::fs::rename(&temp, path).map_err(failed)
    }
}

/// A new token: [`preview::TOKEN_BYTES`] random bytes from the operating system.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; preview::TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("the system gave no random bytes for a token: {e}"))?;
    Ok(preview::token_of(&bytes))
}

/// What a post's preview shows, before its body is rendered.
#[derive(Debug, Clone)]
pub enum Stage {
    /// A draft, as it was read from its file.
    Draft(Box<PostRecord>),
    /// A scheduled post, as the sync publishes it (with its neighbours).
    Scheduled(Box<PostRecord>),
    Published {
        slug: String,
    },
}

/// What the preview of `post` shows at `now`: `prepared` are the posts a sync publishes
/// ([`crate::publish::prepare`]), where a post that is not a draft has its full record.
pub fn stage(post: &SourcePost, prepared: &[SourcePost], now: Timestamp) -> Stage {
    let published = prepared.iter().find(|p| p.file == post.file);
    match published {
        Some(p) if !post.draft && p.record.meta.published <= now => Stage::Published {
            slug: p.record.meta.slug.clone(),
        },
        Some(p) if !post.draft => Stage::Scheduled(Box::new(p.record.clone())),
        _ => Stage::Draft(Box::new(post.record.clone())),
    }
}

impl Stage {
    /// The hash the preview's KV metadata carries: what it shows and how it is rendered,
    /// under its token's hash, so a sync rewrites only the previews that changed.
    pub fn hash(&self, token_hash: &str, strip_raw_html: bool) -> String {
        let shown = match self {
            Stage::Draft(r) => ("draft", source::stored_hash(r)),
            Stage::Scheduled(r) => ("scheduled", source::stored_hash(r)),
            Stage::Published { slug } => ("published", slug.clone()),
        };
        hash_of(&(
            shown,
            token_hash,
            strip_raw_html,
            PREVIEW_FORMAT,
            env!("BLOG_HIGHLIGHTER_ID"),
        ))
    }

    /// The record KV holds, its body highlighted and rendered.
    pub fn render(
        self,
        token_hash: &str,
        highlighter: &Highlighter,
        strip_raw_html: bool,
    ) -> Preview {
        let page = |mut record: Box<PostRecord>| {
            source::highlight_record(&mut record, |lang, code| highlighter.highlight(lang, code));
            record.render(strip_raw_html);
            record
        };
        let state = match self {
            Stage::Draft(r) => State::Draft(page(r)),
            Stage::Scheduled(r) => State::Scheduled(page(r)),
            Stage::Published { slug } => State::Published { slug },
        };
        Preview {
            token_hash: token_hash.to_string(),
            state,
        }
    }
}

/// The bulk entry of a preview: its stored text under `preview/{hash}`, with the metadata a
/// sync reads back (the hash of what it shows, and the post's file).
pub fn entry(preview: &Preview, hash: &str, file: &str) -> serde_json::Value {
    serde_json::json!({
        "key": preview::key_of_hash(&preview.token_hash),
        "value": preview.to_stored(),
        "metadata": KeyMeta { hash: hash.to_string(), file: Some(file.to_string()), content_type: None, card: None },
    })
}

/// The previews KV holds, from its key listing: each key with its token's hash and the
/// post's file (within the content folder) it previews.
pub fn listed(remote: &BTreeMap<String, Option<KeyMeta>>) -> Vec<Listed<'_>> {
    remote
        .iter()
        .filter_map(|(key, meta)| {
            let hash = key.strip_prefix(preview::KEY_PREFIX)?;
            Some(Listed {
                key,
                token_hash: hash,
                meta: meta.as_ref(),
            })
        })
        .collect()
}

/// One preview in KV's key listing.
#[derive(Debug)]
pub struct Listed<'a> {
    pub key: &'a str,
    pub token_hash: &'a str,
    pub meta: Option<&'a KeyMeta>,
}

impl Listed<'_> {
    pub fn file(&self) -> Option<&str> {
        self.meta.and_then(|m| m.file.as_deref())
    }
}

/// What a sync does to the previews KV holds.
#[derive(Debug, Default)]
pub struct Refresh {
    /// The previews whose post changed: entries to write, with the post's file.
    pub put: Vec<(String, serde_json::Value)>,
    /// The previews whose post is gone from the content folder.
    pub delete: Vec<String>,
    /// The posts of every preview that shows a page: their files stay at the edge.
    pub sources: Vec<SourcePost>,
}

/// Keeps every preview KV holds current (the same link, what its post shows now): a sync
/// rewrites the changed ones and deletes those whose post is gone. `prepared` are the posts
/// the sync publishes. `wanted` (post's file to its token's hash) are the previews
/// `blog sync --preview` asks for: written when KV does not hold them yet, and any other
/// preview of the same post deleted (one link a post).
pub fn refresh(
    remote: &BTreeMap<String, Option<KeyMeta>>,
    wanted: &BTreeMap<String, String>,
    content: &Content,
    content_dir: &Path,
    prepared: &[SourcePost],
    now: Timestamp,
    strip_raw_html: bool,
) -> Refresh {
    let mut out = Refresh::default();
    let mut highlighter = None;
    let mut shown: Vec<(String, Option<&KeyMeta>, Option<String>)> = Vec::new();
    for listed in listed(remote) {
        let file = listed.file().map(str::to_string);
        let replaced = file
            .as_ref()
            .and_then(|f| wanted.get(f))
            .is_some_and(|hash| hash != listed.token_hash);
        if replaced {
            out.delete.push(listed.key.to_string());
        } else {
            shown.push((listed.token_hash.to_string(), listed.meta, file));
        }
    }
    for (file, hash) in wanted {
        if !remote.contains_key(&preview::key_of_hash(hash)) {
            shown.push((hash.clone(), None, Some(file.clone())));
        }
    }
    for (token_hash, meta, file) in shown {
        let post = file.as_deref().and_then(|file| {
            content
                .posts
                .iter()
                .find(|p| file_key(content_dir, &p.file) == file)
        });
        let Some(post) = post else {
            out.delete.push(preview::key_of_hash(&token_hash));
            continue;
        };
        let stage = stage(post, prepared, now);
        if !matches!(stage, Stage::Published { .. }) {
            out.sources.push(post.clone());
        }
        let hash = stage.hash(&token_hash, strip_raw_html);
        if meta.is_some_and(|m| m.hash == hash) {
            continue;
        }
        let highlighter = highlighter.get_or_insert_with(Highlighter::new);
        let record = stage.render(&token_hash, highlighter, strip_raw_html);
        let file = file_key(content_dir, &post.file);
        out.put.push((file.clone(), entry(&record, &hash, &file)));
    }
    out
}

/// The posts `blog sync --preview` previews: every draft and scheduled post, by file.
pub fn unpublished<'a>(
    content: &'a Content,
    content_dir: &Path,
    prepared: &[SourcePost],
    now: Timestamp,
) -> Vec<(String, &'a SourcePost)> {
    content
        .posts
        .iter()
        .filter(|p| !matches!(stage(p, prepared, now), Stage::Published { .. }))
        .map(|p| (file_key(content_dir, &p.file), p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokens_file_sits_beside_the_content_folder() {
        assert_eq!(
            tokens_path(Path::new("content")),
            PathBuf::from("content.previews")
        );
        assert_eq!(
            tokens_path(Path::new("/tmp/site/content/")),
            PathBuf::from("/tmp/site/content.previews")
        );
    }

    #[test]
    fn tokens_read_back_as_written_and_a_bad_line_is_named() {
        let token = "ab".repeat(preview::TOKEN_BYTES);
        let tokens = Tokens(BTreeMap::from([(
            "drafts/a b.md".to_string(),
            token.clone(),
        )]));
        let text = tokens.to_text();
        assert!(text.starts_with("# Preview links"));
        assert_eq!(Tokens::parse(&text).unwrap(), tokens);
        let e = Tokens::parse(&format!("# x\n{token} a.md\nnonsense\n")).unwrap_err();
        assert_eq!(e.0, 3);
        let e = Tokens::parse("short a.md\n").unwrap_err();
        assert_eq!(e.0, 1);
        assert!(e.1.contains("not a preview token"), "{}", e.1);
    }

    #[test]
    fn tokens_are_new_every_time_and_of_the_routes_form() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert!(preview::is_token(&a) && preview::is_token(&b));
        assert_ne!(a, b);
    }

    fn content(files: &[(&str, String)]) -> Content {
        source::check_all(files.iter().map(|(name, text)| {
            let stem = name.trim_start_matches("content/").trim_end_matches(".md");
            (*name, stem, text.as_bytes())
        }))
    }

    fn text(title: &str, date: &str, extra: &str) -> String {
        format!("+++\ntitle = \"{title}\"\ndate = {date}\nsummary = \"S.\"\n{extra}+++\n\nBody of {title}.\n")
    }

    fn listed_as(file: &str, hash: &str) -> Option<KeyMeta> {
        Some(KeyMeta {
            hash: hash.into(),
            file: Some(file.into()),
            content_type: None,
            card: None,
        })
    }

    /// A sync's view: the posts it publishes at `now`, and the previews it rewrites.
    fn refreshed(
        content: &Content,
        remote: &BTreeMap<String, Option<KeyMeta>>,
        now: Timestamp,
    ) -> Refresh {
        let (prepared, _) = crate::publish::prepare(
            content,
            blog_core::settings::Settings::default(),
            false,
            crate::publish::Highlighting::All,
        );
        refresh(
            remote,
            &BTreeMap::new(),
            content,
            Path::new("content"),
            &prepared,
            now,
            false,
        )
    }

    #[test]
    fn a_sync_rewrites_a_changed_preview_under_its_key_and_leaves_a_current_one() {
        let hash = preview::token_hash("t");
        let key = preview::key_of_hash(&hash);
        let content = content(&[
            (
                "content/d.md",
                text("Draft", "2026-01-01", "draft = true\n"),
            ),
            ("content/p.md", text("Out", "2026-01-01", "")),
        ]);
        let remote = BTreeMap::from([(key.clone(), listed_as("d.md", "old"))]);
        let out = refreshed(&content, &remote, 0);
        assert_eq!(out.put.len(), 1);
        let (file, entry) = &out.put[0];
        assert_eq!(file, "d.md");
        assert_eq!(entry["key"], key.as_str());
        assert_eq!(entry["metadata"]["file"], "d.md");
        let stored = Preview::from_stored(entry["value"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(stored.token_hash, hash);
        let State::Draft(record) = &stored.state else {
            panic!("{stored:?}");
        };
        assert!(record.html.contains("Body of Draft."), "{}", record.html);
        assert_eq!(out.sources.len(), 1, "its files stay at the edge");
        assert!(out.delete.is_empty());
        // Written, it is current: the next sync writes nothing.
        let written = entry["metadata"]["hash"].as_str().unwrap();
        let remote = BTreeMap::from([(key.clone(), listed_as("d.md", written))]);
        assert!(refreshed(&content, &remote, 0).put.is_empty());
        // An edit rewrites it, under the same key.
        let edited = self::content(&[(
            "content/d.md",
            text("Draft", "2026-01-01", "draft = true\n").replace("Body", "New body"),
        )]);
        let out = refreshed(&edited, &remote, 0);
        assert_eq!(out.put.len(), 1);
        assert_eq!(out.put[0].1["key"], key.as_str());
    }

    #[test]
    fn a_published_post_turns_its_preview_into_a_redirect_and_a_scheduled_one_keeps_its_page() {
        let key = preview::key_of_hash(&preview::token_hash("t"));
        let content = content(&[
            ("content/p.md", text("Out", "2026-01-01", "")),
            ("content/later.md", text("Later", "2030-01-01", "")),
        ]);
        let now = blog_core::date::parse_rfc3339("2026-06-01")
            .unwrap()
            .timestamp();
        let state = |file: &str| {
            let remote = BTreeMap::from([(key.clone(), listed_as(file, "old"))]);
            let out = refreshed(&content, &remote, now);
            let value = out.put[0].1["value"].as_str().unwrap().to_string();
            (
                Preview::from_stored(value.as_bytes()).unwrap().state,
                out.sources.len(),
            )
        };
        assert_eq!(state("p.md"), (State::Published { slug: "p".into() }, 0));
        let (later, sources) = state("later.md");
        assert!(
            matches!(later, State::Scheduled(ref r) if r.meta.slug == "later"),
            "{later:?}"
        );
        assert_eq!(sources, 1);
    }

    #[test]
    fn a_preview_whose_post_is_gone_is_deleted_and_other_keys_are_not_previews() {
        let key = preview::key_of_hash(&preview::token_hash("t"));
        let content = content(&[("content/p.md", text("Out", "2026-01-01", ""))]);
        let remote = BTreeMap::from([
            (key.clone(), listed_as("gone.md", "h")),
            ("post/p".to_string(), listed_as("p.md", "h")),
        ]);
        let out = refreshed(&content, &remote, 0);
        assert_eq!(out.delete, [key]);
        assert!(out.put.is_empty());
    }

    #[test]
    fn a_missing_tokens_file_holds_no_token() {
        let path = Path::new("/nonexistent/content.previews");
        assert_eq!(Tokens::read(path).unwrap(), Tokens::default());
    }

    #[test]
    fn sync_preview_adds_the_previews_kv_lacks_and_keeps_one_link_a_post() {
        let content = content(&[
            (
                "content/d.md",
                text("Draft", "2026-01-01", "draft = true\n"),
            ),
            ("content/later.md", text("Later", "2030-01-01", "")),
            ("content/p.md", text("Out", "2026-01-01", "")),
        ]);
        let now = blog_core::date::parse_rfc3339("2026-06-01")
            .unwrap()
            .timestamp();
        let (prepared, _) = crate::publish::prepare(
            &content,
            blog_core::settings::Settings::default(),
            false,
            crate::publish::Highlighting::All,
        );
        let files: Vec<String> = unpublished(&content, Path::new("content"), &prepared, now)
            .into_iter()
            .map(|(file, _)| file)
            .collect();
        assert_eq!(
            files,
            ["d.md", "later.md"],
            "the published post has no preview"
        );
        let (old, new) = (preview::token_hash("old"), preview::token_hash("new"));
        let wanted = BTreeMap::from([
            ("d.md".to_string(), new.clone()),
            ("later.md".to_string(), preview::token_hash("later")),
        ]);
        let remote = BTreeMap::from([(preview::key_of_hash(&old), listed_as("d.md", "h"))]);
        let out = refresh(
            &remote,
            &wanted,
            &content,
            Path::new("content"),
            &prepared,
            now,
            false,
        );
        assert_eq!(
            out.delete,
            [preview::key_of_hash(&old)],
            "the post's other link goes"
        );
        let keys: Vec<&str> = out
            .put
            .iter()
            .map(|(_, e)| e["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&preview::key_of_hash(&new).as_str()));
        assert!(keys.contains(&preview::key_of_hash(&preview::token_hash("later")).as_str()));
    }
}
