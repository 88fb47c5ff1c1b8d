//! Math at sync: each `$...$` and `$$...$$` of a body (pulldown-cmark's math extension) as
//! MathML, made with pulldown-latex on the author's machine, so readers download no script
//! and no font and the Worker links no LaTeX parser. A formula that does not parse is an
//! error at its line, with the parser's message.

use blog_core::markdown;
use pulldown_cmark::{Event, Parser};
use pulldown_latex::config::DisplayMode;
use pulldown_latex::{mathml::push_mathml, RenderConfig, Storage};

/// A formula that does not parse: the body line it starts on (from `body_line`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MathError {
    pub line: usize,
    pub message: String,
}

/// Every formula of a body as MathML, in the order the renderer meets them, or every one
/// that does not parse. A body without any formula costs one scan for `$`.
pub fn render_all(body: &str, body_line: usize) -> Result<Vec<String>, Vec<MathError>> {
    if !body.contains('$') {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (event, range) in Parser::new_ext(body, markdown::options()).into_offset_iter() {
        let (tex, display) = match event {
            Event::InlineMath(tex) => (tex, false),
            Event::DisplayMath(tex) => (tex, true),
            _ => continue,
        };
        match mathml(&tex, display) {
            Ok(html) => out.push(html),
            Err(message) => errors.push(MathError {
                line: body_line + body[..range.start].matches('\n').count(),
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// One formula as MathML; the parser's message (its first line, without the context it
/// draws) when it does not parse.
pub fn mathml(tex: &str, display: bool) -> Result<String, String> {
    let storage = Storage::new();
    let events: Vec<_> = pulldown_latex::Parser::new(tex, &storage).collect();
    if let Some(Err(e)) = events.iter().find(|e| e.is_err()) {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("").trim();
        return Err(first
            .strip_prefix("parsing error: ")
            .unwrap_or(first)
            .to_string());
    }
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        ..RenderConfig::default()
    };
    let mut html = String::new();
    push_mathml(&mut html, events.into_iter(), config).map_err(|e| e.to_string())?;
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_display_formulas_become_mathml_in_order() {
        let body = "The ratio $\\frac{37}{342}$ is small.\n\n$$\nE = mc^2\n$$\n";
        let html = render_all(body, 10).unwrap();
        assert_eq!(html.len(), 2);
        assert!(
            html[0].starts_with("<math display=\"inline\"><mfrac>"),
            "{}",
            html[0]
        );
        assert!(
            html[1].starts_with("<math display=\"block\">"),
            "{}",
            html[1]
        );
        assert!(
            html[1].contains("<msup><mi>c</mi><mn>2</mn></msup>"),
            "{}",
            html[1]
        );
    }

    #[test]
    fn a_formula_that_does_not_parse_is_an_error_at_its_line_with_the_parsers_message() {
        let body = "Fine $x$.\n\nBroken $x^$ here\n\nand $\\nosuchcommand{x}$\n";
        let errors = render_all(body, 7).unwrap_err();
        assert_eq!(
            errors,
            [
                MathError {
                    line: 9,
                    message: "expected a token".into()
                },
                MathError {
                    line: 11,
                    message: "unknown primitive command found".into()
                },
            ]
        );
    }

    #[test]
    fn dollars_in_prose_and_code_stay_dollars() {
        for body in [
            "It costs $5 and $10 a month.\n",
            "Run `echo $HOME` and `$1`.\n",
            "```sh\necho $PATH $x$\n```\n",
            "No math here.\n",
        ] {
            assert_eq!(render_all(body, 1), Ok(Vec::new()), "{body:?}");
        }
    }
}
