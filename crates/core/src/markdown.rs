//! Markdown to HTML: a pulldown-cmark event pipeline that adds stable heading ids, points
//! images and file links at the post's published files and turns GitHub's alerts
//! (`> [!NOTE]`) into callouts.

use crate::content::{published_url, Asset, AssetMap};
use crate::html::{escape_attr, escape_attr_into, escape_text_into};
/// Heading ids are slugs, the same as tags' URL segments.
pub use crate::slug::slugify;
use pulldown_cmark::{
    html, BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};
use std::collections::{HashMap, HashSet, VecDeque};

/// A section heading of a rendered post, for anchors and a table of contents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        // GitHub's alerts: a blockquote opening with `[!NOTE]`, `[!TIP]`, `[!IMPORTANT]`,
        // `[!WARNING]` or `[!CAUTION]` (the only syntax this option adds).
        | Options::ENABLE_GFM
        // `$...$` and `$$...$$`: rendered to MathML by `blog sync`, spliced in by position.
        | Options::ENABLE_MATH
}

/// The syntax a body uses beyond what every renderer of this blog has understood, by name:
/// a post's hash names these, so a post written before the renderer understood them is
/// rendered again once it does, and every other post keeps its hash. Found from the text
/// alone, before anything is rendered.
pub fn extended_syntax(markdown: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    // Alerts' markers are case-insensitive (`[!note]` too): any `[!` may open one.
    if markdown.contains("[!") {
        found.push("callouts");
    }
    if markdown.contains('$') {
        found.push("math");
    }
    // A ```mermaid fence became a diagram.
    if markdown.contains("mermaid") {
        found.push("diagrams");
    }
    // Code blocks became tab stops. A fenced block names the renderer through the
    // highlighter's name already; an indented one may be any line opening with four spaces
    // or a tab.
    if markdown
        .lines()
        .any(|line| line.starts_with("    ") || line.starts_with('\t'))
    {
        found.push("focusable code");
    }
    found
}

/// A callout's opening HTML: an `<aside>` in the role of a note, named by its kind, whose
/// first line is the kind's icon and word (so a feed reader that drops the styles still
/// shows "Warning" before the text).
macro_rules! callout_open {
    ($class:literal, $label:literal, $icon:literal) => {
        concat!(
            "<aside class=\"callout ", $class, "\" role=\"note\" aria-label=\"", $label, "\">\n",
            "<p class=\"callout-title\"><svg class=\"icon\" viewBox=\"0 0 16 16\" width=\"16\" height=\"16\" aria-hidden=\"true\" focusable=\"false\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" stroke-linecap=\"round\" stroke-linejoin=\"round\">",
            $icon,
            "</svg><strong>", $label, "</strong></p>\n"
        )
    };
}

/// Each alert's kind and its callout's opening: the word that labels it and its icon (drawn
/// in the text's colour; a different shape for each, so no meaning rests on colour alone).
#[rustfmt::skip]
const CALLOUTS: [(BlockQuoteKind, &str); 5] = [
    (BlockQuoteKind::Note, callout_open!("note", "Note", "<circle cx=\"8\" cy=\"8\" r=\"6.5\"/><path d=\"M8 7.5v3.5M8 5v.01\"/>")),
    (BlockQuoteKind::Tip, callout_open!("tip", "Tip", "<path d=\"M5.5 10.5a4 4 0 1 1 5 0V12h-5zM6.5 14.5h3\"/>")),
    (BlockQuoteKind::Important, callout_open!("important", "Important", "<path d=\"M1.5 2.5h13v8.5H7l-3.5 3v-3h-2zM8 4.5v3.5M8 9.5v.01\"/>")),
    (BlockQuoteKind::Warning, callout_open!("warning", "Warning", "<path d=\"M8 1.5l7 12.5H1zM8 6v3.5M8 11.5v.01\"/>")),
    (BlockQuoteKind::Caution, callout_open!("caution", "Caution", "<path d=\"M5 1.5h6L14.5 5v6L11 14.5H5L1.5 11V5zM8 4.5v4M8 11v.01\"/>")),
];

fn callout_start(kind: BlockQuoteKind) -> &'static str {
    CALLOUTS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("<aside>\n", |(_, html)| html)
}

/// The fence name of a diagram: its block's HTML is a whole figure (see [`RenderOptions`]).
pub const DIAGRAM_LANG: &str = "mermaid";

/// A fenced code block as the author wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the info string (```` ```rust,ignore ```` -> `rust`), lower-cased.
    pub lang: String,
    pub code: String,
}

