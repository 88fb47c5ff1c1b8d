//! The author's `content/` folder: reading post files into validated records.
//! `parse_post` is pure; `load_dir` only reads files and calls it.

use crate::content::{validate_slug, PostMeta, PostRecord, SiteIndex};
use crate::diagnostic::Diagnostic;
use crate::frontmatter;
use crate::store::{self, MAX_VALUE_BYTES};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// One post file, validated.
#[derive(Debug, Clone)]
pub struct SourcePost {
    /// The file as the author knows it, such as `content/hello.md`.
    pub file: String,
    pub record: PostRecord,
    pub draft: bool,
    /// Line of the `slug` field, or 1 when the slug comes from the file name.
    pub slug_line: usize,
}

/// Everything found in a content folder: the posts that parsed, and every problem.
#[derive(Debug, Default)]
pub struct Content {
    pub posts: Vec<SourcePost>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Content {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// The posts a sync publishes: drafts only when asked for.
    pub fn publishable(&self, include_drafts: bool) -> Vec<&SourcePost> {
        self.posts.iter().filter(|p| include_drafts || !p.draft).collect()
    }
}

/// A short, stable content hash (hex) of anything serialisable.
pub fn hash_of<T: serde::Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).expect("plain data serialises");
    let digest = Sha256::digest(&bytes);
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

/// Parses one post file. `file` names it in diagnostics; `stem` is the default slug.
pub fn parse_post(file: &str, stem: &str, bytes: &[u8]) -> Result<(SourcePost, Vec<Diagnostic>), Vec<Diagnostic>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            return Err(vec![Diagnostic::error(
                file,
                line,
                "the file is not valid UTF-8: save it as UTF-8 text",
            )]);
        }
    };
    let split = frontmatter::parse(file, text)?;
    let front = split.front;
    let slug_line = if front.slug.is_some() { slug_field_line(text) } else { 1 };
    let slug = front.slug.clone().unwrap_or_else(|| stem.to_string());
    if let Err(e) = validate_slug(&slug) {
        let hint = if front.slug.is_some() { "change `slug`" } else { "rename the file or set `slug`" };
        return Err(vec![Diagnostic::error(file, slug_line, format!("{e} ({hint})"))]);
    }
    let published = front.date.timestamp();
    let body = split.body.to_string();
    let hash = hash_of(&(&slug, &front.title, &front.summary, published, &front.tags, &body));
    let record = PostRecord {
        meta: PostMeta { slug, title: front.title, summary: front.summary, published, tags: front.tags, hash },
        body,
    };
    let size = serde_json::to_vec(&record).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_VALUE_BYTES {
        return Err(vec![Diagnostic::error(
            file,
            0,
            format!(
                "the post is {} MiB once stored; Workers KV holds at most 25 MiB per value: split it or move large parts to files",
                size / (1024 * 1024)
            ),
        )]);
    }
    Ok((SourcePost { file: file.to_string(), record, draft: front.draft, slug_line }, split.warnings))
}

fn slug_field_line(text: &str) -> usize {
    text.lines().position(|l| l.trim_start().starts_with("slug")).map_or(1, |i| i + 1)
}

/// Reads every `*.md` file directly in `dir` (sorted by name) and checks the set as a whole.
pub fn load_dir(dir: &Path) -> std::io::Result<Content> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file())
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        files.push((path.display().to_string(), stem, std::fs::read(&path)?));
    }
    Ok(check_all(files.iter().map(|(f, s, b)| (f.as_str(), s.as_str(), b.as_slice()))))
}

