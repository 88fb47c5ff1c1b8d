//! `blog check`: everything `sync` validates, KV's size limits included, writing nothing.

use super::Site;
use blog_author::publish::{Highlighting, Kept};

pub const HELP: &str = "\
Validate site.toml and every post in the content folder as `blog sync` would, Workers KV's
size limits included, and write nothing. Each problem is printed as `file:line: error: ...`
(or `warning:`); any error makes the exit status 1.

Usage: blog check [OPTIONS]

Options:
      --content <DIR>    The posts folder [default: content]
      --settings <FILE>  The site settings [default: site.toml]
      --drafts           Check the size limits with drafts included, as `sync --drafts` publishes
  -h, --help             Print help
";

pub fn run(site: &Site, drafts: bool) -> Result<(), String> {
    let (settings, content) = super::load(site)?;
    super::prepare(
        site,
        settings,
        &content,
        drafts,
        Highlighting::WhereLimitsNeedIt,
        &mut Kept::default(),
    )?;
    let drafts = content.posts.iter().filter(|p| p.draft).count();
    let warnings = content.diagnostics.len();
    println!(
        "{} posts OK ({drafts} drafts, {warnings} warnings) and {} files in {}",
        content.posts.len(),
        content.files.len(),
        site.content.display()
    );
    Ok(())
}
