//! Problems found in the author's files, each pinned to a file and line with what to do about it.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in one file. Displays as `content/post.md:3: error: ...`, the form editors link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    pub fn warning(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    /// A problem only publishing makes one (no summary, a link to nothing…): an error for a
    /// post that is out or comes out by itself when due (a scheduled post is published by
    /// the sync that writes it), a warning for a draft, which may wait until it is ready.
    /// So a draft being written never stops `blog check` or `blog sync`.
    pub fn unless_draft(draft: bool, file: &str, line: usize, message: impl Into<String>) -> Self {
        if draft {
            Self::warning(
                file,
                line,
                format!(
                    "{} (fine in a draft; an error once it is published)",
                    message.into()
                ),
            )
        } else {
            Self::error(file, line, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line > 0 {
            write!(f, "{}:{}: {kind}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {kind}: {}", self.file, self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_as_editors_link_it() {
        assert_eq!(
            Diagnostic::error("content/a.md", 3, "bad").to_string(),
            "content/a.md:3: error: bad"
        );
        assert_eq!(
            Diagnostic::warning("site.toml", 0, "odd").to_string(),
            "site.toml: warning: odd"
        );
    }

    #[test]
    fn what_only_publishing_needs_is_a_warning_in_a_draft_and_an_error_otherwise() {
        let draft = Diagnostic::unless_draft(true, "content/a.md", 4, "`summary` is empty");
        assert!(!draft.is_error());
        assert_eq!(
            draft.to_string(),
            "content/a.md:4: warning: `summary` is empty (fine in a draft; an error once it is published)"
        );
        let out = Diagnostic::unless_draft(false, "content/a.md", 4, "`summary` is empty");
        assert!(out.is_error());
        assert_eq!(out.to_string(), "content/a.md:4: error: `summary` is empty");
        assert!(Severity::Warning < Severity::Error);
    }
}
