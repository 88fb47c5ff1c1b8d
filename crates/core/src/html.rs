//! HTML and XML escaping, for the Markdown renderer, the highlighter and the feeds.
//!
//! The variants differ only in the quotes they escape: text content needs none, a
//! double-quoted attribute value needs `"`, and the feeds' XML escapes `'` as well. Every
//! character escaped is ASCII, so the runs between them are copied whole. Text is escaped by
//! pulldown-cmark-escape's `escape_html_body_text`, which pulldown-cmark itself uses; its
//! attribute escaper also writes `'` as `&#39;`, which would change every stored post hash,
//! so attributes keep their own.

/// Which quotes [`escape_into`] escapes besides `&`, `<` and `>`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quotes {
    Double,
    Both,
}

fn escape_into(out: &mut String, text: &str, quotes: Quotes) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'\'' if quotes == Quotes::Both => "&apos;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// Appends `text` as HTML text: `&`, `<` and `>` escaped, quotes left as they are.
pub fn escape_text_into(out: &mut String, text: &str) {
    pulldown_cmark_escape::escape_html_body_text(out, text)
        .expect("writing to a String cannot fail");
}

/// Appends `text` for a double-quoted HTML attribute value: `&`, `<`, `>` and `"` escaped.
pub fn escape_attr_into(out: &mut String, text: &str) {
    escape_into(out, text, Quotes::Double);
}

/// [`escape_attr_into`], into a new string.
pub fn escape_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_attr_into(&mut out, text);
    out
}

/// Appends `text` as XML character data or an attribute value in either quotes: `&`, `<`,
/// `>`, `"` and `'` (as `&apos;`) escaped. Escaping `>` keeps `]]>` out of character data.
/// Characters XML cannot carry are the caller's to remove.
pub fn escape_xml_into(out: &mut String, text: &str) {
    escape_into(out, text, Quotes::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut out = String::new();
        escape_text_into(&mut out, s);
        out
    }

    fn attr(s: &str) -> String {
        let mut out = String::new();
        escape_attr_into(&mut out, s);
        assert_eq!(escape_attr(s), out);
        out
    }

    fn xml(s: &str) -> String {
        let mut out = String::new();
        escape_xml_into(&mut out, s);
        out
    }

    #[test]
    fn escapes_markup_characters_in_every_variant() {
        for escape in [text, attr, xml] {
            assert_eq!(escape("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
            assert_eq!(
                escape("<script>&amp;</script>"),
                "&lt;script&gt;&amp;amp;&lt;/script&gt;"
            );
            assert_eq!(escape("]]>"), "]]&gt;");
        }
    }

    #[test]
    fn the_variants_differ_only_in_the_quotes_they_escape() {
        let s = r#"say "hi" & it's <b>"#;
        assert_eq!(text(s), r#"say "hi" &amp; it's &lt;b&gt;"#);
        assert_eq!(attr(s), "say &quot;hi&quot; &amp; it's &lt;b&gt;");
        assert_eq!(xml(s), "say &quot;hi&quot; &amp; it&apos;s &lt;b&gt;");
    }

    #[test]
    fn copies_everything_else_as_it_is() {
        for escape in [text, attr, xml] {
            assert_eq!(escape(""), "");
            assert_eq!(escape("plain text, no markup"), "plain text, no markup");
            // Multi-byte characters next to escaped ones, and characters XML cannot carry
            // (removing them is the feeds' job, not the escaper's).
            assert_eq!(
                escape("é<ü>日本&\u{7}\u{FFFF}"),
                "é&lt;ü&gt;日本&amp;\u{7}\u{FFFF}"
            );
            assert_eq!(escape("<>&"), "&lt;&gt;&amp;");
        }
    }

    #[test]
    fn appends_to_what_is_there() {
        let mut out = String::from("<p>");
        escape_text_into(&mut out, "a&b");
        escape_attr_into(&mut out, "\"");
        escape_xml_into(&mut out, "'");
        assert_eq!(out, "<p>a&amp;b&quot;&apos;");
    }
}
