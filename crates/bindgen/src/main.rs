//! `blog-bindgen <input.wasm> <out-dir>`: the wasm-bindgen step of the Worker's build.
//!
//! It writes `index.js` and `index_bg.wasm` into `out-dir`, exactly as
//! `wasm-bindgen --target module --no-typescript --out-name index
//! --experimental-reset-state-function --force-enable-abort-handler` does, and then turns the
//! glue's `import source` of its wasm (a source phase import, which wrangler's bundler does not
//! read yet) into the plain import of a wasm module that wrangler and workerd take.
//!
//! The reset-state function and the abort handler are the Worker's panic recovery: after a
//! panic or an abort, `src/entry.mjs` calls `__wbg_reset_state` and the next request runs on a
//! fresh instance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wasm_bindgen_cli_support::Bindgen;

const SOURCE_IMPORT: &str = "import source wasmModule from \"./index_bg.wasm\";";
const PLAIN_IMPORT: &str = "import wasmModule from \"./index_bg.wasm\";";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: blog-bindgen <input.wasm> <out-dir>");
        return ExitCode::from(2);
    };
    match run(Path::new(input), Path::new(out_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("blog-bindgen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &Path, out_dir: &Path) -> Result<(), String> {
    let mut bindgen = Bindgen::new();
    bindgen
        .module(true)
        .map_err(|e| format!("{e:#}"))?
        .input_path(input)
        .out_name("index")
        .typescript(false)
        .reset_state_function(true)
        .force_enable_abort_handler(true);
    bindgen
        .generate(out_dir)
        .map_err(|e| format!("{}: {e:#}", input.display()))?;
    let glue: PathBuf = out_dir.join("index.js");
    let js = std::fs::read_to_string(&glue).map_err(|e| format!("{}: {e}", glue.display()))?;
    let js = plain_wasm_import(&js).ok_or_else(|| {
        format!(
            "{}: expected exactly one line `{SOURCE_IMPORT}`",
            glue.display()
        )
    })?;
    std::fs::write(&glue, js).map_err(|e| format!("{}: {e}", glue.display()))
}

/// The glue with its one source phase import of the wasm made a plain import, or `None` when
/// the glue does not have exactly one such line (a wasm-bindgen that writes its glue
/// differently must be looked at, not patched blindly).
fn plain_wasm_import(js: &str) -> Option<String> {
    if js.lines().filter(|line| *line == SOURCE_IMPORT).count() != 1 {
        return None;
    }
    Some(
        js.lines()
            .map(|line| {
                if line == SOURCE_IMPORT {
                    PLAIN_IMPORT
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + if js.ends_with('\n') { "\n" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_source_import_becomes_a_plain_import() {
        let js = format!("let a;\n{SOURCE_IMPORT}\nexport {{ a }};\n");
        assert_eq!(
            plain_wasm_import(&js).unwrap(),
            format!("let a;\n{PLAIN_IMPORT}\nexport {{ a }};\n")
        );
    }

    #[test]
    fn glue_without_it_or_with_two_is_refused() {
        assert_eq!(plain_wasm_import("let a;\n"), None);
        assert_eq!(
            plain_wasm_import(&format!("{SOURCE_IMPORT}\n{SOURCE_IMPORT}\n")),
            None
        );
        // Only a whole line counts: a comment quoting it is not the import.
        assert_eq!(plain_wasm_import(&format!("// {SOURCE_IMPORT}\n")), None);
    }

    /// The version of a package in the workspace's Cargo.lock.
    fn locked_version(lock: &str, package: &str) -> String {
        let entry = format!("name = \"{package}\"\nversion = \"");
        let at = lock
            .find(&entry)
            .unwrap_or_else(|| panic!("{package} is not in Cargo.lock"));
        let rest = &lock[at + entry.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    #[test]
    fn the_glue_writer_is_the_version_of_the_library_the_worker_links() {
        let lock = include_str!("../../../Cargo.lock");
        assert_eq!(
            locked_version(lock, "wasm-bindgen-cli-support"),
            locked_version(lock, "wasm-bindgen")
        );
    }
}