/// The language a fence names: its info string's first word, lower-cased.
pub fn lang_of(info: &str) -> String {
    info.split([',', ' ', '\t', '{'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Every fenced code block of a body, in the order `render` meets them: `blog sync`
/// highlights these and `render` splices the results back by position.
pub fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<CodeBlock> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                current = Some(CodeBlock {
                    lang: lang_of(&info),
                    code: String::new(),
                })
            }
            Event::Text(t) if current.is_some() => {
                current.as_mut().expect("checked").code.push_str(&t)
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// A body's text as a reader reads it, for search: its words with the markup gone, code
/// included (readers search for identifiers), one block a line; and its headings' texts.
pub fn plain_text(markdown: &str) -> (String, Vec<String>) {
    let mut text = String::with_capacity(markdown.len());
    let mut headings = Vec::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                headings.extend(heading.take());
                text.push('\n');
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                text.push_str(&t);
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::CodeBlock
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::BlockQuote(_),
            ) => text.push('\n'),
            _ => {}
        }
    }
    (text, headings)
}

/// What the renderer may use beyond the Markdown itself.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Pre-highlighted HTML for each fenced block, by position (see [`code_blocks`]). For a
    /// `mermaid` block it is the diagram's whole HTML (a `<figure>` made by `blog sync`),
    /// placed as it is instead of a `<pre>`.
    pub code_html: &'a [Option<String>],
    /// Drop raw HTML blocks and inline tags the author wrote (see `Settings::raw_html`).
    pub strip_raw_html: bool,
    /// The post's files by the URL written in the Markdown (see `PostRecord::assets`).
    pub assets: &'a AssetMap,
    /// Each formula as MathML, by position, made by `blog sync`; one missing is written
    /// as its TeX, escaped.
    pub math_html: &'a [String],
}

static NO_ASSETS: AssetMap = AssetMap::new();

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        Self {
            code_html: &[],
            strip_raw_html: false,
            assets: &NO_ASSETS,
            math_html: &[],
        }
    }
}

/// Renders a post body. Headings get ids from their text (`## Why it matters` ->
/// `why-it-matters`), made unique within the post, unless the author set one with `{#id}`,
/// and a `#` link to themselves. Fenced code uses the pre-highlighted HTML when there is some.
/// Images and links to the post's files point at their published copies (see [`image`]).
///
/// One pass: the parser's events stream through [`Body`] straight into the HTML writer.
pub fn render<'a>(markdown: &'a str, opts: &RenderOptions<'a>) -> Rendered {
    let mut body = Body {
        events: Parser::new_ext(markdown, options()),
        opts: *opts,
        pending: VecDeque::new(),
        headings: Vec::new(),
        ids: Ids::default(),
        words: 0,
        fenced: 0,
        images: 0,
        formulas: 0,
    };
    let mut out = String::with_capacity(markdown.len() * 3 / 2 + code_html_len(opts.code_html));
    html::push_html(&mut out, &mut body);
    Rendered {
        html: out,
        headings: body.headings,
        words: body.words,
    }
}

fn code_html_len(code_html: &[Option<String>]) -> usize {
    code_html.iter().flatten().map(String::len).sum()
}

/// The parser's events with heading ids and anchors, code blocks as finished HTML, labelled
/// task list checkboxes, images and links to the post's files rewritten and, when asked, raw
/// HTML dropped; counts words on the way.
struct Body<'a> {
    events: Parser<'a>,
    opts: RenderOptions<'a>,
    /// Events already made, waiting to be handed out (a heading's content and its end).
    pending: VecDeque<Event<'a>>,
    headings: Vec<Heading>,
    ids: Ids,
    words: usize,
    /// Fenced code blocks met so far.
    fenced: usize,
    /// Images met so far.
    images: usize,
    /// Formulas met so far.
    formulas: usize,
}

impl<'a> Iterator for Body<'a> {
    type Item = Event<'a>;

    // Most events pass as they are: looked at in place and handed on, since copying one
    // (about 90 bytes) costs more than the rest of this.
    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(event) = self.pending.pop_front() {
            return Some(event);
        }
        loop {
            let event = self.events.next()?;
            match &event {
                Event::Text(t) | Event::Code(t) => self.words += count_words(t),
                Event::Start(Tag::Heading { .. }) => return Some(self.heading(event)),
                Event::Start(Tag::CodeBlock(_)) => return Some(self.code_block(event)),
                Event::Start(Tag::Image { .. }) => return Some(self.image(event)),
                Event::Start(Tag::Link { .. }) if !self.opts.assets.is_empty() => {
                    return Some(self.link(event))
                }
                // A bare checkbox has no accessible name: say what its state means.
                Event::TaskListMarker(done) => {
                    return Some(Event::InlineHtml(CowStr::Borrowed(if *done {
                        "<input type=\"checkbox\" disabled checked aria-label=\"Done\"> "
                    } else {
                        "<input type=\"checkbox\" disabled aria-label=\"To do\"> "
                    })))
                }
                Event::Start(Tag::BlockQuote(Some(kind))) => {
                    return Some(Event::Html(CowStr::Borrowed(callout_start(*kind))))
                }
                Event::End(TagEnd::BlockQuote(Some(_))) => {
                    return Some(Event::Html(CowStr::Borrowed("</aside>\n")))
                }
                Event::InlineMath(_) | Event::DisplayMath(_) => {
                    self.formulas += 1;
                    if let Some(html) = self.opts.math_html.get(self.formulas - 1) {
                        return Some(Event::InlineHtml(CowStr::Borrowed(html.as_str())));
                    }
                }
                Event::Html(_) | Event::InlineHtml(_) if self.opts.strip_raw_html => continue,
                _ => {}
            }
            return Some(event);
        }
    }
}

