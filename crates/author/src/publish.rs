//! What a sync publishes from validated content: the records (highlighted) and their index,
//! the files they use, the bulk entries written to KV, the aliases renamed posts need, and
//! the report of what was done.

use crate::assets::FileInfo;
use crate::highlight::Highlighter;
use crate::limits;
use crate::source::{self, Content, SourcePost};
use crate::sync::{self, Change, Plan, Rename};
use blog_core::content::{
    Aliases, Neighbour, Neighbours, PostRecord, Series, SiteIndex, SiteRecord,
};
use blog_core::kv::{self, KeyMeta};
use blog_core::lists::ListRecord;
use blog_core::search_store;
use blog_core::settings::Settings;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

/// Which posts [`prepare`] highlights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Highlighting {
    /// Every post: what `sync` publishes.
    All,
    /// Only posts whose code could grow them past KV's value limit once highlighted (see
    /// [`limits::may_outgrow_kv`]): what `check` needs to know, without spending seconds on
    /// the rest.
    WhereLimitsNeedIt,
}

/// The records a sync would publish (drafts too with `drafts`), highlighted, and their
/// index. Whether KV accepts them is [`limits::check`]'s to say.
pub fn prepare(
    content: &Content,
    settings: Settings,
    drafts: bool,
    highlighting: Highlighting,
) -> (Vec<SourcePost>, SiteIndex) {
    let highlighter = Highlighter::shared();
    let strip_raw_html = !settings.raw_html;
    let mut posts: Vec<SourcePost> = content.publishable(drafts).into_iter().cloned().collect();
    let card_style = crate::card::style_hash(&settings);
    for post in &mut posts {
        // The edge gets the body as HTML, which follows from the Markdown, the highlighter
        // (both in the hash already) and the raw HTML setting.
        post.record.meta.hash =
            source::hash_of(&(&post.record.meta.hash, HTML_FORMAT, strip_raw_html));
        // And from the syntax the renderer has learnt since (callouts…), named only where
        // the body may use it: such a post, synced before, is rendered again; others keep
        // their hash.
        let syntax = blog_core::markdown::extended_syntax(&post.record.body);
        if syntax.contains(&"math") {
            // The MathML follows from the body and the math renderer, which the
            // highlighter's name covers too (see build.rs).
            post.record.meta.hash =
                source::hash_of(&(&post.record.meta.hash, &syntax, env!("BLOG_HIGHLIGHTER_ID")));
        } else if !syntax.is_empty() {
            post.record.meta.hash = source::hash_of(&(&post.record.meta.hash, &syntax));
        }
        if syntax.contains(&"diagrams") {
            // The diagrams' SVG follows from the body and what draws it (see build.rs).
            post.record.meta.hash =
                source::hash_of(&(&post.record.meta.hash, env!("BLOG_DIAGRAMS_ID")));
        }
        // A post without a cover is shared with its card (see [`crate::card`]), which shows
        // its title and reading time (in the hash already), its date and what every card of
        // the site shares: a new site title, colour or drawing rewrites the post and its card.
        if post.record.cover.is_none() {
            post.record.meta.hash = with_card(&post.record.meta, &card_style);
        }
        if highlighting == Highlighting::All || limits::may_outgrow_kv(post) {
            post.highlight(|lang, code| highlighter.highlight(lang, code));
            post.record.render(strip_raw_html);
        }
    }
    let refs: Vec<&SourcePost> = posts.iter().collect();
    let index = source::build_index(&refs, settings);
    let mut neighbours: BTreeMap<&str, Neighbours> = index
        .posts
        .iter()
        .map(|p| p.slug.as_str())
        .zip(Neighbours::of_list(&index.posts))
        .collect();
    for post in &mut posts {
        post.record.neighbours = neighbours
            .remove(post.record.meta.slug.as_str())
            .unwrap_or_default();
    }
    // Each series' parts in reading order, on every part.
    let mut series: BTreeMap<String, Vec<&blog_core::content::PostMeta>> = BTreeMap::new();
    for meta in &index.posts {
        if let Some(name) = &meta.series {
            series
                .entry(blog_core::content::series_slug(name))
                .or_default()
                .push(meta);
        }
    }
    let series: BTreeMap<String, Series> = series
        .into_iter()
        .map(|(slug, mut parts)| {
            blog_core::content::series_order(&mut parts);
            let name = parts[0].series.clone().unwrap_or_default();
            let parts = parts.into_iter().map(Neighbour::of).collect();
            (slug.clone(), Series { name, slug, parts })
        })
        .collect();
    for post in &mut posts {
        post.record.series = post
            .record
            .meta
            .series
            .as_ref()
            .and_then(|name| series.get(&blog_core::content::series_slug(name)))
            .cloned();
    }
    (posts, index)
}

/// What a sync keeps on the author's machine for the next one, each only a speed-up: every
/// post's weighed words, and the related posts last chosen.
#[derive(Default, Debug)]
pub struct Kept {
    pub terms: crate::search::TermCache,
    pub related: crate::related::Chosen,
}

