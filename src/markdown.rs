//! Markdown to HTML: a pulldown-cmark event pipeline that adds stable heading ids.

use pulldown_cmark::{html, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::{HashMap, HashSet};

/// A section heading of a rendered post, for anchors and a table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// The result of rendering one post body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub words: usize,
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// A fenced code block as the author wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the info string (```` ```rust,ignore ```` -> `rust`), lower-cased.
    pub lang: String,
    pub code: String,
}

fn lang_of(info: &str) -> String {
    info.split([',', ' ', '\t', '{']).next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Every fenced code block of a body, in the order `render` meets them: `blog sync`
/// highlights these and `render` splices the results back by position.
pub fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<CodeBlock> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                current = Some(CodeBlock { lang: lang_of(&info), code: String::new() })
            }
            Event::Text(t) if current.is_some() => current.as_mut().expect("checked").code.push_str(&t),
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// What the renderer may use beyond the Markdown itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    /// Pre-highlighted HTML for each fenced block, by position (see [`code_blocks`]).
    pub code_html: &'a [Option<String>],
}

/// Renders a post body. Headings get ids from their text (`## Why it matters` ->
/// `why-it-matters`), made unique within the post, unless the author set one with `{#id}`,
/// and a `#` link to themselves. Fenced code uses the pre-highlighted HTML when there is some.
pub fn render(markdown: &str, opts: &RenderOptions<'_>) -> Rendered {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).collect();
    let mut out_events: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut headings = Vec::new();
    let mut ids = Ids::default();
    let mut words = 0;
    let mut fenced = 0;
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                let level_num = heading_level(*level);
                let explicit = id.as_ref().map(|id| id.to_string());
                let mut text = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                    if let Event::Text(t) | Event::Code(t) = &events[j] {
                        text.push_str(t);
                    }
                    j += 1;
                }
                let id = ids.unique(explicit.unwrap_or_else(|| slugify(&text)));
                out_events.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id.clone())),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
                out_events.extend(events[i + 1..j].iter().cloned());
                // An author's `{#id}` may hold any character but space and `}`: escape it.
                out_events.push(Event::InlineHtml(CowStr::from(format!(
                    "<a class=\"anchor\" href=\"#{}\" aria-label=\"Link to this section: {}\">#</a>",
                    escape_attr(&id),
                    escape_attr(&text)
                ))));
                if j < events.len() {
                    out_events.push(events[j].clone());
                }
                words += text.split_whitespace().count();
                headings.push(Heading { level: level_num, id, text });
                i = j + 1;
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => lang_of(info),
                    CodeBlockKind::Indented => String::new(),
                };
                let mut code = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::CodeBlock)) {
                    if let Event::Text(t) = &events[j] {
                        code.push_str(t);
                    }
                    j += 1;
                }
                let highlighted = match kind {
                    CodeBlockKind::Fenced(_) => {
                        fenced += 1;
                        opts.code_html.get(fenced - 1).and_then(|h| h.as_deref())
                    }
                    CodeBlockKind::Indented => None,
                };
                let mut html = String::with_capacity(code.len() + 64);
                html.push_str("<pre><code");
                if !lang.is_empty() {
                    html.push_str(" class=\"language-");
                    html.push_str(&escape_attr(&lang));
                    html.push('"');
                }
                html.push('>');
                match highlighted {
                    Some(h) => html.push_str(h),
                    None => escape_text_into(&mut html, &code),
                }
                html.push_str("</code></pre>\n");
                words += code.split_whitespace().count();
                out_events.push(Event::Html(CowStr::from(html)));
                i = j + 1;
            }
            // A bare checkbox has no accessible name: say what its state means.
            Event::TaskListMarker(done) => {
                out_events.push(Event::InlineHtml(CowStr::from(if *done {
                    "<input type=\"checkbox\" disabled checked aria-label=\"Done\"> "
                } else {
                    "<input type=\"checkbox\" disabled aria-label=\"To do\"> "
                })));
                i += 1;
            }
            event => {
                if let Event::Text(t) | Event::Code(t) = event {
                    words += t.split_whitespace().count();
                }
                out_events.push(event.clone());
                i += 1;
            }
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, out_events.into_iter());
    Rendered { html: out, headings, words }
}

fn escape_text_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            c => escape_text_into(&mut out, c.encode_utf8(&mut [0; 4])),
        }
    }
    out
}

fn heading_level(level: HeadingLevel) -> u8 {
    level as u8
}

/// Lower-case words joined by `-`: the id readers see in `#fragment` links.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("section");
    }
    slug
}

/// The heading ids given so far in one post.
#[derive(Default)]
struct Ids {
    used: HashSet<String>,
    /// For each base id, the suffix to try next: every earlier one is taken, so a post of
    /// many equal headings costs linear time, not the cubic time of re-checking each.
    next: HashMap<String, usize>,
}

