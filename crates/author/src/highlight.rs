//! Syntax highlighting of fenced code blocks, done once on the author's machine at sync time.
//!
//! The worker never runs this: the grammars (about 1 MB) and their lazy start-up would weigh on
//! the wasm bundle and on the per-request CPU budget, so `blog sync` stores the highlighted HTML
//! in the post record instead. Tokens become `<span class="k">`-style runs with one-letter
//! classes (colours in `templates/highlight.css`), never inline styles, which the site's
//! Content-Security-Policy forbids.

use blog_core::html::escape_attr_into;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// Highlighted blocks by language and code.
type Blocks = HashMap<(String, String), Option<String>>;

/// Whether the shared highlighter keeps what it highlighted (see [`Highlighter::keep_blocks`]).
static KEEP_BLOCKS: AtomicBool = AtomicBool::new(false);

/// Scopes that give their class to everything inside them, so that a string's quotes, escapes
/// and placeholders make one `s` run rather than five spans. Checked in this order: a JSON or
/// YAML key is also a string, a commented-out string is a comment.
const ENCLOSING: &[(&str, &str)] = &[
    ("comment", "c"),
    ("markup.deleted", "d"),
    ("markup.inserted", "i"),
    ("meta.mapping.key", "a"),
    ("meta.object-literal.key", "a"),
    ("entity.name.tag", "a"),
    ("meta.annotation", "a"),
    ("string", "s"),
];

/// Scopes that open code nested in another construct (`${x}` in a template string, `$HOME` in a
/// shell string, bash in a Dockerfile `RUN`): enclosing scopes outside them no longer apply.
const NESTED: &[&str] = &[
    "source",
    "meta.embedded",
    "meta.interpolation",
    "meta.template.expression",
    "meta.group.expansion",
];

/// Otherwise the innermost scope matching one of these prefixes decides; within one scope the
/// first match wins, so more specific prefixes come first. Grammars disagree on some names,
/// hence the per-language lines.
const TOKENS: &[(&str, &str)] = &[
    // `new` and Dockerfile's `ENTRYPOINT`/`CMD` are scoped as operators but read as keywords.
    ("keyword.operator.new", "k"),
    ("keyword.operator.dockerfile", "k"),
    ("keyword.operator", "o"),
    ("keyword", "k"),
    // Go's grammar uses `storage.type` for type names, others for `let`, `fn`, `int`.
    ("storage.type.go", "t"),
    ("storage", "k"),
    ("constant", "n"),
    ("entity.name.function", "f"),
    ("variable.function", "f"),
    ("support.function", "f"),
    ("support.macro", "f"),
    ("entity.other.attribute-name", "a"),
    ("support.type.property-name", "a"),
    ("variable.annotation", "a"),
    ("entity.name", "t"),
    ("entity.other.inherited-class", "t"),
    ("support.type", "t"),
    ("support.class", "t"),
    ("variable.parameter", "v"),
    ("variable.language", "v"),
    ("variable.other.readwrite.assignment.shell", "v"),
    ("meta.group.expansion.parameter", "v"),
    ("variable.stage-name", "v"),
    ("markup.heading", "k"),
    ("meta.diff", "k"),
];

/// What authors write after the fence, mapped to a grammar name, for the names that are not
/// already a file extension or grammar name of the set (those are found without a table).
const ALIASES: &[(&str, &str)] = &[
    ("rust", "Rust"),
    ("golang", "Go"),
    ("shell", "Bourne Again Shell (bash)"),
    ("console", "Bourne Again Shell (bash)"),
    ("shell-session", "Bourne Again Shell (bash)"),
    ("dockerfile", "Dockerfile (with bash)"),
    ("docker", "Dockerfile (with bash)"),
    ("containerfile", "Dockerfile (with bash)"),
    ("typescript", "TypeScript"),
    ("javascript", "JavaScript"),
    ("jsx", "JavaScript"),
    ("mjs", "JavaScript"),
    ("cjs", "JavaScript"),
    ("jsonc", "JSON"),
    ("json5", "JSON"),
    ("python", "Python"),
    ("c", "C"),
    ("h", "C"),
    ("cpp", "C++"),
    ("c++", "C++"),
    ("cxx", "C++"),
    ("hpp", "C++"),
    ("patch", "Diff"),
    ("ruby", "Ruby"),
    ("terraform", "Terraform"),
    ("kotlin", "Kotlin"),
    ("csharp", "C#"),
    ("c#", "C#"),
    ("make", "Makefile"),
    ("makefile", "Makefile"),
];

