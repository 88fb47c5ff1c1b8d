//! YAML front matter: the block between two `---` lines, as Hugo, Jekyll, Astro, Eleventy and
//! Obsidian write it. It carries the same fields as the TOML one, checked by the same code
//! (`frontmatter::check`); this module only reads the YAML into those fields, each with its
//! file line.
//!
//! ```text
//! ---
//! title: Hello
//! date: 2026-06-14               # or 2026-06-14T09:30:00+02:00, or 2026-06-14 09:30:00 +0200
//! summary: One line for the index.
//! tags: [rust, workers]          # or one `- rust` a line
//! draft: true
//! ---
//! ```
//!
//! The parser is `yaml-rust2` (YAML 1.2), used through its events, which carry lines. Values
//! are typed here by YAML 1.2's core schema (`true`, `12`, `~`), plus dates: a plain
//! `2026-06-14` is a date as in TOML, and so is Jekyll's `2026-06-14 09:30:00 +0200`.
//! `yes`/`no` are strings, as YAML 1.2 says. Anchors are allowed; aliases (`*name`) are refused,
//! so a few bytes can never expand into a large front matter.

use crate::diagnostic::Diagnostic;
use crate::frontmatter::{Field, Value};
use blog_core::date::DateTime;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deeper than this, lists and tables are read as empty: no field of a post goes past two.
const MAX_DEPTH: usize = 8;

#[derive(Default)]
struct Events(Vec<(Event, Marker)>);

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.0.push((ev, mark));
    }
}

/// The fields of a YAML front matter that starts on the file's second line. `closing` is the
/// line of the closing `---`, where a problem at the very end is reported.
pub(crate) fn fields(
    file: &str,
    text: &str,
    closing: usize,
) -> Result<Vec<Field>, Vec<Diagnostic>> {
    // A marker's line counts from 1 at the front matter's first line, the file's second.
    let line_of = |m: &Marker| (m.line() + 1).clamp(2, closing.max(2));
    let mut events = Events::default();
    if let Err(e) = Parser::new_from_str(text).load(&mut events, true) {
        return Err(vec![Diagnostic::error(
            file,
            line_of(e.marker()),
            format!(
                "the front matter is not valid YAML: {} (write one `name: value` a line; quote a value that holds `: ` or starts with a special character)",
                e.info()
            ),
        )]);
    }
    let mut reader = Reader {
        events: events.0,
        at: 0,
        file,
        line_of: &line_of,
        errors: Vec::new(),
    };
    // The stream: StreamStart, then zero or one document.
    reader.skip_while(|e| matches!(e, Event::StreamStart));
    let fields = match reader.peek() {
        Some((Event::StreamEnd, _)) | None => Vec::new(),
        Some((Event::DocumentStart, _)) => {
            reader.at += 1;
            let fields = match reader.peek() {
                Some((Event::MappingStart(..), _)) => match reader.value(0) {
                    Value::Table(fields) => fields,
                    _ => Vec::new(),
                },
                // `---` followed by nothing but comments: an empty front matter.
                Some((Event::Scalar(s, TScalarStyle::Plain, _, None), _)) if s.is_empty() => {
                    reader.at += 1;
                    Vec::new()
                }
                Some((_, mark)) => {
                    let line = line_of(mark);
                    return Err(vec![Diagnostic::error(
                        file,
                        line,
                        "the front matter must be fields, one `name: value` a line, such as `title: My post`",
                    )]);
                }
                None => Vec::new(),
            };
            reader.skip_while(|e| matches!(e, Event::DocumentEnd));
            if let Some((Event::DocumentStart, mark)) = reader.peek() {
                let line = line_of(mark);
                return Err(vec![Diagnostic::error(
                    file,
                    line,
                    "a second YAML document in the front matter: remove this `...` or `---` and what follows it up to the closing `---`",
                )]);
            }
            fields
        }
        Some((_, mark)) => {
            let line = line_of(mark);
            return Err(vec![Diagnostic::error(
                file,
                line,
                "the front matter is not valid YAML",
            )]);
        }
    };
    if !reader.errors.is_empty() {
        reader.errors.sort_by_key(|e| e.line);
        return Err(reader.errors);
    }
    Ok(fields)
}

