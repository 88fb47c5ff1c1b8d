//! The build's fingerprint, `BLOG_BUILD_ID`: part of every ETag and page cache key, so it
//! must change when a deploy can change what a page shows, and only then. It covers what
//! renders pages: the Worker (`src/`), the core (`crates/core`: sources, build script,
//! manifest, template settings) and `templates/`. The author's tools, the tests, the
//! benchmark and each module's own unit tests (written last, after `#[cfg(test)]`) are left
//! out, so editing them leaves every reader's cached pages alone.
//!
//! Shared by the Worker's build script (which stamps the id) and a host test
//! (`tests/build_id.rs`) that holds the rule.

use std::hash::Hasher;
use std::path::{Path, PathBuf};

/// What a page is made from, relative to the workspace root.
pub const INPUTS: [&str; 5] = [
    "src",
    "crates/core/src",
    "crates/core/build.rs",
    "crates/core/Cargo.toml",
    "templates",
];

/// FNV-1a: stable across compilers and platforms, unlike `DefaultHasher`.
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn visit(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        if dir.is_file() {
            files.push(dir.to_path_buf());
        }
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// A Rust source without its unit tests: everything before a line `#[cfg(test)]` that opens
/// `mod tests`. Other files count whole.
pub fn without_tests(path: &Path, bytes: &[u8]) -> usize {
    if path.extension().is_none_or(|e| e != "rs") {
        return bytes.len();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.len();
    };
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if line.trim_end() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            return offset;
        }
        offset += line.len();
    }
    bytes.len()
}

/// Every file the id covers under `root`, sorted, as paths relative to `root`.
pub fn inputs(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for input in INPUTS {
        visit(&root.join(input), &mut files);
    }
    let mut files: Vec<PathBuf> = files
        .into_iter()
        .filter_map(|f| f.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    files.sort();
    files
}

/// The id of the tree at `root`, with the package version.
pub fn build_id(root: &Path, version: &str) -> String {
    let mut hash = Fnv::default();
    for file in inputs(root) {
        let bytes = std::fs::read(root.join(&file)).unwrap_or_default();
        hash.write(file.to_string_lossy().as_bytes());
        hash.write(&bytes[..without_tests(&file, &bytes)]);
    }
    hash.write(version.as_bytes());
    format!("{:016x}", hash.finish())
}
