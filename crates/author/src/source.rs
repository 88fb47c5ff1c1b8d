//! The author's files: `content/*.md` posts, the images and other files they link to, and
//! `site.toml` settings, read into validated records. Parsing is pure (`parse_post`,
//! `check_all`, `attach_files`); `load_dir` only reads files.

use crate::assets::{self, FileInfo};
use crate::diagnostic::Diagnostic;
use crate::frontmatter;
use blog_core::content::{validate_slug, Asset, PostMeta, PostRecord, SiteIndex};
use blog_core::date::DateTime;
use blog_core::kv::{self, MAX_VALUE_BYTES};
use blog_core::markdown;
use blog_core::settings::Settings;
use pulldown_cmark::{Event, LinkType, Parser, Tag};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

/// One post file, validated.
#[derive(Debug, Clone)]
pub struct SourcePost {
    /// The file as the author knows it, such as `content/hello.md`.
    pub file: String,
    pub record: PostRecord,
    pub draft: bool,
    /// A draft that takes an address a published post (or an earlier draft) has: no sync
    /// publishes it, `--drafts` or not, until that is resolved.
    pub held: bool,
    /// Line of the `slug` field, or 1 when the slug comes from the file name.
    pub slug_line: usize,
    /// Line of each alias, in `record.meta.aliases` order.
    pub alias_lines: Vec<usize>,
    /// Line of the `series_part` field, when there is one.
    pub series_part_line: usize,
    /// Links to `/posts/...` in the body, with their lines.
    pub post_links: Vec<(String, usize)>,
    /// Every image in the body, every relative link and the cover, with their lines.
    pub file_refs: Vec<FileRef>,
    /// The files (paths inside the content folder) this post uses, once [`attach_files`]
    /// found them: what `blog sync` uploads for it.
    pub files: Vec<String>,
    /// The `date` as written; one without an offset is on the site's clock (see [`Content::localise`]).
    pub date: DateTime,
    /// The `updated` date as written, if any, and once localised, its instant.
    pub updated: Option<DateTime>,
    pub updated_at: Option<blog_core::date::Timestamp>,
    /// `minor = true`: this edit keeps the date of the last change (see [`crate::dates`]).
    pub minor: bool,
}

/// A place where a post points at a file: an image, a link or its cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The URL as written.
    pub url: String,
    pub line: usize,
    pub kind: RefKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    /// A Markdown image, with its description (the alt text).
    Image {
        alt: String,
    },
    Link,
    Cover,
}

impl RefKind {
    fn noun(&self) -> &'static str {
        match self {
            RefKind::Image { .. } => "image",
            RefKind::Link => "file",
            RefKind::Cover => "cover",
        }
    }
}

impl SourcePost {
    /// Resolves this post's date in the site's time zone (see [`Content::localise`]).
    pub fn localise(&mut self, zone: &jiff::tz::TimeZone) {
        let published = instant_on(self.date, zone);
        self.updated_at = self.updated.map(|d| instant_on(d, zone));
        let offset = utc_offset_minutes(zone, published);
        let meta = &mut self.record.meta;
        if (meta.published, meta.utc_offset) != (published, offset) {
            meta.published = published;
            meta.utc_offset = offset;
            self.record.meta.hash = record_hash(&self.record);
        }
    }

    /// Sets when the post's text last changed (see [`PostMeta::with_updated`]), and its hash.
    ///
    /// [`PostMeta::with_updated`]: blog_core::content::PostMeta::with_updated
    pub fn set_updated(&mut self, updated: Option<blog_core::date::Timestamp>) {
        let meta = std::mem::take(&mut self.record.meta).with_updated(updated);
        let changed = meta.updated != self.record.meta.updated;
        self.record.meta = meta;
        if changed {
            self.record.meta.hash = record_hash(&self.record);
        }
    }

    /// Attaches highlighted code (see [`markdown::code_blocks`]). The hash does not change:
    /// it already names the highlighter (see [`Highlighted`]), so a post can be known to be
    /// unchanged before it is highlighted, and only the posts a sync writes are.
    pub fn highlight(&mut self, highlight: impl Fn(&str, &str) -> Option<String>) {
        highlight_record(&mut self.record, highlight);
    }
}

/// The instant of a date as written: its own offset's, or on the site's clock.
fn instant_on(date: DateTime, zone: &jiff::tz::TimeZone) -> blog_core::date::Timestamp {
    match date.offset_minutes {
        Some(_) => date.timestamp(),
        // A time on the site's clock; in a daylight-saving gap, the later reading, as
        // clocks and calendars do.
        None => jiff::civil::DateTime::new(
            date.year as i16,
            date.month as i8,
            date.day as i8,
            date.hour as i8,
            date.minute as i8,
            date.second as i8,
            0,
        )
        .and_then(|civil| zone.to_ambiguous_timestamp(civil).compatible())
        .map_or_else(|_| date.timestamp(), |ts| ts.as_second()),
    }
}

/// Attaches a record's highlighted code (see [`SourcePost::highlight`]).
pub fn highlight_record(record: &mut PostRecord, highlight: impl Fn(&str, &str) -> Option<String>) {
    let blocks = markdown::code_blocks(&record.body);
    let mut code_html: Vec<Option<String>> =
        blocks.iter().map(|b| highlight(&b.lang, &b.code)).collect();
    if code_html.iter().all(Option::is_none) {
        code_html.clear();
    }
    record.code_html = code_html;
}

/// Everything found in the author's files: the posts that parsed, and every problem.
#[derive(Debug, Default)]
pub struct Content {
    pub posts: Vec<SourcePost>,
    pub diagnostics: Vec<Diagnostic>,
    /// Every file a post uses, by its path inside the content folder.
    pub files: BTreeMap<String, FileInfo>,
    /// The dates lock's new text, when stamping the posts changed it (see [`crate::dates`]):
    /// what `blog sync` writes.
    pub dates_lock: Option<String>,
}

impl Content {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Puts every post's dates on the site's clock: a date written without an offset is that
    /// day's midnight (or that time) in the site's time zone, and each post remembers the
    /// zone's UTC offset at its publication so pages show the date on that clock.
    pub fn localise(&mut self, zone: &jiff::tz::TimeZone) {
        for post in &mut self.posts {
            post.localise(zone);
        }
    }

    /// The posts a sync publishes: drafts only when asked for.
    pub fn publishable(&self, include_drafts: bool) -> Vec<&SourcePost> {
        self.posts
            .iter()
            .filter(|p| !p.draft || (include_drafts && !p.held))
            .collect()
    }
}

/// The hash a post's KV entry carries, which the next sync compares: its content hash,
/// joined by its neighbours and its related posts where it has any (their titles and links
/// are on its page, so a renamed or new neighbour rewrites it).
pub fn stored_hash(record: &PostRecord) -> String {
    let hash = if record.neighbours.is_empty() {
        record.meta.hash.clone()
    } else {
        hash_of(&(&record.meta.hash, &record.neighbours))
    };
    // Related posts and a series' parts show as titles too, so the same holds for them.
    let hash = if record.related.is_empty() {
        hash
    } else {
        hash_of(&(hash, "related", &record.related))
    };
    match &record.series {
        None => hash,
        Some(series) => hash_of(&(hash, "series", series)),
    }
}

/// A short, stable content hash (hex) of anything serialisable.
pub fn hash_of<T: serde::Serialize>(value: &T) -> String {
    hash_and_len(value).0
}

/// The content hash of a value's JSON, and how many bytes that JSON has. The JSON streams
/// through the hash in blocks rather than being built whole first.
fn hash_and_len<T: serde::Serialize>(value: &T) -> (String, usize) {
    struct Sink {
        hasher: Sha256,
        len: usize,
    }
    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.hasher.update(bytes);
            self.len += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = std::io::BufWriter::with_capacity(
        8192,
        Sink {
            hasher: Sha256::new(),
            len: 0,
        },
    );
    serde_json::to_writer(&mut out, value).expect("plain data serialises");
    let sink = out
        .into_inner()
        .map_err(|e| e.into_error())
        .expect("hashing cannot fail");
    (
        blog_core::hex::encode(&sink.hasher.finalize()[..10]),
        sink.len,
    )
}

/// What a post's hash says of its highlighted code: nothing but the highlighter's name
/// (`BLOG_HIGHLIGHTER_ID`, see `build.rs`), since the HTML follows from that and the body.
/// So sync knows a post is unchanged without highlighting it. A body without a fence has
/// nothing to highlight and hashes as it always did (an empty list).
struct Highlighted<'a>(&'a str);