impl<'a> Body<'a> {
    /// The heading's start with its id; its content as written (words are counted from its
    /// text, raw HTML follows the policy as in the body, images and file links are
    /// rewritten), the anchor link and its end are queued.
    fn heading(&mut self, start: Event<'a>) -> Event<'a> {
        let Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) = start
        else {
            unreachable!("a heading")
        };
        let mut text = String::new();
        let mut end = None;
        let mut inner = Vec::new();
        for event in self.events.by_ref() {
            if matches!(event, Event::End(TagEnd::Heading(_))) {
                end = Some(event);
                break;
            }
            if let Event::Text(t) | Event::Code(t) = &event {
                text.push_str(t);
            }
            if self.opts.strip_raw_html && matches!(event, Event::Html(_) | Event::InlineHtml(_)) {
                continue;
            }
            inner.push(event);
        }
        let id = self.ids.unique(match id {
            Some(explicit) => explicit.into_string(),
            None => slugify(&text),
        });
        let mut inner = inner.into_iter();
        while let Some(event) = inner.next() {
            let event = match event {
                Event::Start(Tag::Image { .. }) => {
                    image(event, &mut inner, &mut self.images, self.opts.assets)
                }
                Event::Start(Tag::Link { .. }) if !self.opts.assets.is_empty() => self.link(event),
                event => event,
            };
            self.pending.push_back(event);
        }
        // An author's `{#id}` may hold any character but space and `}`: escape it.
        let mut anchor = String::with_capacity(64 + id.len() + text.len());
        anchor.push_str("<a class=\"anchor\" href=\"#");
        escape_attr_into(&mut anchor, &id);
        anchor.push_str("\" aria-label=\"Link to this section: ");
        escape_attr_into(&mut anchor, &text);
        anchor.push_str("\">#</a>");
        self.pending
            .push_back(Event::InlineHtml(CowStr::from(anchor)));
        self.pending.extend(end);
        self.words += count_words(&text);
        let start = Event::Start(Tag::Heading {
            level,
            id: Some(CowStr::from(id.clone())),
            classes,
            attrs,
        });
        self.headings.push(Heading {
            level: heading_level(level),
            id,
            text,
        });
        start
    }

    /// The whole block as one HTML event: the highlighted HTML when there is some, else the
    /// code escaped.
    fn code_block(&mut self, start: Event<'a>) -> Event<'a> {
        let Event::Start(Tag::CodeBlock(kind)) = start else {
            unreachable!("a code block")
        };
        let highlighted = match &kind {
            CodeBlockKind::Fenced(_) => {
                self.fenced += 1;
                self.opts
                    .code_html
                    .get(self.fenced - 1)
                    .and_then(|h| h.as_deref())
            }
            CodeBlockKind::Indented => None,
        };
        if let (Some(figure), CodeBlockKind::Fenced(info)) = (highlighted, &kind) {
            if lang_of(info) == DIAGRAM_LANG {
                // A diagram: its source is in the figure's description, not in the words.
                for event in self.events.by_ref() {
                    if matches!(event, Event::End(TagEnd::CodeBlock)) {
                        break;
                    }
                }
                return Event::Html(CowStr::Borrowed(figure));
            }
        }
        let mut html = String::with_capacity(highlighted.map_or(256, |h| h.len() + 64));
        // A tab stop: a block wider than the page scrolls, and a keyboard reader scrolls it
        // only once it can take the focus.
        html.push_str("<pre tabindex=\"0\"><code");
        if let CodeBlockKind::Fenced(info) = &kind {
            let lang = lang_of(info);
            if !lang.is_empty() {
                html.push_str(" class=\"language-");
                escape_attr_into(&mut html, &lang);
                html.push('"');
            }
        }
        html.push('>');
        // Words are counted over the block's whole text, as if it were one string.
        let mut words = WordCount::default();
        for event in self.events.by_ref() {
            match event {
                Event::End(TagEnd::CodeBlock) => break,
                Event::Text(t) => {
                    words.add(&t);
                    if highlighted.is_none() {
                        escape_text_into(&mut html, &t);
                    }
                }
                _ => {}
            }
        }
        if let Some(h) = highlighted {
            html.push_str(h);
        }
        html.push_str("</code></pre>\n");
        self.words += words.words;
        Event::Html(CowStr::from(html))
    }

    /// An image as an `<img>` (see [`image`]), its description read from the parser, its
    /// words counted.
    fn image(&mut self, start: Event<'a>) -> Event<'a> {
        let words = &mut self.words;
        let mut events = self.events.by_ref().inspect(|event| {
            if let Event::Text(t) | Event::Code(t) = event {
                *words += count_words(t);
            }
        });
        image(start, &mut events, &mut self.images, self.opts.assets)
    }

    /// A link pointed at its published file, when it names one of the post's files; other
    /// URLs are left as written.
    fn link(&self, start: Event<'a>) -> Event<'a> {
        let Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) = start
        else {
            unreachable!("a link")
        };
        let dest_url = published_url(self.opts.assets, &dest_url)
            .map_or(dest_url, |(url, _)| CowStr::from(url));
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
    }
}

/// An image as an `<img>` with its published URL, its size (when known), the Markdown alt
/// text (read from `events`, up to the image's end) and loading hints. `images` counts the
/// images so far: only the first loads eagerly.
fn image<'a>(
    start: Event<'a>,
    events: &mut impl Iterator<Item = Event<'a>>,
    images: &mut usize,
    assets: &AssetMap,
) -> Event<'a> {
    let Event::Start(Tag::Image {
        dest_url, title, ..
    }) = start
    else {
        unreachable!("an image")
    };
    let alt = image_alt(events);
    *images += 1;
    Event::InlineHtml(CowStr::from(img_tag(
        &dest_url,
        &title,
        &alt,
        assets,
        *images == 1,
    )))
}

