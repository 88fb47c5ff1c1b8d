//! Any text as a post body: `render` never panics, gives every heading a unique id that its
//! anchor link carries intact, and splices highlighted code back into the block it came from.
#![no_main]

use blog_core::markdown::{code_blocks, render, RenderOptions};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

/// What the renderer does to code with no highlighting: escape `&`, `<` and `>`.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn escape_attr(text: &str) -> String {
    escape_text(text).replace('"', "&quot;")
}

fuzz_target!(|body: &str| {
    let plain = render(body, &RenderOptions::default());
    // Every anchor link's target, as written in the HTML (raw HTML in the body may add more).
    const ANCHOR: &str = "<a class=\"anchor\" href=\"#";
    let hrefs: HashSet<&str> =
        plain.html.split(ANCHOR).skip(1).map(|rest| rest.split('"').next().unwrap_or("")).collect();
    let mut ids = HashSet::new();
    for h in &plain.headings {
        assert!(!h.id.is_empty(), "empty id: {h:?}");
        assert!(ids.insert(h.id.as_str()), "id {:?} twice", h.id);
        assert!((1..=6).contains(&h.level), "{h:?}");
        let href = escape_attr(&h.id);
        assert!(hrefs.contains(href.as_str()), "no intact anchor to #{href} in {}", plain.html);
    }

    let blocks = code_blocks(body);
    // "Highlighting" that only escapes must render exactly like no highlighting: each block's
    // HTML lands on the block it was made from.
    let escaped: Vec<Option<String>> = blocks.iter().map(|b| Some(escape_text(&b.code))).collect();
    assert_eq!(render(body, &RenderOptions { code_html: &escaped, ..RenderOptions::default() }), plain);

    // And every block's HTML is used, once.
    let marks: Vec<Option<String>> = (0..blocks.len()).map(|i| Some(format!("<!--fuzz-block-{i}-->"))).collect();
    let marked = render(body, &RenderOptions { code_html: &marks, ..RenderOptions::default() });
    for mark in marks.iter().flatten() {
        let (with, without) = (marked.html.matches(mark.as_str()).count(), plain.html.matches(mark.as_str()).count());
        assert_eq!(with, without + 1, "{mark} used {} times", with - without);
    }
    assert_eq!((&marked.headings, marked.words), (&plain.headings, plain.words));
});