impl serde::Serialize for Highlighted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.contains("```") || self.0.contains("~~~") {
            serializer.serialize_str(env!("BLOG_HIGHLIGHTER_ID"))
        } else {
            serializer.collect_seq(std::iter::empty::<()>())
        }
    }
}

fn record_hash(record: &PostRecord) -> String {
    record_hash_and_len(record).0
}

#[cfg(test)]
thread_local! {
    /// How many records this thread hashed, for the tests that count it.
    static RECORD_HASHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The record's hash, and the length of the JSON it hashes.
fn record_hash_and_len(record: &PostRecord) -> (String, usize) {
    #[cfg(test)]
    RECORD_HASHES.with(|n| n.set(n.get() + 1));
    let m = &record.meta;
    let text = (
        &m.slug,
        &m.title,
        &m.summary,
        m.published,
        &m.tags,
        &m.aliases,
        &record.body,
        Highlighted(&record.body),
    );
    // The date of the last change and the series join the hash only where there are
    // some, so other posts hash as before.
    if m.updated.is_some() || m.series.is_some() {
        let (hash, len) = hash_and_len(&(text, &record.assets, &record.cover, m.utc_offset));
        return (
            hash_of(&(hash, "updated", m.updated, &m.series, m.series_part)),
            len,
        );
    }
    // The offset joins the hash only where a time zone moves the date, so sites in UTC
    // hash as before time zones existed.
    if m.utc_offset != 0 {
        return hash_and_len(&(text, &record.assets, &record.cover, m.utc_offset));
    }
    // A post without files hashes as it did before files existed, so upgrading republishes
    // nothing; with files, a changed image (a new URL) changes the hash and republishes it.
    if record.assets.is_empty() && record.cover.is_none() {
        hash_and_len(&text)
    } else {
        hash_and_len(&(text, &record.assets, &record.cover))
    }
}

/// Parses one post file. `file` names it in diagnostics; `stem` is the default slug.
pub fn parse_post(
    file: &str,
    stem: &str,
    bytes: &[u8],
) -> Result<(SourcePost, Vec<Diagnostic>), Vec<Diagnostic>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(vec![Diagnostic::error(
                file,
                line,
                "the file is not valid UTF-8: save it as UTF-8 text",
            )]);
        }
    };
    let split = frontmatter::parse(file, text)?;
    let body_line = split.body_line;
    let front = split.front;
    let slug_line = front.slug_line;
    let slug = front.slug.clone().unwrap_or_else(|| stem.to_string());
    if let Err(e) = validate_slug(&slug) {
        let hint = if front.slug.is_some() {
            "change `slug`"
        } else {
            "rename the file or set `slug`"
        };
        return Err(vec![Diagnostic::error(
            file,
            slug_line,
            format!("{e} ({hint})"),
        )]);
    }
    let published = front.date.timestamp();
    let body = split.body.to_string();
    let (post_links, mut file_refs) = scan_body(&body, split.body_line);
    if let Some((url, line)) = front.cover {
        file_refs.push(FileRef {
            url,
            line,
            kind: RefKind::Cover,
        });
    }
    let mut warnings = split.warnings;
    for r in &file_refs {
        if matches!(&r.kind, RefKind::Image { alt } if alt.is_empty()) {
            warnings.push(Diagnostic::warning(
                file,
                r.line,
                format!(
                    "the image {} has no alt text: describe it for readers who cannot see it, as in ![what it shows]({})",
                    r.url, r.url
                ),
            ));
        }
    }
    // Formulas are made into MathML now: a broken one is an error at its line, and
    // rendering one costs microseconds.
    // A draft's broken formula is a warning: the draft shows its formulas as TeX until then.
    let math_html = match crate::math::render_all(&body, body_line) {
        Ok(html) => html,
        Err(errors) => {
            let problems = errors.into_iter().map(|e| {
                Diagnostic::unless_draft(
                    front.draft,
                    file,
                    e.line,
                    format!(
                        "the formula does not parse: {}: fix the LaTeX, or write \\$ for a dollar sign",
                        e.message
                    ),
                )
            });
            if !front.draft {
                return Err(problems.collect());
            }
            warnings.extend(problems);
            Vec::new()
        }
    };
    // Diagrams are only parsed now (drawing one waits for the sync that writes its post):
    // one that does not parse is an error at the line the parser points at, a warning in a
    // draft; a kind not drawn is a warning, and is shown as code.
    let mut diagram_errors = Vec::new();
    for problem in crate::diagram::check_all(&body, body_line) {
        if !problem.error {
            warnings.push(Diagnostic::warning(file, problem.line, problem.message));
            continue;
        }
        let diagnostic = Diagnostic::unless_draft(
            front.draft,
            file,
            problem.line,
            format!(
                "the diagram does not parse: {}: fix the Mermaid, or write ```text to show it as code",
                problem.message
            ),
        );
        if front.draft {
            warnings.push(diagnostic);
        } else {
            diagram_errors.push(diagnostic);
        }
    }
    if !diagram_errors.is_empty() {
        return Err(diagram_errors);
    }
    let (aliases, alias_lines) = front.aliases.into_iter().unzip();
    let mut record = PostRecord {
        meta: PostMeta {
            draft: front.draft,
            slug,
            title: front.title,
            summary: front.summary,
            published,
            utc_offset: 0,
            tags: front.tags,
            aliases,
            updated: None,
            series: front.series.as_ref().map(|(name, _)| name.clone()),
            series_part: front.series_part.map(|(n, _)| n),
            hash: String::new(),
        },
        body,
        code_html: Vec::new(),
        math_html,
        html: String::new(),
        sections: Vec::new(),
        words: 0,
        assets: Default::default(),
        cover: None,
        card: None,
        neighbours: Default::default(),
        related: Vec::new(),
        series: None,
    };
    let (hash, hashed_bytes) = record_hash_and_len(&record);
    record.meta.hash = hash;
    // The stored record is about the JSON just hashed, plus the field names and the hash:
    // its body as HTML is no shorter than its Markdown, which stands in for it until sync
    // renders it (`limits::check` then measures the record as stored). Only a post near the
    // limit needs that closer estimate.
    let size = if hashed_bytes + 1024 <= MAX_VALUE_BYTES {
        hashed_bytes
    } else {
        let len = |json: serde_json::Result<Vec<u8>>| json.map_or(usize::MAX, |v| v.len());
        len(serde_json::to_vec(&record)).saturating_add(len(serde_json::to_vec(&record.body)))
    };
    if size > MAX_VALUE_BYTES {
        // Pointed at the body, which is what makes a post this large.
        return Err(vec![Diagnostic::error(
            file,
            body_line,
            format!(
                "the post is {:.1} MiB once stored; Workers KV holds at most 25 MiB per value: split it or move large parts to files",
                size as f64 / (1024.0 * 1024.0)
            ),
        )]);
    }
    let post = SourcePost {
        file: file.to_string(),
        record,
        draft: front.draft,
        held: false,
        slug_line,
        alias_lines,
        series_part_line: front.series_part.map_or(0, |(_, line)| line),
        post_links,
        file_refs,
        files: Vec::new(),
        date: front.date,
        updated: front.updated.map(|(d, _)| d),
        updated_at: None,
        minor: front.minor,
    };
    Ok((post, warnings))
}

/// The line of a top-level front matter field, for diagnostics that concern it.
pub fn field_line(text: &str, field: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// What a body links to, found in one pass: links to `/posts/...` pages, and every image and
/// every link that is not to another site or page, each with the file line it starts on.
fn scan_body(body: &str, body_line: usize) -> (Vec<(String, usize)>, Vec<FileRef>) {
    let mut post_links = Vec::new();
    let mut refs = Vec::new();
    let mut lines = Lines {
        text: body.as_bytes(),
        offset: 0,
        line: body_line,
    };
    // The image being read: its URL, line, alt text so far and how deep inside it we are.
    let mut image: Option<(String, usize, String, usize)> = None;
    for (event, range) in Parser::new_ext(body, markdown::options()).into_offset_iter() {
        // Links to posts count wherever they are, even inside an image's description.
        if let Event::Start(Tag::Link { dest_url, .. }) = &event {
            if let Some(rest) = dest_url.strip_prefix("/posts/") {
                let slug = rest
                    .split(['#', '?'])
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('/');
                post_links.push((slug.to_string(), lines.at(range.start)));
            }
        }
        // An image's description is its alt text, as `markdown::image_alt` reads it.
        if let Some((_, _, alt, depth)) = &mut image {
            match event {
                Event::Start(_) => *depth += 1,
                Event::End(_) if *depth == 0 => {
                    let (url, line, alt, _) = image.take().expect("inside an image");
                    refs.push(FileRef {
                        url,
                        line,
                        kind: RefKind::Image {
                            alt: alt.trim().to_string(),
                        },
                    });
                }
                Event::End(_) => *depth -= 1,
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                Event::SoftBreak | Event::HardBreak => alt.push(' '),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                image = Some((
                    dest_url.to_string(),
                    lines.at(range.start),
                    String::new(),
                    0,
                ));
            }
            // An email autolink (`<me@example.com>`) carries its address without `mailto:`.
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) if link_type != LinkType::Email && !assets::is_external(&dest_url) => {
                refs.push(FileRef {
                    url: dest_url.to_string(),
                    line: lines.at(range.start),
                    kind: RefKind::Link,
                })
            }
            _ => {}
        }
    }
    if let Some((url, line, alt, _)) = image {
        refs.push(FileRef {
            url,
            line,
            kind: RefKind::Image {
                alt: alt.trim().to_string(),
            },
        });
    }
    (post_links, refs)
}