/// Chooses each post's related posts (see [`crate::related`]): never one its page already
/// links as a neighbour, nor one not out at `now` (the sync's clock) unless it is out
/// before the post itself. Each post's words are search's, from `kept.terms` where it
/// holds them ([`crate::search::TermCache::weigh`]); when `kept.related` holds a choice made
/// from the same inputs (every post's content hash, slug and instant, whether it is out at `now`,
/// the posts its page links, and the ranking), that choice is taken and none is made.
pub fn relate(posts: &mut [SourcePost], now: blog_core::date::Timestamp, kept: &mut Kept) {
    let Kept {
        terms: cache,
        related: kept,
    } = kept;
    cache.weigh(&posts.iter().collect::<Vec<_>>());
    let metas: Vec<&blog_core::content::PostMeta> = posts.iter().map(|p| &p.record.meta).collect();
    // What a post's page already links: its neighbours, and its series' parts.
    let links: Vec<Vec<&str>> = posts
        .iter()
        .map(|p| {
            let n = &p.record.neighbours;
            [&n.older, &n.newer]
                .into_iter()
                .flatten()
                .chain(p.record.series.iter().flat_map(|s| &s.parts))
                .map(|n| n.slug.as_str())
                .collect()
        })
        .collect();
    let inputs = source::hash_of(&(
        crate::related::RANKING,
        blog_core::search::WEIGH_VERSION,
        metas
            .iter()
            .zip(&links)
            .map(|(m, links)| (&m.hash, &m.slug, m.published, m.published <= now, links))
            .collect::<Vec<_>>(),
    ));
    let chosen = match kept.get(&inputs, posts.len()) {
        Some(chosen) => chosen.to_vec(),
        None => {
            let terms: Vec<crate::related::Terms> = posts
                .iter()
                .map(|p| crate::related::Terms {
                    words: &cache.get(p).0,
                    tags: &p.record.meta.tags,
                })
                .collect();
            let chosen = crate::related::related(&terms, |a, b| {
                !links[a].contains(&metas[b].slug.as_str())
                    && metas[b].published <= now.max(metas[a].published)
            });
            kept.put(inputs, chosen.clone());
            chosen
        }
    };
    let related: Vec<Vec<Neighbour>> = chosen
        .iter()
        .map(|found| found.iter().map(|&b| Neighbour::of(metas[b])).collect())
        .collect();
    for (post, related) in posts.iter_mut().zip(related) {
        post.record.related = related;
    }
}

/// Highlights the code of the posts a plan writes and renders their bodies, on every core
/// the machine has. Only these need it: a post's hash names the highlighter and the raw HTML
/// setting rather than the HTML, so the plan was made without rendering anything.
pub fn render_planned(plan: &mut Plan, strip_raw_html: bool) {
    render_all(&mut plan.put_posts, strip_raw_html, |(_, record)| record);
}

/// Highlights and renders the record each item holds, on every core the machine has.
fn render_all<T: Send>(
    items: &mut [T],
    strip_raw_html: bool,
    record: fn(&mut T) -> &mut PostRecord,
) {
    let highlighter = Highlighter::shared();
    crate::cores::each(items, 1, |item| {
        let record = record(item);
        source::highlight_record(record, |lang, code| highlighter.highlight(lang, code));
        record.render(strip_raw_html);
    });
}

/// Puts each listed post's body HTML into the feed records the plan writes, so a feed is
/// built from its own record ([`blog_core::lists::ListRecord::html`]). The posts the plan
/// writes are rendered already; a feed's other posts are rendered here, once each. A feed
/// record that would be too large for KV with its HTML goes without it: the edge then reads
/// its posts' records, as it does for records written before feeds carried HTML.
pub fn feed_html(plan: &mut Plan, posts: &[SourcePost], strip_raw_html: bool) {
    let mut feeds: Vec<(&mut String, ListRecord)> = plan
        .put_records
        .iter_mut()
        .chain(plan.new_records.iter_mut())
        .filter(|(key, _, _)| blog_core::lists::is_feed_key(key))
        .filter_map(|(_, json, _)| {
            let record = serde_json::from_str(json).ok()?;
            Some((json, record))
        })
        .collect();
    if feeds.is_empty() {
        return;
    }
    let mut html: BTreeMap<&str, &str> = plan
        .put_posts
        .iter()
        .map(|(_, r)| (r.meta.slug.as_str(), r.html.as_str()))
        .collect();
    let mut missing: Vec<PostRecord> = {
        let wanted: BTreeSet<&str> = feeds
            .iter()
            .flat_map(|(_, record)| record.slugs())
            .filter(|slug| !html.contains_key(slug))
            .collect();
        posts
            .iter()
            .filter(|p| wanted.contains(p.record.meta.slug.as_str()))
            .map(|p| p.record.clone())
            .collect()
    };
    render_all(&mut missing, strip_raw_html, |record| record);
    html.extend(
        missing
            .iter()
            .map(|r| (r.meta.slug.as_str(), r.html.as_str())),
    );
    for (json, mut record) in feeds.drain(..) {
        record.html = record
            .slugs()
            .filter_map(|slug| Some((slug.to_string(), html.get(slug)?.to_string())))
            .collect();
        let with_html = serde_json::to_string(&record).expect("records serialise");
        if with_html.len() <= kv::MAX_VALUE_BYTES {
            *json = with_html;
        }
    }
}

/// A post's hash joined by what its card shows beyond the post's own text: the date and
/// what every card of the site shares ([`crate::card::style_hash`]).
fn with_card(meta: &blog_core::content::PostMeta, card_style: &str) -> String {
    source::hash_of(&(
        &meta.hash,
        "card",
        card_style,
        meta.published,
        meta.utc_offset,
    ))
}

/// Names, in a post's hash, the form its record reaches the edge in: HTML rendered by sync,
/// stored after the record's JSON ([`blog_core::content::PostRecord::to_stored`]). A new
/// form rewrites every post once.
const HTML_FORMAT: &str = "html after json";

