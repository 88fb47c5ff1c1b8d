//! Fingerprints the stylesheet and the favicon, which pages link with `?v=` so browsers may
//! keep them for a year.

use std::hash::Hasher;

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
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
    println!("cargo:rerun-if-changed={}", templates.display());
    for (name, parts) in [
        ("BLOG_STYLE_VERSION", &["style.css", "highlight.css"][..]),
        ("BLOG_FAVICON_VERSION", &["favicon.svg"][..]),
    ] {
        let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
        for part in parts {
            hash.write(&std::fs::read(templates.join(part)).unwrap_or_default());
        }
        println!("cargo:rustc-env={name}={:08x}", hash.finish() as u32);
    }
}
