//! Markdown to HTML: a pulldown-cmark event pipeline that adds stable heading ids.

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

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

/// Renders a post body. Headings get ids from their text (`## Why it matters` ->
/// `why-it-matters`), made unique within the post, unless the author set one with `{#id}`.
pub fn render(markdown: &str) -> Rendered {
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).collect();
    let mut headings = Vec::new();
    let mut used = Vec::<String>::new();
    let mut words = 0;
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading { level, id, .. }) => {
                let level = heading_level(*level);
                let explicit = id.as_ref().map(|id| id.to_string());
                let mut text = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                    if let Event::Text(t) | Event::Code(t) = &events[j] {
                        text.push_str(t);
                    }
                    j += 1;
                }
                let id = unique(explicit.unwrap_or_else(|| slugify(&text)), &mut used);
                if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                    *slot = Some(CowStr::from(id.clone()));
                }
                words += text.split_whitespace().count();
                headings.push(Heading { level, id, text });
                i = j;
            }
            Event::Text(t) | Event::Code(t) => {
                words += t.split_whitespace().count();
                i += 1;
            }
            _ => i += 1,
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    Rendered { html: out, headings, words }
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

fn unique(base: String, used: &mut Vec<String>) -> String {
    let mut id = base.clone();
    let mut n = 1;
    while used.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    used.push(id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paragraphs_lists_code_and_links() {
        let r = render("Hello *world*.\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n\n[docs](https://example.com)\n");
        assert!(r.html.contains("<p>Hello <em>world</em>.</p>"), "{}", r.html);
        assert!(r.html.contains("<li>one</li>"));
        assert!(r.html.contains("<pre><code class=\"language-rust\">fn main() {}\n</code></pre>"));
        assert!(r.html.contains("<a href=\"https://example.com\">docs</a>"));
    }

    #[test]
    fn gives_headings_stable_unique_ids() {
        let r = render("## Why it matters\n\ntext\n\n## Why it matters\n\n### `cargo` & you {#custom}\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["why-it-matters", "why-it-matters-1", "custom"]);
        assert!(r.html.contains("<h2 id=\"why-it-matters\">Why it matters</h2>"), "{}", r.html);
        assert_eq!(r.headings[2].level, 3);
    }

    #[test]
    fn renders_tables_footnotes_strikethrough_and_tasks() {
        let r = render("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee[^n].\n\n[^n]: A note.\n\n~~old~~\n\n- [x] done\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("footnote-definition"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("checkbox"));
    }

    #[test]
    fn escapes_text_and_smartens_quotes() {
        let r = render("Use \"quotes\" and it's <fine> & safe\n");
        assert!(r.html.contains("\u{201c}quotes\u{201d}"), "{}", r.html);
        assert!(r.html.contains("it\u{2019}s"));
        assert!(r.html.contains("&amp; safe"));
    }

    #[test]
    fn counts_words() {
        assert_eq!(render("## Two words\n\nthree more words `code`\n").words, 6);
    }

    #[test]
    fn slugify_keeps_letters_of_any_script() {
        assert_eq!(slugify("From 342MB to 37MB: Go!"), "from-342mb-to-37mb-go");
        assert_eq!(slugify("Café — ünïcode"), "café-ünïcode");
        assert_eq!(slugify("???"), "section");
    }
}