/// The name a post's file is remembered by at the edge: its path within the content folder.
pub fn file_key(content_dir: &Path, file: &str) -> String {
    let path = Path::new(file);
    path.strip_prefix(content_dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The files the published `posts` use, by key, with their path inside the content folder:
/// only these go to the edge; the rest stays on the author's disk.
pub fn used_files<'a>(
    posts: &'a [SourcePost],
    content: &'a Content,
) -> BTreeMap<String, (&'a str, &'a FileInfo)> {
    posts
        .iter()
        .flat_map(|p| &p.files)
        .filter_map(|path| {
            content
                .files
                .get(path)
                .map(|info| (info.key(), (path.as_str(), info)))
        })
        .collect()
}

/// One entry of `wrangler kv bulk put`: the value as JSON text, with the metadata a later
/// sync compares (`hash`) and, for a post, the file it came from.
pub fn entry<T: serde::Serialize>(
    key: &str,
    value: &T,
    hash: &str,
    file: Option<String>,
) -> serde_json::Value {
    let text = serde_json::to_string(value).expect("records serialise");
    text_entry(key, &text, hash, file)
}

/// An entry whose value is already the text KV stores.
fn text_entry(key: &str, text: &str, hash: &str, file: Option<String>) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "value": text,
        "metadata": KeyMeta { hash: hash.to_string(), file, content_type: None, card: None },
    })
}

/// The entries of the posts `plan` writes, in its order; each remembers its file, so the
/// next sync can tell a renamed slug from a new post.
pub fn post_entries(
    plan: &Plan,
    posts: &[SourcePost],
    content_dir: &Path,
) -> Vec<serde_json::Value> {
    let files: BTreeMap<&str, String> = posts
        .iter()
        .map(|p| (p.record.meta.slug.as_str(), file_key(content_dir, &p.file)))
        .collect();
    plan.put_posts
        .iter()
        .map(|(_, r)| {
            let mut entry = text_entry(
                &kv::post_key(&r.meta.slug),
                &r.to_stored(),
                &source::stored_hash(r),
                files.get(r.meta.slug.as_str()).cloned(),
            );
            // The card it uses, so a later sync that leaves the post alone keeps the card.
            if let Some(card) = r.card.as_ref().and_then(crate::card::key_of) {
                entry["metadata"]["card"] = serde_json::Value::String(card);
            }
            entry
        })
        .collect()
}

/// The entries of rendered cards for a bulk put, their bytes as base64 (the local session
/// stores them as they are; `wrangler kv bulk put` would not, see `Kv::put_bytes`).
pub fn card_entries(rendered: &[(String, Vec<u8>)]) -> Vec<serde_json::Value> {
    rendered
        .iter()
        .map(|(key, png)| {
            serde_json::json!({
                "key": key,
                "value": base64(png),
                "base64": true,
                "metadata": crate::card::key_meta(key),
            })
        })
        .collect()
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The records list pages are built from, the tags page's and the aliases, by key: their
/// JSON and its hash.
pub fn list_records(
    index: &SiteIndex,
    now: blog_core::date::Timestamp,
) -> BTreeMap<String, (String, String)> {
    let (lists, tags) = blog_core::lists::records(index, now);
    let mut out: BTreeMap<String, (String, String)> = lists
        .into_iter()
        .map(|(key, record)| {
            let (text, hash) = json(&record);
            // A feed's record carries its posts' HTML, added when it is written: its hash says
            // so, which rewrites once a feed record written before it did.
            let hash = match blog_core::lists::is_feed_key(&key) {
                true => source::hash_of(&(hash, FEED_HTML)),
                false => hash,
            };
            (key, (text, hash))
        })
        .collect();
    out.insert(kv::TAGS_KEY.into(), json(&tags));
    out.insert(kv::ALIASES_KEY.into(), json(&Aliases::of(index)));
    out
}

/// Names, in a feed record's hash, that it carries its posts' HTML.
const FEED_HTML: &str = "feed html";

/// A record's JSON and its hash.
fn json<T: serde::Serialize>(record: &T) -> (String, String) {
    let text = serde_json::to_string(record).expect("records serialise");
    (text, source::hash_of(record))
}

/// The entries of the list, tags and aliases records the plan writes.
pub fn record_entries(records: &[(String, String, String)]) -> Vec<serde_json::Value> {
    records
        .iter()
        .map(|(key, json, hash)| text_entry(key, json, hash, None))
        .collect()
}

/// The site record's entry, under its hash.
pub fn site_entry(site: &SiteRecord, hash: &str) -> serde_json::Value {
    entry(kv::SITE_KEY, site, hash, None)
}

/// The version key's entry: the index's version as plain text, written after the index so
/// an isolate that sees the new version finds the index that carries it.
pub fn version_entry(index: &SiteIndex) -> serde_json::Value {
    serde_json::json!({
        "key": kv::VERSION_KEY,
        "value": index.version,
        "metadata": KeyMeta { hash: index.version.clone(), file: None, content_type: None, card: None },
    })
}

/// The keys `plan` deletes: removed posts, then the files and image variants no published
/// post uses.
pub fn deletions(plan: &Plan) -> Vec<String> {
    plan.delete_keys
        .iter()
        .chain(&plan.delete_files)
        .chain(&plan.delete_variants)
        .cloned()
        .collect()
}

/// The posts whose slug changed since the last sync (`remote` is every key the edge holds,
/// with its metadata): same file, new slug.
pub fn renames(
    content: &Content,
    content_dir: &Path,
    remote: &BTreeMap<String, Option<KeyMeta>>,
) -> Vec<Rename> {
    let local: Vec<(String, String)> = content
        .posts
        .iter()
        .map(|p| (file_key(content_dir, &p.file), p.record.meta.slug.clone()))
        .collect();
    sync::renames(&local, remote)
}

/// An alias a renamed post still needs in its own file, so its old address keeps working
/// and its reads keep counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasEdit {
    pub rename: Rename,
    /// The post's file.
    pub path: PathBuf,
    /// Its old address, `/posts/<old slug>`.
    pub alias: String,
}

