//! Markdown to HTML: a pulldown-cmark event pipeline that adds stable heading ids and points
//! images and file links at the post's published files.

use crate::content::{published_url, Asset, AssetMap};
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
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Pre-highlighted HTML for each fenced block, by position (see [`code_blocks`]).
    pub code_html: &'a [Option<String>],
    /// Drop raw HTML blocks and inline tags the author wrote (see `Settings::raw_html`).
    pub strip_raw_html: bool,
    /// The post's files by the URL written in the Markdown (see `PostRecord::assets`).
    pub assets: &'a AssetMap,
}

static NO_ASSETS: AssetMap = AssetMap::new();

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        Self { code_html: &[], strip_raw_html: false, assets: &NO_ASSETS }
    }
}

/// Renders a post body. Headings get ids from their text (`## Why it matters` ->
/// `why-it-matters`), made unique within the post, unless the author set one with `{#id}`,
/// and a `#` link to themselves. Fenced code uses the pre-highlighted HTML when there is some.
/// Images and links to the post's files point at their published copies (see [`rewrite_files`]).
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
            Event::Html(_) | Event::InlineHtml(_) if opts.strip_raw_html => i += 1,
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
    html::push_html(&mut out, rewrite_files(out_events, opts.assets).into_iter());
    Rendered { html: out, headings, words }
}

/// Turns every image into an `<img>` with its published URL, its size (when known), the
/// Markdown alt text and loading hints, and points links to the post's files at their
/// published URLs. Other URLs are left as written. Runs last, so images inside headings are
/// rewritten too, and after raw HTML is stripped, so the tags it makes are kept.
fn rewrite_files<'a>(events: Vec<Event<'a>>, assets: &AssetMap) -> Vec<Event<'a>> {
    let mut out = Vec::with_capacity(events.len());
    let mut images = 0;
    let mut events = events.into_iter();
    while let Some(event) = events.next() {
        match event {
            Event::Start(Tag::Image { dest_url, title, .. }) => {
                let alt = image_alt(&mut events);
                images += 1;
                out.push(Event::InlineHtml(CowStr::from(img_tag(&dest_url, &title, &alt, assets, images == 1))));
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let dest_url = published_url(assets, &dest_url).map_or(dest_url, |(url, _)| CowStr::from(url));
                out.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
            }
            event => out.push(event),
        }
    }
    out
}

/// The plain text of an image's description, consuming the events up to its end.
pub fn image_alt<'a>(events: &mut impl Iterator<Item = Event<'a>>) -> String {
    let mut alt = String::new();
    let mut depth = 0;
    for event in events {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) if depth == 0 => break,
            Event::End(_) => depth -= 1,
            Event::Text(t) | Event::Code(t) => alt.push_str(&t),
            Event::SoftBreak | Event::HardBreak => alt.push(' '),
            _ => {}
        }
    }
    alt.trim().to_string()
}