impl Ids {
    /// `base`, or the first of `base-1`, `base-2`, ... that is still free.
    fn unique(&mut self, base: String) -> String {
        let n = self.next.entry(base.clone()).or_insert(0);
        let mut id = if *n == 0 { base.clone() } else { format!("{base}-{n}") };
        while !self.used.insert(id.clone()) {
            *n += 1;
            id = format!("{base}-{n}");
        }
        *n += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_plain(md: &str) -> Rendered {
        render(md, &RenderOptions::default())
    }

    #[test]
    fn renders_paragraphs_lists_code_and_links() {
        let r = render_plain("Hello *world*.\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n\n[docs](https://example.com)\n");
        assert!(r.html.contains("<p>Hello <em>world</em>.</p>"), "{}", r.html);
        assert!(r.html.contains("<li>one</li>"));
        assert!(r.html.contains("<pre><code class=\"language-rust\">fn main() {}\n</code></pre>"));
        assert!(r.html.contains("<a href=\"https://example.com\">docs</a>"));
    }

    #[test]
    fn gives_headings_stable_unique_ids() {
        let r = render_plain("## Why it matters\n\ntext\n\n## Why it matters\n\n### `cargo` & you {#custom}\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["why-it-matters", "why-it-matters-1", "custom"]);
        assert!(
            r.html.contains("<h2 id=\"why-it-matters\">Why it matters<a class=\"anchor\" href=\"#why-it-matters\" aria-label=\"Link to this section: Why it matters\">#</a></h2>"),
            "{}",
            r.html
        );
        assert_eq!(r.headings[2].level, 3);
    }

    #[test]
    fn thousands_of_equal_headings_get_numbered_ids_quickly() {
        let started = std::time::Instant::now();
        let r = render_plain(&"#\n".repeat(5000));
        assert_eq!(r.headings[4999].id, "section-4999");
        let ids: HashSet<_> = r.headings.iter().map(|h| &h.id).collect();
        assert_eq!(ids.len(), 5000);
        // Was cubic: over a minute for this 10 kB body, 1.4 s for a fifth of it.
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
        let r = render_plain("## a-1\n\n## a\n\n## a\n\n## a {#a-2}\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a-1", "a", "a-2", "a-2-1"]);
    }

    #[test]
    fn anchor_links_escape_ids_the_author_set() {
        let r = render_plain("## Title {#a\"onmouseover=\"alert(1)}\n");
        assert_eq!(r.headings[0].id, "a\"onmouseover=\"alert(1)");
        assert!(r.html.contains("href=\"#a&quot;onmouseover=&quot;alert(1)\""), "{}", r.html);
        assert!(!r.html.contains("onmouseover=\"alert"), "{}", r.html);
    }

    #[test]
    fn renders_tables_footnotes_strikethrough_and_tasks() {
        let r = render_plain("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee[^n].\n\n[^n]: A note.\n\n~~old~~\n\n- [x] done\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("footnote-definition"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("<li><input type=\"checkbox\" disabled checked aria-label=\"Done\"> done</li>"), "{}", r.html);
    }

    #[test]
    fn escapes_text_and_smartens_quotes() {
        let r = render_plain("Use \"quotes\" and it's <fine> & safe\n");
        assert!(r.html.contains("\u{201c}quotes\u{201d}"), "{}", r.html);
        assert!(r.html.contains("it\u{2019}s"));
        assert!(r.html.contains("&amp; safe"));
    }

    #[test]
    fn splices_highlighted_code_by_position_and_escapes_the_rest() {
        let md = "```rust\nfn a() {}\n```\n\n    indented <x>\n\n```unknown\na < b\n```\n";
        let blocks = code_blocks(md);
        assert_eq!(blocks.len(), 2);
        assert_eq!((blocks[0].lang.as_str(), blocks[1].code.as_str()), ("rust", "a < b\n"));
        let code_html = [Some("<span class=\"k\">fn</span> a() {}\n".to_string()), None];
        let r = render(md, &RenderOptions { code_html: &code_html });
        assert!(r.html.contains("<pre><code class=\"language-rust\"><span class=\"k\">fn</span> a() {}\n</code></pre>"), "{}", r.html);
        assert!(r.html.contains("<pre><code>indented &lt;x&gt;\n</code></pre>"), "{}", r.html);
        assert!(r.html.contains("<pre><code class=\"language-unknown\">a &lt; b\n</code></pre>"));
    }

    #[test]
    fn info_string_language_is_its_first_word() {
        assert_eq!(code_blocks("```Rust,ignore\nx\n```\n")[0].lang, "rust");
        assert_eq!(code_blocks("```\nx\n```\n")[0].lang, "");
    }

    #[test]
    fn counts_words() {
        assert_eq!(render_plain("## Two words\n\nthree more words `code`\n").words, 6);
    }

    #[test]
    fn slugify_keeps_letters_of_any_script() {
        assert_eq!(slugify("From 342MB to 37MB: Go!"), "from-342mb-to-37mb-go");
        assert_eq!(slugify("Café — ünïcode"), "café-ünïcode");
        assert_eq!(slugify("???"), "section");
    }
}