/// File lines of offsets in a text, counted from the last offset asked about rather than
/// from the start, so that asking in order costs one pass over the text.
struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> usize {
        let newlines = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'\n').count();
        if offset >= self.offset {
            self.line += newlines(&self.text[self.offset..offset]);
        } else {
            self.line -= newlines(&self.text[offset..self.offset]);
        }
        self.offset = offset;
        self.line
    }
}

/// What reading one file came to.
#[derive(Debug, Clone)]
enum Found {
    File(FileInfo),
    Missing,
    TooLarge,
    Unreadable(String),
}

/// Finds the files the posts point at, inside the content folder `root` (as the author
/// names it, such as `content`), and publishes them in each post's record: its asset map
/// and cover, and a hash that covers them. `read` reads a `/`-separated path inside `root`;
/// it may stop reading past [`MAX_VALUE_BYTES`]. Every file is read once, however many
/// posts use it. Problems are reported at the line that points at the file.
pub fn attach_files(
    content: &mut Content,
    root: &str,
    read: impl Fn(&str) -> std::io::Result<Vec<u8>>,
) {
    let mut found: HashMap<String, Found> = HashMap::new();
    let mut reported_too_large = std::collections::HashSet::new();
    let root = root.trim_end_matches('/');
    for post in &mut content.posts {
        let post_dir = Path::new(&post.file)
            .strip_prefix(root)
            .ok()
            .and_then(Path::parent)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let mut assets = blog_core::content::AssetMap::new();
        let mut cover = None;
        for r in &post.file_refs {
            let (noun, url, line) = (r.kind.noun(), &r.url, r.line);
            let path = match assets::resolve(&post_dir, url) {
                Ok(Some(path)) => path,
                Ok(None) => continue,
                Err(e) => {
                    let hint = if e.contains("outside") {
                        format!(" ({root}): keep the files posts link to inside it")
                    } else {
                        String::new()
                    };
                    content.diagnostics.push(Diagnostic::unless_draft(
                        post.draft,
                        &post.file,
                        line,
                        format!("the {noun} {url} {e}{hint}"),
                    ));
                    continue;
                }
            };
            if path.to_ascii_lowercase().ends_with(".md") {
                // Publishing another post's source would publish it raw, draft or not.
                let stem = path
                    .rsplit('/')
                    .next()
                    .unwrap_or(&path)
                    .trim_end_matches(".md");
                content.diagnostics.push(Diagnostic::unless_draft(
                        post.draft,
                    &post.file,
                    line,
                    format!("the {noun} {url} is a Markdown file: link to the post's address instead, such as /posts/{stem}"),
                ));
                continue;
            }
            let shown = format!("{root}/{path}");
            let outcome = found
                .entry(path.clone())
                .or_insert_with(|| match read(&path) {
                    Ok(bytes) if bytes.len() > MAX_VALUE_BYTES => Found::TooLarge,
                    Ok(bytes) => Found::File(assets::inspect(&path, &bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Found::Missing,
                    Err(e) => Found::Unreadable(e.to_string()),
                });
            let info = match outcome {
                Found::File(info) => info,
                Found::Missing => {
                    content.diagnostics.push(Diagnostic::unless_draft(
                        post.draft,
                        &post.file,
                        line,
                        format!("the {noun} {url} does not exist (looked for {shown})"),
                    ));
                    continue;
                }
                Found::TooLarge => {
                    if reported_too_large.insert(path.clone()) {
                        content.diagnostics.push(Diagnostic::unless_draft(
                        post.draft,
                            &post.file,
                            line,
                            format!(
                                "the {noun} {shown} is over 25 MiB, the most Workers KV holds per value: make it smaller or link to a copy elsewhere"
                            ),
                        ));
                    }
                    continue;
                }
                Found::Unreadable(e) => {
                    content.diagnostics.push(Diagnostic::unless_draft(
                        post.draft,
                        &post.file,
                        line,
                        format!("cannot read the {noun} {shown}: {e}"),
                    ));
                    continue;
                }
            };
            match &r.kind {
                RefKind::Cover if !info.is_image() => {
                    content.diagnostics.push(Diagnostic::unless_draft(
                        post.draft,
                        &post.file,
                        line,
                        format!("the cover {url} is not an image: use a PNG, JPEG, WebP, AVIF or GIF file"),
                    ));
                    continue;
                }
                RefKind::Cover if info.ext == "svg" => content.diagnostics.push(Diagnostic::warning(
                    &post.file,
                    line,
                    format!("the cover {url} is an SVG, which social sites do not show: use a PNG or JPEG"),
                )),
                RefKind::Image { .. } if !info.is_image() => content.diagnostics.push(Diagnostic::warning(
                    &post.file,
                    line,
                    format!("the image {url} is not an image browsers show (PNG, JPEG, WebP, AVIF, GIF or SVG): link to it instead"),
                )),
                _ => {}
            }
            // An image in the body is offered resized too; a cover or a link is the file itself.
            let variants = match r.kind {
                RefKind::Image { .. } => crate::images::variants(info),
                _ => Vec::new(),
            };
            let asset = Asset {
                url: info.url(),
                width: info.dimensions.map(|d| d.0),
                height: info.dimensions.map(|d| d.1),
                variants,
            };
            if r.kind == RefKind::Cover {
                cover = Some(asset);
            } else {
                assets.insert(assets::path_part(url).to_string(), asset);
            }
            if !post.files.contains(&path) {
                post.files.push(path.clone());
            }
            content.files.insert(path, info.clone());
        }
        // A post that uses no files keeps the hash it was parsed with.
        if (&assets, &cover) != (&post.record.assets, &post.record.cover) {
            post.record.assets = assets;
            post.record.cover = cover;
            post.record.meta.hash = record_hash(&post.record);
        }
    }
}

/// Reads a file inside the content folder, stopping just past the most KV can hold.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_VALUE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads every `*.md` file directly in `dir` (sorted by name) and the files they link to,
/// and checks the set as a whole.
pub fn load_dir(dir: &Path) -> std::io::Result<Content> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file())
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((path.display().to_string(), stem, std::fs::read(&path)?));
    }
    let mut content = check_all(
        files
            .iter()
            .map(|(f, s, b)| (f.as_str(), s.as_str(), b.as_slice())),
    );
    attach_files(&mut content, &dir.display().to_string(), |path| {
        read_capped(&dir.join(path))
    });
    Ok(content)
}

/// The site's own page at `path`, which an alias there would never reach (the edge answers
/// a path from the route table first and looks for an alias only where no page is): `None`
/// for paths no page claims, a post's or a tag's included (those answer only while they
/// exist; a post's old address is what aliases are for).
pub(crate) fn site_page(path: &str) -> Option<String> {
    use blog_core::routes::{resolve, Route};
    let page = match resolve("GET", path) {
        Route::NotFound | Route::Post { .. } | Route::Tag { .. } => return None,
        // A spelling that redirects is the page it redirects to.
        Route::Redirect { location } => match resolve("GET", &location) {
            Route::NotFound | Route::Post { .. } | Route::Tag { .. } | Route::Redirect { .. } => {
                return None
            }
            page => page,
        },
        page => page,
    };
    Some(match page {
        Route::Index => "the front page".into(),
        Route::Archive => "the archive".into(),
        Route::Year { year, page: 1 } => format!("the archive's page for {year}"),
        Route::Year { year, page } => format!("page {page} of the archive's {year}"),
        Route::Tags => "the tags page".into(),
        Route::Feed { .. } => "a feed".into(),
        Route::Sitemap | Route::SitemapPart { .. } => "the sitemap".into(),
        Route::File { .. } => "a stored file".into(),
        Route::ReadsBadge { .. } | Route::ReadsText { .. } => "a post's read count".into(),
        _ => "one of the site's own files".into(),
    })
}