/// Fence names that mean "not code" and so get no highlighting.
const PLAIN: &[&str] = &["text", "txt", "plain", "plaintext", "output", "log"];

/// Highlights code blocks; the grammars are loaded once and shared by every call.
pub struct Highlighter {
    syntaxes: SyntaxSet,
    enclosing: Vec<(Scope, &'static str)>,
    nested: Vec<Scope>,
    tokens: Vec<(Scope, &'static str)>,
    /// Blocks highlighted already, by language and code: kept by the shared highlighter,
    /// so a sync after a save highlights only the blocks that are new.
    memo: Option<Mutex<Blocks>>,
}

impl Default for Highlighter {
    fn default() -> Self {
        Self::new()
    }
}

impl Highlighter {
    /// Loads the grammars: syntect's set plus TOML, Dockerfile, TypeScript and others from
    /// `two-face`, in the pure-Rust regex flavour. Each grammar is decoded on first use.
    pub fn new() -> Self {
        Self::with_syntaxes(two_face::syntax::extra_newlines())
    }

    /// From now on the shared highlighter keeps each block it highlights, for a process that
    /// syncs again and again (`blog serve`); one sync alone does not need the memory.
    pub fn keep_blocks() {
        KEEP_BLOCKS.store(true, Ordering::Relaxed);
    }

    /// One highlighter for the whole process: a grammar decoded and its patterns compiled
    /// for one sync stay ready for the next (`blog serve` syncs on every save).
    pub fn shared() -> &'static Self {
        static SHARED: std::sync::OnceLock<Highlighter> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| Highlighter {
            memo: Some(Mutex::default()),
            ..Self::new()
        })
    }

    fn with_syntaxes(syntaxes: SyntaxSet) -> Self {
        let scopes = |table: &[(&str, &'static str)]| -> Vec<(Scope, &'static str)> {
            table
                .iter()
                .map(|&(name, class)| (scope(name), class))
                .collect()
        };
        Highlighter {
            enclosing: scopes(ENCLOSING),
            nested: NESTED.iter().map(|name| scope(name)).collect(),
            tokens: scopes(TOKENS),
            syntaxes,
            memo: None,
        }
    }

    /// The grammar set, for measuring its size.
    pub fn syntaxes(&self) -> &SyntaxSet {
        &self.syntaxes
    }

    /// Highlighted inner HTML for a code block (HTML-escaped text with `<span class="...">`
    /// tokens; for a Mermaid diagram, its figure: see [`crate::diagram::figure`]), or None when the language is unknown or empty (the caller then emits plain
    /// escaped code). `lang` is the fence's info string: `rust,ignore` counts as `rust`.
    pub fn highlight(&self, lang: &str, code: &str) -> Option<String> {
        let Some(memo) = self
            .memo
            .as_ref()
            .filter(|_| KEEP_BLOCKS.load(Ordering::Relaxed))
        else {
            return self.highlight_now(lang, code);
        };
        let key = (lang.to_string(), code.to_string());
        if let Some(html) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return html.clone();
        }
        let html = self.highlight_now(lang, code);
        memo.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, html.clone());
        html
    }

    fn highlight_now(&self, lang: &str, code: &str) -> Option<String> {
        // A diagram is drawn, not highlighted: its HTML is a whole figure (see
        // `RenderOptions::code_html`), or None, and it stays code.
        if blog_core::markdown::lang_of(lang) == blog_core::markdown::DIAGRAM_LANG {
            return crate::diagram::figure(code);
        }
        let syntax = self.syntax_for(lang)?;
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut out = Spans::with_capacity(code.len() * 2);
        for line in LinesWithEndings::from(code) {
            // A grammar error mid-block leaves the scopes unknown; plain code is better than
            // half-coloured code.
            let ops = state.parse_line(line, &self.syntaxes).ok()?;
            let mut start = 0;
            for (end, op) in &ops {
                if *end > start {
                    out.push(self.class(stack.as_slice()), &line[start..*end]);
                    start = *end;
                }
                stack.apply(op).ok()?;
            }
            out.push(self.class(stack.as_slice()), &line[start..]);
        }
        // Short class names keep the growth far below this; the bound makes it a promise,
        // so `blog check` can tell which posts highlighting could push over KV's limit.
        Some(out.finish()).filter(|html| html.len() <= code.len() * MAX_GROWTH)
    }

    /// The grammar for a fence's info string, if any.
    pub fn syntax_for(&self, lang: &str) -> Option<&SyntaxReference> {
        let lang = lang
            .split([',', ' ', '\t', '{'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if lang.is_empty() || PLAIN.contains(&lang.as_str()) {
            return None;
        }
        match ALIASES.iter().find(|(alias, _)| *alias == lang) {
            Some((_, name)) => self.syntaxes.find_syntax_by_name(name),
            None => self.syntaxes.find_syntax_by_token(&lang),
        }
    }

    /// The class of a token from its scope stack, innermost scope last; None for plain text.
    fn class(&self, stack: &[Scope]) -> Option<&'static str> {
        let from = stack
            .iter()
            .rposition(|s| self.nested.iter().any(|n| n.is_prefix_of(*s)))
            .unwrap_or(0);
        let stack = &stack[from..];
        for (prefix, class) in &self.enclosing {
            if stack.iter().any(|s| prefix.is_prefix_of(*s)) {
                return Some(class);
            }
        }
        stack.iter().rev().find_map(|s| {
            self.tokens
                .iter()
                .find(|(prefix, _)| prefix.is_prefix_of(*s))
                .map(|&(_, class)| class)
        })
    }
}

