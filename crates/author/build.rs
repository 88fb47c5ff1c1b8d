//! Names what turns code into highlighted HTML (`BLOG_HIGHLIGHTER_ID`): the highlighter's
//! source, the core's code-block extraction, and the versions of the grammar and regex
//! crates. A post's hash covers this name instead of its highlighted HTML, so `blog sync`
//! knows a post is unchanged without highlighting it, and a different highlighter
//! republishes every post with code.

use sha2::{Digest, Sha256};
use std::path::Path;

/// The crates whose versions shape the highlighted HTML.
const CRATES: [&str; 4] = ["syntect", "two-face", "fancy-regex", "pulldown-latex"];

fn main() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [
        here.join("src/highlight.rs"),
        here.join("src/math.rs"),
        here.join("../core/src/markdown.rs"),
    ];
    let lock = here.join("../../Cargo.lock");
    let mut hasher = Sha256::new();
    for path in &sources {
        println!("cargo:rerun-if-changed={}", path.display());
        hasher.update(std::fs::read(path).expect("the highlighter's sources are readable"));
    }
    println!("cargo:rerun-if-changed={}", lock.display());
    let lock = std::fs::read_to_string(lock).unwrap_or_default();
    for name in CRATES {
        let entry = format!("name = \"{name}\"\nversion = ");
        let version = lock
            .find(&entry)
            .and_then(|at| lock[at + entry.len()..].lines().next())
            .unwrap_or("unknown");
        hasher.update(format!("{name} {version}\n"));
    }
    let digest = hasher.finalize();
    let id: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=BLOG_HIGHLIGHTER_ID={id}");
}
