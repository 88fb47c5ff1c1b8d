//! Stamps the Worker with `BLOG_BUILD_ID`, the fingerprint of what renders its pages (see
//! `src/build_id.rs` for what it covers and why).

#[path = "src/build_id.rs"]
mod build_id;

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for input in build_id::INPUTS {
        println!("cargo:rerun-if-changed={input}");
    }
    // A pinned id, for comparing two builds' output byte for byte (tests/tools/same-output.sh).
    println!("cargo:rerun-if-env-changed=BLOG_BUILD_ID_PIN");
    let id = match std::env::var("BLOG_BUILD_ID_PIN") {
        Ok(pin) if !pin.is_empty() => pin,
        _ => build_id::build_id(root, env!("CARGO_PKG_VERSION")),
    };
    println!("cargo:rustc-env=BLOG_BUILD_ID={id}");
}
