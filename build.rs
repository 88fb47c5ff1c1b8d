//! Stamps the build with a fingerprint of everything that shapes a rendered page (the Rust
//! sources and the templates), so ETags and cache keys change when a deploy changes output;
//! and fingerprints the stylesheet and the favicon, which pages link with `?v=` so browsers
//! may keep them for a year.

use std::hash::Hasher;
use std::path::Path;

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// FNV-1a: stable across compilers and platforms, unlike `DefaultHasher`.
struct Fnv(u64);

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

fn main() {
    let mut files = Vec::new();
    for dir in ["src", "templates"] {
        println!("cargo:rerun-if-changed={dir}");
        visit(Path::new(dir), &mut files);
    }
    files.sort();
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    for file in &files {
        hash.write(file.to_string_lossy().as_bytes());
        hash.write(&std::fs::read(file).unwrap_or_default());
    }
    hash.write(env!("CARGO_PKG_VERSION").as_bytes());
    println!("cargo:rustc-env=BLOG_BUILD_ID={:016x}", hash.finish());
    for (name, parts) in [
        ("BLOG_STYLE_VERSION", &["templates/style.css", "templates/highlight.css"][..]),
        ("BLOG_FAVICON_VERSION", &["templates/favicon.svg"][..]),
    ] {
        let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
        for part in parts {
            hash.write(&std::fs::read(part).unwrap_or_default());
        }
        println!("cargo:rustc-env={name}={:08x}", hash.finish() as u32);
    }
}
