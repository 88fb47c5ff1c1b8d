//! What `blog serve` watches: the content folder and the settings file, polled. A snapshot
//! is every file's size and modification time; two snapshots that differ mean a save.
//!
//! Polling, not the operating system's notifications: it needs no dependency, works the same
//! on every file system (a mounted or network folder included), and sees a save however the
//! editor writes it (in place, or a new file renamed over the old). A snapshot of the 8 posts
//! here takes about 0.1 ms, of 10,000 about 20 ms, against a poll every 50 ms.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Every watched file, with its size and modification time.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, (u64, Option<SystemTime>)>);

impl Snapshot {
    /// The files under each of `roots` (a folder, walked, or a file), as they are now. What
    /// cannot be read counts as absent; editors' scratch files are left out.
    pub fn take(roots: &[&Path]) -> Self {
        let mut files = BTreeMap::new();
        for root in roots {
            walk(root, &mut files);
        }
        Snapshot(files)
    }

    /// The files added, removed or changed from `self` to `later`.
    pub fn changes(&self, later: &Snapshot) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = later
            .0
            .iter()
            .filter(|(path, stamp)| self.0.get(*path) != Some(stamp))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            self.0
                .keys()
                .filter(|path| !later.0.contains_key(*path))
                .cloned(),
        );
        changed.sort();
        changed
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn walk(path: &Path, files: &mut BTreeMap<PathBuf, (u64, Option<SystemTime>)>) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !is_scratch(&path) {
                walk(&path, files);
            }
        }
    } else {
        files.insert(path.to_path_buf(), (meta.len(), meta.modified().ok()));
    }
}

/// Files editors and the system write beside the real ones, which a save does not mean:
/// hidden files (`.post.md.swp`, `.DS_Store`), backups (`post.md~`) and Emacs locks (`#post.md#`).
pub fn is_scratch(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.starts_with('.') || name.ends_with('~') || name.starts_with('#') || name.ends_with(".tmp")
}

/// How a burst of saves becomes one sync: after the first change, wait until nothing has
/// changed for [`QUIET`], then sync once.
pub const POLL: Duration = Duration::from_millis(50);
pub const QUIET: Duration = Duration::from_millis(100);

/// Decides, poll by poll, when a burst of saves is over.
#[derive(Debug, Default)]
pub struct Burst {
    /// When the last change was seen, if a burst is under way (ms on the caller's clock).
    last_change: Option<u64>,
}

impl Burst {
    /// Feeds one poll at `now` (ms) that saw changes or not; true when the burst is over and
    /// a sync should run now.
    pub fn poll(&mut self, now: u64, changed: bool) -> bool {
        if changed {
            self.last_change = Some(now);
            return false;
        }
        match self.last_change {
            Some(at) if now.saturating_sub(at) >= QUIET.as_millis() as u64 => {
                self.last_change = None;
                true
            }
            _ => false,
        }
    }

    /// Whether saves are waiting for their sync.
    pub fn pending(&self) -> bool {
        self.last_change.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_saves_makes_one_sync_after_a_quiet_spell() {
        let mut burst = Burst::default();
        assert!(!burst.poll(0, false), "nothing saved: nothing to do");
        assert!(!burst.poll(50, true));
        assert!(!burst.poll(100, true), "still saving");
        assert!(!burst.poll(150, false), "only 50 ms quiet");
        assert!(burst.pending());
        assert!(burst.poll(200, false), "100 ms quiet: sync");
        assert!(!burst.poll(250, false), "and only once");
        assert!(!burst.pending());
    }

    #[test]
    fn snapshots_see_added_changed_and_removed_files_but_not_scratch_files() {
        let dir = std::env::temp_dir().join(format!("blog-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("images")).unwrap();
        let settings = dir.join("site.toml");
        std::fs::write(dir.join("a.md"), "one").unwrap();
        std::fs::write(&settings, "title = \"x\"").unwrap();
        let content = dir.join("images");
        let roots = [dir.as_path(), settings.as_path()];
        let before = Snapshot::take(&roots);
        assert_eq!(before.len(), 2, "{before:?}");
        std::fs::write(dir.join("a.md"), "one two").unwrap();
        std::fs::write(content.join("b.png"), "png").unwrap();
        std::fs::write(dir.join(".a.md.swp"), "scratch").unwrap();
        std::fs::write(dir.join("a.md~"), "backup").unwrap();
        let after = Snapshot::take(&roots);
        assert_eq!(
            before.changes(&after),
            vec![dir.join("a.md"), content.join("b.png")]
        );
        std::fs::remove_file(content.join("b.png")).unwrap();
        let later = Snapshot::take(&roots);
        assert_eq!(after.changes(&later), vec![content.join("b.png")]);
        assert!(later.changes(&later).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scratch_files_are_recognised() {
        for name in [
            ".post.md.swp",
            "post.md~",
            "#post.md#",
            ".DS_Store",
            "x.tmp",
        ] {
            assert!(is_scratch(Path::new(name)), "{name}");
        }
        assert!(!is_scratch(Path::new("content/post.md")));
    }
}