/// The most highlighting grows a block, in bytes of HTML per byte of code: past it the block
/// stays plain (the caller escapes it).
pub const MAX_GROWTH: usize = 48;

fn scope(name: &str) -> Scope {
    Scope::new(name).expect("the scope names in this file are valid")
}

/// The HTML being built: adjacent tokens of one class share a span, and whitespace joins
/// whichever span is open, so `pub fn` is one `k` span and a comment block is one `c` span.
struct Spans {
    html: String,
    open: Option<&'static str>,
}

impl Spans {
    fn with_capacity(capacity: usize) -> Self {
        Spans {
            html: String::with_capacity(capacity),
            open: None,
        }
    }

    fn push(&mut self, class: Option<&'static str>, text: &str) {
        if text.is_empty() {
            return;
        }
        if class != self.open && !(self.open.is_some() && text.trim().is_empty()) {
            if self.open.is_some() {
                self.html.push_str("</span>");
            }
            if let Some(class) = class {
                self.html.push_str("<span class=\"");
                self.html.push_str(class);
                self.html.push_str("\">");
            }
            self.open = class;
        }
        // Text, with `"` escaped too: this HTML is part of the post's hash, so escaping it
        // otherwise would republish every post with code.
        escape_attr_into(&mut self.html, text);
    }

    fn finish(mut self) -> String {
        if self.open.is_some() {
            self.html.push_str("</span>");
        }
        self.html
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn hl() -> &'static Highlighter {
        static HL: OnceLock<Highlighter> = OnceLock::new();
        HL.get_or_init(Highlighter::new)
    }

    fn highlight(lang: &str, code: &str) -> String {
        hl().highlight(lang, code)
            .unwrap_or_else(|| panic!("no grammar for {lang:?}"))
    }

    /// The visible text of highlighted HTML: tags dropped, entities decoded.
    fn text_of(html: &str) -> String {
        let mut text = String::new();
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            text.push_str(&rest[..lt]);
            rest = &rest[lt + rest[lt..].find('>').expect("tags are closed") + 1..];
        }
        text.push_str(rest);
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    /// Whether `html` has `text` as (part of) one span of `class`.
    fn has(html: &str, class: &str, text: &str) -> bool {
        let open = format!("<span class=\"{class}\">");
        html.split(&open)
            .skip(1)
            .any(|after| after.split("</span>").next().unwrap().contains(text))
    }

    #[track_caller]
    fn assert_has(html: &str, class: &str, text: &str) {
        assert!(
            has(html, class, text),
            "expected {text:?} in a {class:?} span in:\n{html}"
        );
    }

    const RUST: &str = r#"/// Says hello.
#[derive(Debug)]
pub struct Greeter<'a> { name: &'a str }

fn greet(g: &Greeter) -> String {
    // Build the greeting.
    let n = 42;
    format!("Hello, {}! {}", g.name, n)
}
"#;

    const GO: &str = r#"package main

import "fmt"

// Store keeps accounts.
type Store struct{ n int }

func (s *Store) Add(ctx context.Context, v int) error {
	if v > 0 && s != nil {
		fmt.Println("adding", v)
	}
	return nil
}
"#;

    const BASH: &str = r#"# Build and run
export NAME="world $HOME"
cargo build --release && ./target/release/blog sync
echo 'done' | grep -c done > /dev/null
"#;

    const TOML: &str = r#"[package]