fn img_tag(dest_url: &str, title: &str, alt: &str, assets: &AssetMap, first: bool) -> String {
    let published = published_url(assets, dest_url);
    let mut tag = String::from("<img src=\"");
    let src = published.as_ref().map_or(dest_url, |(url, _)| url.as_str());
    pulldown_cmark_escape::escape_href(&mut tag, src).expect("writing to a String cannot fail");
    tag.push_str("\" alt=\"");
    tag.push_str(&escape_attr(alt));
    tag.push('"');
    if !title.is_empty() {
        tag.push_str(" title=\"");
        tag.push_str(&escape_attr(title));
        tag.push('"');
    }
    if let Some((_, Asset { width: Some(w), height: Some(h), .. })) = published {
        tag.push_str(&format!(" width=\"{w}\" height=\"{h}\""));
    }
    // The first image may well be on the first screen: loading it lazily would only delay
    // it. The others wait until the reader scrolls near them.
    tag.push_str(if first { " decoding=\"async\" loading=\"eager\">" } else { " decoding=\"async\" loading=\"lazy\">" });
    tag
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
        let r = render(md, &RenderOptions { code_html: &code_html, ..RenderOptions::default() });
        assert!(r.html.contains("<pre><code class=\"language-rust\"><span class=\"k\">fn</span> a() {}\n</code></pre>"), "{}", r.html);
        assert!(r.html.contains("<pre><code>indented &lt;x&gt;\n</code></pre>"), "{}", r.html);
        assert!(r.html.contains("<pre><code class=\"language-unknown\">a &lt; b\n</code></pre>"));
    }

    #[test]
    fn raw_html_is_kept_unless_stripping_is_asked_for() {
        let md = "<div class=\"note\">block</div>\n\nText <span>inline</span> <script>x()</script>.\n\n## Head\n";
        let kept = render_plain(md);
        assert!(kept.html.contains("<div class=\"note\">") && kept.html.contains("<span>inline</span>"));
        let stripped = render(md, &RenderOptions { strip_raw_html: true, ..RenderOptions::default() });
        assert!(!stripped.html.contains("<div") && !stripped.html.contains("<span>") && !stripped.html.contains("<script"), "{}", stripped.html);
        assert!(stripped.html.contains("inline") && stripped.html.contains("class=\"anchor\""));
    }

    fn assets() -> AssetMap {
        let asset = |url: &str, size: Option<(u32, u32)>| Asset {
            url: url.into(),
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
        };
        [
            ("photo.png".to_string(), asset("/files/aaaa.png", Some((640, 360)))),
            ("./files/diagram.svg".to_string(), asset("/files/bbbb.svg", Some((120, 80)))),
            ("files/report.pdf".to_string(), asset("/files/cccc.pdf", None)),
        ]
        .into_iter()
        .collect()
    }

    fn render_with(md: &str, assets: &AssetMap) -> String {
        render(md, &RenderOptions { assets, ..RenderOptions::default() }).html
    }

    #[test]
    fn images_point_at_published_files_with_their_size() {
        let html = render_with("![The `<main>` & *us*](photo.png \"Title\")\n", &assets());
        assert_eq!(
            html,
            "<p><img src=\"/files/aaaa.png\" alt=\"The &lt;main&gt; &amp; us\" title=\"Title\" width=\"640\" height=\"360\" decoding=\"async\" loading=\"eager\"></p>\n"
        );
    }

    #[test]
    fn only_the_first_image_loads_eagerly() {
        let html = render_with("![one](photo.png)\n\n![two](./files/diagram.svg)\n\n![three](https://x.example/a.png)\n", &assets());
        let loading: Vec<_> = html.match_indices("loading=\"").map(|(i, _)| &html[i + 9..i + 13]).collect();
        assert_eq!(loading, ["eage", "lazy", "lazy"], "{html}");
        assert!(html.contains("<img src=\"/files/bbbb.svg\" alt=\"two\" width=\"120\" height=\"80\" decoding=\"async\" loading=\"lazy\">"), "{html}");
    }

    #[test]
    fn images_of_other_sites_keep_their_url_and_get_no_size() {
        let html = render_plain("![far <b>away</b>](<https://x.example/a b.png>)\n\n![](<https://x.example/q?a=1&b=\"2\">)\n").html;
        assert!(html.contains("<img src=\"https://x.example/a%20b.png\" alt=\"far away\" decoding=\"async\" loading=\"eager\">"), "{html}");
        assert!(html.contains("<img src=\"https://x.example/q?a=1&amp;b=%222%22\" alt=\"\" decoding"), "{html}");
        assert!(!html.contains("width="));
    }

    #[test]
    fn links_to_files_point_at_their_published_copy() {
        let html = render_with("Read [the report](files/report.pdf#page=2) or [the site](https://x.example/files/report.pdf).\n", &assets());
        assert!(html.contains("<a href=\"/files/cccc.pdf#page=2\">the report</a>"), "{html}");
        assert!(html.contains("<a href=\"https://x.example/files/report.pdf\">the site</a>"));
    }

    #[test]
    fn images_survive_raw_html_stripping_and_headings() {
        let md = "## A ![logo](photo.png) heading\n\n<img src=\"x.png\">\n";
        let r = render(md, &RenderOptions { assets: &assets(), strip_raw_html: true, ..RenderOptions::default() });
        assert!(r.html.contains("<h2 id=\"a-logo-heading\">A <img src=\"/files/aaaa.png\" alt=\"logo\""), "{}", r.html);
        assert!(!r.html.contains("x.png"), "{}", r.html);
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
