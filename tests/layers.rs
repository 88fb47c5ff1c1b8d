//! The layers point one way, checked from the workspace's own metadata: the core depends on
//! neither the Worker runtime nor the author's tools, the Worker not on the author's tools,
//! the author's tools not on the Worker runtime, and the build tool on none of them. A
//! dependency added the wrong way fails here, by name, before anyone reads the code.

use std::collections::BTreeMap;
use std::process::Command;

/// Each workspace package's name and the names of its direct dependencies (every kind and
/// target), as `cargo metadata` resolves them from the manifests.
fn workspace_dependencies() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let deps = package["dependencies"].as_array().unwrap();
            let names = deps
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (package["name"].as_str().unwrap().to_string(), names)
        })
        .collect()
}

fn depends(packages: &BTreeMap<String, Vec<String>>, package: &str, on: &str) -> bool {
    packages[package].iter().any(|d| d == on)
}

#[test]
fn the_core_depends_on_neither_the_worker_runtime_nor_the_authors_tools() {
    let packages = workspace_dependencies();
    for wrong in [
        "worker",
        "blog-author",
        "blog-worker",
        "wasm-bindgen",
        "js-sys",
        "web-sys",
    ] {
        assert!(
            !depends(&packages, "blog-core", wrong),
            "blog-core depends on {wrong}"
        );
    }
}

#[test]
fn the_worker_never_depends_on_the_authors_tools() {
    let packages = workspace_dependencies();
    assert!(depends(&packages, "blog-worker", "blog-core"));
    for wrong in [
        "blog-author",
        "syntect",
        "jiff",
        "toml",
        "two-face",
        "imagesize",
    ] {
        assert!(
            !depends(&packages, "blog-worker", wrong),
            "blog-worker depends on {wrong}"
        );
    }
}

#[test]
fn the_authors_tools_build_on_the_core_and_never_on_the_worker() {
    let packages = workspace_dependencies();
    assert!(depends(&packages, "blog-author", "blog-core"));
    for wrong in ["worker", "blog-worker"] {
        assert!(
            !depends(&packages, "blog-author", wrong),
            "blog-author depends on {wrong}"
        );
    }
}

#[test]
fn the_build_tool_stands_apart_from_the_blog() {
    let packages = workspace_dependencies();
    for blog in ["blog-core", "blog-author", "blog-worker"] {
        assert!(
            !depends(&packages, "blog-bindgen", blog),
            "blog-bindgen depends on {blog}"
        );
        assert!(
            !depends(&packages, blog, "blog-bindgen"),
            "{blog} depends on blog-bindgen"
        );
    }
    assert!(!depends(&packages, "blog-bindgen", "worker"));
}