name = "blog" # the crate
version = "0.1.0"
edition = 2021

[dependencies]
serde = { version = "1", features = ["derive"] }
"#;

    const DOCKERFILE: &str = r#"# syntax=docker/dockerfile:1
FROM golang:1.22-alpine AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
ENTRYPOINT ["/server"]
"#;

    const TYPESCRIPT: &str = r#"import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch(request: Request): Promise<Response> {
    const role = new URL(request.url).searchParams.get("role");
    // Two peers at most.
    return new Response(`role ${role}`, { status: 400 });
  }
}
"#;

    const SQL: &str = r#"-- The outbox, written in the same transaction.
CREATE TABLE outbox (
    id      UUID PRIMARY KEY,
    topic   TEXT NOT NULL DEFAULT 'none',
    retries INTEGER NOT NULL DEFAULT 0
);
SELECT id FROM outbox WHERE retries < 3;
"#;

    const YAML: &str = r#"# CI
name: deploy
on:
  push:
    branches: [main]
env:
  RETRIES: 3
  MESSAGE: "ship it"
"#;

    const JSON: &str = r#"{"name": "blog", "private": true, "version": 2}
"#;

    const DIFF: &str = r#"--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,2 +1,2 @@
-pub mod old;
+pub mod new;
 pub mod same;
"#;

    const HTML: &str = r#"<a href="/posts?a=1&b=2" class="x">Tom &amp; "Jerry" <b>bold</b></a>