type Parsed = Result<(SourcePost, Vec<Diagnostic>), Vec<Diagnostic>>;
/// A post file as [`check_all`] takes it: its path, its stem (the default slug), its bytes.
type PostFile<'a> = (&'a str, &'a str, &'a [u8]);

/// [`parse_post`] of each file, in order, the files shared out over the machine's cores:
/// posts parse independently, and at ten thousand of them parsing is most of `blog check`.
fn parse_on_every_core(files: &[PostFile<'_>]) -> Vec<Parsed> {
    let mut parsed: Vec<(&PostFile<'_>, Option<Parsed>)> =
        files.iter().map(|file| (file, None)).collect();
    // A small site parses in less time than a thread takes to start.
    crate::cores::each(&mut parsed, 64, |((file, stem, bytes), out)| {
        *out = Some(parse_post(file, stem, bytes));
    });
    parsed
        .into_iter()
        .map(|(_, out)| out.expect("every file was parsed"))
        .collect()
}

/// Parses a set of files `(file, stem, bytes)` and checks the rules that span posts:
/// unique slugs and aliases, and links to posts that exist.
pub fn check_all<'a>(files: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>) -> Content {
    let mut content = Content::default();
    // Posts that failed to parse are still probably there: links to them are not reported
    // as broken on top of the real error.
    let mut unparsed = std::collections::HashSet::new();
    let files: Vec<PostFile<'_>> = files.into_iter().collect();
    for ((_, stem, _), parsed) in files.iter().zip(parse_on_every_core(&files)) {
        match parsed {
            Ok((post, warnings)) => {
                content.diagnostics.extend(warnings);
                content.posts.push(post);
            }
            Err(errors) => {
                content.diagnostics.extend(errors);
                unparsed.insert(stem.to_string());
            }
        }
    }
    let mut found = Vec::new();
    // Every path a post answers at, and who claimed it first. Published posts claim theirs
    // before drafts do, so a draft that takes a post's address is the one held back: a
    // draft never stops the rest of the site.
    let mut paths: HashMap<String, &SourcePost> = HashMap::new();
    let mut held = std::collections::HashSet::new();
    for drafts in [false, true] {
        let group = || content.posts.iter().filter(move |p| p.draft == drafts);
        for post in group() {
            let url = post.record.meta.url();
            if let Some(first) = paths.get(&url) {
                found.push(Diagnostic::unless_draft(
                    post.draft,
                    &post.file,
                    post.slug_line,
                    format!(
                        "the slug `{}` is already used by {}: every post needs its own slug",
                        post.record.meta.slug, first.file
                    ),
                ));
                held.insert(post.file.clone());
            } else {
                paths.insert(url, post);
            }
        }
        for post in group() {
            for (alias, line) in post.record.meta.aliases.iter().zip(&post.alias_lines) {
                if let Some(page) = site_page(alias) {
                    found.push(Diagnostic::unless_draft(
                        post.draft,
                        &post.file,
                        *line,
                        format!("the alias `{alias}` is the address of {page}, which would hide it: pick another"),
                    ));
                    held.insert(post.file.clone());
                    continue;
                }
                let alias = alias.trim_end_matches('/');
                if let Some(owner) = paths.get(alias) {
                    let whose = if owner.file == post.file {
                        "this post".to_string()
                    } else {
                        owner.file.clone()
                    };
                    found.push(Diagnostic::unless_draft(
                        post.draft,
                        &post.file,
                        *line,
                        format!("the alias `{alias}` is already the address of {whose}: remove it or pick another"),
                    ));
                    held.insert(post.file.clone());
                } else {
                    paths.insert(alias.to_string(), post);
                }
            }
        }
    }
    for (at, first) in
        blog_core::content::clashing_parts(content.posts.iter().map(|p| &p.record.meta))
    {
        let (post, first) = (&content.posts[at], &content.posts[first]);
        let meta = &post.record.meta;
        found.push(Diagnostic::error(
            &post.file,
            post.series_part_line,
            format!(
                "`series_part = {part}` is already part {part} of the series \"{series}\" in {}:{}: give each part its own number, or leave `series_part` out to order the parts by date",
                first.file,
                first.series_part_line,
                part = meta.series_part.unwrap_or_default(),
                series = meta.series.as_deref().unwrap_or_default(),
            ),
        ));
    }
    let slugs: HashMap<&str, &SourcePost> = content
        .posts
        .iter()
        .map(|p| (p.record.meta.slug.as_str(), p))
        .collect();
    for post in &content.posts {
        for (slug, line) in &post.post_links {
            match slugs.get(slug.as_str()) {
                Some(target) if target.draft && !post.draft => found.push(Diagnostic::warning(
                    &post.file,
                    *line,
                    format!("the link to /posts/{slug} points at a draft, which readers cannot open yet"),
                )),
                Some(_) => {}
                None if unparsed.contains(slug) => {}
                None if paths.contains_key(&format!("/posts/{slug}")) => found.push(Diagnostic::warning(
                    &post.file,
                    *line,
                    format!("the link to /posts/{slug} goes through an alias: link to the post's current address"),
                )),
                None => found.push(Diagnostic::unless_draft(
                    post.draft,
                    &post.file,
                    *line,
                    format!("the link to /posts/{slug} points at no post: fix the slug or remove the link"),
                )),
            }
        }
    }
    content.diagnostics.extend(found);
    for post in &mut content.posts {
        post.held = post.draft && held.contains(&post.file);
    }
    debug_assert!(blog_core::content::MAX_SLUG_BYTES <= kv::MAX_KEY_BYTES - kv::POST_PREFIX.len());
    content
}

/// The index record for a set of posts, versioned by everything it holds.
pub fn build_index(posts: &[&SourcePost], settings: Settings) -> SiteIndex {
    let metas: Vec<PostMeta> = posts.iter().map(|p| p.record.meta.clone()).collect();
    let mut index = SiteIndex::new(metas, settings, String::new());
    index.version = hash_of(&(&index.settings, &index.posts));
    index.settings_version = hash_of(&index.settings);
    index
}

/// A zone's UTC offset at an instant, in minutes east (what [`PostMeta::utc_offset`] holds).
///
/// [`PostMeta::utc_offset`]: blog_core::content::PostMeta::utc_offset
pub fn utc_offset_minutes(zone: &jiff::tz::TimeZone, at: blog_core::date::Timestamp) -> i32 {
    jiff::Timestamp::from_second(at).map_or(0, |ts| zone.to_offset(ts).seconds() / 60)
}

/// The site's time zone; UTC when the name is unknown ([`parse_settings`] refuses those).
pub fn time_zone(settings: &Settings) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Reads `site.toml`; a missing file means the defaults.
pub fn load_settings(path: &Path) -> Result<Settings, Diagnostic> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_settings(&path.display().to_string(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(Diagnostic::error(
            &path.display().to_string(),
            0,
            format!("cannot read the settings: {e}"),
        )),
    }
}

/// Parses and checks site settings; every error names its line.
pub fn parse_settings(file: &str, text: &str) -> Result<Settings, Diagnostic> {
    let line_of = |pos: usize| 1 + text[..pos.min(text.len())].matches('\n').count();
    let mut settings: Settings = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(s.start));
        Diagnostic::error(
            file,
            line,
            format!("invalid settings: {}", e.message().trim_end()),
        )
    })?;
    let line = |field: &str| field_line(text, field);
    settings.base_url = settings.base_url.trim_end_matches('/').to_string();
    if !(settings.base_url.starts_with("https://") || settings.base_url.starts_with("http://"))
        || settings.base_url.contains(char::is_whitespace)
    {
        return Err(Diagnostic::error(
            file,
            line("base_url"),
            format!("`base_url` must be an absolute http(s) URL such as \"https://blog.example.com\", not `{}`", settings.base_url),
        ));
    }
    for (field, value) in [
        ("front_page_posts", settings.front_page_posts),
        ("posts_per_page", settings.posts_per_page),
        ("feed_posts", settings.feed_posts),
        ("popular_count", settings.popular_count),
    ] {
        if value == 0 || value > 100 {
            return Err(Diagnostic::error(
                file,
                line(field),
                format!("`{field}` must be between 1 and 100"),
            ));
        }
    }
    if !(settings.popular_half_life_days > 0.0 && settings.popular_half_life_days.is_finite()) {
        return Err(Diagnostic::error(
            file,
            line("popular_half_life_days"),
            "`popular_half_life_days` must be a positive number of days such as 30",
        ));
    }
    let retention = blog_core::stats::MIN_RETENTION_DAYS..=blog_core::stats::MAX_RETENTION_DAYS;
    if !retention.contains(&settings.stats_retention_days) {
        return Err(Diagnostic::error(
            file,
            line("stats_retention_days"),
            format!(
                "`stats_retention_days` must be between {} and {} days",
                retention.start(),
                retention.end()
            ),
        ));
    }
    if let Err(e) = jiff::tz::TimeZone::get(&settings.time_zone) {
        let reason = e.to_string();
        return Err(Diagnostic::error(
            file,
            line("time_zone"),
            format!(
                "`time_zone` must be an IANA time zone name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\", not `{}` ({reason})",
                settings.time_zone
            ),
        ));
    }
    for (name, value) in [
        ("title", &settings.title),
        ("language", &settings.language),
        ("author", &settings.author),
    ] {
        if value.trim().is_empty() {
            return Err(Diagnostic::error(
                file,
                line(name),
                format!("`{name}` must not be empty"),
            ));
        }
    }
    Ok(settings)
}