struct Reader<'a> {
    events: Vec<(Event, Marker)>,
    at: usize,
    file: &'a str,
    line_of: &'a dyn Fn(&Marker) -> usize,
    errors: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn peek(&self) -> Option<&(Event, Marker)> {
        self.events.get(self.at)
    }

    fn skip_while(&mut self, f: impl Fn(&Event) -> bool) {
        while self.peek().is_some_and(|(e, _)| f(e)) {
            self.at += 1;
        }
    }

    /// The line of the next event.
    fn line(&self) -> usize {
        self.peek().map_or(2, |(_, m)| (self.line_of)(m))
    }

    /// Reads one node (a scalar, a list or a table) and moves past it.
    fn value(&mut self, depth: usize) -> Value {
        let Some((event, mark)) = self.events.get(self.at).cloned() else {
            return Value::Null;
        };
        self.at += 1;
        match event {
            Event::Scalar(text, style, _, tag) => scalar(&text, style, tag.as_ref()),
            Event::Alias(_) => {
                let line = (self.line_of)(&mark);
                self.errors.push(Diagnostic::error(
                    self.file,
                    line,
                    "an alias (`*name`) in the front matter: write the value itself",
                ));
                Value::Null
            }
            Event::SequenceStart(..) if depth >= MAX_DEPTH => {
                self.skip_node_rest();
                Value::List(Vec::new())
            }
            Event::MappingStart(..) if depth >= MAX_DEPTH => {
                self.skip_node_rest();
                Value::Table(Vec::new())
            }
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                loop {
                    match self.peek() {
                        Some((Event::SequenceEnd, _)) => {
                            self.at += 1;
                            break;
                        }
                        None => break,
                        Some(_) => {
                            let line = self.line();
                            items.push((self.value(depth + 1), line));
                        }
                    }
                }
                Value::List(items)
            }
            Event::MappingStart(..) => {
                let mut fields = Vec::new();
                loop {
                    match self.peek() {
                        Some((Event::MappingEnd, _)) => {
                            self.at += 1;
                            break;
                        }
                        None => break,
                        Some((Event::Scalar(name, ..), mark)) => {
                            let (name, line) = (name.clone(), (self.line_of)(mark));
                            self.at += 1;
                            let value = self.value(depth + 1);
                            fields.push(Field { name, line, value });
                        }
                        Some((_, mark)) => {
                            let line = (self.line_of)(mark);
                            self.errors.push(Diagnostic::error(
                                self.file,
                                line,
                                "a field's name must be a plain word, such as `title`, not a list or a table",
                            ));
                            self.value(depth + 1);
                            self.value(depth + 1);
                        }
                    }
                }
                Value::Table(fields)
            }
            // Stream and document events do not come inside a node.
            _ => Value::Null,
        }
    }

    /// Past the end of the list or table whose start was just read.
    fn skip_node_rest(&mut self) {
        let mut open = 1usize;
        while let Some((event, _)) = self.peek() {
            match event {
                Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open -= 1,
                _ => {}
            }
            self.at += 1;
            if open == 0 {
                break;
            }
        }
    }
}

/// A scalar's value: quoted and block scalars are strings; a plain one is typed.
fn scalar(text: &str, style: TScalarStyle, tag: Option<&yaml_rust2::parser::Tag>) -> Value {
    if let Some(tag) = tag {
        // `!!str 3`: the handle arrives resolved.
        if (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:") && tag.suffix == "str" {
            return Value::Str(text.to_string());
        }
    }
    if style != TScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Value::Float,
        _ => {}
    }
    if let Some(n) = integer(text) {
        return Value::Int(n);
    }
    if is_float(text) {
        return Value::Float;
    }
    if looks_like_date(text) {
        return Value::Date(date(text));
    }
    Value::Str(text.to_string())
}

/// `Some(None)` for a whole number too large for 64 bits.
fn integer(text: &str) -> Option<Option<i64>> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        (text, 10)
    };
    let unsigned = if radix == 10 {
        digits.strip_prefix(['-', '+']).unwrap_or(digits)
    } else {
        digits
    };
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(i64::from_str_radix(digits, radix).ok())
}

