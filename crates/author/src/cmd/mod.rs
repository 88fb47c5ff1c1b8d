//! The commands of `blog`, one module each, over the library. What they share: where the
//! site's sources are, and loading and validating them with every problem printed.

pub mod check;
pub mod import;
pub mod new;
pub mod preview;
pub mod serve;
pub mod stats;
pub mod sync;

use blog_author::dates;
use blog_author::diagnostic::Diagnostic;
use blog_author::limits;
use blog_author::publish::{self, Highlighting, Kept};
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
        report(diagnostic);
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

/// The command's clock, read once per run: every load in one run dates changes alike.
/// `blog serve` starts a run for each sync ([`new_run`]).
fn now() -> blog_core::date::Timestamp {
    let mut now = NOW.lock().unwrap_or_else(|e| e.into_inner());
    *now.get_or_insert_with(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    })
}

static NOW: std::sync::Mutex<Option<blog_core::date::Timestamp>> = std::sync::Mutex::new(None);

/// Starts a new run: the next [`now`] reads the clock again.
fn new_run() {
    *NOW.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

thread_local! {
    /// What [`hearing`] collects, while it runs.
    static HEARD: std::cell::RefCell<Option<Vec<Diagnostic>>> = const { std::cell::RefCell::new(None) };
}

/// Prints a problem for the author (standard error) and keeps it for [`hearing`].
fn report(diagnostic: &Diagnostic) {
    eprintln!("{diagnostic}");
    HEARD.with(|heard| {
        if let Some(heard) = heard.borrow_mut().as_mut() {
            heard.push(diagnostic.clone());
        }
    });
}

/// Runs `f` on this thread, and returns what it returned with every problem it reported.
fn hearing<T>(f: impl FnOnce() -> T) -> (T, Vec<Diagnostic>) {
    HEARD.with(|heard| *heard.borrow_mut() = Some(Vec::new()));
    let out = f();
    let heard = HEARD.with(|heard| heard.borrow_mut().take().unwrap_or_default());
    (out, heard)
}

/// The records a sync would publish and their index; fails, printing each problem, when
/// Workers KV would refuse any of them. What `kept` holds from the last sync is taken
/// where it still holds, and what this one works out is left there.
fn prepare(
    site: &Site,
    settings: Settings,
    content: &Content,
    drafts: bool,
    highlighting: Highlighting,
    kept: &mut Kept,
) -> Result<(Vec<SourcePost>, SiteIndex), String> {
    let (mut posts, index) = publish::prepare(content, settings, drafts, highlighting);
    // Left out only to measure what related posts cost a sync (see `blog sync --help`).
    if std::env::var_os("BLOG_NO_RELATED").is_none() {
        publish::relate(&mut posts, now(), kept);
    }
    let problems = limits::check(&posts, &index, &site.content);
    if !problems.is_empty() {
        for problem in &problems {
            report(problem);
        }
        return Err(publish::nothing_written(problems.len()));
    }
    Ok((posts, index))
}
