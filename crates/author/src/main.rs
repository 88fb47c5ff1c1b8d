//! `blog`: the author's command line. `check` validates `content/`; `sync` publishes it to
//! Workers KV (local dev state by default, the Cloudflare account with `--remote`).

use blog_author::assets::{self, FileInfo};
use blog_author::highlight::Highlighter;
use blog_author::source::{self, Content, SourcePost};
use blog_author::sync::{self, Change, Plan, Rename};
use blog_core::kv::{self, KeyMeta};
use blog_core::settings::Settings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "\
usage: blog <command> [options]

commands:
  new \"Title\"        create content/<slug>.md, dated now, as a draft; prints its path
  check              validate site.toml and every post in content/; writes nothing
  sync               validate, then publish what changed to Workers KV

options:
  --content DIR      the posts folder (default: content)
  --settings FILE    the site settings (default: site.toml)
  --remote           sync to the Cloudflare account's KV instead of local dev state
  --drafts           also publish posts marked `draft = true` (local only)
  --persist-to DIR   local state folder, as given to `wrangler dev --persist-to`
  --dry-run          print what sync would do, write nothing

environment:
  BLOG_WRANGLER      the wrangler command (default: node_modules/.bin/wrangler)
  BLOG_NODE          the node command that lists local KV (default: node)
  BLOG_WRANGLER_TIMEOUT  seconds one wrangler or node call may take (default: 300)
";

