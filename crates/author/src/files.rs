//! Files on the author's machine that a sync keeps (caches, the dates lock): written whole
//! or not at all.

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
}