/// Parses a set of files `(file, stem, bytes)` and checks rules that span posts.
pub fn check_all<'a>(files: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>) -> Content {
    let mut content = Content::default();
    for (file, stem, bytes) in files {
        match parse_post(file, stem, bytes) {
            Ok((post, warnings)) => {
                content.diagnostics.extend(warnings);
                content.posts.push(post);
            }
            Err(errors) => content.diagnostics.extend(errors),
        }
    }
    let mut seen: HashMap<&str, &SourcePost> = HashMap::new();
    let mut duplicates = Vec::new();
    for post in &content.posts {
        if let Some(first) = seen.insert(&post.record.meta.slug, post) {
            duplicates.push(Diagnostic::error(
                &post.file,
                post.slug_line,
                format!(
                    "the slug `{}` is already used by {}: every post needs its own slug",
                    post.record.meta.slug, first.file
                ),
            ));
        }
    }
    content.diagnostics.extend(duplicates);
    let key_room = store::MAX_KEY_BYTES - store::POST_PREFIX.len();
    debug_assert!(crate::content::MAX_SLUG_BYTES <= key_room);
    content
}

/// The index record for a set of posts, versioned by the hashes of what it lists.
pub fn build_index(posts: &[&SourcePost]) -> SiteIndex {
    let metas: Vec<PostMeta> = posts.iter().map(|p| p.record.meta.clone()).collect();
    let mut index = SiteIndex::new(metas, String::new());
    index.version = hash_of(&index.posts);
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post_text(title: &str, extra: &str) -> String {
        format!("+++\ntitle = \"{title}\"\ndate = 2026-06-14\nsummary = \"S.\"\n{extra}+++\n\nBody.\n")
    }

    #[test]
    fn slug_defaults_to_the_file_name_and_can_be_set() {
        let (p, _) = parse_post("content/a.md", "a", post_text("A", "").as_bytes()).unwrap();
        assert_eq!(p.record.meta.slug, "a");
        let (p, _) = parse_post("content/a.md", "a", post_text("A", "slug = \"other\"\n").as_bytes()).unwrap();
        assert_eq!((p.record.meta.slug.as_str(), p.slug_line), ("other", 5));
    }

    #[test]
    fn rejects_bad_slugs_with_the_line() {
        let e = parse_post("content/a.md", "a", post_text("A", "slug = \"../etc\"\n").as_bytes()).unwrap_err();
        assert_eq!(e[0].line, 5);
        let e = parse_post("content/my post.md", "my post", post_text("A", "").as_bytes()).unwrap_err();
        assert!(e[0].message.contains("rename the file"), "{e:?}");
    }

    #[test]
    fn rejects_files_that_are_not_utf8() {
        let mut bytes = post_text("A", "").into_bytes();
        bytes.extend_from_slice(b"\nbad \xff byte\n");
        let e = parse_post("content/a.md", "a", &bytes).unwrap_err();
        assert_eq!(e[0].line, 9);
        assert!(e[0].message.contains("UTF-8"));
    }

    #[test]
    fn hash_changes_with_the_text_and_only_then() {
        let a = parse_post("a.md", "a", post_text("A", "").as_bytes()).unwrap().0;
        let again = parse_post("a.md", "a", post_text("A", "").as_bytes()).unwrap().0;
        let edited = parse_post("a.md", "a", post_text("A!", "").as_bytes()).unwrap().0;
        assert_eq!(a.record.meta.hash, again.record.meta.hash);
        assert_ne!(a.record.meta.hash, edited.record.meta.hash);
    }

    #[test]
    fn reports_duplicate_slugs_naming_both_files() {
        let a = post_text("A", "slug = \"same\"\n");
        let b = post_text("B", "slug = \"same\"\n");
        let content = check_all([("content/a.md", "a", a.as_bytes()), ("content/b.md", "b", b.as_bytes())]);
        let errors: Vec<_> = content.errors().map(|d| d.to_string()).collect();
        assert_eq!(errors, ["content/b.md:5: error: the slug `same` is already used by content/a.md: every post needs its own slug"]);
    }

    #[test]
    fn drafts_are_published_only_when_asked() {
        let a = post_text("A", "draft = true\n");
        let b = post_text("B", "");
        let content = check_all([("a.md", "a", a.as_bytes()), ("b.md", "b", b.as_bytes())]);
        assert_eq!(content.publishable(false).len(), 1);
        assert_eq!(content.publishable(true).len(), 2);
    }

    #[test]
    fn the_repository_content_is_valid() {
        let content = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("content")).unwrap();
        let problems: Vec<_> = content.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(content.posts.len() >= 8);
    }
}