struct Options {
    command: String,
    /// `blog new`'s title.
    title: Option<String>,
    content: PathBuf,
    settings: PathBuf,
    remote: bool,
    drafts: bool,
    persist_to: Option<PathBuf>,
    dry_run: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        command: String::new(),
        title: None,
        content: PathBuf::from("content"),
        settings: PathBuf::from("site.toml"),
        remote: false,
        drafts: false,
        persist_to: None,
        dry_run: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--content" => options.content = value("--content")?.into(),
            "--settings" => options.settings = value("--settings")?.into(),
            "--persist-to" => options.persist_to = Some(value("--persist-to")?.into()),
            "--remote" => options.remote = true,
            "--drafts" => options.drafts = true,
            "--dry-run" => options.dry_run = true,
            "-h" | "--help" | "help" => return Err(String::new()),
            a if a.starts_with('-') => return Err(format!("unknown option {a}")),
            a if options.command.is_empty() => options.command = a.to_string(),
            a if options.command == "new" && options.title.is_none() => {
                options.title = Some(a.to_string())
            }
            a => return Err(format!("unexpected argument {a}")),
        }
    }
    if options.remote && options.drafts {
        return Err(
            "--drafts publishes drafts to local dev only; it cannot be used with --remote".into(),
        );
    }
    if options.remote && options.persist_to.is_some() {
        return Err("--persist-to names local state; it cannot be used with --remote".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(o) if !o.command.is_empty() => o,
        Ok(_) | Err(_)
            if args.is_empty()
                || args
                    .iter()
                    .any(|a| a == "-h" || a == "--help" || a == "help") =>
        {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(_) => {
            eprint!("blog: no command given\n\n{USAGE}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprint!("blog: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match options.command.as_str() {
        "new" => new_post(&options),
        "check" => check_command(&options),
        "sync" => run_sync(&options),
        other => {
            eprint!("blog: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blog: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads and validates the settings and the content folder, printing every problem.
/// Fails on any error.
fn check(options: &Options) -> Result<(Settings, Content), String> {
    let settings = source::load_settings(&options.settings);
    let mut content = source::load_dir(&options.content)
        .map_err(|e| format!("cannot read {}: {e}", options.content.display()))?;
    let settings_error = settings.as_ref().err();
    for diagnostic in settings_error.into_iter().chain(&content.diagnostics) {
        eprintln!("{diagnostic}");
    }
    let errors = content.errors().count() + usize::from(settings_error.is_some());
    if errors > 0 {
        return Err(format!(
            "{errors} error{}: nothing was written",
            if errors == 1 { "" } else { "s" }
        ));
    }
    let settings = settings.expect("checked above");
    content.localise(&source::time_zone(&settings));
    Ok((settings, content))
}

/// `blog check`: everything `sync` validates, KV's size limits included, writing nothing.
fn check_command(options: &Options) -> Result<(), String> {
    let (settings, content) = check(options)?;
    prepare(options, settings, &content, Highlighting::WhereLimitsNeedIt)?;
    let drafts = content.posts.iter().filter(|p| p.draft).count();
    let warnings = content.diagnostics.len();
    println!(
        "{} posts OK ({drafts} drafts, {warnings} warnings) and {} files in {}",
        content.posts.len(),
        content.files.len(),
        options.content.display()
    );
    Ok(())
}

/// Which posts [`prepare`] highlights.
#[derive(Clone, Copy, PartialEq)]
enum Highlighting {
    /// Every post: what `sync` publishes.
    All,
    /// Only posts whose code could grow them past KV's value limit once highlighted: what
    /// `check` needs to know, without spending seconds on the rest.
    WhereLimitsNeedIt,
}

/// Whether highlighting could push a post's record past KV's value limit: the highlighter
/// grows code at most `MAX_GROWTH`-fold, and JSON at most doubles that HTML.
fn may_outgrow_kv(post: &SourcePost) -> bool {
    // Code is part of the body: a body this small cannot, whatever it holds.
    let body = post.record.body.len();
    if body.saturating_mul(2 * blog_author::highlight::MAX_GROWTH + 8) < kv::MAX_VALUE_BYTES / 2 {
        return false;
    }
    let record = serde_json::to_vec(&post.record).map_or(usize::MAX, |v| v.len());
    let code: usize = blog_core::markdown::code_blocks(&post.record.body)
        .iter()
        .map(|b| b.code.len())
        .sum();
    record.saturating_add(code.saturating_mul(2 * blog_author::highlight::MAX_GROWTH))
        > kv::MAX_VALUE_BYTES
}

/// The records a sync would publish, highlighted, and their index; fails when Workers KV
/// would reject any of them.
fn prepare(
    options: &Options,
    settings: Settings,
    content: &Content,
    highlighting: Highlighting,
) -> Result<(Vec<SourcePost>, blog_core::content::SiteIndex), String> {
    let highlighter = Highlighter::new();
    let mut posts: Vec<SourcePost> = content
        .publishable(options.drafts)
        .into_iter()
        .cloned()
        .collect();
    for post in &mut posts {
        if highlighting == Highlighting::All || may_outgrow_kv(post) {
            post.highlight(|lang, code| highlighter.highlight(lang, code));
        }
    }
    let refs: Vec<&SourcePost> = posts.iter().collect();
    let index = source::build_index(&refs, settings);
    check_limits(&posts, &index, options)?;
    Ok((posts, index))
}

fn new_post(options: &Options) -> Result<(), String> {
    let title = options
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("usage: blog new \"Title\"")?;
    let slug = blog_core::markdown::slugify(title);
    blog_core::content::validate_slug(&slug)
        .map_err(|e| format!("cannot make a file name from the title: {e}"))?;
    let path = options.content.join(format!("{slug}.md"));
    if path.exists() {
        return Err(format!(
            "{} already exists: choose another title or edit that post",
            path.display()
        ));
    }
    // Now, on the site's clock, with its offset written out so the date means one instant.
    let settings = source::load_settings(&options.settings).map_err(|d| d.to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    let now = now.as_secs() as i64;
    let offset = source::utc_offset_minutes(&source::time_zone(&settings), now);
    let date = blog_core::date::format_rfc3339_at(now, offset);
    std::fs::create_dir_all(&options.content)
        .map_err(|e| format!("cannot create {}: {e}", options.content.display()))?;
    std::fs::write(&path, source::new_post_text(title, &date))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}

fn run_sync(options: &Options) -> Result<(), String> {
    let (settings, content) = check(options)?;
    // Limits first: content KV would refuse costs no wrangler call.
    let (mut posts, mut index) = prepare(options, settings.clone(), &content, Highlighting::All)?;
    let kv = Kv::new(options);
    println!(
        "Syncing {} to {} KV…",
        options.content.display(),
        kv.place()
    );
    let remote = kv.list()?;
    let renamed = record_renames(options, &content, &remote)?;
    if !renamed.is_empty() {
        // The files changed: read them again, so what is published is what is on disk.
        (posts, index) = prepare(options, settings, &check(options)?.1, Highlighting::All)?;
    }
    let records: Vec<_> = posts.iter().map(|p| p.record.clone()).collect();
    // Only what a published post uses goes to the edge; the rest stays on the author's disk.
    let used: BTreeMap<String, (&str, &FileInfo)> = posts
        .iter()
        .flat_map(|p| &p.files)
        .filter_map(|path| {
            content
                .files
                .get(path)
                .map(|info| (info.key(), (path.as_str(), info)))
        })
        .collect();
    let file_keys: BTreeSet<String> = used.keys().cloned().collect();
    let plan = sync::plan(&records, &file_keys, index, &remote);
    if options.dry_run {
        report(&plan, &renamed, &used, true);
        return Ok(());
    }
    for (i, key) in plan.put_files.iter().enumerate() {
        let (path, info) = used[key];
        kv.put_file(&options.content, path, info)?;
        progress("files", i + 1, plan.put_files.len());
    }
    let files: BTreeMap<&str, String> = posts
        .iter()
        .map(|p| (p.record.meta.slug.as_str(), file_key(options, &p.file)))
        .collect();
    let entries: Vec<_> = plan
        .put_posts
        .iter()
        .map(|(_, r)| {
            entry(
                &kv::post_key(&r.meta.slug),
                r,
                &r.meta.hash,
                files.get(r.meta.slug.as_str()).cloned(),
            )
        })
        .collect();
    kv.put_in_batches("posts", &entries)?;
    let mut published = None;
    if let Some(index) = &plan.put_index {
        kv.put_in_batches(
            "index",
            &[entry(kv::INDEX_KEY, index, &index.version, None)],
        )?;
        let version = serde_json::json!({
            "key": kv::VERSION_KEY,
            "value": index.version,
            "metadata": KeyMeta { hash: index.version.clone(), file: None, content_type: None },
        });
        kv.put_in_batches("version", &[version])?;
        published = Some(std::time::Instant::now());
    }
    let deletions: Vec<String> = plan
        .delete_keys
        .iter()
        .chain(&plan.delete_files)
        .cloned()
        .collect();
    if !deletions.is_empty() {
        kv.bulk_delete(&deletions)?;
    }
    if let Some(at) = published {
        // Isolates trust the version they read for a moment: once this has passed, every
        // one of them has read the new version, and the next request shows it.
        let settle = std::time::Duration::from_millis(kv::SYNC_SETTLE_MS);
        std::thread::sleep(settle.saturating_sub(at.elapsed()));
    }
    report(&plan, &renamed, &used, false);
    Ok(())
}

/// Refuses, before writing anything, records that Workers KV would reject; each problem is
/// reported at the file (and line) the author should change.
fn check_limits(
    posts: &[SourcePost],
    index: &blog_core::content::SiteIndex,
    options: &Options,
) -> Result<(), String> {
    use blog_author::diagnostic::Diagnostic;
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let mut problems = Vec::new();
    let index_bytes = serde_json::to_vec(index).map_or(usize::MAX, |v| v.len());
    if index_bytes > kv::MAX_VALUE_BYTES {
        // Point at the post with the largest index entry, at its summary.
        let entry_bytes =
            |p: &SourcePost| serde_json::to_vec(&p.record.meta).map_or(0, |v| v.len());
        if let Some(largest) = posts.iter().max_by_key(|p| entry_bytes(p)) {
            let line = std::fs::read_to_string(&largest.file)
                .map_or(1, |text| source::field_line(&text, "summary"));
            problems.push(Diagnostic::error(
                &largest.file,
                line,
                format!(
                    "the index of {} posts is {:.1} MiB; Workers KV holds at most 25 MiB per value: shorten summaries (this post's entry is the largest, {} KB) or split the site",
                    posts.len(),
                    mib(index_bytes),
                    entry_bytes(largest) / 1024
                ),
            ));
        }
    }
    for post in posts {
        let meta = KeyMeta {
            hash: post.record.meta.hash.clone(),
            file: Some(file_key(options, &post.file)),
            content_type: None,
        };
        let meta_bytes = serde_json::to_vec(&meta).map_or(usize::MAX, |v| v.len());
        if meta_bytes > kv::MAX_METADATA_BYTES {
            problems.push(Diagnostic::error(
                &post.file,
                1,
                format!(
                    "its key metadata is {meta_bytes} bytes; Workers KV allows {}: use a shorter file name",
                    kv::MAX_METADATA_BYTES
                ),
            ));
        }
        let record_bytes = serde_json::to_vec(&post.record).map_or(usize::MAX, |v| v.len());
        if record_bytes > kv::MAX_VALUE_BYTES {
            problems.push(Diagnostic::error(
                &post.file,
                1,
                format!(
                    "the post is {:.1} MiB once highlighted; Workers KV holds at most 25 MiB per value: split it",
                    mib(record_bytes)
                ),
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    for p in &problems {
        eprintln!("{p}");
    }
    Err(format!(
        "{} error{}: nothing was written",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    ))
}

/// The name a post's file is remembered by at the edge: its path within the content folder.
fn file_key(options: &Options, file: &str) -> String {
    let path = std::path::Path::new(file);
    path.strip_prefix(&options.content)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Adds an alias for every post whose slug changed since the last sync, in its own file, so
/// the old address keeps working and its reads keep counting.
fn record_renames(
    options: &Options,
    content: &Content,
    remote: &BTreeMap<String, Option<KeyMeta>>,
) -> Result<Vec<Rename>, String> {
    let local: Vec<(String, String)> = content
        .posts
        .iter()
        .map(|p| (file_key(options, &p.file), p.record.meta.slug.clone()))
        .collect();
    let renames = sync::renames(&local, remote);
    for rename in &renames {
        let path = options.content.join(&rename.file);
        let alias = format!("/posts/{}", rename.old_slug);
        let post = content
            .posts
            .iter()
            .find(|p| file_key(options, &p.file) == rename.file);
        if post.is_some_and(|p| p.record.meta.aliases.contains(&alias)) {
            continue;
        }
        if options.dry_run {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let updated = source::add_alias(&text, &alias).ok_or_else(|| {
            format!(
                "{}: cannot add the alias {alias}: add it to the front matter by hand",
                path.display()
            )
        })?;
        std::fs::write(&path, updated)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "  renamed   {} -> {} (added alias {alias} to {})",
            rename.old_slug,
            rename.new_slug,
            path.display()
        );
    }
    Ok(renames)
}

fn entry<T: serde::Serialize>(
    key: &str,
    value: &T,
    hash: &str,
    file: Option<String>,
) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "value": serde_json::to_string(value).expect("records serialise"),
        "metadata": KeyMeta { hash: hash.to_string(), file, content_type: None },
    })
}

fn report(
    plan: &Plan,
    renamed: &[Rename],
    files: &BTreeMap<String, (&str, &FileInfo)>,
    dry_run: bool,
) {
    let verb = if dry_run { "would be " } else { "" };
    for key in &plan.put_files {
        let (path, info) = files[key];
        println!("  file {verb}added   {path} -> {}", info.url());
    }
    for (change, record) in &plan.put_posts {
        let what = if *change == Change::Added {
            "added"
        } else {
            "updated"
        };
        println!("  {verb}{what:<9} {}", record.meta.slug);
    }
    for key in &plan.delete_keys {
        println!(
            "  {verb}removed   {}",
            key.trim_start_matches(kv::POST_PREFIX)
        );
    }
    for key in &plan.delete_files {
        println!(
            "  file {verb}removed {}{}",
            kv::FILE_URL_PREFIX,
            key.trim_start_matches(kv::FILE_PREFIX)
        );
    }
    let index = if plan.put_index.is_some() {
        format!("{verb}written")
    } else {
        "unchanged".into()
    };
    println!();
    println!(
        "  {:>7} {:>8} {:>8} {:>8} {:>10}  index",
        "added", "updated", "removed", "renamed", "unchanged"
    );
    println!(
        "  {:>7} {:>8} {:>8} {:>8} {:>10}  {index}",
        plan.count(Change::Added),
        plan.count(Change::Updated),
        plan.delete_keys.len(),
        renamed.len(),
        plan.unchanged.len(),
    );
    println!(
        "{} added, {} updated, {} removed, {} unchanged; index {index}",
        plan.count(Change::Added),
        plan.count(Change::Updated),
        plan.delete_keys.len(),
        plan.unchanged.len(),
    );
    println!(
        "{} files added, {} removed, {} unchanged",
        plan.put_files.len(),
        plan.delete_files.len(),
        plan.unchanged_files
    );
    if plan.is_empty() {
        println!("Nothing to write.");
    }
}

/// The KV namespace, reached through wrangler so local and remote take the same path.
struct Kv<'a> {
    options: &'a Options,
    wrangler: String,
}

impl<'a> Kv<'a> {
    fn new(options: &'a Options) -> Self {
        let wrangler =
            std::env::var("BLOG_WRANGLER").unwrap_or_else(|_| "node_modules/.bin/wrangler".into());
        Self { options, wrangler }
    }

    fn place(&self) -> &'static str {
        if self.options.remote {
            "the account's"
        } else {
            "local dev"
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.wrangler);
        cmd.args(["kv"]).args(args).args(["--binding", "POSTS"]);
        if self.options.remote {
            cmd.arg("--remote");
        } else {
            cmd.arg("--local");
            if let Some(dir) = &self.options.persist_to {
                cmd.arg("--persist-to").arg(dir);
            }
        }
        cmd.env("WRANGLER_SEND_METRICS", "false");
        cmd
    }

    /// Runs one wrangler command; a failure or a hang (past `BLOG_WRANGLER_TIMEOUT` seconds,
    /// default 300) is an error that says which step stopped, and what to do.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let what = format!("wrangler kv {}", args.join(" "));
        let cannot = format!(
            "cannot run {} (run `make tools` to install wrangler)",
            self.wrangler
        );
        run_step(&what, &cannot, self.command(args))
    }

    /// Every key with its stored hash.
    fn list(&self) -> Result<BTreeMap<String, Option<KeyMeta>>, String> {
        #[derive(serde::Deserialize)]
        struct Key {
            name: String,
            metadata: Option<KeyMeta>,
        }
        let out = if self.options.remote {
            self.run(&["key", "list"])?
        } else {
            self.list_local()?
        };
        let json = out.find('[').map(|i| &out[i..]).unwrap_or(&out);
        let keys: Vec<Key> = serde_json::from_str(json)
            .map_err(|e| format!("cannot read the key list from wrangler: {e}\n{out}"))?;
        Ok(keys.into_iter().map(|k| (k.name, k.metadata)).collect())
    }

    /// The local namespace's keys. `wrangler kv key list --local` stops at the first 1,000
    /// keys (its remote listing pages through all), so this reads the same local storage
    /// through Miniflare, as wrangler does, following the cursor.
    fn list_local(&self) -> Result<String, String> {
        let persist = self
            .options
            .persist_to
            .clone()
            .unwrap_or_else(|| PathBuf::from(".wrangler/state"));
        let node = std::env::var("BLOG_NODE").unwrap_or_else(|_| "node".into());
        let mut cmd = Command::new(&node);
        cmd.arg("tools/kv-list-local.mjs")
            .arg(&persist)
            .arg(namespace_id()?);
        run_step(
            "listing local KV (tools/kv-list-local.mjs)",
            &format!("cannot run {node} (Node.js 20 or later is needed)"),
            cmd,
        )
    }

    /// Writes entries in batches that stay well inside wrangler's bulk limits, with a
    /// progress line for long syncs.
    fn put_in_batches(&self, what: &str, entries: &[serde_json::Value]) -> Result<(), String> {
        const MAX_BATCH_BYTES: usize = 50 * 1024 * 1024;
        const MAX_BATCH_KEYS: usize = 500;
        let mut done = 0;
        let mut batch: Vec<&serde_json::Value> = Vec::new();
        let mut bytes = 0;
        for (i, entry) in entries.iter().enumerate() {
            let size = entry["value"].as_str().map_or(0, str::len);
            if !batch.is_empty()
                && (bytes + size > MAX_BATCH_BYTES || batch.len() == MAX_BATCH_KEYS)
            {
                self.bulk_put(&batch)?;
                done += batch.len();
                progress(what, done, entries.len());
                batch.clear();
                bytes = 0;
            }
            batch.push(entry);
            bytes += size;
            if i + 1 == entries.len() {
                self.bulk_put(&batch)?;
                done += batch.len();
                progress(what, done, entries.len());
            }
        }
        Ok(())
    }

    /// Uploads one file under its content-addressed key. One `kv key put --path` per file:
    /// wrangler 4.86's `kv bulk put` turns `"base64": true` values into text on the way
    /// into local state, which mangles any byte that is not UTF-8, while `key put --path`
    /// stores the bytes as they are, locally and remotely alike.
    fn put_file(&self, content: &Path, path: &str, info: &FileInfo) -> Result<(), String> {
        let full = content.join(path);
        // The key names these exact bytes: make sure the file is still what was checked.
        let bytes =
            std::fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
        if assets::inspect(path, &bytes).hash != info.hash {
            return Err(format!(
                "{} changed during the sync: run `blog sync` again",
                full.display()
            ));
        }
        let meta = KeyMeta {
            hash: info.hash.clone(),
            file: None,
            content_type: Some(info.content_type.to_string()),
        };
        let meta = serde_json::to_string(&meta).expect("metadata serialises");
        let full = full
            .to_str()
            .ok_or_else(|| format!("{}: the path is not UTF-8", full.display()))?;
        self.run(&[
            "key",
            "put",
            &info.key(),
            "--path",
            full,
            "--metadata",
            &meta,
        ])
        .map(drop)
    }

    fn bulk_put(&self, entries: &[&serde_json::Value]) -> Result<(), String> {
        let file = TempFile::write(
            "put",
            &serde_json::to_vec(entries).expect("entries serialise"),
        )?;
        self.run(&["bulk", "put", file.path_str()]).map(drop)
    }

    fn bulk_delete(&self, keys: &[String]) -> Result<(), String> {
        let file = TempFile::write("delete", &serde_json::to_vec(keys).expect("keys serialise"))?;
        self.run(&["bulk", "delete", file.path_str(), "--force"])
            .map(drop)
    }
}

/// Runs one step of a sync (a wrangler call, or the local key listing); a failure or a hang
/// (past `BLOG_WRANGLER_TIMEOUT` seconds, default 300) is an error that says which step
/// stopped, and what to do. A hung step is killed with everything it started.
fn run_step(what: &str, cannot: &str, mut cmd: Command) -> Result<String, String> {
    let timeout = std::env::var("BLOG_WRANGLER_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cannot}: {e}"))?;
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = pipe.read_to_end(&mut out);
            let _ = tx.send(String::from_utf8_lossy(&out).into_owned());
        });
        rx
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(timeout);
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break Some(status),
            None if std::time::Instant::now() >= deadline => {
                kill_tree(&mut child);
                break None;
            }
            None => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    // After a timeout, whatever still holds the pipes is not worth waiting for.
    let output = |rx: std::sync::mpsc::Receiver<String>| match status {
        Some(_) => rx.recv().unwrap_or_default(),
        None => rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap_or_default(),
    };
    let (stdout, stderr) = (output(stdout), output(stderr));
    let rerun = "Nothing already written is lost or half-written: run `blog sync` again to finish.";
    match status {
        None => Err(format!("{what} timed out after {timeout} s. {rerun}")),
        Some(status) if !status.success() => Err(format!(
            "{what} failed ({status}). {rerun}\n{stdout}{stderr}"
        )),
        Some(_) => Ok(stdout),
    }
}

/// Kills a child and everything it started. `wrangler` is a launcher that runs the real CLI
/// (which runs workerd) as children: killing only the launcher leaves them running, holding
/// our pipes open and still able to write after we gave up on them.
fn kill_tree(child: &mut std::process::Child) {
    let mut doomed = vec![child.id()];
    if let Ok(out) = Command::new("ps").args(["-A", "-o", "pid=,ppid="]).output() {
        let text = String::from_utf8_lossy(&out.stdout);
        let pairs: Vec<(u32, u32)> = text
            .lines()
            .filter_map(|l| {
                let mut fields = l.split_whitespace().map(str::parse::<u32>);
                Some((fields.next()?.ok()?, fields.next()?.ok()?))
            })
            .collect();
        let mut i = 0;
        while i < doomed.len() {
            let parent = doomed[i];
            doomed.extend(
                pairs
                    .iter()
                    .filter(|&&(_, p)| p == parent)
                    .map(|&(pid, _)| pid),
            );
            i += 1;
        }
    }
    if doomed.len() > 1 {
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(doomed[1..].iter().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn progress(what: &str, done: usize, total: usize) {
    if total > 1 {
        eprintln!("  [{done}/{total}] {what} written");
    }
}

/// The id of the `POSTS` namespace in wrangler.toml: local storage is filed under it.
fn namespace_id() -> Result<String, String> {
    let text = std::fs::read_to_string("wrangler.toml")
        .map_err(|e| format!("cannot read wrangler.toml: {e}"))?;
    let config: toml::Table = toml::from_str(&text).map_err(|e| format!("wrangler.toml: {e}"))?;
    config
        .get("kv_namespaces")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .find(|ns| ns.get("binding").and_then(|b| b.as_str()) == Some("POSTS"))
        .and_then(|ns| ns.get("id").and_then(|id| id.as_str()))
        .map(str::to_string)
        .ok_or_else(|| {
            "wrangler.toml has no [[kv_namespaces]] with binding = \"POSTS\" and an id".into()
        })
}

/// A file for wrangler's bulk commands, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn write(kind: &str, bytes: &[u8]) -> Result<Self, String> {
        let path =
            std::env::temp_dir().join(format!("blog-sync-{kind}-{}.json", std::process::id()));
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    fn path_str(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