"#;

    const SAMPLES: &[(&str, &str)] = &[
        ("rust", RUST),
        ("go", GO),
        ("bash", BASH),
        ("toml", TOML),
        ("dockerfile", DOCKERFILE),
        ("typescript", TYPESCRIPT),
        ("sql", SQL),
        ("yaml", YAML),
        ("json", JSON),
        ("diff", DIFF),
        ("html", HTML),
        (
            "python",
            "@cache\ndef f(x: int) -> str:\n    return f\"{x} <done>\"  # why\n",
        ),
        ("css", "pre .k { color: #cf222e; margin: 0 1px; }\n"),
        (
            "c",
            "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\n",
        ),
        (
            "cpp",
            "template <typename T> T twice(T x) { return x * 2; } // ok\n",
        ),
        (
            "javascript",
            "const a = [1, 2].map((x) => x * 2); // doubled\n",
        ),
    ];

    #[test]
    fn the_shared_highlighter_remembers_blocks_and_answers_as_a_fresh_one() {
        Highlighter::keep_blocks();
        let shared = Highlighter::shared();
        let code = "fn main() { let x = \"s\"; }\n";
        let fresh = Highlighter::new().highlight("rust", code);
        assert!(fresh.is_some());
        assert_eq!(shared.highlight("rust", code), fresh);
        assert_eq!(shared.highlight("rust", code), fresh, "from memory");
        let memo = shared.memo.as_ref().unwrap().lock().unwrap();
        assert!(memo.contains_key(&("rust".to_string(), code.to_string())));
        drop(memo);
        assert_eq!(shared.highlight("text", "plain"), None);
    }

    #[test]
    fn highlights_rust_keywords_strings_comments_and_names() {
        let html = highlight("rust", RUST);
        assert_has(&html, "k", "fn");
        assert_has(&html, "k", "let");
        assert_has(
            &html,
            "s",
            "\"Hello, {}! {}\"".replace('"', "&quot;").as_str(),
        );
        assert_has(&html, "c", "// Build the greeting.");
        assert_has(&html, "c", "/// Says hello.");
        assert_has(&html, "f", "greet");
        assert_has(&html, "f", "format!");
        assert_has(&html, "n", "42");
        assert_has(&html, "t", "Greeter");
        assert_has(&html, "a", "#[derive(Debug)]");
    }

    #[test]
    fn highlights_go() {
        let html = highlight("go", GO);
        assert_has(&html, "k", "func");
        assert_has(&html, "k", "return");
        assert_has(&html, "s", "&quot;fmt&quot;");
        assert_has(&html, "c", "// Store keeps accounts.");
        assert_has(&html, "t", "Store");
        assert_has(&html, "f", "Add");
        assert_has(&html, "v", "ctx");
        assert_has(&html, "n", "nil");
        assert_has(&html, "o", "&amp;&amp;");
    }

    #[test]
    fn highlights_bash_commands_options_and_variables_in_strings() {
        let html = highlight("bash", BASH);
        assert_has(&html, "c", "# Build and run");
        assert_has(&html, "f", "cargo");
        assert_has(&html, "v", "--release");
        assert_has(&html, "s", "&quot;world ");
        assert_has(&html, "v", "$HOME");
        assert_has(&html, "s", "'done'");
        assert_has(&html, "o", "|");
    }

    #[test]
    fn highlights_toml_keys_and_strings() {
        let html = highlight("toml", TOML);
        assert_has(&html, "a", "name");
        assert_has(&html, "a", "version");
        assert_has(&html, "s", "&quot;blog&quot;");
        assert_has(&html, "s", "&quot;0.1.0&quot;");
        assert_has(&html, "c", "# the crate");
        assert_has(&html, "n", "2021");
        assert_has(&html, "t", "package");
    }

    #[test]
    fn highlights_dockerfile_instructions_and_the_shell_in_run() {
        let html = highlight("dockerfile", DOCKERFILE);
        assert_has(&html, "c", "# syntax=docker/dockerfile:1");
        assert_has(&html, "k", "FROM");
        assert_has(&html, "k", "RUN");
        assert_has(&html, "k", "ENTRYPOINT");
        assert_has(&html, "f", "go");
        assert_has(&html, "v", "CGO_ENABLED");
        assert_has(&html, "s", "&quot;/server&quot;");
    }

    #[test]
    fn highlights_typescript_and_the_code_inside_template_strings() {
        let html = highlight("typescript", TYPESCRIPT);
        assert_has(&html, "k", "import");
        assert_has(&html, "k", "class");
        assert_has(&html, "k", "new");
        assert_has(&html, "t", "Room");
        assert_has(&html, "t", "Promise");
        assert_has(&html, "f", "fetch");
        assert_has(&html, "v", "request");
        assert_has(&html, "s", "&quot;cloudflare:workers&quot;");
        assert_has(&html, "s", "`role ");
        assert_has(&html, "a", "status");
        assert_has(&html, "n", "400");
        assert_has(&html, "c", "// Two peers at most.");
        assert!(
            !has(&html, "s", "${role}"),
            "interpolation is code, not string:\n{html}"
        );
    }

    #[test]
    fn highlights_sql() {
        let html = highlight("sql", SQL);
        assert_has(&html, "c", "-- The outbox");
        assert_has(&html, "k", "CREATE");
        assert_has(&html, "k", "SELECT");
        assert_has(&html, "s", "'none'");
        assert_has(&html, "n", "0");
    }

    #[test]
    fn highlights_yaml_and_json_keys_apart_from_values() {
        let yaml = highlight("yaml", YAML);
        assert_has(&yaml, "a", "name");
        assert_has(&yaml, "a", "branches");
        assert_has(&yaml, "s", "deploy");
        assert_has(&yaml, "s", "&quot;ship it&quot;");
        assert_has(&yaml, "n", "3");
        assert_has(&yaml, "c", "# CI");
        let json = highlight("json", JSON);
        assert_has(&json, "a", "&quot;name&quot;");
        assert_has(&json, "s", "&quot;blog&quot;");
        assert_has(&json, "n", "true");
    }

    #[test]
    fn highlights_deleted_and_inserted_diff_lines() {
        let html = highlight("diff", DIFF);
        assert_has(&html, "d", "-pub mod old;");
        assert_has(&html, "i", "+pub mod new;");
    }

    #[test]
    fn every_sample_keeps_its_text_exactly() {
        for (lang, code) in SAMPLES {
            assert_eq!(text_of(&highlight(lang, code)), *code, "{lang}");
        }
    }

    #[test]
    fn text_survives_without_a_trailing_newline_or_with_crlf() {
        for code in ["let x = 1;", "fn a() {}\r\nfn b() {}\r\n", "", "\n\n"] {
            assert_eq!(text_of(&highlight("rust", code)), code);
        }
    }

    #[test]
    fn escapes_markup_characters_everywhere() {
        let code = "if a < b && c > d { println!(\"<script>&amp;\"); } // <!-- \"x\" -->\n";
        let html = highlight("rust", code);
        for raw in ["<script>", "&amp;\"", "<!--", "a < b", "&& c"] {
            assert!(!html.contains(raw), "{raw:?} unescaped in:\n{html}");
        }
        assert!(html.contains("&lt;script&gt;&amp;amp;"));
        assert_eq!(text_of(&html), code);
        let tags = html.matches('<').count();
        assert_eq!(
            tags,
            html.matches("<span class=\"").count() + html.matches("</span>").count()
        );
        // Double quotes are escaped, apostrophes not.
        let quotes = highlight("rust", "let c = '\"';\n");
        assert!(quotes.contains("'&quot;'"), "{quotes}");
    }

    #[test]
    fn uses_classes_never_inline_styles() {
        for (lang, code) in SAMPLES {
            let html = highlight(lang, code);
            assert!(!html.contains("style="), "{lang}: {html}");
            let mut rest = html.as_str();
            while let Some(at) = rest.find("<span class=\"") {
                rest = &rest[at + 13..];
                let class = &rest[..rest.find('"').unwrap()];
                assert!(
                    "kscnftaovdi".contains(class) && class.len() == 1,
                    "{lang}: class {class}"
                );
            }
        }
    }

    #[test]
    fn merges_neighbouring_tokens_of_one_class() {
        let html = highlight("rust", "pub fn f() {}\n// one\n// two\n");
        assert_has(&html, "k", "pub fn");
        assert_has(&html, "c", "// one\n// two");
    }

    #[test]
    fn understands_aliases_and_info_string_extras_in_any_case() {
        let pairs = [
            ("rust", "Rust"),
            ("rs", "Rust"),
            ("Rust,ignore", "Rust"),
            ("rust no_run", "Rust"),
            ("go", "Go"),
            ("golang", "Go"),
            ("bash", "Bourne Again Shell (bash)"),
            ("sh", "Bourne Again Shell (bash)"),
            ("shell", "Bourne Again Shell (bash)"),
            ("console", "Bourne Again Shell (bash)"),
            ("zsh", "Bourne Again Shell (bash)"),
            ("toml", "TOML"),
            ("Dockerfile", "Dockerfile (with bash)"),
            ("docker", "Dockerfile (with bash)"),
            ("typescript", "TypeScript"),
            ("ts", "TypeScript"),
            ("tsx", "TypeScriptReact"),
            ("javascript", "JavaScript"),
            ("js", "JavaScript"),
            ("json", "JSON"),
            ("yaml", "YAML"),
            ("yml", "YAML"),
            ("sql", "SQL"),
            ("python", "Python"),
            ("py", "Python"),
            ("html", "HTML"),
            ("css", "CSS"),
            ("diff", "Diff"),
            ("patch", "Diff"),
            ("c", "C"),
            ("cpp", "C++"),
            ("C++", "C++"),
            ("makefile", "Makefile"),
            ("nix", "Nix"),
            ("ini", "INI"),
        ];
        for (lang, name) in pairs {
            assert_eq!(
                hl().syntax_for(lang).map(|s| s.name.as_str()),
                Some(name),
                "{lang}"
            );
        }
    }

    /// WCAG relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Class -> colour for each rule `sel .x,sel .y{color:#rrggbb...}` of a stylesheet part.
    fn colours(css: &str) -> Vec<(char, String)> {
        let mut found = Vec::new();
        for rule in css.split('}') {
            let Some((selectors, body)) = rule.rsplit_once('{') else {
                continue;
            };
            let Some(at) = body.find("color:#") else {
                continue;
            };
            let colour = &body[at + 6..at + 13];
            for selector in selectors.split(',') {
                let class = selector.trim().rsplit('.').next().unwrap();
                found.push((class.chars().next().unwrap(), colour.to_string()));
            }
        }
        found
    }

    #[test]
    fn every_class_is_coloured_with_aa_contrast_in_light_and_dark_schemes() {
        let css = include_str!("../../../templates/highlight.css");
        let (light, dark) = css
            .split_once("@media (prefers-color-scheme:dark)")
            .unwrap();
        // The site's --code-bg in each scheme (templates/style.css).
        for (scheme, part, background) in [("light", light, "#f3f3f1"), ("dark", dark, "#1f1f23")] {
            let colours = colours(part);
            for class in "kscnftaovdi".chars() {
                let (_, colour) = colours
                    .iter()
                    .find(|(c, _)| *c == class)
                    .unwrap_or_else(|| panic!("{scheme}: no colour for .{class}"));
                let ratio = contrast(colour, background);
                assert!(
                    ratio >= 4.5,
                    "{scheme}: .{class} {colour} is {ratio:.2}:1 on {background}"
                );
            }
        }
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_empty_and_plain_text_languages_give_none() {
        for lang in ["", " ", "klingon", "text", "txt", "plaintext", ",rust"] {
            assert_eq!(hl().highlight(lang, "x = 1\n"), None, "{lang:?}");
        }
    }
}