/// The plain text of an image's description, consuming the events up to its end.
fn image_alt<'a>(events: &mut impl Iterator<Item = Event<'a>>) -> String {
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
    let mut tag = String::new();
    let variants = published.as_ref().map_or(&[][..], |(_, a)| &a.variants[..]);
    if !variants.is_empty() {
        picture_sources(&mut tag, variants);
    }
    tag.push_str("<img src=\"");
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
    if let Some((
        _,
        Asset {
            width: Some(w),
            height: Some(h),
            ..
        },
    )) = published
    {
        tag.push_str(&format!(" width=\"{w}\" height=\"{h}\""));
    }
    // The first image may well be on the first screen: loading it lazily would only delay
    // it. The others wait until the reader scrolls near them.
    tag.push_str(if first {
        " decoding=\"async\" loading=\"eager\">"
    } else {
        " decoding=\"async\" loading=\"lazy\">"
    });
    if !variants.is_empty() {
        tag.push_str("</picture>");
    }
    tag
}

/// How wide a body image is drawn: the post's column (`--measure`, 42rem) inside the page's
/// padding (1.25rem a side), or the whole viewport less that padding on a narrower screen.
/// The browser takes the narrowest variant at least this wide times the screen's density.
pub const IMAGE_SIZES: &str = "(max-width: 44.5rem) calc(100vw - 2.5rem), 42rem";

/// Opens a `<picture>` with one `<source>` per format among `variants` (named by their
/// URLs' extension, in the order they first appear), each listing its widths. The `<img>`
/// that follows keeps the original: browsers that know none of the formats show it.
fn picture_sources(tag: &mut String, variants: &[crate::content::Variant]) {
    tag.push_str("<picture>");
    let ext = |url: &str| url.rsplit_once('.').map_or("", |(_, e)| e).to_string();
    let mut formats: Vec<String> = Vec::new();
    for v in variants {
        let e = ext(&v.url);
        if !formats.contains(&e) {
            formats.push(e);
        }
    }
    for format in &formats {
        tag.push_str("<source type=\"");
        tag.push_str(crate::kv::content_type(format));
        tag.push_str("\" srcset=\"");
        let mut first = true;
        for v in variants.iter().filter(|v| &ext(&v.url) == format) {
            if !first {
                tag.push_str(", ");
            }
            first = false;
            pulldown_cmark_escape::escape_href(&mut *tag, &v.url)
                .expect("writing to a String cannot fail");
            tag.push_str(&format!(" {}w", v.width));
        }
        tag.push_str("\" sizes=\"");
        tag.push_str(IMAGE_SIZES);
        tag.push_str("\">");
    }
}

/// How many words `text` has: what `text.split_whitespace().count()` says, without
/// decoding ASCII.
fn count_words(text: &str) -> usize {
    let mut count = WordCount::default();
    count.add(text);
    count.words
}

/// Counts the words of text that comes in pieces as if the pieces were one string.
#[derive(Default)]
struct WordCount {
    words: usize,
    in_word: bool,
}