/// Adds an alias to a post file's front matter, keeping everything else as written: appends
/// to an existing one-line `aliases = [...]`, or adds the field before the closing `+++`.
/// In YAML the same, and an item after the last of a `- ` list.
pub fn add_alias(text: &str, alias: &str) -> Option<String> {
    if text.split_inclusive('\n').next().map(str::trim_end) == Some(frontmatter::YAML_FENCE) {
        return add_alias_yaml(text, alias);
    }
    let quoted = format!("\"{}\"", alias.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::with_capacity(text.len() + quoted.len() + 16);
    let mut fences = 0;
    let mut done = false;
    let mut in_table = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let is_aliases = trimmed
            .strip_prefix("aliases")
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if !done && fences == 1 && !in_table && is_aliases && !trimmed.ends_with(']') {
            // A list spread over lines: leave it to the author rather than guess.
            return None;
        }
        if !done && fences == 1 && !in_table && is_aliases && trimmed.ends_with(']') {
            let open = trimmed.find('[')?;
            let inner = trimmed[open + 1..trimmed.len() - 1].trim();
            let sep = if inner.is_empty() { "" } else { ", " };
            out.push_str(&format!("{}[{inner}{sep}{quoted}]\n", &trimmed[..open]));
            done = true;
            continue;
        }
        // A top-level key must come before the first [table] header.
        let table_header = fences == 1 && trimmed.starts_with('[');
        if (trimmed == frontmatter::FENCE && fences == 1 || table_header) && !done {
            out.push_str(&format!("aliases = [{quoted}]\n"));
            done = true;
        }
        if table_header {
            in_table = true;
        }
        if trimmed == frontmatter::FENCE {
            fences += 1;
        }
        out.push_str(line);
    }
    done.then_some(out)
}

fn add_alias_yaml(text: &str, alias: &str) -> Option<String> {
    // A double-quoted YAML string: JSON's escapes are YAML's.
    let quoted = serde_json::to_string(alias).ok()?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let closing = 1 + lines[1..]
        .iter()
        .position(|l| l.trim_end() == frontmatter::YAML_FENCE)?;
    let is_field = |l: &str| {
        l.strip_prefix("aliases")
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    };
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match (1..closing).find(|&i| is_field(lines[i])) {
        None => out.insert(closing, format!("aliases: [{quoted}]\n")),
        Some(i) => {
            let value = lines[i].split_once(':')?.1.trim();
            if value.starts_with('[') && value.ends_with(']') {
                let inner = value[1..value.len() - 1].trim();
                let sep = if inner.is_empty() { "" } else { ", " };
                out[i] = format!("aliases: [{inner}{sep}{quoted}]\n");
            } else if value.is_empty() {
                // A block list: one `- ` item a line, indented alike, after the field.
                let items = lines[i + 1..closing]
                    .iter()
                    .take_while(|l| l.trim_start().starts_with("- "))
                    .count();
                if items == 0 {
                    return None;
                }
                let last = lines[i + items];
                let indent = &last[..last.len() - last.trim_start().len()];
                out.insert(i + items + 1, format!("{indent}- {quoted}\n"));
            } else {
                return None;
            }
        }
    }
    Some(out.concat())
}

