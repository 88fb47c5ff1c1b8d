//! `blog import`: another engine's blog brought into the content folder.
//!
//! Each engine keeps its posts in its own place, under its own field names, at its own URLs:
//!
//! | engine | posts                              | images at `/`  | an old URL                       |
//! |--------|------------------------------------|----------------|----------------------------------|
//! | Hugo   | `content/**.md` (bundles' `index.md`) | `static/`   | `[permalinks]`, else `/section/slug/` |
//! | Jekyll | `_posts/YYYY-MM-DD-slug.md`, `_drafts/` | the site  | `permalink:` (default `date`)    |
//! | Zola   | `content/**.md` (bundles' `index.md`) | `static/`   | `/section/slug/`, or `path`      |
//! | Astro  | `src/content/<collection>/**.md(x)` | `public/`     | `/collection/slug/`              |
//!
//! A post comes out as `<slug>.md` with a TOML front matter of this blog's fields, its images
//! copied beside it into `<slug>/`, and every old URL it had (the engine's permalink, and its
//! own aliases or `redirect_from`) kept as an alias. What has no equivalent here (an unknown
//! field, a shortcode, a Liquid tag, an MDX component) is left as written and reported at its
//! file and line, so the author knows what to look at. Pages without a date (an about page, a
//! section's list) are not posts: they are skipped, and said so.
//!
//! [`plan`] reads the other blog and decides everything; [`write`] writes the plan, and writes
//! nothing at all when any file it would write is already there.

use crate::diagnostic::Diagnostic;
use crate::frontmatter::{self, Field, Value};
use blog_core::date::DateTime;
use blog_core::slug::{slugify, validate_slug};
use pulldown_cmark::{Event, Parser, Tag};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The engines `blog import --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Hugo,
    Jekyll,
    Zola,
    Astro,
}

impl Engine {
    pub const ALL: [Engine; 4] = [Engine::Hugo, Engine::Jekyll, Engine::Zola, Engine::Astro];

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Hugo => "hugo",
            Engine::Jekyll => "jekyll",
            Engine::Zola => "zola",
            Engine::Astro => "astro",
        }
    }

    /// Where the site's root-relative files (`/images/a.png`) live, inside its folder.
    fn static_dir(self) -> &'static str {
        match self {
            Engine::Hugo | Engine::Zola => "static",
            Engine::Jekyll => "",
            Engine::Astro => "public",
        }
    }

    /// What an engine's field means here.
    fn target(self, name: &str) -> Target {
        use Target::*;
        match (self, name) {
            (_, "title") => Title,
            (_, "date") => Date,
            (Engine::Hugo, "publishDate" | "publishdate") => DateIfNone,
            (Engine::Astro, "pubDate" | "publishDate") => Date,
            (_, "summary" | "description") => Summary,
            (Engine::Jekyll, "excerpt") => Summary,
            (Engine::Hugo, "lastmod" | "lastMod") => Updated,
            (Engine::Zola, "updated") => Updated,
            (Engine::Jekyll, "last_modified_at") => Updated,
            (Engine::Astro, "updatedDate" | "updated") => Updated,
            (_, "tags" | "keywords") => Tags,
            (Engine::Hugo | Engine::Jekyll | Engine::Astro, "categories" | "category") => Tags,
            (Engine::Zola, "taxonomies") => Taxonomies,
            (_, "draft") => Draft,
            (Engine::Jekyll, "published") => Published,
            (_, "slug") => Slug,
            (Engine::Hugo | Engine::Zola, "aliases") => Aliases,
            (Engine::Jekyll, "redirect_from") => Aliases,
            (Engine::Hugo, "url") => Url,
            (Engine::Zola, "path") => Url,
            (Engine::Jekyll, "permalink") => Url,
            (Engine::Hugo, "series") => Series,
            (Engine::Hugo, "images") => Cover,
            (_, "cover" | "image" | "featured_image" | "heroImage") => Cover,
            // Which template draws the page: this blog has one for posts.
            (Engine::Jekyll, "layout") => Layout,
            _ => Unmapped,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Title,
    Date,
    /// A date used only when the post has no `date`.
    DateIfNone,
    Summary,
    Updated,
    Tags,
    /// Zola's `[taxonomies]` table: its `tags` and `categories` become tags.
    Taxonomies,
    Draft,
    /// Jekyll's `published: false`: a draft.
    Published,
    Slug,
    Aliases,
    /// The post's own URL, in place of the permalink the site's settings give it.
    Url,
    Series,
    Cover,
    /// Jekyll's `layout: post`, which only says what is true here of every post.
    Layout,
    Unmapped,
}

/// One post as it will be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The file it came from, as shown in messages.
    pub source: String,
    pub slug: String,
    /// Its text: this blog's front matter, then the body.
    pub text: String,
    /// Every old URL kept, each a site path.
    pub aliases: Vec<String>,
    pub draft: bool,
}

/// A file copied beside a post: from the other blog's folder to a path inside `content/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub from: PathBuf,
    pub to: String,
}

/// What importing a blog would write, and what it could not carry over.
#[derive(Debug, Default)]
pub struct Plan {
    pub posts: Vec<Planned>,
    pub copies: Vec<Copy>,
    /// What could not be mapped, or was mapped by a guess: warnings at the source's line.
    pub notes: Vec<Diagnostic>,
    /// What stops the import: nothing is written while there is one.
    pub errors: Vec<Diagnostic>,
    /// Files that are not posts (no date, a section's page), with why.
    pub skipped: Vec<(String, String)>,
}

/// A source post, read but not yet written out.
struct Source {
    /// The file as shown in messages.
    shown: String,
    /// The file on disk.
    path: PathBuf,
    /// Its path inside the engine's posts folder, `/`-separated.
    rel: String,
    text: String,
    /// From the file name: Jekyll's and Zola's `YYYY-MM-DD-slug`.
    name_date: Option<DateTime>,
    name_slug: String,
    /// The section (Hugo, Zola) or collection (Astro) the post is in.
    section: String,
    /// In Jekyll's `_drafts/`.
    in_drafts: bool,
}

/// A source post's mapped front matter.
#[derive(Debug, Default)]
struct Mapped {
    title: Option<String>,
    date: Option<DateTime>,
    date_if_none: Option<DateTime>,
    summary: Option<String>,
    updated: Option<DateTime>,
    tags: Vec<String>,
    /// Categories, which become tags after the tags (and Jekyll's default URLs start with).
    categories: Vec<String>,
    draft: bool,
    slug: Option<String>,
    aliases: Vec<At>,
    url: Option<At>,
    series: Option<String>,
    cover: Option<At>,
}

/// A value from the source's front matter with the line it is on.
type At = (String, usize);

/// Reads the blog in `dir`, made with `engine`, and plans its import. `today` dates a Jekyll
/// draft, which has no date of its own.
pub fn plan(engine: Engine, dir: &Path, today: DateTime) -> Result<Plan, String> {
    let settings = SiteSettings::read(engine, dir);
    let sources = find_sources(engine, dir)?;
    let mut plan = Plan::default();
    // First every post's front matter, so that links between posts can be rewritten.
    let mut posts = Vec::new();
    for source in sources {
        if let Some(post) = map_post(engine, source, &settings, today, &mut plan) {
            posts.push(post);
        }
    }
    // Slugs are the new addresses: two posts on one would hide one of them.
    let mut by_slug: HashMap<String, String> = HashMap::new();
    for (source, post, _) in &posts {
        if let Some(first) = by_slug.insert(post.slug.clone(), source.shown.clone()) {
            plan.errors.push(Diagnostic::error(
                &source.shown,
                1,
                format!(
                    "{first} is imported as /posts/{} too: give one of them another `slug`",
                    post.slug
                ),
            ));
        }
    }
    let links = Links::new(engine, &posts);
    // Old URLs that are this blog's own pages now cannot be kept; one claimed twice neither.
    let mut claimed: HashMap<String, String> = HashMap::new();
    for (source, mapped, cover) in &posts {
        let mut post = mapped.clone();
        let mut aliases = Vec::new();
        for alias in &mapped.aliases {
            let key = alias.trim_end_matches('/').to_string();
            if key.is_empty() || key == format!("/posts/{}", post.slug) {
                continue;
            }
            if let Some(page) = crate::source::site_page(alias) {
                plan.notes.push(Diagnostic::warning(
                    &source.shown,
                    1,
                    format!("the old URL {alias} is {page} here: it is not kept"),
                ));
                continue;
            }
            match claimed.get(&key) {
                Some(owner) if owner != &post.slug => plan.notes.push(Diagnostic::warning(
                    &source.shown,
                    1,
                    format!("the old URL {alias} is also /posts/{owner}'s: it is kept for that post only"),
                )),
                Some(_) => {}
                None => {
                    claimed.insert(key, post.slug.clone());
                    aliases.push(alias.clone());
                }
            }
        }
        post.aliases = aliases;
        post.text = finish(
            engine,
            source,
            &post,
            cover.as_ref(),
            &links,
            dir,
            &mut plan,
        );
        plan.posts.push(post);
    }
    // Each post's notes together, in line order.
    plan.notes
        .sort_by(|a, b| (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line)));
    Ok(plan)
}

