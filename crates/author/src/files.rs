//! Files on the author's machine that a sync keeps (caches, the dates lock): written whole
//! or not at all, and caches ended by a line that says they were.

use std::path::Path;

/// Writes `bytes` to `path` through a file beside it, then renamed over it, creating the
/// folder first: an interrupted write leaves the old file or none, never half of one.
pub fn write_whole(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let aside = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let written = std::fs::write(&aside, bytes).and_then(|()| std::fs::rename(&aside, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&aside);
    }
    written
}

/// The last line of a file [`keep`] wrote: a file cut short anywhere lacks it.
const KEPT_END: &str = "end\n";

/// Keeps `text` in `path` for the next sync, ended by [`KEPT_END`], whole or not at all. It
/// is only a speed-up: one that cannot be written is only not kept, and `what` says so.
pub fn keep(path: &Path, mut text: String, what: &str) {
    text.push_str(KEPT_END);
    if let Err(e) = write_whole(path, text) {
        eprintln!("  {what}: cannot keep {}: {e}", path.display());
    }
}

/// The text [`keep`] kept in `path`, without its end line: none when the file is missing,
/// unreadable or cut short.
pub fn kept(path: &Path) -> Option<String> {
    let mut text = std::fs::read_to_string(path).ok()?;
    let len = text.strip_suffix(KEPT_END)?.len();
    text.truncate(len);
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_file_whole_in_a_new_folder_and_leaves_nothing_beside_it() {
        let dir = std::env::temp_dir().join(format!("blog-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("state/kept.txt");
        write_whole(&path, "one").unwrap();
        write_whole(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kept.txt"]);
        // A folder in the way is an error, and nothing is left beside it.
        std::fs::create_dir_all(dir.join("state/blocked.txt")).unwrap();
        assert!(write_whole(&dir.join("state/blocked.txt"), "x").is_err());
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            2
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_kept_text_reads_back_only_when_whole() {
        let dir = std::env::temp_dir().join(format!("blog-kept-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("kept.txt");
        assert_eq!(kept(&path), None);
        keep(&path, "header\nline\n".into(), "test");
        assert_eq!(kept(&path).as_deref(), Some("header\nline\n"));
        let whole = std::fs::read_to_string(&path).unwrap();
        for cut in 0..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert_eq!(kept(&path), None, "cut at {cut}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
