//! YAML front matter, read for now as not supported.

use crate::diagnostic::Diagnostic;
use crate::frontmatter::Field;

pub(crate) fn fields(
    file: &str,
    _text: &str,
    _closing: usize,
) -> Result<Vec<Field>, Vec<Diagnostic>> {
    Err(vec![Diagnostic::error(file, 1, "YAML front matter (`---`) is not supported: open and close the front matter with `+++` and write TOML (title = \"...\")")])
}
