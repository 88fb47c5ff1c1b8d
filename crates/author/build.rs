//! Names what turns code into highlighted HTML (`BLOG_HIGHLIGHTER_ID`): the highlighter's
//! source, the core's code-block extraction, and the versions of the grammar and regex
//! crates. A post's hash covers this name instead of its highlighted HTML, so `blog sync`
//! knows a post is unchanged without highlighting it, and a different highlighter
//! republishes every post with code.

use sha2::{Digest, Sha256};
use std::path::Path;

/// The crates whose versions shape the highlighted HTML.
const CRATES: [&str; 4] = ["syntect", "two-face", "fancy-regex", "pulldown-latex"];

/// The crates whose versions shape a diagram: the parser, the layout and the SVG writer.
const DIAGRAM_CRATES: [&str; 4] = ["merman", "merman-core", "merman-render", "dugong"];

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
    hasher.update(versions(&lock, &CRATES));
    println!("cargo:rustc-env=BLOG_HIGHLIGHTER_ID={}", id_of(hasher));
    // What draws diagrams (`BLOG_DIAGRAMS_ID`), named only in the hash of a post that may
    // hold one: a new renderer redraws those posts and leaves the rest alone.
    let diagrams = here.join("src/diagram.rs");
    println!("cargo:rerun-if-changed={}", diagrams.display());
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(diagrams).expect("the diagram renderer's source is readable"));
    hasher.update(versions(&lock, &DIAGRAM_CRATES));
    println!("cargo:rustc-env=BLOG_DIAGRAMS_ID={}", id_of(hasher));
}

/// Each crate's version in Cargo.lock, a line each.
fn versions(lock: &str, crates: &[&str]) -> String {
    let mut out = String::new();
    for name in crates {
        let entry = format!("name = \"{name}\"\nversion = ");
        let version = lock
            .find(&entry)
            .and_then(|at| lock[at + entry.len()..].lines().next())
            .unwrap_or("unknown");
        out.push_str(&format!("{name} {version}\n"));
    }
    out
}

fn id_of(hasher: Sha256) -> String {
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