/// The aliases `renames` call for, leaving out those the posts already carry.
pub fn alias_edits(renames: &[Rename], content: &Content, content_dir: &Path) -> Vec<AliasEdit> {
    renames
        .iter()
        .filter_map(|rename| {
            let alias = format!("/posts/{}", rename.old_slug);
            let post = content
                .posts
                .iter()
                .find(|p| file_key(content_dir, &p.file) == rename.file);
            if post.is_some_and(|p| p.record.meta.aliases.contains(&alias)) {
                return None;
            }
            Some(AliasEdit {
                rename: rename.clone(),
                path: content_dir.join(&rename.file),
                alias,
            })
        })
        .collect()
}

impl AliasEdit {
    /// Writes the alias into the post's front matter, keeping the rest of the file as it is.
    pub fn apply(&self) -> Result<(), String> {
        let path = &self.path;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let updated = source::add_alias(&text, &self.alias).ok_or_else(|| {
            format!(
                "{}: cannot add the alias {}: add it to the front matter by hand",
                path.display(),
                self.alias
            )
        })?;
        std::fs::write(path, updated).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// The line a sync prints once the alias is written.
impl fmt::Display for AliasEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  renamed   {} -> {} (added alias {} to {})",
            self.rename.old_slug,
            self.rename.new_slug,
            self.alias,
            self.path.display()
        )
    }
}

/// What a sync did (or, with `dry_run`, would do): a line per file and post written or
/// removed, a table of counts, and the same counts in a sentence. `files` are the
/// [`used_files`].
pub fn report(
    plan: &Plan,
    renamed: &[Rename],
    files: &BTreeMap<String, (&str, &FileInfo)>,
    dry_run: bool,
) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, plan, renamed, files, dry_run);
    out
}

fn write_report(
    out: &mut String,
    plan: &Plan,
    renamed: &[Rename],
    files: &BTreeMap<String, (&str, &FileInfo)>,
    dry_run: bool,
) -> fmt::Result {
    let verb = if dry_run { "would be " } else { "" };
    for key in &plan.put_files {
        let (path, info) = files[key];
        writeln!(out, "  file {verb}added   {path} -> {}", info.url())?;
    }
    for (change, record) in &plan.put_posts {
        let what = if *change == Change::Added {
            "added"
        } else {
            "updated"
        };
        writeln!(out, "  {verb}{what:<9} {}", record.meta.slug)?;
    }
    let is_search = |key: &String| key.starts_with(search_store::PREFIX);
    let removed: Vec<&String> = plan.delete_keys.iter().filter(|k| !is_search(k)).collect();
    for key in &removed {
        writeln!(
            out,
            "  {verb}removed   {}",
            key.trim_start_matches(kv::POST_PREFIX)
        )?;
    }
    for key in &plan.delete_files {
        writeln!(
            out,
            "  file {verb}removed {}{}",
            kv::FILE_URL_PREFIX,
            key.trim_start_matches(kv::FILE_PREFIX)
        )?;
    }
    let index = if plan.put_index.is_some()
        || plan.put_site.is_some()
        || !plan.put_records.is_empty()
        || !plan.new_records.is_empty()
    {
        format!("{verb}written")
    } else {
        "unchanged".into()
    };
    writeln!(out)?;
    writeln!(
        out,
        "  {:>7} {:>8} {:>8} {:>8} {:>10}  index",
        "added", "updated", "removed", "renamed", "unchanged"
    )?;
    writeln!(
        out,
        "  {:>7} {:>8} {:>8} {:>8} {:>10}  {index}",
        plan.count(Change::Added),
        plan.count(Change::Updated),
        removed.len(),
        renamed.len(),
        plan.unchanged.len(),
    )?;
    writeln!(
        out,
        "{} added, {} updated, {} removed, {} unchanged; index {index}",
        plan.count(Change::Added),
        plan.count(Change::Updated),
        removed.len(),
        plan.unchanged.len(),
    )?;
    writeln!(
        out,
        "{} files added, {} removed, {} unchanged",
        plan.put_files.len(),
        plan.delete_files.len(),
        plan.unchanged_files
    )?;
    let search_written = plan
        .put_records
        .iter()
        .chain(&plan.new_records)
        .filter(|(k, _, _)| is_search(k))
        .count();
    let search_removed = plan.delete_keys.len() - removed.len();
    if search_written + search_removed > 0 {
        writeln!(
            out,
            "search index: {search_written} pieces {verb}written, {search_removed} {verb}removed"
        )?;
    }
    if plan.is_empty() {
        writeln!(out, "Nothing to write.")?;
    }
    Ok(())
}

