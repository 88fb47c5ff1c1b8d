//! Mermaid diagrams at sync: a ```` ```mermaid ```` block of a kind drawn here (flowcharts
//! and sequence diagrams) becomes an inline SVG, laid out by `merman` on the author's
//! machine, so readers run no script. merman writes Mermaid's own SVG, with a `<style>`
//! element, inline `style` and colour attributes, none of which the site's
//! Content-Security-Policy allows and all of which would fix the colours whatever the reader's
//! scheme. [`figure`] keeps the shapes, text and classes and drops the rest: the site's
//! stylesheet colours diagrams through its custom properties, light and dark. The diagram's
//! source is its accessible description. Other kinds stay highlighted code.
//!
//! A diagram that does not parse is found when its post is parsed ([`check_all`], about a
//! millisecond), at the post's line the parser points at; drawing it waits for the sync that
//! writes the post, as highlighting does.

use blog_core::html::{escape_attr_into, escape_text_into};
use blog_core::markdown::{self, DIAGRAM_LANG};
use merman::svg::SvgRenderOptions;
use merman::{
    Engine, MermaidConfig, OperationControl, ParseOptions, RenderOutput, RenderRequest, Renderer,
    SvgRequest,
};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The diagram kinds drawn, by the word that opens them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Flowchart,
    Sequence,
}

impl Kind {
    /// What the diagram is called to a reader who cannot see it.
    fn name(self) -> &'static str {
        match self {
            Kind::Flowchart => "Flowchart",
            Kind::Sequence => "Sequence diagram",
        }
    }
}

/// The most bytes one diagram's HTML may have; a larger one stays code, so a post's size
/// stays bounded by its text (see `limits::may_outgrow_kv`).
pub const MAX_FIGURE_BYTES: usize = 512 * 1024;

/// A diagram that does not parse, or of a kind not drawn: the body line (from `body_line`)
/// and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagramProblem {
    pub line: usize,
    pub message: String,
    /// Whether the post cannot be published with it (a diagram that does not parse), or only
    /// shows it as code (a kind not drawn).
    pub error: bool,
}

/// The kind of a diagram from its first line (after blank lines, `%%` comments and a `---`
/// front matter), or None for a kind not drawn here.
pub fn kind(code: &str) -> Option<Kind> {
    let mut lines = code.lines().map(str::trim);
    let mut in_front = false;
    for line in lines.by_ref() {
        if in_front {
            in_front = line != "---";
            continue;
        }
        if line.is_empty() || line.starts_with("%%") {
            continue;
        }
        if line == "---" {
            in_front = true;
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or("");
        return match word {
            "flowchart" | "graph" => Some(Kind::Flowchart),
            "sequenceDiagram" => Some(Kind::Sequence),
            _ => None,
        };
    }
    None
}

/// The renderer, made once: Mermaid's defaults but with labels as SVG text (no HTML in a
/// `<foreignObject>`, which needs inline styles) and the author's text never read as HTML.
fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| {
        let config = MermaidConfig::from_value(serde_json::json!({
            "securityLevel": "strict",
            "htmlLabels": false,
            "flowchart": { "htmlLabels": false },
        }));
        Renderer::new()
            .with_engine(Engine::new().with_site_config(config))
            .with_parse_options(ParseOptions::strict())
    })
}

/// Whether a diagram parses: the offset into `code` the parser points at, and its message.
pub fn parse(code: &str) -> Result<(), (Option<usize>, String)> {
    match renderer()
        .engine()
        .parse_diagram_sync(code, ParseOptions::strict())
    {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err((None, "no diagram found".to_string())),
        Err(merman::Error::DiagramParse { diagnostic, .. }) => Err((
            diagnostic.span().map(|s| s.start),
            diagnostic.message().to_string(),
        )),
        Err(e) => Err((None, e.to_string())),
    }
}

/// Every problem of a body's diagrams: each drawn kind that does not parse (at the line the
/// parser points at, else the diagram's first line) and each Mermaid block of a kind not
/// drawn (at its fence). A body without a Mermaid block costs one scan for its name.
pub fn check_all(body: &str, body_line: usize) -> Vec<DiagramProblem> {
    if !body.contains(DIAGRAM_LANG) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (event, range) in Parser::new_ext(body, markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if markdown::lang_of(&info) == DIAGRAM_LANG =>
            {
                let fence = body_line + body[..range.start].matches('\n').count();
                block = Some((fence, String::new()));
            }
            Event::Text(text) => {
                if let Some((_, code)) = block.as_mut() {
                    code.push_str(&text);
                }
            }
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => {
                let Some((fence, code)) = block.take() else {
                    continue;
                };
                if kind(&code).is_none() {
                    problems.push(DiagramProblem {
                        line: fence,
                        message: "this kind of Mermaid diagram is not drawn (flowchart, graph and sequenceDiagram are): it is shown as code".into(),
                        error: false,
                    });
                    continue;
                }
                if let Err((at, message)) = parse(&code) {
                    let line = fence
                        + 1
                        + at.map_or(0, |at| code[..at.min(code.len())].matches('\n').count());
                    problems.push(DiagramProblem {
                        line,
                        message,
                        error: true,
                    });
                }
            }
            _ => {}
        }
    }
    problems
}

