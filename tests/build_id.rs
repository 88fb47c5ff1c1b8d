//! `BLOG_BUILD_ID` is in every ETag and page cache key: it must change with what renders
//! pages and with nothing else, or a deploy that only touched the CLI or a test would throw
//! away every reader's cached page.

#[path = "../src/build_id.rs"]
#[allow(dead_code)]
mod build_id;

use std::fs;
use std::path::{Path, PathBuf};

/// A small tree shaped like the workspace, in a fresh temporary folder.
struct Tree(PathBuf);

impl Tree {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let root = std::env::temp_dir().join(format!(
            "blog-build-id-{name}-{}-{nanos}",
            std::process::id()
        ));
        let tree = Tree(root);
        for (path, text) in [
            ("src/handlers.rs", "fn handle() {}\n"),
            (
                "crates/core/src/pages.rs",
                "pub fn page() {}\n\n#[cfg(test)]\nmod tests {\n    fn t() {}\n}\n",
            ),
            ("crates/core/build.rs", "fn main() {}\n"),
            (
                "crates/core/Cargo.toml",
                "[package]\nname = \"blog-core\"\n",
            ),
            ("templates/_layout.html", "<html>{{ body }}</html>\n"),
            ("crates/author/src/main.rs", "fn main() {}\n"),
            ("crates/core/tests/golden.rs", "#[test]\nfn t() {}\n"),
            ("tests/e2e/site.test.mjs", "test('x', () => {});\n"),
            ("bench/run.mjs", "run();\n"),
            ("README.md", "# Writing\n"),
        ] {
            tree.write(path, text);
        }
        tree
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.0.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn append(&self, path: &str, text: &str) {
        let old = fs::read_to_string(self.0.join(path)).unwrap();
        self.write(path, &format!("{old}{text}"));
    }

    fn id(&self) -> String {
        build_id::build_id(&self.0, "0.1.0")
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn editing_the_cli_the_tests_the_bench_or_docs_leaves_the_build_id_alone() {
    let tree = Tree::new("alone");
    let before = tree.id();
    tree.append("crates/author/src/main.rs", "fn another_command() {}\n");
    tree.append("tests/e2e/site.test.mjs", "test('y', () => {});\n");
    tree.append("crates/core/tests/golden.rs", "#[test]\nfn u() {}\n");
    tree.append("bench/run.mjs", "again();\n");
    tree.append("README.md", "More words.\n");
    tree.write("crates/author/src/cmd/sync.rs", "pub fn run() {}\n");
    assert_eq!(tree.id(), before);
}

#[test]
fn editing_a_modules_unit_tests_leaves_the_build_id_alone() {
    let tree = Tree::new("unit");
    let before = tree.id();
    tree.append("crates/core/src/pages.rs", "// and one more test\n");
    assert_eq!(tree.id(), before);
}

#[test]
fn editing_what_renders_pages_changes_the_build_id() {
    for (path, edit) in [
        ("src/handlers.rs", "fn answer() {}\n"),
        ("templates/_layout.html", "<footer></footer>\n"),
        ("crates/core/build.rs", "// fingerprints\n"),
        ("crates/core/Cargo.toml", "pulldown-cmark = \"0.14\"\n"),
    ] {
        let tree = Tree::new("renders");
        let before = tree.id();
        tree.append(path, edit);
        assert_ne!(tree.id(), before, "{path}");
    }
    let tree = Tree::new("core");
    let before = tree.id();
    let text = fs::read_to_string(tree.0.join("crates/core/src/pages.rs")).unwrap();
    tree.write(
        "crates/core/src/pages.rs",
        &text.replace("pub fn page() {}", "pub fn page() { todo() }"),
    );
    assert_ne!(tree.id(), before, "the core's code above its tests");
    let tree = Tree::new("new-template");
    let before = tree.id();
    tree.write("templates/search.html", "<form></form>\n");
    assert_ne!(tree.id(), before, "a new template");
    assert_ne!(
        tree.id(),
        build_id::build_id(&tree.0, "0.2.0"),
        "the package version"
    );
}

#[test]
fn the_repository_build_id_covers_the_worker_the_core_and_the_templates_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs = build_id::inputs(root);
    let has = |prefix: &str| inputs.iter().any(|p| p.starts_with(prefix));
    assert!(
        has("src/handlers.rs") && has("crates/core/src/pages.rs") && has("templates/_layout.html")
    );
    for outside in [
        "crates/author",
        "tests",
        "bench",
        "content",
        "crates/core/examples",
        "fuzz",
    ] {
        assert!(!has(outside), "{outside} is not part of the build id");
    }
}