fn is_float(text: &str) -> bool {
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match fraction {
        None => !whole.is_empty() && digits(whole),
        Some(f) if whole.is_empty() => !f.is_empty() && digits(f),
        Some(f) => digits(whole) && digits(f),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// `YYYY-M-D…`: what YAML's timestamp starts with.
fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && text[5..]
            .split(['-', 'T', 't', ' '])
            .take(2)
            .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|c| c.is_ascii_digit()))
}

/// A YAML timestamp: `2026-06-14`, `2026-06-14T09:30:00Z`, `2026-06-14 09:30:00 +0200`,
/// `2026-06-14 09:30:00.5 -5`. Without an offset, it is on the site's clock, as in TOML.
pub(crate) fn date(text: &str) -> Result<DateTime, String> {
    let refuse = || {
        format!(
            "`{text}` is not a date: write 2026-06-14, 2026-06-14T09:30:00+02:00 or 2026-06-14 09:30:00 +0200"
        )
    };
    let number = |s: &str, max_len: usize| -> Result<u32, String> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(refuse());
        }
        s.parse().map_err(|_| refuse())
    };
    let split_at = text.find(['T', 't', ' ', '\t']).unwrap_or(text.len());
    let (day, rest) = text.split_at(split_at);
    let mut parts = day.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refuse());
    };
    if y.len() != 4 {
        return Err(refuse());
    }
    let (year, month, day) = (number(y, 4)?, number(m, 2)?, number(d, 2)?);
    let rest = rest.trim_start_matches(['T', 't']).trim_start();
    if rest.is_empty() {
        if split_at < text.len() {
            // `2026-06-14T`: a time promised, none given.
            return Err(refuse());
        }
        return DateTime::new(i64::from(year), month, day, (0, 0, 0), None);
    }
    // The time: H:MM[:SS[.fraction]]; then the offset: Z, ±HH:MM, ±HHMM or ±H.
    let time_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(rest.len());
    let (time, zone) = rest.split_at(time_end);
    let mut t = time.split(':');
    let hour = number(t.next().unwrap_or(""), 2)?;
    let minute = number(t.next().ok_or_else(refuse)?, 2)?;
    let second = match t.next() {
        Some(s) => number(s.split('.').next().unwrap_or(""), 2)?,
        None => 0,
    };
    if t.next().is_some() {
        return Err(refuse());
    }
    let zone = zone.trim();
    let offset = match zone {
        "" => None,
        "Z" | "z" => Some(0),
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(refuse()),
            };
            let z = &zone[1..];
            let (h, m) = match z.split_once(':') {
                Some((h, m)) => (number(h, 2)?, number(m, 2)?),
                None if z.len() == 4 && z.is_ascii() => (number(&z[..2], 2)?, number(&z[2..], 2)?),
                None => (number(z, 2)?, 0),
            };
            if h > 23 || m > 59 {
                return Err(refuse());
            }
            Some(sign * (h * 60 + m) as i32)
        }
    };
    DateTime::new(i64::from(year), month, day, (hour, minute, second), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Field>, Vec<Diagnostic>> {
        fields("p.md", text, 1 + text.lines().count() + 1)
    }

    #[test]
    fn reads_fields_with_the_file_line_of_each_and_of_each_item() {
        let text = "title: Hello\n# a comment\ndate: 2026-06-14\ntags:\n  - rust\n  - web\naliases: [/a, \"/b\"]\nsummary: >\n  Folded\n  text.\n";
        let f = read(text).unwrap();
        let names: Vec<_> = f.iter().map(|f| (f.name.as_str(), f.line)).collect();
        assert_eq!(
            names,
            [
                ("title", 2),
                ("date", 4),
                ("tags", 5),
                ("aliases", 8),
                ("summary", 9)
            ]
        );
        match &f[2].value {
            Value::List(items) => {
                let lines: Vec<_> = items.iter().map(|(_, l)| *l).collect();
                assert_eq!(lines, [6, 7]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&f[4].value, Value::Str(s) if s == "Folded text.\n"));
        assert!(matches!(f[1].value, Value::Date(Ok(_))));
    }

    #[test]
    fn plain_scalars_are_typed_by_the_core_schema_and_quoted_ones_are_strings() {
        let f = read("a: true\nb: 12\nc: 1.5\nd: ~\ne: yes\nf: \"true\"\ng: 0x1F\nh: 99999999999999999999\ni:\nj: !!str 3\n").unwrap();
        let v: Vec<_> = f.iter().map(|f| &f.value).collect();
        assert!(matches!(v[0], Value::Bool(true)));
        assert!(matches!(v[1], Value::Int(Some(12))));
        assert!(matches!(v[2], Value::Float));
        assert!(matches!(v[3], Value::Null));
        assert!(matches!(v[4], Value::Str(s) if s == "yes"));
        assert!(matches!(v[5], Value::Str(s) if s == "true"));
        assert!(matches!(v[6], Value::Int(Some(31))));
        assert!(matches!(v[7], Value::Int(None)));
        assert!(matches!(v[8], Value::Null));
        assert!(matches!(v[9], Value::Str(s) if s == "3"));
    }

    #[test]
    fn dates_as_jekyll_and_hugo_write_them() {
        let ts = |s: &str| date(s).unwrap().timestamp();
        let day = blog_core::date::days_from_civil(2026, 6, 14) * 86_400;
        assert_eq!(ts("2026-06-14T09:30:00Z"), day + 9 * 3600 + 1800);
        assert_eq!(ts("2026-06-14 09:30:00 +0200"), day + 7 * 3600 + 1800);
        assert_eq!(ts("2026-06-14 09:30:00 +02:00"), day + 7 * 3600 + 1800);
        assert_eq!(ts("2026-06-14T09:30:00.25-05:00"), day + 14 * 3600 + 1800);
        assert_eq!(ts("2026-06-14 9:30 -5"), day + 14 * 3600 + 1800);
        for bad in [
            "2026-06-14 09:30 +1é1",
            "2026-06-14 09:30 é",
            "2026-06-14T",
            "2026-06-14 9",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
        for bad in [
            "2026-13-01",
            "2026-06-14 25:00",
            "2026-06-14 09:30 +9999",
            "2026-06-14x",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_yaml_is_an_error_at_its_line() {
        let e = read("title: Hello\ndate: 2026-06-14\ntags: [rust\nsummary: x\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].line >= 4 && e[0].line <= 5, "{e:?}");
        assert!(
            e[0].message
                .starts_with("the front matter is not valid YAML"),
            "{e:?}"
        );
        let e = read("title: \"open\n").unwrap_err();
        assert!(e[0].message.contains("not valid YAML"), "{e:?}");
        let e = read("- a\n- b\n").unwrap_err();
        assert_eq!(e[0].line, 2);
        assert!(e[0].message.contains("must be fields"), "{e:?}");
        let e = read("a: &x [1, 2]\nb: *x\n").unwrap_err();
        assert_eq!(e[0].line, 3);
        assert!(e[0].message.contains("alias"), "{e:?}");
        assert!(read("").unwrap().is_empty());
        assert!(read("# only a comment\n").unwrap().is_empty());
    }

    #[test]
    fn every_cut_and_changed_byte_of_a_post_is_read_or_refused_without_a_panic() {
        let post = include_str!("../../../fuzz/corpus/frontmatter/yaml-jekyll.md");
        let cuts = (0..post.len()).filter(|&i| post.is_char_boundary(i));
        for i in cuts.clone() {
            let _ = crate::frontmatter::parse("p.md", &post[..i]);
        }
        for i in cuts {
            for c in [
                '"', '\'', ':', '-', '[', '{', '\n', ' ', '#', '*', '&', '!', '|', '>', 'é',
            ] {
                let mut text = post[..i].to_string();
                text.push(c);
                text.push_str(&post[i..]);
                if let Err(e) = crate::frontmatter::parse("p.md", &text) {
                    let lines = text.lines().count() + 1;
                    assert!(
                        e.iter().all(|d| d.line >= 1 && d.line <= lines),
                        "{text:?}: {e:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_cut_or_refused_not_followed() {
        let nested = |n: usize| format!("a: {}{}\nb: 1\n", "[".repeat(n), "]".repeat(n));
        let f = read(&nested(20)).unwrap();
        assert_eq!(f.len(), 2);
        assert!(matches!(&f[0].value, Value::List(items) if items.len() == 1));
        assert_eq!(f[1].line, 3);
        let e = read(&nested(100_000)).unwrap_err();
        assert_eq!(e[0].line, 2, "{e:?}");
    }
}