/// A diagram as the HTML placed instead of its code block: a `<figure>` holding the SVG,
/// named by its kind and described by its source. None for a kind not drawn, a diagram that
/// does not parse (`blog check` has said so) or one past [`MAX_FIGURE_BYTES`].
pub fn figure(code: &str) -> Option<String> {
    let kind = kind(code)?;
    let id = format!("mm{}", &crate::source::hash_of(&code)[..10]);
    let request = SvgRequest {
        options: SvgRenderOptions {
            diagram_id: Some(id.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let output = renderer().render(RenderRequest::svg(code, OperationControl::new(), request));
    // One that does not parse was reported by `check_all`; it stays code.
    let Ok(RenderOutput::Svg(Some(svg))) = output else {
        return None;
    };
    let clean = clean(svg.svg())?;
    let mut html = String::with_capacity(clean.inner.len() + code.len() + 512);
    html.push_str("<figure class=\"diagram\"><svg xmlns=\"http://www.w3.org/2000/svg\" fill=\"currentColor\" viewBox=\"");
    escape_attr_into(&mut html, &clean.view_box);
    html.push_str(&format!(
        "\" width=\"{}\" height=\"{}\" role=\"img\" aria-labelledby=\"{id}-t\" aria-describedby=\"{id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">",
        clean.width.round(),
        clean.height.round(),
        kind.name()
    ));
    escape_text_into(&mut html, code.trim_end());
    html.push_str("</desc>");
    html.push_str(&clean.inner);
    html.push_str("</svg></figure>\n");
    Some(html).filter(|html| html.len() <= MAX_FIGURE_BYTES)
}

/// merman's SVG with only what draws it: its size and its content.
struct Clean {
    view_box: String,
    width: f64,
    height: f64,
    inner: String,
}

/// Elements dropped with everything inside them: styles and scripts never, and titles of
/// their own (the figure's come from [`figure`]).
const DROPPED: &[&str] = &["style", "script", "title", "desc", "foreignObject"];

/// Elements kept only when something points at them (`url(#id)`, `href="#id"`): merman
/// defines every arrowhead, shadow and icon a diagram of its kind might use.
const ON_USE: &[&str] = &["marker", "filter", "symbol"];

/// Elements that draw a shape, given a colour of their own where no stylesheet applies.
const SHAPES: &[&str] = &[
    "rect", "polygon", "path", "circle", "ellipse", "line", "polyline",
];

/// Inline style properties that place text rather than colour it: kept, as attributes.
const LAYOUT_STYLES: &[&str] = &[
    "text-anchor",
    "font-size",
    "font-weight",
    "font-style",
    "dominant-baseline",
];

/// Attributes dropped: colours (the stylesheet's), inline styles (the CSP refuses them),
/// roles and data for Mermaid's own script.
fn dropped_attribute(name: &str) -> bool {
    matches!(
        name,
        "style" | "fill" | "stroke" | "filter" | "role" | "name" | "flood-color" | "color"
    ) || name.starts_with("data-")
        || name.starts_with("aria-")
        || name.starts_with("xmlns")
}

/// One tag of the SVG: its name, its attributes (values as written, escaped), whether it is
/// a closing tag and whether it closes itself.
struct TagToken<'a> {
    name: &'a str,
    attrs: Vec<(&'a str, &'a str)>,
    closing: bool,
    empty: bool,
}

fn parse_tag(tag: &str) -> Option<TagToken<'_>> {
    let closing = tag.starts_with('/');
    let tag = tag.trim_start_matches('/');
    let empty = tag.ends_with('/');
    let tag = tag.trim_end_matches('/');
    let name_end = tag
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(tag.len());
    let name = &tag[..name_end];
    let mut attrs = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let attr = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let close = after[1..].find(quote)? + 1;
        attrs.push((attr, &after[1..close]));
        rest = after[close + 1..].trim_start();
    }
    Some(TagToken {
        name,
        attrs,
        closing,
        empty,
    })
}

