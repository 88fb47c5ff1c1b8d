//! `blog import --from ENGINE DIR`: another engine's blog copied into the content folder, then
//! checked as `blog check` would.

use super::Site;
use blog_author::import::{self, Engine};
use std::path::Path;

pub const HELP: &str = "\
Copy the posts of a blog made with Hugo, Jekyll, Zola or Astro, and the images they use, into
the content folder, in this blog's front matter. Every old URL a post had (the engine's
permalink, its aliases or redirect_from) becomes an alias, so old links keep working.
Prints, per post, what it could not carry over (a field, a shortcode, a Liquid tag, an MDX
component) as `file:line: warning: ...`, then runs `blog check` on the result. Writes
nothing at all when any file it would write already exists.

Usage: blog import [OPTIONS] --from <ENGINE> <DIR>

Arguments:
  <DIR>  The other blog's folder: its root, where its settings file is

Options:
      --from <ENGINE>    hugo, jekyll, zola or astro
      --content <DIR>    The posts folder to import into [default: content]
      --settings <FILE>  The site settings, for the check at the end [default: site.toml]
      --dry-run          Print what would be imported and write nothing
  -h, --help             Print help
";

pub fn run(site: &Site, from: &str, dir: &Path, dry_run: bool) -> Result<(), String> {
    let engine = Engine::named(from).ok_or_else(|| format!("--from {from}: no such engine"))?;
    // A Jekyll draft has no date: it is dated today, on the clock `blog new` uses.
    let today = {
        let (year, month, day) = blog_core::date::civil_from_days(super::now().div_euclid(86_400));
        blog_core::date::DateTime::new(year, month, day, (0, 0, 0), None)?
    };
    let plan = import::plan(engine, dir, today)?;
    for (file, why) in &plan.skipped {
        println!("skipped {file}: {why}");
    }
    for note in &plan.notes {
        super::report(note);
    }
    if !plan.errors.is_empty() {
        for error in &plan.errors {
            super::report(error);
        }
        return Err(format!(
            "nothing written: {} problems in {} stop the import",
            plan.errors.len(),
            dir.display()
        ));
    }
    if plan.posts.is_empty() {
        return Err(format!(
            "{} holds no {} posts: nothing to import",
            dir.display(),
            engine.name()
        ));
    }
    let taken = import::conflicts(&plan, &site.content);
    if !taken.is_empty() {
        for path in &taken {
            eprintln!("{}: already exists", path.display());
        }
        return Err(format!(
            "nothing written: {} files the import would write already exist; move them or import into another --content folder",
            taken.len()
        ));
    }
    for post in &plan.posts {
        let old = match post.aliases.len() {
            0 => String::new(),
            1 => format!(", old URL {} kept", post.aliases[0]),
            n => format!(", {n} old URLs kept"),
        };
        let draft = if post.draft { " (draft)" } else { "" };
        println!(
            "{} -> {}{draft}{old}",
            post.source,
            site.content.join(format!("{}.md", post.slug)).display()
        );
    }
    let verb = if dry_run { "would import" } else { "imported" };
    println!(
        "{verb} {} posts and {} files from {}; {} things to look at",
        plan.posts.len(),
        plan.copies.len(),
        dir.display(),
        plan.notes.len()
    );
    if dry_run {
        return Ok(());
    }
    import::write(&plan, &site.content)?;
    super::check::run(site, false)
        .map_err(|e| format!("{e}: the import is written; fix the problems above, then sync"))
}