/// What a byte says about whitespace: ASCII whitespace is what `char::is_whitespace` says for
/// ASCII (tab, newline, vertical tab, form feed, carriage return, space); every other
/// whitespace character starts with one of the lead bytes marked `DECODE`.
const SPACE: u8 = 1;
const DECODE: u8 = 2;
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0x09;
    while b <= 0x0d {
        table[b] = SPACE;
        b += 1;
    }
    table[0x20] = SPACE;
    // U+0085, U+00A0; U+1680; U+2000..U+200A, U+2028, U+2029, U+202F, U+205F; U+3000.
    table[0xc2] = DECODE;
    table[0xe1] = DECODE;
    table[0xe2] = DECODE;
    table[0xe3] = DECODE;
    table
};

impl WordCount {
    fn add(&mut self, text: &str) {
        const LOW: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let bytes = text.as_bytes();
        let mut words = 0;
        let mut in_word = self.in_word;
        let mut i = 0;
        while i < bytes.len() {
            if let Some(chunk) = bytes.get(i..i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                if w & HIGH == 0 {
                    // Eight ASCII bytes at once: the high bit of each byte of `space` says
                    // whether it is whitespace (0x20, or 0x09 to 0x0d).
                    let x = w ^ (0x20 * LOW);
                    let is_20 = !(((x & !HIGH) + !HIGH) | x | !HIGH);
                    let from_09 = w + (0x80 - 0x09) * LOW;
                    let from_0e = w + (0x80 - 0x0e) * LOW;
                    let space = (is_20 | (from_09 & !from_0e)) & HIGH;
                    let word = !space & HIGH;
                    // A word starts at a non-space byte whose previous byte is a space.
                    let before = (word << 8) | if in_word { 0x80 } else { 0 };
                    words += (word & !before).count_ones() as usize;
                    in_word = word >> 63 == 1;
                    i += 8;
                    continue;
                }
            }
            let class = BYTE_CLASS[usize::from(bytes[i])];
            let space = if class == DECODE {
                let c = text[i..]
                    .chars()
                    .next()
                    .expect("a lead byte starts a character");
                i += c.len_utf8();
                c.is_whitespace()
            } else {
                // Other non-ASCII bytes belong to characters that are not whitespace.
                i += 1;
                class == SPACE
            };
            words += usize::from(!space & !in_word);
            in_word = !space;
        }
        self.words += words;
        self.in_word = in_word;
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    level as u8
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
        let mut id = if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
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

    #[test]
    fn plain_text_keeps_words_and_code_and_names_the_headings() {
        let (text, headings) = plain_text(
            "## Set `CGO_ENABLED`\n\nRun **this**:\n\n```sh\nCGO_ENABLED=0 go build\n```\n\n- a [link](/x)\n",
        );
        assert_eq!(headings, ["Set CGO_ENABLED"]);
        assert!(
            text.contains("Run this:") && text.contains("CGO_ENABLED=0 go build"),
            "{text}"
        );
        assert!(
            text.contains("a link") && !text.contains("/x") && !text.contains("**"),
            "{text}"
        );
    }

    fn render_plain(md: &str) -> Rendered {
        render(md, &RenderOptions::default())
    }

    #[test]
    fn renders_paragraphs_lists_code_and_links() {
        let r = render_plain("Hello *world*.\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n\n[docs](https://example.com)\n");
        assert!(
            r.html.contains("<p>Hello <em>world</em>.</p>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<li>one</li>"));
        assert!(r.html.contains(
            "<pre tabindex=\"0\"><code class=\"language-rust\">fn main() {}\n</code></pre>"
        ));
        assert!(r.html.contains("<a href=\"https://example.com\">docs</a>"));
    }

    #[test]
    fn gives_headings_stable_unique_ids() {
        let r = render_plain(
            "## Why it matters\n\ntext\n\n## Why it matters\n\n### `cargo` & you {#custom}\n",
        );
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
        assert!(
            r.html
                .contains("href=\"#a&quot;onmouseover=&quot;alert(1)\""),
            "{}",
            r.html
        );
        assert!(!r.html.contains("onmouseover=\"alert"), "{}", r.html);
    }

    #[test]
    fn renders_tables_footnotes_strikethrough_and_tasks() {
        let r = render_plain("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee[^n].\n\n[^n]: A note.\n\n~~old~~\n\n- [x] done\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("footnote-definition"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(
            r.html.contains(
                "<li><input type=\"checkbox\" disabled checked aria-label=\"Done\"> done</li>"
            ),
            "{}",
            r.html
        );
    }

    #[test]
    fn escapes_text_and_smartens_quotes() {
        let r = render_plain("Use \"quotes\" and it's <fine> & safe\n");
        assert!(r.html.contains("\u{201c}quotes\u{201d}"), "{}", r.html);
        assert!(r.html.contains("it\u{2019}s"));
        assert!(r.html.contains("&amp; safe"));
    }

    #[test]
    fn a_mermaid_block_with_a_figure_is_the_figure_and_one_without_stays_code() {
        let md = "```mermaid\nflowchart LR\n  a --> b\n```\n\n```mermaid\npie\n```\n\nAfter.\n";
        let code_html = [
            Some("<figure class=\"diagram\"><svg></svg></figure>\n".to_string()),
            None,
        ];
        let r = render(
            md,
            &RenderOptions {
                code_html: &code_html,
                ..RenderOptions::default()
            },
        );
        assert!(
            r.html.starts_with("<figure class=\"diagram\"><svg></svg></figure>\n<pre tabindex=\"0\"><code class=\"language-mermaid\">pie\n</code></pre>\n<p>After.</p>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("flowchart"), "{}", r.html);
        // The diagram's source is not counted as words of the post; the code left is.
        assert_eq!(r.words, 2);
    }

    #[test]
    fn splices_highlighted_code_by_position_and_escapes_the_rest() {
        let md = "```rust\nfn a() {}\n```\n\n    indented <x>\n\n```unknown\na < b\n```\n";
        let blocks = code_blocks(md);
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (blocks[0].lang.as_str(), blocks[1].code.as_str()),
            ("rust", "a < b\n")
        );
        let code_html = [
            Some("<span class=\"k\">fn</span> a() {}\n".to_string()),
            None,
        ];
        let r = render(
            md,
            &RenderOptions {
                code_html: &code_html,
                ..RenderOptions::default()
            },
        );
        assert!(r.html.contains("<pre tabindex=\"0\"><code class=\"language-rust\"><span class=\"k\">fn</span> a() {}\n</code></pre>"), "{}", r.html);
        assert!(
            r.html
                .contains("<pre tabindex=\"0\"><code>indented &lt;x&gt;\n</code></pre>"),
            "{}",
            r.html
        );
        assert!(r.html.contains(
            "<pre tabindex=\"0\"><code class=\"language-unknown\">a &lt; b\n</code></pre>"
        ));
    }

    #[test]
    fn raw_html_is_kept_unless_stripping_is_asked_for() {
        let md = "<div class=\"note\">block</div>\n\nText <span>inline</span> <script>x()</script>.\n\n## Head <img src=x onerror=alert(1)> <b>bold</b>\n";
        let kept = render_plain(md);
        assert!(
            kept.html.contains("<div class=\"note\">") && kept.html.contains("<span>inline</span>")
        );
        let stripped = render(
            md,
            &RenderOptions {
                strip_raw_html: true,
                ..RenderOptions::default()
            },
        );
        assert!(
            !stripped.html.contains("<div")
                && !stripped.html.contains("<span>")
                && !stripped.html.contains("<script"),
            "{}",
            stripped.html
        );
        assert!(stripped.html.contains("inline") && stripped.html.contains("class=\"anchor\""));
        // Headings follow the same policy.
        assert!(kept.html.contains("<b>bold</b>") && kept.html.contains("onerror"));
        assert!(
            !stripped.html.contains("<b>")
                && !stripped.html.contains("<img")
                && stripped.html.contains("bold"),
            "{}",
            stripped.html
        );
    }

    fn assets() -> AssetMap {
        let asset = |url: &str, size: Option<(u32, u32)>| Asset {
            url: url.into(),
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
            variants: Vec::new(),
        };
        [
            (
                "photo.png".to_string(),
                asset("/files/aaaa.png", Some((640, 360))),
            ),
            (
                "./files/diagram.svg".to_string(),
                asset("/files/bbbb.svg", Some((120, 80))),
            ),
            (
                "files/report.pdf".to_string(),
                asset("/files/cccc.pdf", None),
            ),
        ]
        .into_iter()
        .collect()
    }

    fn render_with(md: &str, assets: &AssetMap) -> String {
        render(
            md,
            &RenderOptions {
                assets,
                ..RenderOptions::default()
            },
        )
        .html
    }

    #[test]
    fn a_resized_image_offers_its_variants_in_a_picture_and_keeps_the_original() {
        let mut assets = assets();
        let photo = assets.get_mut("photo.png").unwrap();
        photo.variants = [(480, "1111.webp"), (640, "2222.webp")]
            .map(|(width, name)| crate::content::Variant {
                url: format!("/files/{name}"),
                width,
            })
            .to_vec();
        let html = render_with(
            "![A <b>sunset</b>](photo.png \"Evening\")\n\n![two](./files/diagram.svg)\n",
            &assets,
        );
        assert_eq!(
            html,
            "<p><picture><source type=\"image/webp\" srcset=\"/files/1111.webp 480w, /files/2222.webp 640w\" sizes=\"(max-width: 44.5rem) calc(100vw - 2.5rem), 42rem\">\
             <img src=\"/files/aaaa.png\" alt=\"A sunset\" title=\"Evening\" width=\"640\" height=\"360\" decoding=\"async\" loading=\"eager\"></picture></p>\n\
             <p><img src=\"/files/bbbb.svg\" alt=\"two\" width=\"120\" height=\"80\" decoding=\"async\" loading=\"lazy\"></p>\n"
        );
        // Each format its own source, in the order the variants name them.
        let photo = assets.get_mut("photo.png").unwrap();
        photo.variants.insert(
            0,
            crate::content::Variant {
                url: "/files/3333.avif".into(),
                width: 480,
            },
        );
        let html = render_with("![x](photo.png)\n", &assets);
        assert!(
            html.starts_with("<p><picture><source type=\"image/avif\" srcset=\"/files/3333.avif 480w\" sizes=\"(max-width: 44.5rem) calc(100vw - 2.5rem), 42rem\"><source type=\"image/webp\" srcset=\"/files/1111.webp 480w, /files/2222.webp 640w\""),
            "{html}"
        );
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
        let loading: Vec<_> = html
            .match_indices("loading=\"")
            .map(|(i, _)| &html[i + 9..i + 13])
            .collect();
        assert_eq!(loading, ["eage", "lazy", "lazy"], "{html}");
        assert!(html.contains("<img src=\"/files/bbbb.svg\" alt=\"two\" width=\"120\" height=\"80\" decoding=\"async\" loading=\"lazy\">"), "{html}");
    }

    #[test]
    fn images_of_other_sites_keep_their_url_and_get_no_size() {
        let html = render_plain("![far <b>away</b>](<https://x.example/a b.png>)\n\n![](<https://x.example/q?a=1&b=\"2\">)\n").html;
        assert!(html.contains("<img src=\"https://x.example/a%20b.png\" alt=\"far away\" decoding=\"async\" loading=\"eager\">"), "{html}");
        assert!(
            html.contains("<img src=\"https://x.example/q?a=1&amp;b=%222%22\" alt=\"\" decoding"),
            "{html}"
        );
        assert!(!html.contains("width="));
    }

    #[test]
    fn links_to_files_point_at_their_published_copy() {
        let html = render_with("Read [the report](files/report.pdf#page=2) or [the site](https://x.example/files/report.pdf).\n", &assets());
        assert!(
            html.contains("<a href=\"/files/cccc.pdf#page=2\">the report</a>"),
            "{html}"
        );
        assert!(html.contains("<a href=\"https://x.example/files/report.pdf\">the site</a>"));
    }

    #[test]
    fn images_survive_raw_html_stripping_and_headings() {
        let md = "## A ![logo](photo.png) heading\n\n<img src=\"x.png\">\n";
        let r = render(
            md,
            &RenderOptions {
                assets: &assets(),
                strip_raw_html: true,
                ..RenderOptions::default()
            },
        );
        assert!(
            r.html
                .contains("<h2 id=\"a-logo-heading\">A <img src=\"/files/aaaa.png\" alt=\"logo\""),
            "{}",
            r.html
        );
        assert!(!r.html.contains("x.png"), "{}", r.html);
    }

    #[test]
    fn info_string_language_is_its_first_word() {
        assert_eq!(code_blocks("```Rust,ignore\nx\n```\n")[0].lang, "rust");
        assert_eq!(code_blocks("```\nx\n```\n")[0].lang, "");
    }

    #[test]
    fn counts_words() {
        assert_eq!(
            render_plain("## Two words\n\nthree more words `code`\n").words,
            6
        );
    }

    #[test]
    fn counts_words_as_split_whitespace_does_however_the_text_is_cut() {
        // Every whitespace character, ASCII and not, and characters that share their lead
        // bytes (U+00A9, U+2019, U+3001) or look like space but are not (U+200B).
        let pieces = [
            "a", "word", "\t", "\n", "\u{b}", "\u{c}", "\r", " ", "\u{85}", "\u{a0}", "\u{1680}",
            "\u{2000}", "\u{200a}", "\u{2028}", "\u{2029}", "\u{202f}", "\u{205f}", "\u{3000}",
            "\u{a9}", "\u{2019}", "\u{3001}", "\u{200b}", "é", "🎉", "x_y", "\u{1c}", "\u{7f}",
        ];
        let mut seed = 7u64;
        for len in 0..400 {
            let mut text = String::new();
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            assert_eq!(
                count_words(&text),
                text.split_whitespace().count(),
                "{text:?}"
            );
            let mut cut = WordCount::default();
            let mut rest = text.as_str();
            while !rest.is_empty() {
                let mut at = (seed as usize >> 7) % (rest.len() + 1);
                while !rest.is_char_boundary(at) {
                    at += 1;
                }
                seed = seed.rotate_left(13) ^ 0x9e37_79b9;
                cut.add(&rest[..at]);
                rest = &rest[at..];
            }
            assert_eq!(cut.words, text.split_whitespace().count(), "{text:?}");
        }
    }

    #[test]
    fn github_alerts_become_labelled_callouts_with_an_icon_and_a_word() {
        let r = render_plain(
            "> [!WARNING]\n> Mounting the socket is *root* on the host.\n\n> [!tip]\n> Lower case works.\n\n> A plain quote.\n",
        );
        let warning = "<aside class=\"callout warning\" role=\"note\" aria-label=\"Warning\">\n<p class=\"callout-title\"><svg class=\"icon\"";
        assert!(r.html.starts_with(warning), "{}", r.html);
        assert!(
            r.html.contains("</svg><strong>Warning</strong></p>\n<p>Mounting the socket is <em>root</em> on the host.</p>\n</aside>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("aria-label=\"Tip\""), "{}", r.html);
        assert!(
            r.html
                .contains("<blockquote>\n<p>A plain quote.</p>\n</blockquote>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("[!"), "the marker is not text: {}", r.html);
        assert!(
            r.html.contains("aria-hidden=\"true\""),
            "the icon is decoration"
        );
        // Each kind its own word and its own icon.
        let kinds = ["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"];
        let icons: HashSet<String> = kinds
            .iter()
            .map(|k| {
                let html = render_plain(&format!("> [!{k}]\n> x\n")).html;
                let word = format!("<strong>{}{}</strong>", &k[..1], k[1..].to_lowercase());
                assert!(html.contains(&word), "{html}");
                html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()].to_string()
            })
            .collect();
        assert_eq!(icons.len(), kinds.len());
    }

    #[test]
    fn an_unknown_alert_or_a_marker_after_text_stays_a_quote() {
        for md in [
            "> [!DANGER]\n> x\n",
            "> Text [!NOTE]\n> x\n",
            "> [!NOTE] on one line\n",
        ] {
            let html = render_plain(md).html;
            assert!(html.starts_with("<blockquote>"), "{md:?}: {html}");
            assert!(!html.contains("callout"), "{md:?}: {html}");
        }
    }

    #[test]
    fn callouts_survive_raw_html_stripping_and_nest() {
        let r = render(
            "> [!NOTE]\n> Outer <b>x</b>\n>\n> > [!CAUTION]\n> > Inner\n",
            &RenderOptions {
                strip_raw_html: true,
                ..RenderOptions::default()
            },
        );
        assert_eq!(r.html.matches("<aside").count(), 2, "{}", r.html);
        assert_eq!(r.html.matches("</aside>").count(), 2, "{}", r.html);
        assert!(!r.html.contains("<b>"), "{}", r.html);
        assert!(r.html.contains("aria-label=\"Caution\""), "{}", r.html);
    }

    #[test]
    fn formulas_take_the_mathml_made_for_them_by_position_and_dollars_stay_text() {
        let md = "Ratio $a$ and\n\n$$\nb\n$$\n\nCosts $5 and $10 a month.\n\nIn code `$x$`, escaped \\$5.\n";
        let math = ["<math>A</math>".to_string()];
        let r = render(
            md,
            &RenderOptions {
                math_html: &math,
                ..RenderOptions::default()
            },
        );
        assert!(r.html.contains("Ratio <math>A</math> and"), "{}", r.html);
        // The second has none: its TeX, escaped, as pulldown-cmark writes it.
        assert!(r.html.contains("math-display"), "{}", r.html);
        assert!(
            r.html.contains("<p>Costs $5 and $10 a month.</p>"),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("<p>In code <code>$x$</code>, escaped $5.</p>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn only_a_body_that_may_hold_an_alert_names_callouts() {
        assert_eq!(extended_syntax("> [!note]\n> x\n"), ["callouts"]);
        assert!(extended_syntax("> a quote\n\n[link](x)\n").is_empty());
        assert_eq!(extended_syntax("Costs $5.\n"), ["math"]);
        assert_eq!(
            extended_syntax("Run:\n\n    make dev\n"),
            ["focusable code"]
        );
        assert!(extended_syntax("```sh\nmake dev\n```\n").is_empty());
        assert_eq!(
            extended_syntax("```mermaid\nflowchart LR\n  a --> b\n```\n"),
            ["diagrams"]
        );
    }

    #[test]
    fn slugify_keeps_letters_of_any_script() {
        assert_eq!(slugify("From 342MB to 37MB: Go!"), "from-342mb-to-37mb-go");
        assert_eq!(slugify("Café — ünïcode"), "café-ünïcode");
        assert_eq!(slugify("???"), "section");
    }
}