/// The files each would write: those already there, which stop the import.
pub fn conflicts(plan: &Plan, content: &Path) -> Vec<PathBuf> {
    plan.posts
        .iter()
        .map(|p| format!("{}.md", p.slug))
        .chain(plan.copies.iter().map(|c| c.to.clone()))
        .map(|rel| content.join(rel))
        .filter(|path| path.exists())
        .collect()
}

/// Writes the plan into `content`: every file new, or none. A file that appears while this
/// runs stops it, and what it wrote so far is taken back.
pub fn write(plan: &Plan, content: &Path) -> Result<(), String> {
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| {
        std::fs::create_dir_all(content)
            .map_err(|e| format!("cannot create {}: {e}", content.display()))?;
        let mut new_file = |rel: &str, bytes: &[u8]| -> Result<(), String> {
            use std::io::Write;
            let path = content.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path.clone());
            file.write_all(bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        for copy in &plan.copies {
            let bytes = std::fs::read(&copy.from)
                .map_err(|e| format!("cannot read {}: {e}", copy.from.display()))?;
            new_file(&copy.to, &bytes)?;
        }
        for post in &plan.posts {
            new_file(&format!("{}.md", post.slug), post.text.as_bytes())?;
        }
        Ok(())
    })();
    if result.is_err() {
        for path in written.iter().rev() {
            let _ = std::fs::remove_file(path);
            // And the post's folder, once empty (removing a folder that is not fails).
            if let Some(parent) = path.parent().filter(|p| *p != content) {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
    result
}

/// What the other site's settings say of its URLs.
#[derive(Debug, Default)]
struct SiteSettings {
    /// Hugo's `[permalinks]`: a section's pattern.
    permalinks: HashMap<String, String>,
    /// Jekyll's `permalink:`.
    permalink: Option<String>,
}

impl SiteSettings {
    fn read(engine: Engine, dir: &Path) -> Self {
        let mut settings = Self::default();
        let candidates: &[&str] = match engine {
            Engine::Hugo => &[
                "hugo.toml",
                "config.toml",
                "hugo.yaml",
                "config.yaml",
                "hugo.yml",
                "config.yml",
            ],
            Engine::Jekyll => &["_config.yml", "_config.yaml"],
            Engine::Zola | Engine::Astro => &[],
        };
        let Some((name, text)) = candidates
            .iter()
            .find_map(|name| Some((*name, std::fs::read_to_string(dir.join(name)).ok()?)))
        else {
            return settings;
        };
        let fields = if name.ends_with(".toml") {
            frontmatter::toml_fields(name, &text)
        } else {
            crate::yaml::fields(name, &text, text.lines().count() + 2)
        };
        for field in fields.unwrap_or_default() {
            match (field.name.as_str(), field.value) {
                ("permalinks", Value::Table(sections)) => {
                    for section in sections {
                        if let Value::Str(pattern) = section.value {
                            settings.permalinks.insert(section.name, pattern);
                        }
                    }
                }
                ("permalink", Value::Str(pattern)) => settings.permalink = Some(pattern),
                _ => {}
            }
        }
        settings
    }
}

/// Every file of the engine's posts, in path order.
fn find_sources(engine: Engine, dir: &Path) -> Result<Vec<Source>, String> {
    let (roots, exts): (&[&str], &[&str]) = match engine {
        Engine::Hugo | Engine::Zola => (&["content"], &["md", "markdown"]),
        Engine::Jekyll => (&["_posts", "_drafts"], &["md", "markdown"]),
        Engine::Astro => (&["src/content"], &["md", "mdx"]),
    };
    if !roots.iter().any(|root| dir.join(root).is_dir()) {
        return Err(format!(
            "{} has no {} folder: is it the root of a {} site?",
            dir.display(),
            roots[0],
            engine.name()
        ));
    }
    let mut sources = Vec::new();
    for root in roots {
        let base = dir.join(root);
        let mut files = Vec::new();
        walk(&base, &mut files).map_err(|e| format!("cannot read {}: {e}", base.display()))?;
        files.sort();
        for path in files {
            let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
                continue;
            };
            if !exts.contains(&ext) {
                continue;
            }
            let rel = path
                .strip_prefix(&base)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let shown = path.display().to_string();
            let text = match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => return Err(format!("{shown}: not UTF-8 text")),
                },
                Err(e) => return Err(format!("cannot read {shown}: {e}")),
            };
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parts: Vec<&str> = rel.split('/').collect();
            // A bundle (`post/index.md`) is named by its folder.
            let name = if stem == "index" && parts.len() > 1 {
                parts[parts.len() - 2].to_string()
            } else {
                stem.clone()
            };
            let section = match engine {
                Engine::Jekyll => String::new(),
                // A post straight in `content/` has no section; a bundle's folder is no section.
                _ => {
                    let dirs = if stem == "index" {
                        parts.len().saturating_sub(2)
                    } else {
                        parts.len() - 1
                    };
                    parts[..dirs].join("/")
                }
            };
            let (name_date, name_slug) = match engine {
                Engine::Jekyll | Engine::Zola => split_dated_name(&name),
                _ => (None, name),
            };
            sources.push(Source {
                shown,
                path: path.clone(),
                rel,
                text,
                name_date,
                name_slug,
                section,
                in_drafts: engine == Engine::Jekyll && *root == "_drafts",
            });
        }
    }
    Ok(sources)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// `2020-01-15-my-post` into its date and `my-post` (Zola also takes `_` after the date).
fn split_dated_name(name: &str) -> (Option<DateTime>, String) {
    let dated = name.get(..10).and_then(|day| {
        let rest = name.get(10..)?;
        let rest = rest.strip_prefix(['-', '_'])?;
        let date = crate::yaml::date(day).ok()?;
        (!rest.is_empty()).then(|| (date, rest.to_string()))
    });
    match dated {
        Some((date, rest)) => (Some(date), rest),
        None => (None, name.to_string()),
    }
}

/// Reads one source post's front matter into this blog's: its planned text without the body
/// yet. `None` when it is not a post (it is then skipped, or an error is planned).
fn map_post(
    engine: Engine,
    source: Source,
    settings: &SiteSettings,
    today: DateTime,
    plan: &mut Plan,
) -> Option<(Source, Planned, Option<At>)> {
    let file = source.shown.as_str();
    let stem = Path::new(&source.rel)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if stem == "_index" {
        plan.skipped
            .push((file.to_string(), "a section's own page, not a post".into()));
        return None;
    }
    let raw = match frontmatter::read(file, &source.text) {
        Ok(raw) => raw,
        Err(problems) => {
            plan.errors.extend(problems);
            return None;
        }
    };
    let mut m = Mapped {
        draft: source.in_drafts,
        ..Mapped::default()
    };
    // What a page that is no post could not carry over does not matter: noted once it is one.
    let mut notes = Vec::new();
    for field in &raw.fields {
        map_field(engine, file, field, &mut m, &mut notes);
    }
    let date = m
        .date
        .or(m.date_if_none)
        .or(source.name_date)
        .or_else(|| source.in_drafts.then_some(today));
    let Some(date) = date else {
        plan.skipped.push((
            file.to_string(),
            "no date, so a page rather than a post".into(),
        ));
        return None;
    };
    plan.notes.append(&mut notes);
    let Some(title) = m.title.clone().filter(|t| !t.trim().is_empty()) else {
        plan.errors.push(Diagnostic::error(
            file,
            1,
            "the post has no title: add one before importing",
        ));
        return None;
    };
    // The new address: the post's own slug, else its file's name, made URL-safe.
    let wanted = m.slug.clone().unwrap_or_else(|| source.name_slug.clone());
    let slug = if validate_slug(&wanted).is_ok() && wanted == wanted.to_lowercase() {
        wanted.clone()
    } else {
        slugify(&wanted)
    };
    if validate_slug(&slug).is_err() {
        plan.errors.push(Diagnostic::error(
            file,
            1,
            format!("cannot make an address from `{wanted}`: give the post a `slug`"),
        ));
        return None;
    }
    let summary = match m.summary.clone().filter(|s| !s.trim().is_empty()) {
        Some(summary) => one_line(&summary),
        None => match first_paragraph(raw.body) {
            Some(summary) => {
                plan.notes.push(Diagnostic::warning(
                    file,
                    raw.body_line,
                    "no summary: the first paragraph's opening is used; check it reads well",
                ));
                summary
            }
            None => String::new(),
        },
    };
    // Every old URL: its own aliases, then the one the engine gave it.
    let mut aliases = m.aliases.clone();
    let old = match &m.url {
        Some((url, line)) => Some((url.clone(), *line)),
        None => old_url(engine, &source, settings, &m, date, &title).map(|u| (u, 1)),
    };
    if let Some(old) = old {
        aliases.push(old);
    }
    let mut kept = Vec::new();
    let mut seen = HashSet::new();
    for (alias, line) in aliases {
        match site_path(&alias, &source.section) {
            Some(path) => {
                if seen.insert(path.trim_end_matches('/').to_string()) {
                    kept.push(path);
                }
            }
            None => plan.notes.push(Diagnostic::warning(
                file,
                line,
                format!("the old URL `{alias}` is not a path on this site: it is not kept"),
            )),
        }
    }
    let mut tags: Vec<String> = Vec::new();
    let mut tag_slugs = HashSet::new();
    for tag in m.tags.iter().chain(&m.categories) {
        if tag_slugs.insert(slugify(tag)) {
            tags.push(tag.clone());
        }
    }
    let mut front = String::from("+++\n");
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let list = |items: &[String]| {
        let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
        format!("[{}]", items.join(", "))
    };
    front.push_str(&format!("title = {}\n", quote(title.trim())));
    front.push_str(&format!("date = {}\n", toml_date(&date)));
    front.push_str(&format!("summary = {}\n", quote(&summary)));
    if !tags.is_empty() {
        front.push_str(&format!("tags = {}\n", list(&tags)));
    }
    if let Some(updated) = m.updated {
        if updated.timestamp() > date.timestamp() {
            front.push_str(&format!("updated = {}\n", toml_date(&updated)));
        }
    }
    if let Some(series) = &m.series {
        front.push_str(&format!("series = {}\n", quote(series)));
    }
    if m.draft {
        front.push_str("draft = true\n");
    }
    let planned = Planned {
        source: file.to_string(),
        slug,
        // The aliases, the cover and the body follow once every post is known (see `finish`).
        text: front,
        aliases: kept,
        draft: m.draft,
    };
    Some((source, planned, m.cover))
}

/// Maps one field into `m`, or notes that it cannot be.
fn map_field(
    engine: Engine,
    file: &str,
    field: &Field,
    m: &mut Mapped,
    notes: &mut Vec<Diagnostic>,
) {
    let (name, line) = (field.name.as_str(), field.line);
    let unmapped = |notes: &mut Vec<Diagnostic>, why: &str| {
        notes.push(Diagnostic::warning(
            file,
            line,
            format!("`{name}` is not imported: {why}"),
        ))
    };
    let target = engine.target(name);
    let wrong = |notes: &mut Vec<Diagnostic>| {
        unmapped(
            notes,
            &format!(
                "it is {}, which it never is here",
                frontmatter::describe(&field.value)
            ),
        )
    };
    match target {
        Target::Title => match &field.value {
            Value::Str(s) => m.title = Some(s.clone()),
            _ => wrong(notes),
        },
        Target::Date | Target::DateIfNone | Target::Updated => {
            let date = match &field.value {
                Value::Date(Ok(d)) => Some(*d),
                Value::Str(s) => crate::yaml::date(s.trim())
                    .ok()
                    .or_else(|| month_name_date(s)),
                _ => None,
            };
            match (date, target) {
                (Some(d), Target::Date) => m.date = Some(d),
                (Some(d), Target::DateIfNone) => m.date_if_none = Some(d),
                (Some(d), _) => m.updated = Some(d),
                (None, _) => unmapped(notes, "it is not a date this blog reads"),
            }
        }
        Target::Summary => match &field.value {
            Value::Str(s) => m.summary = Some(s.clone()),
            _ => wrong(notes),
        },
        Target::Tags => {
            let items = strings(&field.value, engine == Engine::Jekyll);
            // Categories follow the tags, whichever the front matter wrote first.
            if name.starts_with("categor") {
                m.categories.extend(items);
            } else {
                m.tags.extend(items);
            }
        }
        Target::Taxonomies => {
            let Value::Table(taxonomies) = &field.value else {
                return wrong(notes);
            };
            for taxonomy in taxonomies {
                match taxonomy.name.as_str() {
                    "tags" => m.tags.extend(strings(&taxonomy.value, false)),
                    "categories" => m.categories.extend(strings(&taxonomy.value, false)),
                    "series" => m.series = strings(&taxonomy.value, false).into_iter().next(),
                    other => notes.push(Diagnostic::warning(
                        file,
                        taxonomy.line,
                        format!("the taxonomy `{other}` is not imported: this blog has tags and series only"),
                    )),
                }
            }
        }
        Target::Draft => match &field.value {
            Value::Bool(b) => m.draft |= *b,
            _ => wrong(notes),
        },
        Target::Published => match &field.value {
            Value::Bool(b) => m.draft |= !*b,
            _ => wrong(notes),
        },
        Target::Slug => match &field.value {
            Value::Str(s) if !s.trim().is_empty() => m.slug = Some(s.trim().to_string()),
            _ => wrong(notes),
        },
        Target::Aliases => match &field.value {
            Value::Str(s) => m.aliases.push((s.clone(), line)),
            Value::List(items) => {
                for (item, item_line) in items {
                    if let Value::Str(s) = item {
                        m.aliases.push((s.clone(), *item_line));
                    }
                }
            }
            _ => wrong(notes),
        },
        Target::Url => match &field.value {
            Value::Str(s) => m.url = Some((s.clone(), line)),
            _ => wrong(notes),
        },
        Target::Series => m.series = strings(&field.value, false).into_iter().next(),
        Target::Cover => {
            let path = match &field.value {
                Value::Str(s) => Some((s.clone(), line)),
                Value::List(items) => items.iter().find_map(|(v, l)| match v {
                    Value::Str(s) => Some((s.clone(), *l)),
                    _ => None,
                }),
                // PaperMod's `cover: { image: ... }`.
                Value::Table(fields) => fields.iter().find_map(|f| match (&*f.name, &f.value) {
                    ("image", Value::Str(s)) => Some((s.clone(), f.line)),
                    _ => None,
                }),
                _ => None,
            };
            match path {
                Some(path) if !path.0.trim().is_empty() => m.cover = Some(path),
                _ => wrong(notes),
            }
        }
        Target::Layout => {}
        Target::Unmapped => unmapped(notes, "this blog has no such field"),
    }
}

/// A list of strings, or one string (Jekyll's `tags: a b` is words apart).
fn strings(value: &Value, words: bool) -> Vec<String> {
    match value {
        Value::Str(s) if words => s.split_whitespace().map(str::to_string).collect(),
        Value::Str(s) => vec![s.trim().to_string()],
        Value::List(items) => items
            .iter()
            .filter_map(|(v, _)| match v {
                Value::Str(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A date written with its month's name, as Astro's starter writes them (`Jul 08 2022`) and
/// JavaScript's `Date` reads them: `July 8, 2022`, `8 Jul 2022`.
fn month_name_date(text: &str) -> Option<DateTime> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let words: Vec<String> = text
        .split([' ', ',', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let month_of = |w: &str| {
        MONTHS
            .iter()
            .position(|m| w.len() >= 3 && m.starts_with(&w[..3]))
            .map(|i| i as u32 + 1)
    };
    let number = |w: &str| {
        w.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])
            .parse::<u32>()
            .ok()
    };
    let (month, day, year) = match words.as_slice() {
        [m, d, y] if month_of(m).is_some() => (month_of(m)?, number(d)?, y.parse::<i64>().ok()?),
        [d, m, y] if month_of(m).is_some() => (month_of(m)?, number(d)?, y.parse::<i64>().ok()?),
        _ => return None,
    };
    DateTime::new(year, month, day, (0, 0, 0), None).ok()
}

/// A date as TOML writes it: a bare date when it is one, else the time and its offset.
fn toml_date(d: &DateTime) -> String {
    let day = format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    if (d.hour, d.minute, d.second, d.offset_minutes) == (0, 0, 0, None) {
        return day;
    }
    let time = format!("{day}T{:02}:{:02}:{:02}", d.hour, d.minute, d.second);
    match d.offset_minutes {
        None => time,
        Some(0) => format!("{time}Z"),
        Some(m) => {
            let sign = if m < 0 { '-' } else { '+' };
            format!("{time}{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
        }
    }
}

/// A summary on one line, spaces made single.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The plain text of the body's first paragraph, cut at a word near 200 characters: the
/// summary of a post that had none. Text before Hugo's and Jekyll's `<!--more-->` counts as
/// the first paragraph.
fn first_paragraph(body: &str) -> Option<String> {
    let mut text = String::new();
    let mut in_paragraph = false;
    for event in Parser::new(body) {
        match event {
            Event::Start(Tag::Paragraph) => in_paragraph = true,
            Event::End(pulldown_cmark::TagEnd::Paragraph) if !text.trim().is_empty() => break,
            Event::End(pulldown_cmark::TagEnd::Paragraph) => in_paragraph = false,
            Event::Text(t) | Event::Code(t) if in_paragraph => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if in_paragraph => text.push(' '),
            _ => {}
        }
    }
    // A paragraph that is only a shortcode or a Liquid tag says nothing.
    let text = one_line(&text);
    if text.is_empty() || text.starts_with("{{") || text.starts_with("{%") {
        return None;
    }
    const MOST: usize = 200;
    if text.chars().count() <= MOST {
        return Some(text);
    }
    let cut: String = text.chars().take(MOST).collect();
    let cut = match cut.rfind(' ') {
        Some(space) => &cut[..space],
        None => &cut,
    };
    Some(format!("{}…", cut.trim_end_matches([',', ';', ':', '.'])))
}

/// The URL the engine gave a post, from the site's settings.
fn old_url(
    engine: Engine,
    source: &Source,
    settings: &SiteSettings,
    m: &Mapped,
    date: DateTime,
    title: &str,
) -> Option<String> {
    let slug = m.slug.clone().unwrap_or_else(|| source.name_slug.clone());
    match engine {
        Engine::Hugo => {
            let section = source.section.split('/').next().unwrap_or("");
            let pattern = settings.permalinks.get(section);
            match pattern {
                Some(pattern) => Some(expand(
                    pattern,
                    &Tokens {
                        slug: &slug,
                        title: &slugify(title),
                        section,
                        filename: &source.name_slug,
                        date: &date,
                        categories: &[],
                    },
                )),
                None if section.is_empty() => Some(format!("/{slug}/")),
                None => Some(format!("/{}/{slug}/", source.section)),
            }
        }
        Engine::Zola => {
            let section = &source.section;
            if section.is_empty() {
                Some(format!("/{slug}/"))
            } else {
                Some(format!("/{section}/{slug}/"))
            }
        }
        Engine::Astro => Some(format!("/{}/{slug}/", source.section)),
        Engine::Jekyll => {
            if source.in_drafts || m.draft {
                return None;
            }
            let pattern = match settings.permalink.as_deref().unwrap_or("date") {
                "date" => "/:categories/:year/:month/:day/:title:output_ext",
                "pretty" => "/:categories/:year/:month/:day/:title/",
                "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
                "weekdate" => "/:categories/:year/W:week/:short_day/:title:output_ext",
                "none" => "/:categories/:title:output_ext",
                pattern => pattern,
            };
            // Jekyll's `:title` is the file name's (or the `slug` field's), not the title's.
            Some(expand(
                pattern,
                &Tokens {
                    slug: &slug,
                    title: &slug,
                    section: "",
                    filename: &source.name_slug,
                    date: &date,
                    categories: &m.categories,
                },
            ))
        }
    }
}

/// What a permalink pattern's `:tokens` stand for, for one post.
struct Tokens<'a> {
    slug: &'a str,
    title: &'a str,
    section: &'a str,
    filename: &'a str,
    date: &'a DateTime,
    categories: &'a [String],
}

/// A permalink pattern with its `:tokens` filled in.
fn expand(pattern: &str, t: &Tokens<'_>) -> String {
    let (date, slug, section, filename) = (t.date, t.slug, t.section, t.filename);
    let day_of_year = blog_core::date::days_from_civil(date.year, date.month, date.day)
        - blog_core::date::days_from_civil(date.year, 1, 1)
        + 1;
    let categories = t
        .categories
        .iter()
        .map(|c| slugify(c))
        .collect::<Vec<_>>()
        .join("/");
    let tokens: [(&str, String); 14] = [
        (":categories", categories),
        (":output_ext", ".html".into()),
        (":year", format!("{:04}", date.year)),
        (":y_day", format!("{day_of_year:03}")),
        (":month", format!("{:02}", date.month)),
        (":i_month", date.month.to_string()),
        (":day", format!("{:02}", date.day)),
        (":i_day", date.day.to_string()),
        (":slugorfilename", slug.to_string()),
        (":slugorcontentbasename", slug.to_string()),
        (":slug", slug.to_string()),
        (":title", t.title.to_string()),
        (":section", section.to_string()),
        (":filename", filename.to_string()),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while !rest.is_empty() {
        if rest.starts_with(':') {
            for (token, value) in &tokens {
                if let Some(after) = rest.strip_prefix(token) {
                    out.push_str(value);
                    rest = after;
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    // An empty `:categories` leaves `//`.
    while out.contains("//") {
        out = out.replace("//", "/");
    }
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    out
}

/// An old URL as a path of this site, or `None` when it cannot be one. A full URL keeps its
/// path; Hugo's relative aliases are inside the post's section.
fn site_path(url: &str, section: &str) -> Option<String> {
    let url = url.trim();
    let path = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    {
        rest.find('/').map(|i| &rest[i..]).unwrap_or("/")
    } else if url.starts_with('/') {
        url
    } else if url.is_empty() || url.contains(':') {
        return None;
    } else {
        return site_path(&format!("/{section}/{url}"), section);
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut clean = String::new();
    for c in path.chars() {
        match c {
            ' ' => clean.push_str("%20"),
            c if c.is_whitespace() || c.is_control() => return None,
            c => clean.push(c),
        }
    }
    while clean.contains("//") {
        clean = clean.replace("//", "/");
    }
    (clean.len() > 1).then_some(clean)
}

/// How links between the imported posts are found: by their old URLs and by the names other
/// engines link to posts with (Hugo's `ref`, Jekyll's `post_url`, Zola's `@/`).
struct Links {
    /// An old URL, without its trailing `/`, to the new slug.
    by_url: HashMap<String, String>,
    /// A source path inside the posts folder (`blog/a.md`), its file name and its stem.
    by_name: HashMap<String, String>,
}

impl Links {
    fn new<T>(engine: Engine, posts: &[(Source, Planned, T)]) -> Self {
        let mut by_url = HashMap::new();
        let mut by_name = HashMap::new();
        for (source, post, _) in posts {
            for alias in &post.aliases {
                by_url.insert(alias.trim_end_matches('/').to_string(), post.slug.clone());
            }
            let rel = source.rel.clone();
            let file = rel.rsplit('/').next().unwrap_or(&rel).to_string();
            let stem = file
                .rsplit_once('.')
                .map_or(file.clone(), |(s, _)| s.to_string());
            for name in [rel.clone(), file, stem] {
                by_name.entry(name).or_insert_with(|| post.slug.clone());
            }
            if engine == Engine::Hugo || engine == Engine::Zola {
                // `index.md` bundles are linked to by their folder.
                if let Some(folder) = rel.strip_suffix("/index.md") {
                    by_name
                        .entry(folder.to_string())
                        .or_insert_with(|| post.slug.clone());
                    if let Some(last) = folder.rsplit('/').next() {
                        by_name
                            .entry(last.to_string())
                            .or_insert_with(|| post.slug.clone());
                    }
                }
            }
        }
        Self { by_url, by_name }
    }

    /// The new address for a name another engine links a post by.
    fn named(&self, name: &str) -> Option<String> {
        let name = name
            .trim()
            .trim_matches(['"', '\''])
            .trim_start_matches('/');
        let (name, anchor) = match name.split_once('#') {
            Some((n, a)) => (n, Some(a)),
            None => (name, None),
        };
        let slug = self
            .by_name
            .get(name)
            .or_else(|| self.by_name.get(name.trim_end_matches(".md")))
            .or_else(|| self.by_name.get(name.rsplit('/').next().unwrap_or(name)))
            .or_else(|| {
                let stem = name.rsplit('/').next().unwrap_or(name);
                self.by_name.get(stem.trim_end_matches(".md"))
            })?;
        Some(match anchor {
            Some(a) => format!("/posts/{slug}#{a}"),
            None => format!("/posts/{slug}"),
        })
    }

    /// The new address for a link to an old URL of an imported post.
    fn url(&self, url: &str) -> Option<String> {
        let (path, anchor) = match url.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (url, None),
        };
        let slug = self.by_url.get(path.trim_end_matches('/'))?;
        Some(match anchor {
            Some(a) => format!("/posts/{slug}#{a}"),
            None => format!("/posts/{slug}"),
        })
    }
}

/// The rest of a post's text after [`map_post`]'s fields: its aliases and cover, the closing
/// fence, and the body rewritten for this blog (the engine's code-block and link syntax turned
/// into Markdown, images copied beside the post). What cannot be turned is noted at its line
/// and left as written.
fn finish(
    engine: Engine,
    source: &Source,
    post: &Planned,
    cover: Option<&(String, usize)>,
    links: &Links,
    dir: &Path,
    plan: &mut Plan,
) -> String {
    let file = source.shown.as_str();
    let raw = frontmatter::read(file, &source.text).expect("read once already");
    let mut out = String::new();
    let mut fence: Option<String> = None;
    let mut at_top = true;
    for (i, line) in raw.body.split_inclusive('\n').enumerate() {
        let here = raw.body_line + i;
        let trimmed = line.trim();
        // Inside a fenced code block everything stays as written.
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str())
                && trimmed.trim_start_matches(['`', '~']).trim().is_empty()
            {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(
                trimmed
                    .chars()
                    .take_while(|c| matches!(c, '`' | '~'))
                    .collect(),
            );
            out.push_str(line);
            continue;
        }
        if engine == Engine::Astro
            && at_top
            && (trimmed.starts_with("import ") || trimmed.starts_with("export "))
        {
            plan.notes.push(Diagnostic::warning(
                file,
                here,
                format!(
                    "the MDX line `{}` is not imported: this blog's posts are Markdown",
                    first_words(trimmed)
                ),
            ));
            out.push('\n');
            continue;
        }
        if !trimmed.is_empty() {
            at_top = false;
        }
        let rewritten = match engine {
            Engine::Jekyll => liquid_line(line, links, file, here, &mut plan.notes),
            Engine::Hugo => shortcode_line(line, links, file, here, &mut plan.notes),
            Engine::Zola => zola_line(line, links, file, here, &mut plan.notes),
            Engine::Astro => {
                jsx_line(line, file, here, &mut plan.notes);
                line.to_string()
            }
        };
        out.push_str(&rewritten);
    }
    // Images and links, now that the body is Markdown.
    let mut copies = BTreeMap::new();
    let body = relink(
        engine,
        source,
        raw.body_line,
        &out,
        links,
        dir,
        &post.slug,
        &mut copies,
        plan,
    );
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let mut front = String::new();
    if !post.aliases.is_empty() {
        let aliases: Vec<String> = post.aliases.iter().map(|a| quote(a)).collect();
        front.push_str(&format!("aliases = [{}]\n", aliases.join(", ")));
    }
    if let Some((cover, line)) = cover {
        match locate(engine, source, dir, cover) {
            // The post is `content/<slug>.md`: its files' paths from there are `<slug>/...`.
            Some(found) => {
                let to = copy_name(&post.slug, &found, &mut copies);
                front.push_str(&format!("cover = {}\n", quote(&to)));
            }
            None => plan.notes.push(Diagnostic::warning(
                file,
                *line,
                format!("the cover {cover} is not in the site's folder: it is not imported"),
            )),
        }
    }
    plan.copies
        .extend(copies.into_iter().map(|(to, from)| Copy { from, to }));
    let body = body.trim_start_matches('\n');
    format!("{}{front}+++\n\n{body}", post.text)
}

/// The first words of a line, for a message.
fn first_words(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().take(3).collect();
    let mut out = words.join(" ");
    if line.split_whitespace().count() > 3 {
        out.push_str(" …");
    }
    out
}

/// Finds a file a post points at: beside the post (a bundle's or a colocated image, Astro's
/// `../../assets/`), or at `/` in the site's static folder.
fn locate(engine: Engine, source: &Source, dir: &Path, url: &str) -> Option<PathBuf> {
    let url = url.trim();
    if crate::assets::is_external(url) && !url.starts_with('/') {
        return None;
    }
    let path = crate::assets::path_part(url);
    let decoded = blog_core::routes::percent_decode(path).unwrap_or_else(|| path.to_string());
    let candidates: Vec<PathBuf> = if let Some(rooted) = decoded.strip_prefix('/') {
        let mut c = vec![dir.join(engine.static_dir()).join(rooted)];
        if engine == Engine::Hugo {
            // Hugo serves `assets/` through its pipes; a post may name a file there too.
            c.push(dir.join("assets").join(rooted));
        }
        c
    } else {
        let base = source.path.parent().unwrap_or(dir).to_path_buf();
        let mut c = vec![base.join(&decoded)];
        if engine == Engine::Astro {
            // `~/assets/a.png` and `@assets/a.png` name `src/assets/`.
            if let Some(rest) = decoded
                .strip_prefix("~/")
                .or_else(|| decoded.strip_prefix("@/"))
            {
                c.push(dir.join("src").join(rest));
            }
        }
        c
    };
    candidates.into_iter().find(|c| {
        c.is_file()
            && c.canonicalize()
                .ok()
                .zip(dir.canonicalize().ok())
                .is_some_and(|(c, d)| c.starts_with(d))
    })
}

/// The path inside `content/` a file is copied to: beside the post, in a folder named by its
/// slug, under the file's own name (numbered when another file took it).
fn copy_name(slug: &str, from: &Path, copies: &mut BTreeMap<String, PathBuf>) -> String {
    if let Some((to, _)) = copies.iter().find(|(_, f)| f.as_path() == from) {
        return to.clone();
    }
    let name = from
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.clone(), String::new()),
    };
    let mut to = format!("{slug}/{name}");
    let mut n = 2;
    while copies.contains_key(&to) {
        to = format!("{slug}/{stem}-{n}{ext}");
        n += 1;
    }
    copies.insert(to.clone(), from.to_path_buf());
    to
}

/// Rewrites the body's image and link targets: a local image is copied and named by its new
/// place; a link to another imported post's old URL goes to its new one.
#[allow(clippy::too_many_arguments)]
fn relink(
    engine: Engine,
    source: &Source,
    body_line: usize,
    body: &str,
    links: &Links,
    dir: &Path,
    slug: &str,
    copies: &mut BTreeMap<String, PathBuf>,
    plan: &mut Plan,
) -> String {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let line_of = |offset: usize| body_line + body[..offset].matches('\n').count();
    for (event, range) in Parser::new_ext(body, blog_core::markdown::options()).into_offset_iter() {
        let (url, is_image) = match &event {
            Event::Start(Tag::Image { dest_url, .. }) => (dest_url.to_string(), true),
            Event::Start(Tag::Link { dest_url, .. }) => (dest_url.to_string(), false),
            _ => continue,
        };
        // The URL as written inside the event's source text.
        let Some(at) = body[range.clone()].rfind(url.as_str()) else {
            continue;
        };
        let at = range.start + at;
        let written = at..at + url.len();
        let replacement = if is_image {
            if url.starts_with("http://") || url.starts_with("https://") || url.starts_with("data:")
            {
                continue;
            }
            match locate(engine, source, dir, &url) {
                Some(found) => copy_name(slug, &found, copies),
                None => {
                    plan.notes.push(Diagnostic::warning(
                        &source.shown,
                        line_of(range.start),
                        format!("the image {url} was not found in the site: it is left as written"),
                    ));
                    continue;
                }
            }
        } else if let Some(new) = links.url(&url) {
            new
        } else if url.starts_with('/') || crate::assets::is_external(&url) {
            continue;
        } else if let Some(found) = locate(engine, source, dir, &url) {
            // A link to a file beside the post (a PDF, a source file) travels with it; a
            // link to another post's Markdown goes to its address.
            if found
                .extension()
                .is_some_and(|e| e == "md" || e == "mdx" || e == "markdown")
            {
                match links.named(&url) {
                    Some(new) => new,
                    None => continue,
                }
            } else {
                copy_name(slug, &found, copies)
            }
        } else {
            continue;
        };
        edits.push((written, replacement));
    }
    let mut out = body.to_string();
    for (range, replacement) in edits.into_iter().rev() {
        out.replace_range(range, &replacement);
    }
    out
}

/// Jekyll's Liquid on one line: `highlight` blocks become fences, `post_url` and `link` the
/// post's new address, `site.baseurl` nothing; any other tag is noted and kept.
fn liquid_line(
    line: &str,
    links: &Links,
    file: &str,
    at: usize,
    notes: &mut Vec<Diagnostic>,
) -> String {
    let trimmed = line.trim();
    if let Some(tag) = trimmed
        .strip_prefix("{%")
        .and_then(|t| t.strip_suffix("%}"))
    {
        let tag = tag.trim_matches('-').trim();
        let mut words = tag.split_whitespace();
        match words.next() {
            Some("highlight") => {
                let lang = words.next().unwrap_or("");
                return format!("```{lang}\n");
            }
            Some("endhighlight") => return "```\n".into(),
            // An empty line in its place keeps the lines below where they were.
            Some("raw" | "endraw") => return "\n".into(),
            _ => {}
        }
    }
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find(['{']) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let close = if from.starts_with("{%") {
            "%}"
        } else if from.starts_with("{{") {
            "}}"
        } else {
            out.push('{');
            rest = &from[1..];
            continue;
        };
        let Some(end) = from.find(close) else {
            out.push_str(from);
            rest = "";
            break;
        };
        let tag = &from[..end + 2];
        let inner = tag[2..tag.len() - 2].trim_matches('-').trim();
        let mut words = inner.split_whitespace();
        let replacement = match (close, words.next()) {
            ("%}", Some("post_url")) => words.next().and_then(|name| links.named(name)),
            ("%}", Some("link")) => words
                .next()
                .and_then(|name| links.named(name.trim_start_matches("_posts/"))),
            ("%}", Some("raw" | "endraw")) => Some(String::new()),
            ("}}", Some("site.baseurl" | "site.url")) => {
                // `{{ site.url }}{{ site.baseurl }}` before a path: the path alone.
                Some(String::new())
            }
            ("}}", Some(first))
                if inner.contains("relative_url") || inner.contains("absolute_url") =>
            {
                let path = first.trim_matches(['"', '\'']);
                Some(path.to_string())
            }
            _ => None,
        };
        match replacement {
            Some(r) => out.push_str(&r),
            None => {
                notes.push(Diagnostic::warning(
                    file,
                    at,
                    format!(
                        "the Liquid {} `{}` is not imported: it is left as written",
                        if close == "%}" { "tag" } else { "output" },
                        tag
                    ),
                ));
                out.push_str(tag);
            }
        }
        rest = &from[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Hugo's shortcodes on one line: `highlight` becomes a fence, `ref`/`relref` the post's new
/// address, `figure` a Markdown image; any other is noted and kept.
fn shortcode_line(
    line: &str,
    links: &Links,
    file: &str,
    at: usize,
    notes: &mut Vec<Diagnostic>,
) -> String {
    let mut out = String::new();
    let mut rest = line;
    loop {
        let open = [("{{<", ">}}"), ("{{%", "%}}")]
            .into_iter()
            .filter_map(|(o, c)| rest.find(o).map(|i| (i, o, c)))
            .min_by_key(|(i, _, _)| *i);
        let Some((start, _, close)) = open else {
            break;
        };
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = from.find(close) else {
            out.push_str(from);
            rest = "";
            break;
        };
        let whole = &from[..end + close.len()];
        let inner = whole[3..whole.len() - 3].trim();
        // `{{</* x */>}}` is Hugo's way to write a shortcode as text: it stays, as text.
        if inner.starts_with("/*") {
            out.push_str(&whole.replace("/*", "").replace("*/", ""));
            rest = &from[end + close.len()..];
            continue;
        }
        let (name, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        let replacement = match name {
            "highlight" => {
                let lang = args
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_matches('"');
                Some(format!("```{lang}"))
            }
            "/highlight" => Some("```".into()),
            "ref" | "relref" => links.named(args),
            // A figure is an image; its caption, the image's title.
            "figure" => {
                let attrs = attributes(args);
                attrs.get("src").map(|src| {
                    let alt = attrs
                        .get("alt")
                        .or_else(|| attrs.get("caption"))
                        .or_else(|| attrs.get("title"))
                        .map_or(String::new(), |a| a.replace(['[', ']'], ""));
                    match attrs.get("caption").or_else(|| attrs.get("title")) {
                        Some(caption) => format!(
                            "![{alt}]({src} {})",
                            serde_json::to_string(caption).expect("a string")
                        ),
                        None => format!("![{alt}]({src})"),
                    }
                })
            }
            _ => None,
        };
        match replacement {
            Some(r) => out.push_str(&r),
            None => {
                notes.push(Diagnostic::warning(
                    file,
                    at,
                    format!("the Hugo shortcode `{whole}` is not imported: it is left as written"),
                ));
                out.push_str(whole);
            }
        }
        rest = &from[end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// `name="value"` pairs, as a shortcode's arguments.
fn attributes(args: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = args.trim();
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            Some(q @ ('"' | '\'' | '`')) => match after[1..].find(q) {
                Some(end) => (after[1..1 + end].to_string(), &after[end + 2..]),
                None => (after[1..].to_string(), ""),
            },
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (after[..end].to_string(), &after[end..])
            }
        };
        out.insert(name, value);
        rest = next.trim_start();
    }
    out
}

/// Zola on one line: `@/` links become the post's address; shortcodes are noted and kept.
fn zola_line(
    line: &str,
    links: &Links,
    file: &str,
    at: usize,
    notes: &mut Vec<Diagnostic>,
) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("(@/") {
        out.push_str(&rest[..start + 1]);
        let from = &rest[start + 1..];
        let end = from.find(')').unwrap_or(from.len());
        let target = &from[2..end];
        match links.named(target) {
            Some(new) => out.push_str(&new),
            None => {
                notes.push(Diagnostic::warning(
                    file,
                    at,
                    format!("the internal link @/{target} names no imported post: it is left as written"),
                ));
                out.push_str(&from[..end]);
            }
        }
        rest = &from[end..];
    }
    out.push_str(rest);
    let trimmed = out.trim();
    let shortcode = (trimmed.contains("{{") && trimmed.contains("(") && trimmed.contains("}}"))
        || (trimmed.starts_with("{%") && trimmed.ends_with("%}"));
    if shortcode {
        notes.push(Diagnostic::warning(
            file,
            at,
            format!(
                "the Zola shortcode `{}` is not imported: it is left as written",
                first_words(trimmed)
            ),
        ));
    }
    out
}

/// Astro's MDX components (`<Chart />`): noted, as this blog's Markdown has none.
fn jsx_line(line: &str, file: &str, at: usize, notes: &mut Vec<Diagnostic>) {
    let mut rest = line;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        if after.starts_with(|c: char| c.is_ascii_uppercase()) {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '.')
                .collect();
            notes.push(Diagnostic::warning(
                file,
                at,
                format!("the MDX component <{name}> is not imported: it is left as written"),
            ));
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(engine: Engine) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/import")
            .join(engine.name())
    }

    fn today() -> DateTime {
        DateTime::new(2026, 12, 3, (0, 0, 0), None).unwrap()
    }

    fn planned(engine: Engine) -> Plan {
        plan(engine, &fixture(engine), today()).unwrap()
    }

    fn post<'a>(plan: &'a Plan, slug: &str) -> &'a Planned {
        plan.posts
            .iter()
            .find(|p| p.slug == slug)
            .unwrap_or_else(|| panic!("no post {slug} in {:?}", plan.posts))
    }

    /// The notes about one source file, as `line: message`.
    fn notes(plan: &Plan, file_ends: &str) -> Vec<String> {
        plan.notes
            .iter()
            .filter(|n| n.file.ends_with(file_ends))
            .map(|n| format!("{}: {}", n.line, n.message))
            .collect()
    }

    /// A plan written into a folder of its own, loaded as `blog check` does; the folder goes
    /// when the test ends, passing or not.
    struct Written {
        dir: PathBuf,
        content: crate::source::Content,
    }

    impl Drop for Written {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Writes the plan into a new folder and asserts that `blog check` passes on it.
    fn written(plan: &Plan, name: &str) -> Written {
        let dir = std::env::temp_dir().join(format!("blog-import-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(plan, &dir).unwrap();
        let written = Written {
            content: crate::source::load_dir(&dir).unwrap(),
            dir,
        };
        let errors: Vec<String> = written.content.errors().map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        written
    }

    #[test]
    fn hugo_posts_keep_their_urls_and_bundles_their_images() {
        let plan = planned(Engine::Hugo);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(plan.posts.len(), 2);
        let skipped: Vec<&str> = plan.skipped.iter().map(|(f, _)| f.as_str()).collect();
        assert!(
            skipped.iter().any(|f| f.ends_with("content/about.md")),
            "{skipped:?}"
        );
        assert!(skipped.iter().any(|f| f.ends_with("posts/_index.md")));

        let cache = post(&plan, "cutting-go-build-times");
        // `[permalinks] posts = "/:year/:month/:slug/"`, and the post's own alias.
        assert_eq!(
            cache.aliases,
            ["/old/go-cache/", "/2023/01/cutting-go-build-times/"]
        );
        assert!(
            cache.text.contains("date = 2023-01-15T10:30:00-05:00\n"),
            "{}",
            cache.text
        );
        assert!(cache.text.contains("updated = 2023-02-01T09:00:00-05:00\n"));
        assert!(cache
            .text
            .contains("summary = \"GOCACHE on a volume took our CI from nine minutes to two.\"\n"));
        assert!(cache
            .text
            .contains("tags = [\"go\", \"ci\", \"Build Systems\"]\n"));
        assert!(
            cache.text.contains("```go\nfunc main() {"),
            "{}",
            cache.text
        );
        assert!(cache.text.contains("](cutting-go-build-times/gopher.png)"));
        assert!(cache
            .text
            .contains("[the profiling post](/posts/profiling-the-linker)"));
        assert!(!cache.text.contains("draft"));

        let linker = post(&plan, "profiling-the-linker");
        assert!(linker.text.contains("series = \"Faster builds\"\n"));
        assert!(linker
            .text
            .contains("cover = \"profiling-the-linker/cover.png\"\n"));
        assert!(linker.text.contains(
            "![Flame graph of the Go linker](profiling-the-linker/flame.png \"Half the time is in DWARF generation.\")"
        ));
        // A link to the other post's old URL goes to its new one.
        assert!(linker
            .text
            .contains("[the cache post](/posts/cutting-go-build-times)"));

        assert_eq!(
            notes(&plan, "cutting-go-build-times.md"),
            [
                "9: `author` is not imported: this blog has no such field",
                "25: the Hugo shortcode `{{< youtube dQw4w9WgXcQ >}}` is not imported: it is left as written",
            ]
        );
        let linker_notes = notes(&plan, "second-post/index.md");
        assert!(
            linker_notes[0].starts_with("14: no summary"),
            "{linker_notes:?}"
        );
        assert!(linker_notes[1].starts_with("19: the Hugo shortcode `{{% notice info %}}`"));

        let written = written(&plan, "hugo");
        assert!(written.dir.join("profiling-the-linker/flame.png").is_file());
        assert_eq!(written.content.files.len(), 3);
    }

    #[test]
    fn jekyll_posts_take_their_date_and_slug_from_the_file_name() {
        let plan = planned(Engine::Jekyll);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let caching = post(&plan, "docker-layer-caching");
        // `permalink: date`: /:categories/:year/:month/:day/:title.html.
        assert_eq!(
            caching.aliases,
            [
                "/2021/docker-caching/",
                "/devops/2021/03/04/docker-layer-caching.html"
            ]
        );
        assert!(caching.text.contains("date = 2021-03-04T14:20:00+01:00\n"));
        assert!(
            caching
                .text
                .contains("tags = [\"docker\", \"ci\", \"devops\"]\n"),
            "{}",
            caching.text
        );
        assert!(caching
            .text
            .contains("```dockerfile\nFROM golang:1.16 AS build\n"));
        assert!(caching.text.contains("\n```\n"));
        assert!(caching
            .text
            .contains("![The pipeline](docker-layer-caching/pipeline.png)"));
        assert!(caching
            .text
            .contains("[multi-stage builds](/posts/multi-stage-builds)"));
        assert!(!caching.text.contains("layout"));

        let stages = post(&plan, "multi-stage-builds");
        assert!(stages.text.contains("date = 2021-05-06\n"));
        assert_eq!(
            stages.aliases,
            ["/devops/docker/2021/05/06/multi-stage-builds.html"]
        );
        assert!(stages
            .text
            .contains("[layer caching post](/posts/docker-layer-caching)"));
        // No excerpt: the first paragraph, on one line.
        assert!(stages.text.contains("summary = \"A multi-stage build keeps the compiler out of the image you ship, and the image drops from hundreds of megabytes to tens.\"\n"));

        // `published: false` and `_drafts/` are drafts; a draft never had a URL.
        let unfinished = post(&plan, "unfinished-thoughts");
        assert!(unfinished.draft && unfinished.aliases.is_empty());
        let idea = post(&plan, "a-post-idea");
        assert!(idea.draft && idea.text.contains("date = 2026-12-03\n"));

        assert_eq!(
            notes(&plan, "2021-03-04-docker-layer-caching.md"),
            [
                "10: `comments` is not imported: this blog has no such field",
                "25: the Liquid tag `{% include note.html content=\"This applies to BuildKit too.\" %}` is not imported: it is left as written",
            ]
        );
        written(&plan, "jekyll");
    }

    #[test]
    fn zola_taxonomies_paths_and_internal_links_are_mapped() {
        let plan = planned(Engine::Zola);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let uring = post(&plan, "io-uring-in-practice");
        assert!(uring.text.contains("date = 2022-01-10\n"));
        assert!(uring
            .text
            .contains("tags = [\"linux\", \"io_uring\", \"Performance\"]\n"));
        assert_eq!(
            uring.aliases,
            ["/posts/io-uring/", "/blog/io-uring-in-practice/"]
        );
        assert!(uring.text.contains("[the follow-up](/posts/second#setup)"));
        assert!(uring.text.contains("](io-uring-in-practice/graph.png)"));
        let second = post(&plan, "second");
        // `path` is the post's URL in Zola.
        assert_eq!(second.aliases, ["/notes/liburing-setup/"]);
        assert!(second.text.contains("updated = 2022-03-01\n"));
        assert!(second.text.contains("](second/screenshot.png)"));
        let uring_notes = notes(&plan, "2022-01-10-io-uring-in-practice.md");
        assert!(
            uring_notes
                .iter()
                .any(|n| n.starts_with("9: the taxonomy `authors`")),
            "{uring_notes:?}"
        );
        assert!(uring_notes
            .iter()
            .any(|n| n.starts_with("11: `extra` is not imported")));
        assert!(uring_notes
            .iter()
            .any(|n| n.starts_with("21: the Zola shortcode `{{ youtube(id=\"abc123\") }}`")));
        written(&plan, "zola");
    }

    #[test]
    fn astro_collections_dates_and_mdx_are_read() {
        let plan = planned(Engine::Astro);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let first = post(&plan, "first-post");
        assert!(first.text.contains("date = 2022-07-08\n"));
        assert_eq!(first.aliases, ["/blog/first-post/"]);
        assert!(first
            .text
            .contains("cover = \"first-post/blog-placeholder.png\"\n"));
        assert!(first.text.contains("](first-post/diagram.png)"));
        let mdx = post(&plan, "using-mdx");
        assert!(mdx.draft);
        assert!(mdx.text.contains("updated = 2022-09-01\n"));
        assert!(!mdx.text.contains("import Chart"));
        assert_eq!(
            notes(&plan, "using-mdx.mdx"),
            [
                "9: the MDX line `import Chart from …` is not imported: this blog's posts are Markdown",
                "10: the MDX line `export const data …` is not imported: this blog's posts are Markdown",
                "14: the MDX component <Chart> is not imported: it is left as written",
            ]
        );
        written(&plan, "astro");
    }

    #[test]
    fn an_import_that_would_overwrite_writes_nothing() {
        let plan = planned(Engine::Zola);
        let dir = std::env::temp_dir().join(format!("blog-import-again-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("second")).unwrap();
        // One file in the way: the plan names it, and a write that meets it takes back the rest.
        std::fs::write(dir.join("second/screenshot.png"), b"mine").unwrap();
        assert_eq!(conflicts(&plan, &dir), [dir.join("second/screenshot.png")]);
        assert!(write(&plan, &dir).unwrap_err().contains("screenshot.png"));
        let mut left: Vec<PathBuf> = Vec::new();
        walk(&dir, &mut left).unwrap();
        assert_eq!(left, [dir.join("second/screenshot.png")]);
        assert!(!dir.join("io-uring-in-practice").exists());
        assert_eq!(
            std::fs::read(dir.join("second/screenshot.png")).unwrap(),
            b"mine"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_folder_of_another_engine_is_refused_by_name() {
        let e = plan(Engine::Jekyll, &fixture(Engine::Hugo), today()).unwrap_err();
        assert!(
            e.contains("has no _posts folder: is it the root of a jekyll site?"),
            "{e}"
        );
    }

    #[test]
    fn permalink_patterns_expand_like_their_engines() {
        let date = DateTime::new(2021, 3, 4, (14, 20, 0), Some(60)).unwrap();
        let tokens = Tokens {
            slug: "hello",
            title: "hello",
            section: "posts",
            filename: "hello",
            date: &date,
            categories: &["Dev Ops".to_string()],
        };
        assert_eq!(
            expand("/:categories/:year/:month/:day/:title:output_ext", &tokens),
            "/dev-ops/2021/03/04/hello.html"
        );
        assert_eq!(
            expand("/:year/:y_day/:i_month/:i_day/:slug/", &tokens),
            "/2021/063/3/4/hello/"
        );
        assert_eq!(expand(":section/:filename", &tokens), "/posts/hello");
        let none = Tokens {
            categories: &[],
            ..tokens
        };
        assert_eq!(expand("/:categories/:title/", &none), "/hello/");
    }

    #[test]
    fn old_urls_become_site_paths() {
        assert_eq!(
            site_path("https://old.example/a/b/?x=1#y", ""),
            Some("/a/b/".into())
        );
        assert_eq!(
            site_path("old-name", "posts"),
            Some("/posts/old-name".into())
        );
        assert_eq!(site_path("/a b", ""), Some("/a%20b".into()));
        assert_eq!(site_path("mailto:x", ""), None);
        assert_eq!(site_path("https://old.example", ""), None);
    }

    #[test]
    fn dates_with_month_names_and_file_names_are_read() {
        let d = |y, m, day| Some(DateTime::new(y, m, day, (0, 0, 0), None).unwrap());
        assert_eq!(month_name_date("Jul 08 2022"), d(2022, 7, 8));
        assert_eq!(month_name_date("July 8, 2022"), d(2022, 7, 8));
        assert_eq!(month_name_date("8th September 2021"), d(2021, 9, 8));
        assert_eq!(month_name_date("Feb 30 2022"), None);
        assert_eq!(month_name_date("soon"), None);
        assert_eq!(
            split_dated_name("2020-01-15-my-post"),
            (d(2020, 1, 15), "my-post".into())
        );
        assert_eq!(
            split_dated_name("2020-01-15_my-post"),
            (d(2020, 1, 15), "my-post".into())
        );
        assert_eq!(
            split_dated_name("2020-13-15-x"),
            (None, "2020-13-15-x".into())
        );
        assert_eq!(split_dated_name("notes"), (None, "notes".into()));
    }

    #[test]
    fn summaries_are_cut_at_a_word() {
        let long = "word ".repeat(60);
        let summary = first_paragraph(&long).unwrap();
        assert!(
            summary.ends_with("word…") && summary.chars().count() <= 201,
            "{summary}"
        );
        assert_eq!(
            first_paragraph("# Title\n\nFirst *one*\nline.\n\nSecond.").unwrap(),
            "First one line."
        );
        assert_eq!(first_paragraph("{{< youtube x >}}\n\nText."), None);
    }

    #[test]
    fn shortcode_arguments_are_read_quoted_or_not() {
        let attrs = attributes(r#"src="a b.png" alt='An "x"' width=300"#);
        assert_eq!(attrs["src"], "a b.png");
        assert_eq!(attrs["alt"], "An \"x\"");
        assert_eq!(attrs["width"], "300");
    }

    #[test]
    fn liquid_left_unmapped_is_noted_once_per_tag() {
        let links = Links {
            by_url: HashMap::new(),
            by_name: HashMap::new(),
        };
        let mut notes = Vec::new();
        let out = liquid_line(
            "a {{ page.title }} b {% if x %}c\n",
            &links,
            "p.md",
            7,
            &mut notes,
        );
        assert_eq!(out, "a {{ page.title }} b {% if x %}c\n");
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].to_string(), "p.md:7: warning: the Liquid output `{{ page.title }}` is not imported: it is left as written");
        assert_eq!(
            liquid_line("{% raw %}\n", &links, "p.md", 1, &mut notes),
            "\n"
        );
        assert_eq!(
            liquid_line(
                "x {{ '/a.png' | relative_url }}\n",
                &links,
                "p.md",
                1,
                &mut notes
            ),
            "x /a.png\n"
        );
    }
}