/// The file `blog new` writes: a dated, ready-to-edit post.
pub fn new_post_text(title: &str, date: &str) -> String {
    let escaped = title.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "+++\ntitle = \"{escaped}\"\ndate = {date}\nsummary = \"\"\ntags = []\ndraft = true\n+++\n\nWrite here.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post_text(title: &str, extra: &str) -> String {
        format!(
            "+++\ntitle = \"{title}\"\ndate = 2026-06-14\nsummary = \"S.\"\n{extra}+++\n\nBody.\n"
        )
    }

    fn check(files: &[(&str, &str)]) -> Vec<String> {
        let content = check_all(files.iter().map(|(name, text)| {
            let stem = name.trim_start_matches("content/").trim_end_matches(".md");
            (*name, stem, text.as_bytes())
        }));
        content.diagnostics.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn slug_defaults_to_the_file_name_and_can_be_set() {
        let (p, _) = parse_post("content/a.md", "a", post_text("A", "").as_bytes()).unwrap();
        assert_eq!(p.record.meta.slug, "a");
        let (p, _) = parse_post(
            "content/a.md",
            "a",
            post_text("A", "slug = \"other\"\n").as_bytes(),
        )
        .unwrap();
        assert_eq!((p.record.meta.slug.as_str(), p.slug_line), ("other", 5));
    }

    #[test]
    fn rejects_bad_slugs_with_the_line() {
        let e = parse_post(
            "content/a.md",
            "a",
            post_text("A", "slug = \"../etc\"\n").as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e[0].line, 5);
        let e = parse_post(
            "content/my post.md",
            "my post",
            post_text("A", "").as_bytes(),
        )
        .unwrap_err();
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
    fn hash_changes_with_the_text_and_the_highlighting_and_only_then() {
        let a = parse_post("a.md", "a", post_text("A", "").as_bytes())
            .unwrap()
            .0;
        let again = parse_post("a.md", "a", post_text("A", "").as_bytes())
            .unwrap()
            .0;
        let edited = parse_post("a.md", "a", post_text("A!", "").as_bytes())
            .unwrap()
            .0;
        assert_eq!(a.record.meta.hash, again.record.meta.hash);
        assert_ne!(a.record.meta.hash, edited.record.meta.hash);
        let code = post_text("A", "").replace("Body.", "```rust\nfn x() {}\n```");
        let mut plain = parse_post("a.md", "a", code.as_bytes()).unwrap().0;
        let before = plain.record.meta.hash.clone();
        plain.highlight(|_, _| None);
        assert_eq!(plain.record.meta.hash, before);
        plain.highlight(|lang, code| Some(format!("<b>{lang}</b>{code}")));
        assert_eq!(
            plain.record.code_html,
            [Some("<b>rust</b>fn x() {}\n".to_string())]
        );
        // The hash names the highlighter, not its output: known before highlighting.
        assert_eq!(plain.record.meta.hash, before);
        let other_code = code.replace("fn x()", "fn y()");
        let other = parse_post("a.md", "a", other_code.as_bytes()).unwrap().0;
        assert_ne!(other.record.meta.hash, before, "the code is in the body");
    }

    #[test]
    fn only_a_body_with_a_fence_names_the_highlighter_in_its_hash() {
        let named = |body: &str| serde_json::to_string(&Highlighted(body)).unwrap();
        assert_eq!(
            named("Prose only."),
            "[]",
            "hashed as before highlighting existed"
        );
        assert_eq!(
            named("```rust\nx\n```"),
            format!("\"{}\"", env!("BLOG_HIGHLIGHTER_ID"))
        );
        assert_eq!(
            named("~~~\nx\n~~~"),
            format!("\"{}\"", env!("BLOG_HIGHLIGHTER_ID"))
        );
    }

    #[test]
    fn finds_links_and_images_with_their_lines_in_one_pass() {
        let body = "Intro [a](/posts/a).\n\n![An [x](/posts/b) and [y](y.pdf) ![in](in.png)](out.png)\n\n\
                    See [r][ref] and\n[home](/) <https://x.example/> [file](files/f.pdf?x#p).\n\n[ref]: /posts/c/#top\n";
        let (links, refs) = scan_body(body, 10);
        assert_eq!(
            links,
            [
                ("a".to_string(), 10),
                ("b".to_string(), 12),
                ("c".to_string(), 14)
            ]
        );
        let shown: Vec<_> = refs
            .iter()
            .map(|r| (r.url.as_str(), r.line, &r.kind))
            .collect();
        let alt = RefKind::Image {
            alt: "An x and y in".into(),
        };
        assert_eq!(
            shown,
            [
                ("out.png", 12, &alt),
                ("files/f.pdf?x#p", 15, &RefKind::Link)
            ]
        );
        let mut lines = Lines {
            text: b"a\nb\nc\n",
            offset: 0,
            line: 1,
        };
        assert_eq!(
            [lines.at(4), lines.at(2), lines.at(0), lines.at(6)],
            [3, 2, 1, 4]
        );
    }

    #[test]
    fn reports_duplicate_slugs_naming_both_files() {
        let a = post_text("A", "slug = \"same\"\n");
        let b = post_text("B", "slug = \"same\"\n");
        assert_eq!(
            check(&[("content/a.md", &a), ("content/b.md", &b)]),
            ["content/b.md:5: error: the slug `same` is already used by content/a.md: every post needs its own slug"]
        );
    }

    #[test]
    fn reports_two_parts_of_a_series_with_one_number_naming_both_files_and_lines() {
        let part = |title: &str, n: u32| {
            post_text(
                title,
                &format!("series = \"Building a mini Vercel\"\nseries_part = {n}\n"),
            )
        };
        let (a, b, c) = (part("A", 1), part("B", 2), part("C", 2));
        let other = post_text("D", "series = \"Another\"\nseries_part = 2\n");
        assert_eq!(
            check(&[
                ("content/a.md", &a),
                ("content/b.md", &b),
                ("content/c.md", &c),
                ("content/d.md", &other),
            ]),
            ["content/c.md:6: error: `series_part = 2` is already part 2 of the series \"Building a mini Vercel\" in content/b.md:6: give each part its own number, or leave `series_part` out to order the parts by date"]
        );
        assert!(check(&[("content/a.md", &a), ("content/b.md", &b)]).is_empty());
    }

    #[test]
    fn reports_aliases_that_the_sites_own_pages_would_hide() {
        let a = post_text(
            "A",
            "aliases = [\"/2019/\", \"/archive\", \"/2019/01/a.html\", \"/feed.xml\"]\n",
        );
        let content = check_all([("content/a.md", "a", a.as_bytes())]);
        let errors: Vec<String> = content.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            errors,
            [
                "content/a.md:5: error: the alias `/2019/` is the address of the archive's page for 2019, which would hide it: pick another",
                "content/a.md:5: error: the alias `/archive` is the address of the archive, which would hide it: pick another",
                "content/a.md:5: error: the alias `/feed.xml` is the address of a feed, which would hide it: pick another",
            ]
        );
    }

    #[test]
    fn reports_aliases_that_collide_with_posts_or_other_aliases() {
        let a = post_text("A", "aliases = [\"/posts/b\"]\n");
        let b = post_text("B", "");
        let c = post_text("C", "aliases = [\"/old\"]\n");
        let d = post_text("D", "aliases = [\"/old/\"]\n");
        let found = check(&[
            ("content/a.md", &a),
            ("content/b.md", &b),
            ("content/c.md", &c),
            ("content/d.md", &d),
        ]);
        assert_eq!(
            found,
            [
                "content/a.md:5: error: the alias `/posts/b` is already the address of content/b.md: remove it or pick another",
                "content/d.md:5: error: the alias `/old` is already the address of content/c.md: remove it or pick another",
            ]
        );
    }

    #[test]
    fn reports_links_to_missing_posts_with_their_line() {
        let a =
            post_text("A", "").replace("Body.", "See [b](/posts/b) and\n[gone](/posts/gone#x).");
        let b = post_text("B", "aliases = [\"/posts/old-b\"]\n")
            .replace("Body.", "Back to [old](/posts/old-b/).");
        let found = check(&[("content/a.md", &a), ("content/b.md", &b)]);
        assert_eq!(
            found,
            [
                "content/a.md:8: error: the link to /posts/gone points at no post: fix the slug or remove the link",
                "content/b.md:8: warning: the link to /posts/old-b goes through an alias: link to the post's current address",
            ]
        );
    }

    #[test]
    fn a_post_that_fails_to_parse_does_not_break_links_to_it() {
        let a = post_text("A", "").replace("Body.", "See [b](/posts/b).");
        let b = "no front matter";
        let found = check(&[("content/a.md", &a), ("content/b.md", b)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("content/b.md:1: error: no front matter"));
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
    fn settings_default_and_errors_name_the_line() {
        let s = parse_settings(
            "site.toml",
            "title = \"Notes\"\nbase_url = \"https://x.example/\"\n",
        )
        .unwrap();
        assert_eq!(
            (s.title.as_str(), s.base_url.as_str(), s.feed_posts),
            ("Notes", "https://x.example", 20)
        );
        let e =
            parse_settings("site.toml", "title = \"x\"\nbase_url = \"x.example\"\n").unwrap_err();
        assert_eq!(e.to_string().split(": error").next(), Some("site.toml:2"));
        let e =
            parse_settings("site.toml", "title = \"x\"\n\nfeed_posts = \"many\"\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse_settings("site.toml", "titel = \"x\"\n").unwrap_err();
        assert!(e.message.contains("titel"), "{e}");
        assert!(parse_settings("site.toml", "popular_half_life_days = 0\n").is_err());
        let short = parse_settings("site.toml", "title = \"T\"\nstats_retention_days = 7\n");
        let message = short.unwrap_err().to_string();
        assert!(
            message.starts_with(
                "site.toml:2: error: `stats_retention_days` must be between 30 and 3660"
            ),
            "{message}"
        );
        assert_eq!(
            parse_settings("site.toml", "stats_retention_days = 60\n")
                .unwrap()
                .stats_retention_days,
            60
        );
    }

    #[test]
    fn an_unknown_time_zone_is_an_error_at_its_line() {
        let e = parse_settings("site.toml", "title = \"x\"\ntime_zone = \"Mars/Olympus\"\n")
            .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(
            e.message.contains("Mars/Olympus") && e.message.contains("Europe/Berlin"),
            "{e}"
        );
        let s = parse_settings("site.toml", "time_zone = \"America/New_York\"\n").unwrap();
        assert_eq!(s.time_zone, "America/New_York");
        assert_eq!(parse_settings("site.toml", "").unwrap().time_zone, "UTC");
    }

    fn localised(date: &str, zone: &str) -> SourcePost {
        let text = format!("+++\ntitle = \"T\"\ndate = {date}\nsummary = \"S.\"\n+++\n\nBody.\n");
        let mut post = parse_post("content/t.md", "t", text.as_bytes()).unwrap().0;
        post.localise(&jiff::tz::TimeZone::get(zone).unwrap());
        post
    }

    #[test]
    fn dates_are_shown_on_the_site_clock() {
        // A bare date is that day's midnight on the site's clock, and is shown as that day.
        let p = localised("2026-03-01", "America/Los_Angeles");
        assert_eq!(
            p.record.meta.published,
            blog_core::date::days_from_civil(2026, 3, 1) * 86_400 + 8 * 3600
        );
        assert_eq!(
            (p.record.meta.utc_offset, p.record.meta.display_date()),
            (-480, "Mar 1, 2026".to_string())
        );
        assert_eq!(p.record.meta.iso_date(), "2026-03-01T00:00:00-08:00");
        // An instant written with an offset stays that instant, and may fall on another day there.
        let p = localised("2026-01-01T03:00:00Z", "America/Los_Angeles");
        assert_eq!(
            p.record.meta.published,
            blog_core::date::days_from_civil(2026, 1, 1) * 86_400 + 3 * 3600
        );
        assert_eq!(
            (p.record.meta.display_date(), p.record.meta.year()),
            ("Dec 31, 2025".to_string(), 2025)
        );
        // Daylight saving: the offset is the one in force on the day.
        assert_eq!(
            localised("2026-07-01", "Europe/Berlin")
                .record
                .meta
                .utc_offset,
            120
        );
        assert_eq!(
            localised("2026-12-01", "Europe/Berlin")
                .record
                .meta
                .utc_offset,
            60
        );
        // A time in the spring-forward gap reads as the later time, as clocks do.
        let p = localised("2026-03-08T02:30:00", "America/New_York");
        assert_eq!(p.record.meta.iso_date(), "2026-03-08T03:30:00-04:00");
    }

    #[test]
    fn a_site_in_utc_hashes_as_before_and_a_zone_changes_the_hash() {
        let utc = localised("2026-06-14", "UTC");
        let plain = parse_post(
            "content/t.md",
            "t",
            b"+++\ntitle = \"T\"\ndate = 2026-06-14\nsummary = \"S.\"\n+++\n\nBody.\n",
        )
        .unwrap()
        .0;
        assert_eq!(utc.record.meta.hash, plain.record.meta.hash);
        assert_ne!(
            localised("2026-06-14", "Asia/Tokyo").record.meta.hash,
            plain.record.meta.hash
        );
        // Same instant, other offset: the page shows another date, so the hash differs too.
        let a = localised("2026-06-14T12:00:00Z", "Europe/London");
        let b = localised("2026-06-14T12:00:00Z", "Europe/Paris");
        assert_eq!(a.record.meta.published, b.record.meta.published);
        assert_ne!(a.record.meta.hash, b.record.meta.hash);
    }

    #[test]
    fn new_posts_parse_with_a_warning_until_the_summary_is_written() {
        let text = new_post_text("Quotes \"and\" more", "2026-11-24");
        let (post, w) = parse_post("content/q.md", "q", text.as_bytes()).unwrap();
        assert!(post.draft);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].message.starts_with("`summary` is empty") && w[0].line == 4,
            "{w:?}"
        );
        let e = parse_post(
            "content/q.md",
            "q",
            text.replace("draft = true", "draft = false").as_bytes(),
        )
        .unwrap_err();
        assert_eq!((e[0].line, e[0].is_error()), (4, true), "{e:?}");
        let text = text.replace("summary = \"\"", "summary = \"Done.\"");
        let (post, w) = parse_post("content/q.md", "q", text.as_bytes()).unwrap();
        assert_eq!(post.record.meta.title, "Quotes \"and\" more");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn a_drafts_broken_links_and_formulas_are_warnings_and_a_scheduled_posts_errors() {
        let body = "See [x](/posts/missing) and $\\foo{x}$.\n\n![A photo](gone.png)";
        let draft = post_text("D", "draft = true\n").replace("Body.", body);
        // Dated far ahead: published by the sync that writes it, when it comes due.
        let scheduled = post_text("S", "")
            .replace("2026-06-14", "2999-01-01")
            .replace("Body.", body);
        let content = check_with_files(
            &[("content/d.md", &draft), ("content/s.md", &scheduled)],
            &[],
        );
        let shown = messages(&content);
        let of = |file: &str, error: bool| {
            content
                .diagnostics
                .iter()
                .filter(|d| d.file == file && d.is_error() == error)
                .map(|d| d.line)
                .collect::<Vec<_>>()
        };
        assert_eq!(of("content/d.md", true), Vec::<usize>::new(), "{shown:?}");
        let mut lines = of("content/d.md", false);
        lines.sort();
        assert_eq!(lines, [8, 8, 10], "{shown:?}");
        // The scheduled post stops at its formula, as any published post does.
        assert_eq!(of("content/s.md", true), [7], "{shown:?}");
        assert_eq!(content.publishable(true).len(), 1);
        assert!(content.posts[0].record.math_html.is_empty(), "shown as TeX");
    }

    #[test]
    fn a_diagram_that_does_not_parse_is_an_error_at_its_line_and_a_warning_in_a_draft() {
        let body = "Intro.\n\n```mermaid\nflowchart LR\n  a --> b\n  b --> c[x]y]\n```\n\n```mermaid\npie\n  \"a\": 1\n```";
        let text = post_text("P", "").replace("Body.", body);
        let e = parse_post("content/p.md", "p", text.as_bytes()).unwrap_err();
        let shown: Vec<_> = e.iter().map(|d| d.to_string()).collect();
        // The body starts at line 7: the bad line is the diagram's third.
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(
            shown[0].starts_with("content/p.md:12: error: the diagram does not parse: "),
            "{shown:?}"
        );
        let draft = post_text("D", "draft = true\n").replace("Body.", body);
        let (post, w) = parse_post("content/d.md", "d", draft.as_bytes()).unwrap();
        let shown: Vec<_> = w.iter().map(|d| d.to_string()).collect();
        assert_eq!(w.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with("content/d.md:13: warning: the diagram does not parse: ")
                && shown[0].ends_with("(fine in a draft; an error once it is published)"),
            "{shown:?}"
        );
        // A kind not drawn is shown as code, with a warning at its fence.
        assert!(
            shown[1]
                .starts_with("content/d.md:16: warning: this kind of Mermaid diagram is not drawn"),
            "{shown:?}"
        );
        assert!(!post.record.body.is_empty());
        let fixed = text.replace("c[x]y]", "c[xy]");
        let (_, w) = parse_post("content/p.md", "p", fixed.as_bytes()).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn a_draft_that_takes_a_posts_address_is_held_back_not_the_site() {
        // The draft sorts first, yet the published post keeps its address.
        let draft = post_text("A", "draft = true\nslug = \"same\"\n");
        let other = post_text("C", "draft = true\naliases = [\"/posts/same\"]\n");
        let post = post_text("B", "slug = \"same\"\n");
        let content = check_all([
            ("content/a.md", "a", draft.as_bytes()),
            ("content/b.md", "b", post.as_bytes()),
            ("content/c.md", "c", other.as_bytes()),
        ]);
        assert!(!content.has_errors(), "{:?}", content.diagnostics);
        let shown: Vec<_> = content.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with(
                "content/a.md:6: warning: the slug `same` is already used by content/b.md"
            ),
            "{shown:?}"
        );
        assert!(shown[1].starts_with("content/c.md:6: warning: the alias `/posts/same` is already the address of content/b.md"), "{shown:?}");
        let published: Vec<_> = content
            .publishable(true)
            .iter()
            .map(|p| p.file.as_str())
            .collect();
        assert_eq!(published, ["content/b.md"]);
    }

    #[test]
    fn adds_aliases_to_front_matter() {
        let text = post_text("A", "");
        let once = add_alias(&text, "/posts/old").unwrap();
        let (post, _) = parse_post("a.md", "a", once.as_bytes()).unwrap();
        assert_eq!(post.record.meta.aliases, ["/posts/old"]);
        let twice = add_alias(&once, "/posts/older").unwrap();
        let (post, _) = parse_post("a.md", "a", twice.as_bytes()).unwrap();
        assert_eq!(post.record.meta.aliases, ["/posts/old", "/posts/older"]);
        assert_eq!(
            twice.replace("aliases = [\"/posts/old\", \"/posts/older\"]\n", ""),
            text
        );
        assert!(add_alias("no front matter", "/x").is_none());
        assert!(add_alias(&post_text("A", "aliases = [\n  \"/a\",\n]\n"), "/b").is_none());
        // Not fooled by a longer key, and never lands inside a table.
        let text = post_text("A", "aliases_note = [\"x\"]\n[extra]\nk = 1\n");
        let out = add_alias(&text, "/posts/old").unwrap();
        assert!(
            out.contains("aliases_note = [\"x\"]\naliases = [\"/posts/old\"]\n[extra]"),
            "{out}"
        );
    }

    #[test]
    fn adds_aliases_to_yaml_front_matter() {
        let text = "---\ntitle: A\ndate: 2026-01-01\nsummary: S.\n---\nBody\n";
        let aliases = |t: &str| {
            parse_post("a.md", "a", t.as_bytes())
                .unwrap()
                .0
                .record
                .meta
                .aliases
        };
        let once = add_alias(text, "/posts/old").unwrap();
        assert!(
            once.ends_with("aliases: [\"/posts/old\"]\n---\nBody\n"),
            "{once}"
        );
        let twice = add_alias(&once, "/posts/o\"der").unwrap();
        assert_eq!(aliases(&twice), ["/posts/old", "/posts/o\"der"]);
        let block = text.replace(
            "summary: S.\n",
            "summary: S.\naliases:\n  - /x\n  - /y\ntags: [a]\n",
        );
        let out = add_alias(&block, "/posts/old").unwrap();
        assert!(out.contains("  - /y\n  - \"/posts/old\"\ntags"), "{out}");
        assert_eq!(aliases(&out), ["/x", "/y", "/posts/old"]);
        assert!(add_alias("---\ntitle: A\n", "/x").is_none());
    }

    /// A PNG header of the given size: all `inspect` reads.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// Checks posts whose files are `files` (paths inside `content/`).
    fn check_with_files(posts: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Content {
        let mut content = check_all(posts.iter().map(|(name, text)| {
            let stem = name.trim_start_matches("content/").trim_end_matches(".md");
            (*name, stem, text.as_bytes())
        }));
        let files: HashMap<&str, &Vec<u8>> = files.iter().map(|(p, b)| (*p, b)).collect();
        attach_files(&mut content, "content", |path| {
            files
                .get(path)
                .map(|b| b.to_vec())
                .ok_or_else(|| std::io::ErrorKind::NotFound.into())
        });
        content
    }

    fn messages(content: &Content) -> Vec<String> {
        content.diagnostics.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn publishes_images_files_and_the_cover_beside_a_post() {
        let text = post_text("A", "cover = \"cover.png\"\n")
            .replace("Body.", "![A photo](./photo.png)\n\nRead [the report](files/report.pdf#page=2), [the site](https://x.example/a.pdf), [home](/) or <me@x.example>.");
        let content = check_with_files(
            &[("content/a.md", &text)],
            &[
                ("photo.png", png(640, 360)),
                ("files/report.pdf", b"%PDF-1.4".to_vec()),
                ("cover.png", png(1200, 630)),
            ],
        );
        assert_eq!(messages(&content), Vec::<String>::new());
        let post = &content.posts[0];
        let photo = &post.record.assets["./photo.png"];
        assert!(
            photo.url.starts_with("/files/") && photo.url.ends_with(".png"),
            "{photo:?}"
        );
        assert_eq!((photo.width, photo.height), (Some(640), Some(360)));
        let pdf = &post.record.assets["files/report.pdf"];
        assert_eq!((pdf.url.ends_with(".pdf"), pdf.width), (true, None));
        assert_eq!(post.record.assets.len(), 2);
        assert_eq!(
            post.record.cover.as_ref().map(|c| c.width),
            Some(Some(1200))
        );
        assert_eq!(post.files, ["photo.png", "files/report.pdf", "cover.png"]);
        assert_eq!(content.files.len(), 3);
        assert_eq!(content.files["photo.png"].url(), photo.url);
        // The photo in the body is offered resized; the cover and the PDF are not.
        assert_eq!(
            photo
                .variants
                .iter()
                .map(|v| (v.width, v.url.rsplit_once('.').unwrap().1))
                .collect::<Vec<_>>(),
            [(480, "avif"), (640, "avif"), (480, "webp"), (640, "webp")]
        );
        assert!(post.record.cover.as_ref().unwrap().variants.is_empty() && pdf.variants.is_empty());
        // The variants are in the post's hash: a post synced before them is rendered again.
        let mut without = post.record.clone();
        for asset in without.assets.values_mut() {
            asset.variants.clear();
        }
        assert_ne!(record_hash(&without), post.record.meta.hash);
        assert_eq!(record_hash(&post.record), post.record.meta.hash);
    }

    #[test]
    fn reports_a_missing_file_with_its_line_and_where_it_looked() {
        let text = post_text("A", "")
            .replace("Body.", "Intro.\n\n![Chart](x.png)\n\n[data](data/all.csv)");
        let content = check_with_files(&[("content/a.md", &text)], &[]);
        assert_eq!(
            messages(&content),
            [
                "content/a.md:9: error: the image x.png does not exist (looked for content/x.png)",
                "content/a.md:11: error: the file data/all.csv does not exist (looked for content/data/all.csv)",
            ]
        );
        assert!(content.posts[0].record.assets.is_empty());
    }

    #[test]
    fn warns_about_images_without_alt_text() {
        let text =
            post_text("A", "").replace("Body.", "![](photo.png) and ![ ](https://x.example/a.png)");
        let content = check_with_files(&[("content/a.md", &text)], &[("photo.png", png(1, 1))]);
        assert_eq!(
            messages(&content),
            [
                "content/a.md:7: warning: the image photo.png has no alt text: describe it for readers who cannot see it, as in ![what it shows](photo.png)",
                "content/a.md:7: warning: the image https://x.example/a.png has no alt text: describe it for readers who cannot see it, as in ![what it shows](https://x.example/a.png)",
            ]
        );
        assert!(!content.has_errors());
    }

    #[test]
    fn rejects_links_that_leave_the_content_folder() {
        let text = post_text("A", "cover = \"../cover.png\"\n")
            .replace("Body.", "[keys](../../.ssh/id_rsa)");
        let content = check_with_files(&[("content/a.md", &text)], &[]);
        let found = messages(&content);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("content/a.md:8: error: the file ../../.ssh/id_rsa leads outside the content folder (content)"), "{found:?}");
        assert!(
            found[1].starts_with("content/a.md:5: error: the cover ../cover.png leads outside"),
            "{found:?}"
        );
    }

    #[test]
    fn a_relative_link_to_markdown_is_an_error_not_a_file() {
        let text = post_text("A", "").replace("Body.", "See [b](b.md).");
        let content = check_with_files(&[("content/a.md", &text)], &[("b.md", b"+++".to_vec())]);
        assert_eq!(
            messages(&content),
            ["content/a.md:7: error: the file b.md is a Markdown file: link to the post's address instead, such as /posts/b"]
        );
        assert!(content.files.is_empty());
    }

    #[test]
    fn a_file_over_the_kv_limit_is_an_error_once() {
        let a = post_text("A", "").replace("Body.", "[video](big.zip)");
        let b = post_text("B", "").replace("Body.", "[same video](big.zip)");
        let content = check_with_files(
            &[("content/a.md", &a), ("content/b.md", &b)],
            &[("big.zip", vec![0; MAX_VALUE_BYTES + 1])],
        );
        assert_eq!(
            messages(&content),
            ["content/a.md:7: error: the file content/big.zip is over 25 MiB, the most Workers KV holds per value: make it smaller or link to a copy elsewhere"]
        );
    }

    #[test]
    fn the_cover_must_exist_and_be_an_image() {
        let text = post_text("A", "cover = \"cover.png\"\n");
        let content = check_with_files(&[("content/a.md", &text)], &[]);
        assert_eq!(messages(&content), ["content/a.md:5: error: the cover cover.png does not exist (looked for content/cover.png)"]);
        let text = post_text("A", "cover = \"report.pdf\"\n");
        let content = check_with_files(
            &[("content/a.md", &text)],
            &[("report.pdf", b"%PDF".to_vec())],
        );
        assert!(
            messages(&content)[0].contains("error: the cover report.pdf is not an image"),
            "{:?}",
            messages(&content)
        );
    }

    #[test]
    fn a_changed_image_changes_the_post_hash_and_only_then() {
        let text = post_text("A", "").replace("Body.", "![A photo](photo.png)");
        let hash = |bytes: Vec<u8>| {
            check_with_files(&[("content/a.md", &text)], &[("photo.png", bytes)]).posts[0]
                .record
                .meta
                .hash
                .clone()
        };
        assert_eq!(hash(png(2, 2)), hash(png(2, 2)));
        assert_ne!(hash(png(2, 2)), hash(png(3, 2)));
        // A post without files hashes as before files existed.
        let plain = post_text("A", "");
        assert_eq!(
            check_with_files(&[("content/a.md", &plain)], &[]).posts[0]
                .record
                .meta
                .hash,
            parse_post("content/a.md", "a", plain.as_bytes())
                .unwrap()
                .0
                .record
                .meta
                .hash
        );
    }

    #[test]
    fn a_post_is_hashed_again_only_when_a_step_changes_what_the_hash_covers() {
        let hashes = || RECORD_HASHES.with(std::cell::Cell::get);
        let start = hashes();
        // No files, no highlighted code, a site in UTC: hashed once, when parsed.
        let mut content = check_with_files(&[("content/a.md", &post_text("A", ""))], &[]);
        content.localise(&jiff::tz::TimeZone::UTC);
        content.posts[0].highlight(|_, _| None);
        assert_eq!(hashes() - start, 1);
        // Files and a date the site's zone moves: once more for each.
        let text =
            post_text("A", "").replace("Body.", "![A photo](photo.png)\n\n```rust\nfn x() {}\n```");
        let mut content = check_with_files(&[("content/a.md", &text)], &[("photo.png", png(2, 2))]);
        assert_eq!(hashes() - start, 3);
        content.localise(&jiff::tz::TimeZone::get("Asia/Tokyo").unwrap());
        assert_eq!(hashes() - start, 4);
        let post = &mut content.posts[0];
        for _ in 0..2 {
            post.highlight(|lang, code| Some(format!("<b>{lang}</b>{code}")));
        }
        assert_eq!(hashes() - start, 4, "highlighting never hashes");
        // The hash carried is the hash of the record as it ends up.
        assert_eq!(post.record.meta.hash, record_hash(&post.record));
        assert_eq!(post.record.code_html.len(), 1);
        assert!(
            post.record.cover.is_none()
                && post.record.assets.len() == 1
                && post.record.meta.utc_offset == 540
        );
    }

    #[test]
    fn the_repository_content_is_valid() {
        let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let content = load_dir(&root.join("content")).unwrap();
        let problems: Vec<_> = content.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(content.posts.len() >= 8);
        load_settings(&root.join("site.toml")).unwrap();
    }
}