/// The last word of a refused `check` or `sync`.
pub fn nothing_written(errors: usize) -> String {
    format!(
        "{errors} error{}: nothing was written",
        if errors == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn post_text(title: &str, extra: &str) -> String {
        format!(
            "+++\ntitle = \"{title}\"\ndate = 2026-06-14\nsummary = \"S.\"\n{extra}+++\n\nBody.\n"
        )
    }

    /// Content parsed from `(file, text)` pairs, files inside `content/`.
    fn content(files: &[(&str, String)]) -> Content {
        source::check_all(files.iter().map(|(name, text)| {
            let stem = name.trim_start_matches("content/").trim_end_matches(".md");
            (*name, stem, text.as_bytes())
        }))
    }

    fn stored(file: &str) -> Option<KeyMeta> {
        Some(KeyMeta {
            hash: "old".into(),
            file: Some(file.into()),
            content_type: None,
            card: None,
        })
    }

    #[test]
    fn a_post_file_is_remembered_by_its_path_inside_the_content_folder() {
        assert_eq!(file_key(Path::new("content"), "content/a.md"), "a.md");
        assert_eq!(
            file_key(Path::new("/site/posts"), "/site/posts/a.md"),
            "a.md"
        );
        assert_eq!(
            file_key(Path::new("elsewhere"), "content/a.md"),
            "content/a.md"
        );
    }

    #[test]
    fn a_post_entry_carries_its_record_as_json_text_and_its_hash_and_file_as_metadata() {
        let content = content(&[("content/a.md", post_text("A", ""))]);
        let posts = content.posts.clone();
        let mut plan = sync::plan(
            &[posts[0].record.clone()],
            &BTreeSet::new(),
            source::build_index(&[&posts[0]], Settings::default()),
            SiteRecord::default(),
            &BTreeMap::new(),
            "n",
        );
        render_planned(&mut plan, false);
        let entries = post_entries(&plan, &posts, Path::new("content"));
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(entry["key"], "post/a");
        assert_eq!(
            entry["metadata"],
            serde_json::json!({ "hash": posts[0].record.meta.hash, "file": "a.md" })
        );
        let value = blog_core::content::PostRecord::from_stored(
            entry["value"].as_str().unwrap().as_bytes(),
        )
        .unwrap();
        // What the edge reads: the record with its body as HTML, and no Markdown.
        assert_eq!(value.meta, posts[0].record.meta);
        assert_eq!(value.html, "<p>Body.</p>\n");
        assert!(value.body.is_empty() && !posts[0].record.body.is_empty());
    }

    #[test]
    fn a_feed_record_written_carries_the_html_of_each_of_its_posts_written_or_not() {
        let content = content(&[
            ("content/a.md", post_text("A", "")),
            (
                "content/b.md",
                post_text("B", "")
                    .replace("2026-06-14", "2026-06-15")
                    .replace("Body.", "`b`"),
            ),
        ]);
        let posts = content.posts.clone();
        let a = posts.iter().find(|p| p.record.meta.slug == "a").unwrap();
        // KV has `a` as it is: the plan writes `b` only, and the feeds that list both.
        let remote: BTreeMap<String, Option<KeyMeta>> = [(
            "post/a".to_string(),
            Some(KeyMeta {
                hash: source::stored_hash(&a.record),
                file: Some("a.md".into()),
                content_type: None,
                card: None,
            }),
        )]
        .into_iter()
        .collect();
        let refs: Vec<&SourcePost> = posts.iter().collect();
        let index = source::build_index(&refs, Settings::default());
        let records: Vec<_> = posts.iter().map(|p| p.record.clone()).collect();
        let lists = list_records(&index, 0);
        let mut plan = sync::plan(
            &records,
            &BTreeSet::new(),
            index,
            SiteRecord::default(),
            &remote,
            "n",
        );
        sync::plan_records(&mut plan, lists, &remote);
        assert_eq!(plan.put_posts.len(), 1);
        render_planned(&mut plan, false);
        feed_html(&mut plan, &posts, false);
        let feeds: Vec<ListRecord> = plan
            .put_records
            .iter()
            .chain(&plan.new_records)
            .filter(|(key, _, _)| blog_core::lists::is_feed_key(key))
            .map(|(_, json, _)| serde_json::from_str(json).unwrap())
            .collect();
        assert!(!feeds.is_empty());
        for feed in &feeds {
            assert_eq!(feed.html["a"], "<p>Body.</p>\n", "rendered for the feed");
            assert!(feed.html["b"].contains("<code>b</code>"), "{:?}", feed.html);
        }
        let front = plan
            .put_records
            .iter()
            .chain(&plan.new_records)
            .find(|(key, _, _)| key == "list/front")
            .unwrap();
        assert!(!front.1.contains("\"html\""), "{}", front.1);
    }

    #[test]
    fn the_version_entry_holds_the_index_version_as_plain_text() {
        let index = source::build_index(&[], Settings::default());
        let version = version_entry(&index);
        assert_eq!(
            version,
            serde_json::json!({
                "key": kv::VERSION_KEY,
                "value": index.version,
                "metadata": { "hash": index.version },
            })
        );
    }

    #[test]
    fn removed_posts_are_deleted_before_the_files_they_used() {
        let plan = Plan {
            delete_keys: vec!["post/gone".into()],
            delete_files: vec!["file/ab.png".into()],
            ..Plan::default()
        };
        assert_eq!(deletions(&plan), ["post/gone", "file/ab.png"]);
    }

    #[test]
    fn a_renamed_post_needs_its_old_address_as_an_alias_in_its_file() {
        let content = content(&[("content/a.md", post_text("A", "slug = \"new\"\n"))]);
        let remote = BTreeMap::from([("post/old".to_string(), stored("a.md"))]);
        let renames = renames(&content, Path::new("content"), &remote);
        assert_eq!(
            renames,
            [Rename {
                file: "a.md".into(),
                old_slug: "old".into(),
                new_slug: "new".into()
            }]
        );
        let edits = alias_edits(&renames, &content, Path::new("content"));
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].path, Path::new("content/a.md"));
        assert_eq!(edits[0].alias, "/posts/old");
        assert_eq!(
            edits[0].to_string(),
            "  renamed   old -> new (added alias /posts/old to content/a.md)"
        );
    }

    #[test]
    fn a_renamed_post_that_already_has_the_alias_needs_no_edit() {
        let extra = "slug = \"new\"\naliases = [\"/posts/old\"]\n";
        let content = content(&[("content/a.md", post_text("A", extra))]);
        let remote = BTreeMap::from([("post/old".to_string(), stored("a.md"))]);
        let renames = renames(&content, Path::new("content"), &remote);
        assert_eq!(renames.len(), 1);
        assert_eq!(alias_edits(&renames, &content, Path::new("content")), []);
    }

    #[test]
    fn applying_an_alias_edit_writes_the_alias_into_the_front_matter_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("blog-publish-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.md");
        let text = post_text("A", "slug = \"new\"\n");
        std::fs::write(&path, &text).unwrap();
        let edit = AliasEdit {
            rename: Rename {
                file: "a.md".into(),
                old_slug: "old".into(),
                new_slug: "new".into(),
            },
            path: path.clone(),
            alias: "/posts/old".into(),
        };
        edit.apply().unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(written, source::add_alias(&text, "/posts/old").unwrap());
        assert!(
            written.contains("aliases = [\"/posts/old\"]\n+++\n"),
            "{written}"
        );
    }

    #[test]
    fn an_alias_edit_on_a_missing_file_is_an_error_naming_it() {
        let edit = AliasEdit {
            rename: Rename {
                file: "gone.md".into(),
                old_slug: "old".into(),
                new_slug: "new".into(),
            },
            path: PathBuf::from("/nonexistent/gone.md"),
            alias: "/posts/old".into(),
        };
        let e = edit.apply().unwrap_err();
        assert!(e.starts_with("cannot read /nonexistent/gone.md: "), "{e}");
    }

    fn plan_of_everything() -> (Plan, Content) {
        let content = content(&[
            ("content/a.md", post_text("A", "")),
            ("content/b.md", post_text("B", "")),
        ]);
        let records: Vec<_> = content.posts.iter().map(|p| p.record.clone()).collect();
        let remote = BTreeMap::from([
            ("post/b".to_string(), stored("b.md")),
            ("post/gone".to_string(), stored("gone.md")),
            ("file/0123.png".to_string(), None),
        ]);
        let index = source::build_index(
            &content.posts.iter().collect::<Vec<_>>(),
            Settings::default(),
        );
        (
            sync::plan(
                &records,
                &BTreeSet::new(),
                index,
                SiteRecord::default(),
                &remote,
                "n",
            ),
            content,
        )
    }

    #[test]
    fn the_report_names_every_post_written_or_removed_then_counts_them() {
        let (plan, _) = plan_of_everything();
        let renamed = [Rename {
            file: "a.md".into(),
            old_slug: "old".into(),
            new_slug: "a".into(),
        }];
        assert_eq!(
            report(&plan, &renamed, &BTreeMap::new(), false),
            "  added     a\n  updated   b\n  removed   gone\n  file removed /files/0123.png\n\n    added  updated  removed  renamed  unchanged  index\n        1        1        1        1          0  written\n1 added, 1 updated, 1 removed, 0 unchanged; index written\n0 files added, 1 removed, 0 unchanged\n"
        );
    }

    #[test]
    fn a_dry_run_report_says_what_would_be_done() {
        let (plan, _) = plan_of_everything();
        let report = report(&plan, &[], &BTreeMap::new(), true);
        assert!(report.starts_with("  would be added     a\n  would be updated   b\n  would be removed   gone\n  file would be removed /files/0123.png\n"), "{report}");
        assert!(report.contains("index would be written\n"), "{report}");
    }

    #[test]
    fn a_report_of_no_change_says_there_is_nothing_to_write() {
        let report = report(&Plan::default(), &[], &BTreeMap::new(), false);
        assert!(
            report.ends_with(
                "index unchanged\n0 files added, 0 removed, 0 unchanged\nNothing to write.\n"
            ),
            "{report}"
        );
    }

    #[test]
    fn a_refusal_counts_its_errors_in_words() {
        assert_eq!(nothing_written(1), "1 error: nothing was written");
        assert_eq!(nothing_written(3), "3 errors: nothing was written");
    }

    #[test]
    fn drafts_are_prepared_only_when_asked_for_and_highlighted_for_sync() {
        let code = "```rust\nfn main() {}\n```";
        let content = content(&[
            ("content/a.md", post_text("A", "").replace("Body.", code)),
            ("content/d.md", post_text("D", "draft = true\n")),
        ]);
        let (posts, index) = prepare(&content, Settings::default(), false, Highlighting::All);
        assert_eq!(posts.len(), 1);
        assert_eq!(index.posts.len(), 1);
        assert!(
            !posts[0].record.code_html.is_empty(),
            "sync highlights every post"
        );
        let (posts, _) = prepare(
            &content,
            Settings::default(),
            true,
            Highlighting::WhereLimitsNeedIt,
        );
        assert_eq!(posts.len(), 2);
        assert!(
            posts[0].record.code_html.is_empty(),
            "check leaves small posts as they are"
        );
    }

    #[test]
    fn cards_go_to_kv_as_base64_bytes_with_their_type() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
            (&[0x89, 0xff, 0x00, 0xfe], "if8A/g=="),
        ] {
            assert_eq!(base64(bytes), text);
        }
        let entries = card_entries(&[("file/ab12.png".into(), vec![0x89, b'P', b'N'])]);
        assert_eq!(
            entries,
            [serde_json::json!({
                "key": "file/ab12.png",
                "value": "iVBO",
                "base64": true,
                "metadata": {"hash": "ab12", "type": "image/png"},
            })]
        );
    }

    #[test]
    fn the_report_counts_search_pieces_apart_from_posts() {
        let plan = Plan {
            delete_keys: vec!["post/gone".into(), "search/t/zz".into()],
            put_records: vec![("search/t/go".into(), String::new(), "h".into())],
            ..Plan::default()
        };
        let text = report(&plan, &[], &BTreeMap::new(), false);
        assert!(
            text.contains("0 added, 0 updated, 1 removed, 0 unchanged"),
            "{text}"
        );
        assert!(
            text.contains("  removed   gone\n") && !text.contains("removed   search/"),
            "{text}"
        );
        assert!(
            text.contains("search index: 1 pieces written, 1 removed"),
            "{text}"
        );
    }

    #[test]
    fn a_body_with_an_alert_is_hashed_with_the_callouts_it_may_hold_and_others_are_not() {
        let plain = post_text("A", "");
        let alert = plain.replace("Body.", "> [!WARNING]\n> Body.");
        let hash = |text: &str| {
            let content = content(&[("content/a.md", text.to_string())]);
            let parsed = content.posts[0].record.meta.hash.clone();
            let (posts, _) = prepare(&content, Settings::default(), false, Highlighting::All);
            // Without a cover, the post's card is named last.
            let style = crate::card::style_hash(&Settings::default());
            let prepared = posts[0].record.meta.hash.clone();
            let carded = move |hash: String| {
                let mut meta = posts[0].record.meta.clone();
                meta.hash = hash;
                with_card(&meta, &style)
            };
            (parsed, prepared, carded)
        };
        let (parsed, prepared, carded) = hash(&plain);
        assert_eq!(
            prepared,
            carded(source::hash_of(&(&parsed, HTML_FORMAT, false))),
            "a post without the new syntax keeps the hash it had"
        );
        let (parsed, prepared, carded) = hash(&alert);
        assert_eq!(
            prepared,
            carded(source::hash_of(&(
                source::hash_of(&(&parsed, HTML_FORMAT, false)),
                ["callouts"]
            )))
        );
        let content = content(&[("content/a.md", alert)]);
        let (posts, _) = prepare(&content, Settings::default(), false, Highlighting::All);
        assert!(
            posts[0].record.html.contains("aria-label=\"Warning\""),
            "{}",
            posts[0].record.html
        );
    }

    #[test]
    fn the_seed_posts_relate_to_others_never_themselves_nor_their_neighbours() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let content = source::load_dir(&dir).unwrap();
        let related_with = |kept: &mut Kept| {
            let (mut posts, _) = prepare(
                &content,
                Settings::default(),
                false,
                Highlighting::WhereLimitsNeedIt,
            );
            relate(&mut posts, i64::MAX, kept);
            posts
        };
        let posts = related_with(&mut Kept::default());
        let related = |slug: &str| -> Vec<String> {
            let post = posts.iter().find(|p| p.record.meta.slug == slug).unwrap();
            post.record.related.iter().map(|r| r.slug.clone()).collect()
        };
        for post in &posts {
            let r = &post.record;
            let slugs = related(&r.meta.slug);
            assert!(!slugs.is_empty() && slugs.len() <= 3, "{slugs:?}");
            assert!(!slugs.contains(&r.meta.slug));
            for n in [&r.neighbours.older, &r.neighbours.newer]
                .into_iter()
                .flatten()
            {
                assert!(
                    !slugs.contains(&n.slug),
                    "{} links {} already",
                    r.meta.slug,
                    n.slug
                );
            }
        }
        // The two mini-Vercel posts are neighbours by date with the Nixpacks post between
        // them; the first's closest other is the deploy pipeline's explainer.
        assert!(
            related("mini-vercel-clone-in-rust-in-one-day")
                .contains(&"how-nixpacks-buildctl-and-buildkit-fit-together".to_string()),
            "{:?}",
            related("mini-vercel-clone-in-rust-in-one-day")
        );
        // Again, with each post's words read back from a saved cache, in another order.
        let path = std::env::temp_dir().join(format!("blog-relate-{}.txt", std::process::id()));
        let mut kept = Kept::default();
        let posts_cached = related_with(&mut kept);
        kept.terms.save(&path);
        let mut read = Kept {
            terms: crate::search::TermCache::load(&path),
            ..Kept::default()
        };
        std::fs::remove_file(&path).unwrap();
        let again = related_with(&mut read);
        assert!(
            !read.terms.changed(),
            "every post's words were in the cache"
        );
        assert!(read.related.changed, "no choice was kept: one was made");
        let pairs = posts
            .iter()
            .zip(&posts_cached)
            .chain(posts.iter().zip(&again));
        for (a, b) in pairs {
            assert_eq!(a.record.related, b.record.related, "stable");
            assert_eq!(
                source::stored_hash(&a.record),
                source::stored_hash(&b.record)
            );
        }
    }

    #[test]
    fn a_post_does_not_relate_to_one_not_out_yet_unless_it_comes_out_after_it() {
        let text = |title: &str, date: &str| {
            format!("+++\ntitle = \"{title}\"\ndate = {date}\nsummary = \"S.\"\ntags = [\"rust\"]\n+++\n\nCargo builds and caches for {title}.\n")
        };
        let content = content(&[
            ("content/a.md", text("Alpha", "2026-01-01")),
            ("content/b.md", text("Beta", "2026-02-01")),
            ("content/c.md", text("Gamma", "2026-03-01")),
            ("content/d.md", text("Delta", "2026-04-01")),
            (
                "content/later.md",
                text("Later", "2030-01-01").replace("for Later", "for Alpha, Beta and Gamma"),
            ),
        ]);
        let (mut posts, _) = prepare(&content, Settings::default(), false, Highlighting::All);
        let now = blog_core::date::parse_rfc3339("2026-06-01")
            .unwrap()
            .timestamp();
        relate(&mut posts, now, &mut Default::default());
        for post in &posts {
            let slugs: Vec<&str> = post
                .record
                .related
                .iter()
                .map(|r| r.slug.as_str())
                .collect();
            if post.record.meta.slug == "later" {
                assert_eq!(
                    slugs.len(),
                    3,
                    "a scheduled post may show older ones: {slugs:?}"
                );
            } else {
                assert!(!slugs.contains(&"later"), "{slugs:?}");
            }
        }
        // Once it is out, it is the closest to Alpha.
        relate(&mut posts, i64::MAX, &mut Default::default());
        assert_eq!(posts[0].record.related[0].slug, "later");
    }

    #[test]
    fn a_kept_choice_is_taken_only_while_nothing_it_was_made_from_changed() {
        let text = |title: &str, date: &str, tags: &str| {
            format!("+++\ntitle = \"{title}\"\ndate = {date}\nsummary = \"S.\"\ntags = [{tags}]\n+++\n\nCargo builds, caches and runners for {title}.\n")
        };
        let files = [
            ("content/a.md", text("Alpha", "2026-01-01", "\"rust\"")),
            ("content/b.md", text("Beta", "2026-02-01", "\"rust\"")),
            ("content/c.md", text("Gamma", "2026-03-01", "\"go\"")),
            ("content/d.md", text("Delta", "2026-04-01", "\"rust\"")),
            ("content/e.md", text("Epsilon", "2026-05-01", "\"go\"")),
            ("content/f.md", text("Zeta", "2030-01-01", "\"rust\"")),
        ];
        let now = blog_core::date::parse_rfc3339("2026-06-01")
            .unwrap()
            .timestamp();
        let related_of = |files: &[(&str, String)], now, kept: &mut Kept| {
            let (mut posts, _) = prepare(
                &content(files),
                Settings::default(),
                false,
                Highlighting::All,
            );
            relate(&mut posts, now, kept);
            posts
                .iter()
                .map(|p| p.record.related.iter().map(|r| r.slug.clone()).collect())
                .collect::<Vec<Vec<String>>>()
        };
        let mut kept = Kept::default();
        let first = related_of(&files, now, &mut kept);
        assert!(kept.related.changed);
        let path = std::env::temp_dir().join(format!("blog-chosen-{}.txt", std::process::id()));
        kept.related.save(&path);
        // Read back, the same posts take the kept choice: shown by a kept choice altered
        // on disk, which a choice made afresh would not give.
        let saved = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = saved.lines().collect();
        assert_eq!(lines.len(), 1 + files.len() + 1, "{saved}");
        lines[1] = "";
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let mut read = Kept {
            related: crate::related::Chosen::load(&path),
            ..Kept::default()
        };
        let taken = related_of(&files, now, &mut read);
        assert!(!read.related.changed);
        assert!(taken[0].is_empty() && taken[1..] == first[1..], "{taken:?}");
        // Whatever the choice depends on makes a new one: a post's text, a post coming
        // out, a new post; a later clock that brings no post out does not.
        let later = blog_core::date::parse_rfc3339("2027-01-01")
            .unwrap()
            .timestamp();
        assert_eq!(related_of(&files, later, &mut read), taken);
        assert!(!read.related.changed);
        let mut edited = files.to_vec();
        edited[2].1 = text("Gamma", "2026-03-01", "\"rust\"");
        for (files, now) in [
            (edited.clone(), now),
            (files.to_vec(), i64::MAX),
            (
                [
                    &files[..],
                    &[("content/g.md", text("Eta", "2026-05-02", "\"go\""))],
                ]
                .concat(),
                now,
            ),
        ] {
            let mut read = Kept {
                related: crate::related::Chosen::load(&path),
                ..Kept::default()
            };
            let chosen = related_of(&files, now, &mut read);
            assert!(read.related.changed);
            assert_eq!(chosen, related_of(&files, now, &mut Kept::default()));
        }
        // A damaged file, or one cut short, is no choice.
        for cut in [saved.len() / 2, saved.len() - 1] {
            std::fs::write(&path, &saved[..cut]).unwrap();
            assert_eq!(crate::related::Chosen::load(&path), Default::default());
        }
        std::fs::remove_file(&path).unwrap();
    }
}
