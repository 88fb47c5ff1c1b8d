//! `blog new "Title"`: a post file to start writing in, dated now, as a draft.

use super::Site;
use blog_author::source;

pub const HELP: &str = "\
Create a post from its title: <DIR>/<slug>.md, with the slug made from the title, dated now
on the site's clock and marked as a draft. Prints the new file's path; never overwrites a
post that is already there.

Usage: blog new [OPTIONS] <TITLE>

Arguments:
  <TITLE>  The post's title, quoted: \"How I Cut Our Build Time in Half\"

Options:
      --content <DIR>    The posts folder, created if missing [default: content]
      --settings <FILE>  The site settings, for the site's time zone [default: site.toml]
  -h, --help             Print help
";

pub fn run(site: &Site, title: Option<&str>) -> Result<(), String> {
    let title = title
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("usage: blog new \"Title\"")?;
    let slug = blog_core::slug::slugify(title);
    blog_core::content::validate_slug(&slug)
        .map_err(|e| format!("cannot make a file name from the title: {e}"))?;
    let path = site.content.join(format!("{slug}.md"));
    if path.exists() {
        return Err(format!(
            "{} already exists: choose another title or edit that post",
            path.display()
        ));
    }
    // Now, on the site's clock, with its offset written out so the date means one instant.
    let settings = source::load_settings(&site.settings).map_err(|d| d.to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    let now = now.as_secs() as i64;
    let offset = source::utc_offset_minutes(&source::time_zone(&settings), now);
    let date = blog_core::date::format_rfc3339_at(now, offset);
    std::fs::create_dir_all(&site.content)
        .map_err(|e| format!("cannot create {}: {e}", site.content.display()))?;
    std::fs::write(&path, source::new_post_text(title, &date))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}
