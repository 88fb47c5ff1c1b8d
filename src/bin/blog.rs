//! `blog`: the author's command line. `check` validates `content/`; `sync` publishes it to
//! Workers KV (local dev state by default, the Cloudflare account with `--remote`).

use blog::source::{self, Content};
use blog::store::{self, KeyMeta};
use blog::sync::{self, Change, Plan};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "\
usage: blog <command> [options]

commands:
  check              validate every post in content/; writes nothing
  sync               validate, then publish what changed to Workers KV

options:
  --content DIR      the posts folder (default: content)
  --remote           sync to the Cloudflare account's KV instead of local dev state
  --drafts           also publish posts marked `draft = true` (local only)
  --persist-to DIR   local state folder, as given to `wrangler dev --persist-to`
  --dry-run          print what sync would do, write nothing

environment:
  BLOG_WRANGLER      the wrangler command (default: node_modules/.bin/wrangler)
";

struct Options {
    command: String,
    content: PathBuf,
    remote: bool,
    drafts: bool,
    persist_to: Option<PathBuf>,
    dry_run: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        command: String::new(),
        content: PathBuf::from("content"),
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
            "--persist-to" => options.persist_to = Some(value("--persist-to")?.into()),
            "--remote" => options.remote = true,
            "--drafts" => options.drafts = true,
            "--dry-run" => options.dry_run = true,
            "-h" | "--help" | "help" => return Err(String::new()),
            a if a.starts_with('-') => return Err(format!("unknown option {a}")),
            a if options.command.is_empty() => options.command = a.to_string(),
            a => return Err(format!("unexpected argument {a}")),
        }
    }
    if options.remote && options.drafts {
        return Err("--drafts publishes drafts to local dev only; it cannot be used with --remote".into());
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
        Ok(_) | Err(_) if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help" || a == "help") => {
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
        "check" => check(&options).map(|_| ()),
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

/// Loads and validates the content folder, printing every problem. Fails on any error.
fn check(options: &Options) -> Result<Content, String> {
    let content = source::load_dir(&options.content)
        .map_err(|e| format!("cannot read {}: {e}", options.content.display()))?;
    for diagnostic in &content.diagnostics {
        eprintln!("{diagnostic}");
    }
    let errors = content.errors().count();
    if errors > 0 {
        return Err(format!(
            "{errors} error{} in {}: nothing was written",
            if errors == 1 { "" } else { "s" },
            options.content.display()
        ));
    }
    if options.command == "check" {
        let drafts = content.posts.iter().filter(|p| p.draft).count();
        println!("{} posts OK ({drafts} drafts) in {}", content.posts.len(), options.content.display());
    }
    Ok(content)
}

fn run_sync(options: &Options) -> Result<(), String> {
    let content = check(options)?;
    let posts = content.publishable(options.drafts);
    let index = source::build_index(&posts);
    let records: Vec<_> = posts.iter().map(|p| p.record.clone()).collect();
    let kv = Kv::new(options);
    println!("Syncing {} posts to {} KV…", records.len(), kv.place());
    let remote = kv.list()?;
    let plan = sync::plan(&records, index, &remote);
    if options.dry_run {
        report(&plan, true);
        return Ok(());
    }
    if !plan.put_posts.is_empty() {
        let entries: Vec<_> = plan.put_posts.iter().map(|(_, r)| entry(&store::post_key(&r.meta.slug), r, &r.meta.hash)).collect();
        kv.bulk_put(&entries)?;
    }
    if let Some(index) = &plan.put_index {
        kv.bulk_put(&[entry(store::INDEX_KEY, index, &index.version)])?;
    }
    if !plan.delete_keys.is_empty() {
        kv.bulk_delete(&plan.delete_keys)?;
    }
    report(&plan, false);
    Ok(())
}

fn entry<T: serde::Serialize>(key: &str, value: &T, hash: &str) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "value": serde_json::to_string(value).expect("records serialise"),
        "metadata": KeyMeta { hash: hash.to_string() },
    })
}

fn report(plan: &Plan, dry_run: bool) {
    let verb = if dry_run { "would be " } else { "" };
    for (change, record) in &plan.put_posts {
        let what = if *change == Change::Added { "added" } else { "updated" };
        println!("  {verb}{what:<9} {}", record.meta.slug);
    }
    for key in &plan.delete_keys {
        println!("  {verb}removed   {}", key.trim_start_matches(store::POST_PREFIX));
    }
    println!(
        "{} added, {} updated, {} removed, {} unchanged; index {}",
        plan.count(Change::Added),
        plan.count(Change::Updated),
        plan.delete_keys.len(),
        plan.unchanged.len(),
        if plan.put_index.is_some() { format!("{verb}written") } else { "unchanged".into() }
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
        let wrangler = std::env::var("BLOG_WRANGLER").unwrap_or_else(|_| "node_modules/.bin/wrangler".into());
        Self { options, wrangler }
    }

    fn place(&self) -> &'static str {
        if self.options.remote { "the account's" } else { "local dev" }
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

    fn run(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = self.command(args);
        let output = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e} (run `make tools` to install wrangler)", self.wrangler))?;
        if !output.status.success() {
            return Err(format!(
                "wrangler kv {} failed ({}):\n{}{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Every key with its stored hash.
    fn list(&self) -> Result<BTreeMap<String, Option<KeyMeta>>, String> {
        #[derive(serde::Deserialize)]
        struct Key {
            name: String,
            metadata: Option<KeyMeta>,
        }
        let out = self.run(&["key", "list"])?;
        let json = out.find('[').map(|i| &out[i..]).unwrap_or(&out);
        let keys: Vec<Key> =
            serde_json::from_str(json).map_err(|e| format!("cannot read the key list from wrangler: {e}\n{out}"))?;
        Ok(keys.into_iter().map(|k| (k.name, k.metadata)).collect())
    }

    fn bulk_put(&self, entries: &[serde_json::Value]) -> Result<(), String> {
        let file = TempFile::write("put", &serde_json::to_vec(entries).expect("entries serialise"))?;
        self.run(&["bulk", "put", file.path_str()]).map(drop)
    }

    fn bulk_delete(&self, keys: &[String]) -> Result<(), String> {
        let file = TempFile::write("delete", &serde_json::to_vec(keys).expect("keys serialise"))?;
        self.run(&["bulk", "delete", file.path_str(), "--force"]).map(drop)
    }
}

/// A file for wrangler's bulk commands, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn write(kind: &str, bytes: &[u8]) -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("blog-sync-{kind}-{}.json", std::process::id()));
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
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

