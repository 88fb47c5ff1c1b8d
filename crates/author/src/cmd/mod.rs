//! The commands of `blog`, one module each, over the library. What they share: where the
//! site's sources are, and loading and validating them with every problem printed.

pub mod check;
pub mod new;
pub mod sync;

use blog_author::dates;
use blog_author::limits;
use blog_author::publish::{self, Highlighting};
use blog_author::source::{self, Content, SourcePost};
use blog_core::content::SiteIndex;
use blog_core::settings::Settings;
use std::path::PathBuf;

/// The site's sources, which every command reads.
#[derive(Debug)]
pub struct Site {
    /// The posts folder (`--content`).
    pub content: PathBuf,
    /// The site settings (`--settings`).
    pub settings: PathBuf,
}

/// Loads and validates the settings and the content folder, printing every problem, warnings
/// too. Fails on any error.
fn load(site: &Site) -> Result<(Settings, Content), String> {
    let settings = source::load_settings(&site.settings);
    let mut content = source::load_dir(&site.content)
        .map_err(|e| format!("cannot read {}: {e}", site.content.display()))?;
    let settings_error = settings.as_ref().err();
    for diagnostic in settings_error.into_iter().chain(&content.diagnostics) {
        eprintln!("{diagnostic}");
    }
    let errors = content.errors().count() + usize::from(settings_error.is_some());
    if errors > 0 {
        return Err(publish::nothing_written(errors));
    }
    let settings = settings.expect("checked above");
    content.localise(&source::time_zone(&settings));
    // When each post's text last changed: the lock beside the content folder says, and
    // what changed since is dated now.
    let lock = dates::Lock::read(&dates::lock_path(&site.content)).map_err(|problem| {
        eprintln!("{problem}");
        publish::nothing_written(1)
    })?;
    let stamped = dates::stamp(
        &mut content.posts,
        |post| publish::file_key(&site.content, &post.file),
        &lock,
        now(),
    );
    if stamped != lock {
        content.dates_lock = Some(stamped.to_text());
    }
    Ok((settings, content))
}

/// The command's clock, read once: every load in one run dates changes alike.
fn now() -> blog_core::date::Timestamp {
    static NOW: std::sync::OnceLock<blog_core::date::Timestamp> = std::sync::OnceLock::new();
    *NOW.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    })
}

/// The records a sync would publish and their index; fails, printing each problem, when
/// Workers KV would refuse any of them.
fn prepare(
    site: &Site,
    settings: Settings,
    content: &Content,
    drafts: bool,
    highlighting: Highlighting,
) -> Result<(Vec<SourcePost>, SiteIndex), String> {
    let (mut posts, index) = publish::prepare(content, settings, drafts, highlighting);
    // Left out only to measure what related posts cost a sync (see `blog sync --help`).
    if std::env::var_os("BLOG_NO_RELATED").is_none() {
        publish::relate(&mut posts, now());
    }
    let problems = limits::check(&posts, &index, &site.content);
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Err(publish::nothing_written(problems.len()));
    }
    Ok((posts, index))
}