/// Text between tags. merman reads Mermaid's entity codes (`#quot;`, `#lt;`) into entities
/// and then escapes those again (`&amp;quot;`): undone here, so the reader sees `"`, as in
/// Mermaid. Anything else stays as merman escaped it.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find("&amp;") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 5..];
        let entity = after.find(';').filter(|&end| {
            let name = &after[..end];
            matches!(name, "quot" | "lt" | "gt" | "amp" | "apos")
                || name.strip_prefix('#').is_some_and(|n| {
                    !n.is_empty() && n.len() <= 7 && n.bytes().all(|b| b.is_ascii_digit())
                })
        });
        match entity {
            Some(end) => {
                out.push('&');
                out.push_str(&after[..=end]);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("&amp;");
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The ids the SVG points at.
fn referenced_ids(svg: &str) -> HashSet<&str> {
    let mut ids = HashSet::new();
    for (start, end) in [("url(#", ')'), ("href=\"#", '"')] {
        let mut rest = svg;
        while let Some(at) = rest.find(start) {
            rest = &rest[at + start.len()..];
            if let Some(stop) = rest.find(end) {
                ids.insert(&rest[..stop]);
            }
        }
    }
    ids
}

/// merman's SVG cleaned in two passes: the first keeps every definition, so that the second
/// keeps only those the drawing itself points at (not merman's stylesheet).
fn clean(svg: &str) -> Option<Clean> {
    let first = clean_keeping(svg, None)?;
    clean_keeping(svg, Some(&referenced_ids(&first.inner)))
}

/// One pass of [`clean`]: `used` are the ids kept (every one when None).
fn clean_keeping(svg: &str, used: Option<&HashSet<&str>>) -> Option<Clean> {
    let keeps = |id: &str| used.is_none_or(|used| used.contains(id));
    let mut out = String::with_capacity(svg.len() / 2);
    let mut view_box = None;
    // Depth of the element being dropped with its content, when one is.
    let mut skipping: Option<usize> = None;
    let mut depth = 0usize;
    // Depth of the arrowhead, and of the node or edge label, being written, when inside one.
    let mut marker: Option<usize> = None;
    let mut label: Option<usize> = None;
    let mut rest = svg;
    while let Some(lt) = rest.find('<') {
        if skipping.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        rest = &rest[lt + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = &comment[comment.find("-->")? + 3..];
            continue;
        }
        let gt = rest.find('>')?;
        let tag = parse_tag(&rest[..gt])?;
        rest = &rest[gt + 1..];
        if tag.closing {
            depth = depth.checked_sub(1)?;
            if marker == Some(depth) {
                marker = None;
            }
            if label == Some(depth) {
                label = None;
            }
            if skipping == Some(depth) {
                skipping = None;
            } else if skipping.is_none() && depth > 0 {
                out.push_str("</");
                out.push_str(tag.name);
                out.push('>');
            }
            continue;
        }
        let opened_at = depth;
        if !tag.empty {
            depth += 1;
        }
        if skipping.is_some() {
            continue;
        }
        if opened_at == 0 {
            if tag.name != "svg" {
                return None;
            }
            view_box = tag
                .attrs
                .iter()
                .find(|(n, _)| *n == "viewBox")
                .map(|(_, v)| v.to_string());
            continue;
        }
        let id = tag.attrs.iter().find(|(n, _)| *n == "id").map(|(_, v)| *v);
        let unused = ON_USE.contains(&tag.name) && !id.is_some_and(keeps);
        if DROPPED.contains(&tag.name) || unused {
            if !tag.empty {
                skipping = Some(opened_at);
            }
            continue;
        }
        out.push('<');
        out.push_str(tag.name);
        for (name, value) in &tag.attrs {
            if *name == "style" {
                for declaration in value.split(';') {
                    let Some((property, v)) = declaration.split_once(':') else {
                        continue;
                    };
                    let (property, v) = (property.trim(), v.trim());
                    let has = |n: &str| tag.attrs.iter().any(|(a, _)| *a == n);
                    if LAYOUT_STYLES.contains(&property) && !has(property) && !v.is_empty() {
                        out.push_str(&format!(" {property}=\"{v}\""));
                    }
                }
                continue;
            }
            if dropped_attribute(name) || (*name == "id" && !keeps(value)) {
                continue;
            }
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(value);
            out.push('"');
        }
        // Where the stylesheet is not (a feed reader), shapes are outlined and arrowheads
        // filled in the text's colour, rather than filled black as SVG's default would;
        // the site's stylesheet overrides both.
        if SHAPES.contains(&tag.name) {
            let class = tag
                .attrs
                .iter()
                .find(|(n, _)| *n == "class")
                .map_or("", |c| c.1);
            out.push_str(if marker.is_some() {
                " fill=\"currentColor\""
            } else if tag.name == "rect" && (class == "background" || class == "labelBkg") {
                // A label's backdrop: the page shows through.
                " fill=\"none\""
            } else {
                " fill=\"none\" stroke=\"currentColor\""
            });
        }
        if tag.name == "marker" && !tag.empty {
            marker = Some(opened_at);
        }
        let class = tag
            .attrs
            .iter()
            .find(|(n, _)| *n == "class")
            .map_or("", |c| c.1);
        if tag.name == "g" && class == "label" && !tag.empty && label.is_none() {
            label = Some(opened_at);
        }
        // Mermaid's stylesheet centres a label's text on its node; so does the site's, and
        // this does where there is none.
        if tag.name == "text"
            && label.is_some()
            && !tag.attrs.iter().any(|(n, _)| *n == "text-anchor")
        {
            out.push_str(" text-anchor=\"middle\"");
        }
        out.push_str(if tag.empty { "/>" } else { ">" });
    }
    let view_box = view_box?;
    let numbers: Vec<f64> = view_box
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [_, _, width, height] = numbers[..] else {
        return None;
    };
    Some(Clean {
        view_box,
        width,
        height,
        inner: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOWCHART: &str = "flowchart TD\n  push[git push] --> plan[Nixpacks plan]\n  plan --> build{Builds?}\n  build -->|yes| run[\"Run if a < b & c > d #quot;now#quot;\"]\n  build -->|no| stop[(Stop)]\n";
    const SEQUENCE: &str = "sequenceDiagram\n  participant A as Author\n  participant K as Workers KV\n  A->>K: put <post & \"slug\">\n  K-->>A: ok\n  Note over A,K: settle\n";

    #[test]
    fn kinds_are_read_from_the_first_line_that_says_one() {
        assert_eq!(kind("flowchart LR\n a --> b"), Some(Kind::Flowchart));
        assert_eq!(
            kind("\n%% a comment\ngraph TD\n a --> b"),
            Some(Kind::Flowchart)
        );
        assert_eq!(
            kind("---\ntitle: x\n---\nsequenceDiagram\n A->>B: hi"),
            Some(Kind::Sequence)
        );
        assert_eq!(kind("pie\n \"a\": 1"), None);
        assert_eq!(kind(""), None);
    }

    /// The text a reader sees in an SVG: each `<text>` element's content, tags dropped.
    fn texts(html: &str) -> Vec<String> {
        html.split("<text")
            .skip(1)
            .map(|t| {
                let t = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
                let mut out = String::new();
                let mut inside = false;
                for c in t.chars() {
                    match c {
                        '<' => inside = true,
                        '>' => inside = false,
                        c if !inside => out.push(c),
                        _ => {}
                    }
                }
                out
            })
            .collect()
    }

    /// The values of every `name="..."` attribute in `html`.
    fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
        let open = format!(" {name}=\"");
        html.split(&open)
            .skip(1)
            .map(|after| &after[..after.find('"').unwrap()])
            .collect()
    }

    #[track_caller]
    fn assert_themable(html: &str) {
        for banned in [
            " style=",
            "<style",
            "<script",
            "foreignObject",
            "<div",
            "fill=\"#",
            "stroke=\"#",
            "rgb(",
            "hsl(",
        ] {
            assert!(!html.contains(banned), "{banned:?} in:\n{html}");
        }
        // Colours come from the stylesheet: no fill or stroke is written here but `none` and
        // the text's colour, for a reader without the stylesheet.
        for name in ["fill", "stroke"] {
            for value in attribute_values(html, name) {
                assert!(
                    value == "none" || value == "currentColor",
                    "{name}=\"{value}\" in:\n{html}"
                );
            }
        }
    }

    #[test]
    fn a_flowchart_is_an_svg_figure_with_classes_and_no_colours_of_its_own() {
        let html = figure(FLOWCHART).expect("drawn");
        println!("flowchart: {} bytes of HTML", html.len());
        assert!(
            html.starts_with(
                "<figure class=\"diagram\"><svg xmlns=\"http://www.w3.org/2000/svg\" fill=\"currentColor\" viewBox=\""
            ),
            "{html}"
        );
        assert!(html.ends_with("</svg></figure>\n"));
        assert!(html.contains(" role=\"img\" aria-labelledby=\""), "{html}");
        assert!(html.contains("><title id=\""), "{html}");
        assert!(html.contains(">Flowchart</title><desc id=\""), "{html}");
        for class in ["class=\"node", "flowchart-link", "edgeLabel"] {
            assert!(html.contains(class), "{class} in:\n{html}");
        }
        let texts = texts(&html);
        for label in ["git push", "Nixpacks plan", "Builds?", "yes", "no", "Stop"] {
            assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
        }
        assert_themable(&html);
        // Every id it points at is defined, once.
        for id in referenced_ids(&html) {
            assert_eq!(
                html.matches(&format!(" id=\"{id}\"")).count(),
                1,
                "#{id} in:\n{html}"
            );
        }
        assert!(html.len() < 16 * 1024, "{} bytes", html.len());
    }

    #[test]
    fn a_sequence_diagram_is_an_svg_figure_with_classes_and_no_colours_of_its_own() {
        let html = figure(SEQUENCE).expect("drawn");
        println!("sequence diagram: {} bytes of HTML", html.len());
        assert!(html.contains(">Sequence diagram</title>"), "{html}");
        for class in [
            "actor",
            "messageLine0",
            "messageLine1",
            "messageText",
            "note",
        ] {
            assert!(html.contains(class), "{class} in:\n{html}");
        }
        let texts = texts(&html);
        for label in ["Author", "Workers KV", "ok", "settle"] {
            assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
        }
        assert_themable(&html);
        assert!(html.len() < 16 * 1024, "{} bytes", html.len());
    }

    #[test]
    fn labels_and_the_source_are_escaped() {
        let flowchart = figure(FLOWCHART).unwrap();
        let labels = texts(&flowchart);
        assert!(
            labels
                .iter()
                .any(|t| t.starts_with("Run if a &lt; b &amp; c &gt; d")
                    && t.ends_with("&quot;now&quot;")),
            "{labels:?}"
        );
        assert!(!flowchart.contains("&amp;quot;"), "{flowchart}");
        let sequence = figure(SEQUENCE).unwrap();
        let labels = texts(&sequence);
        assert!(
            labels
                .iter()
                .any(|t| t.starts_with("put &lt;post &amp; &quot;slug&quot;")),
            "{labels:?}"
        );
        assert!(!sequence.contains("<post"), "{sequence}");
        // The description is the source, escaped.
        let desc = sequence.split("<desc").nth(1).unwrap();
        let desc = &desc[desc.find('>').unwrap() + 1..desc.find("</desc>").unwrap()];
        assert_eq!(
            desc,
            "sequenceDiagram\n  participant A as Author\n  participant K as Workers KV\n  A-&gt;&gt;K: put &lt;post &amp; \"slug\"&gt;\n  K--&gt;&gt;A: ok\n  Note over A,K: settle"
        );
    }

    #[test]
    fn two_diagrams_have_ids_of_their_own_and_one_drawn_twice_is_the_same() {
        let (a, b) = (
            figure(FLOWCHART).unwrap(),
            figure("flowchart LR\n  x --> y\n").unwrap(),
        );
        let ids = |html: &str| {
            attribute_values(html, "id")
                .into_iter()
                .map(str::to_string)
                .collect::<HashSet<_>>()
        };
        assert!(ids(&a).is_disjoint(&ids(&b)), "{:?} {:?}", ids(&a), ids(&b));
        assert_eq!(figure(FLOWCHART).unwrap(), a);
    }

    #[test]
    fn kinds_not_drawn_and_diagrams_that_do_not_parse_give_no_figure() {
        assert_eq!(figure("pie\n  \"a\": 1\n"), None);
        assert_eq!(figure("flowchart LR\n  a --> b[x]y]\n"), None);
    }

    #[test]
    fn a_diagram_that_does_not_parse_is_a_problem_at_its_line_with_the_parsers_message() {
        let body = "Text.\n\n```mermaid\nflowchart LR\n  a --> b\n  b --> c[x]y]\n```\n\n```mermaid\npie\n  \"a\": 1\n```\n\n```mermaid\nsequenceDiagram\n  A->>B: fine\n```\n";
        let problems = check_all(body, 10);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].error),
            (15, true),
            "{problems:?}"
        );
        assert!(!problems[0].message.is_empty());
        assert_eq!(
            (problems[1].line, problems[1].error),
            (18, false),
            "{problems:?}"
        );
        assert!(check_all("No diagrams.\n\n```rust\nfn main() {}\n```\n", 1).is_empty());
        assert!(check_all("Mermaid, in prose.\n", 1).is_empty());
    }
}
