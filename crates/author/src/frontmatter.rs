//! Front matter: the TOML block between two `+++` lines that opens every post.
//!
//! ```text
//! +++
//! title = "Hello"
//! date = 2026-06-14            # or 2026-06-14T09:30:00+02:00
//! summary = "One line for the index."
//! slug = "hello"               # optional, defaults to the file name
//! tags = ["rust", "workers"]   # optional
//! draft = false                # optional
//! aliases = ["/posts/old-name"] # optional: old paths that redirect here
//! cover = "cover.png"          # optional: the image shown when the post is shared
//! updated = 2026-07-01         # optional: when the text last changed (else `blog sync` knows)
//! minor = true                 # optional: this edit keeps the date of the last change
//! series = "Building a mini Vercel" # optional: the series the post is a part of
//! series_part = 2              # optional: its place in the series (else date order)
//! +++
//! ```
//!
//! `cover` is a path relative to the post's file, like an image in the body: it becomes the
//! page's OpenGraph and Twitter image.

use crate::diagnostic::Diagnostic;
use blog_core::date::{self, DateTime};
use toml::de::{DeTable, DeValue};

pub const FENCE: &str = "+++";
pub const FIELDS: [&str; 12] = [
    "title",
    "date",
    "summary",
    "slug",
    "tags",
    "draft",
    "aliases",
    "cover",
    "updated",
    "minor",
    "series",
    "series_part",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatter {
    pub title: String,
    pub date: DateTime,
    pub summary: String,
    pub slug: Option<String>,
    pub tags: Vec<String>,
    pub draft: bool,
    /// Old paths of this post, each starting with `/`, with the line each is on.
    pub aliases: Vec<(String, usize)>,
    /// The share image's path relative to the post, with the line it is on.
    pub cover: Option<(String, usize)>,
    /// When the text last changed, as the author says, with the line it is on.
    pub updated: Option<(DateTime, usize)>,
    /// The edit is minor: the date of the last change stays.
    pub minor: bool,
    /// The series the post belongs to, with the line it is on.
    pub series: Option<(String, usize)>,
    /// Its place in the series, with the line it is on.
    pub series_part: Option<(u32, usize)>,
}

/// A post split into its parsed front matter and its Markdown body.
#[derive(Debug)]
pub struct Split<'a> {
    pub front: FrontMatter,
    pub body: &'a str,
    /// File line on which the body starts.
    pub body_line: usize,
    pub warnings: Vec<Diagnostic>,
}

/// Splits and parses a post's text. `file` only names the file in diagnostics.
/// Every problem found is reported, not just the first.
pub fn parse<'a>(file: &str, text: &'a str) -> Result<Split<'a>, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != FENCE {
        let hint = if first.trim_end() == "---" {
            "YAML front matter (`---`) is not supported: open and close the front matter with `+++` and write TOML (title = \"...\")"
        } else {
            "no front matter: a post starts with a line `+++`, then `title`, `date` and `summary` in TOML, then a closing `+++`"
        };
        return Err(vec![Diagnostic::error(file, 1, hint)]);
    }
    let toml_start = first.len();
    let mut offset = toml_start;
    let mut closing = None;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == FENCE {
            closing = Some((offset, offset + line.len(), i + 2));
            break;
        }
        offset += line.len();
    }
    let Some((toml_end, body_start, closing_line)) = closing else {
        return Err(vec![Diagnostic::error(
            file,
            1,
            "the front matter opened here is never closed: add a line `+++` after the last field",
        )]);
    };
    let toml_text = &text[toml_start..toml_end];
    let line_of = |pos: usize| 2 + toml_text[..pos.min(toml_text.len())].matches('\n').count();

    let table = match DeTable::parse(toml_text) {
        Ok(table) => table.into_inner(),
        Err(e) => {
            let line = e.span().map_or(2, |s| line_of(s.start));
            return Err(vec![Diagnostic::error(
                file,
                line,
                format!(
                    "the front matter is not valid TOML: {}",
                    e.message().trim_end()
                ),
            )]);
        }
    };

    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let (mut title, mut date, mut summary, mut slug) = (None, None, None, None);
    let (mut tags, mut draft, mut aliases, mut cover) = (Vec::new(), false, Vec::new(), None);
    let (mut updated, mut minor) = (None, false);
    let (mut series, mut series_part) = (None, None);
    for (key, value) in table.iter() {
        let line = line_of(key.span().start);
        let name: &str = key.get_ref();
        let mut wrong_type = |expected: &str| {
            errors.push(Diagnostic::error(
                file,
                line,
                format!(
                    "`{name}` must be {expected}, but it is {}",
                    describe(value.get_ref())
                ),
            ))
        };
        match (name, value.get_ref()) {
            ("title", DeValue::String(s)) => title = Some(s.trim().to_string()),
            ("summary", DeValue::String(s)) => summary = Some(s.trim().to_string()),
            ("slug", DeValue::String(s)) => slug = Some(s.to_string()),
            ("date", DeValue::Datetime(d)) => match toml_date(d) {
                Ok(d) => date = Some(d),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`date`: {e}"))),
            },
            ("date", DeValue::String(s)) => match date::parse_rfc3339(s) {
                Ok(d) => date = Some(d),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`date`: {e}"))),
            },
            ("draft", DeValue::Boolean(b)) => draft = *b,
            ("minor", DeValue::Boolean(b)) => minor = *b,
            ("series", DeValue::String(s)) if !s.trim().is_empty() => {
                series = Some((s.trim().to_string(), line))
            }
            ("series_part", DeValue::Integer(n)) => {
                match u32::from_str_radix(n.as_str(), n.radix()) {
                    Ok(n) if n >= 1 => series_part = Some((n, line)),
                    _ => errors.push(Diagnostic::error(
                        file,
                        line,
                        "`series_part` must be a whole number from 1, such as 2",
                    )),
                }
            }
            ("updated", DeValue::Datetime(d)) => match toml_date(d) {
                Ok(d) => updated = Some((d, line)),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`updated`: {e}"))),
            },
            ("updated", DeValue::String(s)) => match date::parse_rfc3339(s) {
                Ok(d) => updated = Some((d, line)),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`updated`: {e}"))),
            },
            ("cover", DeValue::String(s)) if !s.trim().is_empty() => {
                cover = Some((s.trim().to_string(), line))
            }
            ("tags", DeValue::Array(items)) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) if !s.trim().is_empty() => {
                            tags.push(s.trim().to_string())
                        }
                        other => errors.push(Diagnostic::error(
                            file,
                            line_of(item.span().start),
                            format!(
                                "each tag must be a non-empty string, but one is {}",
                                describe(other)
                            ),
                        )),
                    }
                }
            }
            ("aliases", DeValue::Array(items)) => {
                for item in items.iter() {
                    let item_line = line_of(item.span().start);
                    match item.get_ref() {
                        DeValue::String(s) if s.starts_with('/') && !s.contains(char::is_whitespace) => {
                            aliases.push((s.to_string(), item_line))
                        }
                        DeValue::String(s) => errors.push(Diagnostic::error(
                            file,
                            item_line,
                            format!("the alias `{s}` must be a site path starting with `/` and without spaces, such as \"/posts/old-name\""),
                        )),
                        other => errors.push(Diagnostic::error(
                            file,
                            item_line,
                            format!("each alias must be a string such as \"/posts/old-name\", but one is {}", describe(other)),
                        )),
                    }
                }
            }
            ("title" | "summary" | "slug", _) => wrong_type("a string in quotes"),
            ("date", _) => wrong_type("a date such as 2026-06-14"),
            ("draft" | "minor", _) => wrong_type("true or false"),
            ("updated", _) => wrong_type("a date such as 2026-07-01"),
            ("series", _) => {
                wrong_type("the series' name in quotes, such as \"Building a mini Vercel\"")
            }
            ("series_part", _) => wrong_type("a whole number from 1, such as 2"),
            ("tags", _) => wrong_type("a list of strings such as [\"rust\", \"web\"]"),
            ("aliases", _) => wrong_type("a list of paths such as [\"/posts/old-name\"]"),
            ("cover", _) => {
                wrong_type("the path of an image beside the post, such as \"cover.png\"")
            }
            _ => warnings.push(Diagnostic::warning(
                file,
                line,
                format!(
                    "unknown field `{name}` is ignored (known fields: {})",
                    FIELDS.join(", ")
                ),
            )),
        }
    }
    for (field, present, example) in [
        (
            "title",
            title.as_ref().is_some_and(|t| !t.is_empty()),
            "title = \"My post\"",
        ),
        ("date", date.is_some(), "date = 2026-06-14"),
        (
            "summary",
            summary.as_ref().is_some_and(|s| !s.is_empty()),
            "summary = \"One line for the index.\"",
        ),
    ] {
        // A present-but-wrong field has already been reported at its own line.
        let reported = errors
            .iter()
            .any(|e| e.message.starts_with(&format!("`{field}`")));
        if !present && !reported {
            errors.push(Diagnostic::error(
                file,
                1,
                format!("the front matter has no `{field}`: add a line such as `{example}`"),
            ));
        }
    }
    let body = &text[body_start..];
    if body.trim().is_empty() {
        errors.push(Diagnostic::error(
            file,
            closing_line,
            "the post has no body: write the post's Markdown after the closing `+++`",
        ));
    }
    // Both on one clock (the site's, or the offsets written), so comparable as written.
    if let (Some(published), Some((changed, line))) = (&date, &updated) {
        if changed.timestamp() < published.timestamp() {
            errors.push(Diagnostic::error(
                file,
                *line,
                "`updated` is before `date`: a post cannot change before it is published; fix the date or remove `updated`",
            ));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    // One tag per tag page: `Rust` after `rust` would count the post twice there.
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(blog_core::content::tag_slug(t)));
    Ok(Split {
        front: FrontMatter {
            title: title.unwrap_or_default(),
            date: date.expect("checked above"),
            summary: summary.unwrap_or_default(),
            slug,
            tags,
            draft,
            aliases,
            cover,
            updated,
            minor,
            series,
            series_part,
        },
        body,
        body_line: closing_line + 1,
        warnings,
    })
}

fn toml_date(d: &toml::value::Datetime) -> Result<DateTime, String> {
    let Some(day) = d.date else {
        return Err(format!(
            "`{d}` has a time but no day: write 2026-06-14 or 2026-06-14T09:30:00Z"
        ));
    };
    let (h, m, s) = d.time.map_or((0, 0, 0), |t| {
        (
            u32::from(t.hour),
            u32::from(t.minute),
            u32::from(t.second.unwrap_or(0)),
        )
    });
    let offset = match d.offset {
        Some(toml::value::Offset::Custom { minutes }) => Some(i32::from(minutes)),
        Some(toml::value::Offset::Z) => Some(0),
        // A bare date or a local time: on the site's clock.
        None => None,
    };
    DateTime::new(
        i64::from(day.year),
        u32::from(day.month),
        u32::from(day.day),
        (h, m, s),
        offset,
    )
}

fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\ntitle = \"Hello\"\ndate = 2026-06-14\nsummary = \"Hi.\"\ntags = [\"rust\", \"web\"]\n+++\n\nBody text.\n";

    fn errors_of(text: &str) -> Vec<Diagnostic> {
        parse("content/p.md", text).unwrap_err()
    }

    #[test]
    fn can_parse_a_valid_post() {
        let split = parse("content/p.md", GOOD).unwrap();
        assert_eq!(split.front.title, "Hello");
        assert_eq!(split.front.summary, "Hi.");
        assert_eq!(split.front.tags, ["rust", "web"]);
        assert_eq!(
            split.front.date.timestamp(),
            date::days_from_civil(2026, 6, 14) * 86_400
        );
        assert!(!split.front.draft);
        assert_eq!(split.body.trim(), "Body text.");
        assert_eq!(split.body_line, 7);
        assert!(split.warnings.is_empty());
    }

    #[test]
    fn accepts_dates_with_time_and_offset_or_as_strings() {
        let text = GOOD.replace("2026-06-14", "2026-06-14T09:30:00+02:00");
        let ts = parse("p.md", &text).unwrap().front.date.timestamp();
        assert_eq!(
            ts,
            date::days_from_civil(2026, 6, 14) * 86_400 + 7 * 3600 + 1800
        );
        let text = GOOD.replace("2026-06-14", "\"2026-06-14\"");
        assert!(parse("p.md", &text).is_ok());
    }

    #[test]
    fn errors_on_missing_front_matter() {
        let e = errors_of("# Just markdown\n");
        assert_eq!(
            (e[0].line, e[0].message.contains("no front matter")),
            (1, true)
        );
        assert!(errors_of("---\ntitle: x\n---\n")[0]
            .message
            .contains("YAML"));
    }

    #[test]
    fn errors_on_unterminated_front_matter() {
        let e = errors_of("+++\ntitle = \"x\"\n\nbody\n");
        assert!(e[0].message.contains("never closed"), "{e:?}");
    }

    #[test]
    fn errors_on_invalid_toml_with_its_line() {
        let e = errors_of("+++\ntitle = \"x\"\ndate = 2026-06-14\nsummary = oops\n+++\nbody\n");
        assert_eq!(e[0].line, 4, "{e:?}");
        assert!(e[0].message.contains("not valid TOML"));
    }

    #[test]
    fn errors_on_each_missing_required_field() {
        let e = errors_of("+++\ntags = []\n+++\nbody\n");
        let messages: Vec<_> = e.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(e.len(), 3, "{messages:?}");
        for field in ["title", "date", "summary"] {
            assert!(
                messages
                    .iter()
                    .any(|m| m.contains(&format!("no `{field}`"))),
                "{field}"
            );
        }
    }

    #[test]
    fn errors_on_impossible_date_at_its_line() {
        let e = errors_of(&GOOD.replace("2026-06-14", "\"2026-02-30\""));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].line, 3);
        assert!(e[0].message.contains("not a date"));
    }

    #[test]
    fn errors_on_wrong_types() {
        let e = errors_of(
            &GOOD
                .replace("\"Hello\"", "42")
                .replace("[\"rust\", \"web\"]", "\"rust\""),
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(
            (e[0].line, e[0].message.as_str()),
            (2, "`title` must be a string in quotes, but it is a number")
        );
        assert_eq!(e[1].line, 5);
        let e = errors_of(&GOOD.replace("tags", "draft"));
        assert!(e[0].message.contains("true or false"), "{e:?}");
    }

    #[test]
    fn drops_repeated_tags_keeping_the_first_spelling() {
        let text = GOOD.replace(
            "[\"rust\", \"web\"]",
            "[\"rust\", \"web\", \"Rust\", \"rust\", \"Web \"]",
        );
        assert_eq!(parse("p.md", &text).unwrap().front.tags, ["rust", "web"]);
    }

    #[test]
    fn warns_on_unknown_fields() {
        let text = GOOD.replace("tags", "catgories");
        let split = parse("p.md", &text).unwrap();
        assert_eq!(split.warnings.len(), 1);
        assert_eq!(split.warnings[0].line, 5);
        assert!(split.warnings[0]
            .message
            .contains("unknown field `catgories`"));
    }

    #[test]
    fn reads_aliases_with_their_lines_and_rejects_bad_ones() {
        let text = GOOD.replace(
            "tags = [\"rust\", \"web\"]",
            "aliases = [\"/posts/old\",\n  \"/2019/x.html\"]",
        );
        let split = parse("p.md", &text).unwrap();
        assert_eq!(
            split.front.aliases,
            [
                ("/posts/old".to_string(), 5),
                ("/2019/x.html".to_string(), 6)
            ]
        );
        let e = errors_of(&GOOD.replace("tags = [\"rust\", \"web\"]", "aliases = [\"posts/old\"]"));
        assert_eq!(e[0].line, 5);
        assert!(e[0].message.contains("starting with `/`"), "{e:?}");
    }

    #[test]
    fn reads_the_cover_with_its_line() {
        let text = GOOD.replace("tags", "cover = \"img/cover.png\"\ntags");
        let split = parse("p.md", &text).unwrap();
        assert_eq!(split.front.cover, Some(("img/cover.png".to_string(), 5)));
        assert!(split.warnings.is_empty());
        let e = errors_of(&GOOD.replace("tags", "cover = true\ntags"));
        assert_eq!(
            (e[0].line, e[0].message.contains("the path of an image")),
            (5, true),
            "{e:?}"
        );
        assert!(errors_of(&GOOD.replace("tags", "cover = \"\"\ntags"))[0]
            .message
            .contains("`cover`"));
    }

    #[test]
    fn reads_updated_and_minor_and_rejects_an_update_before_publication() {
        let text = GOOD.replace("tags", "updated = 2026-07-01\nminor = true\ntags");
        let front = parse("p.md", &text).unwrap().front;
        let (updated, line) = front.updated.unwrap();
        assert_eq!(
            (updated.timestamp(), line, front.minor),
            (date::days_from_civil(2026, 7, 1) * 86_400, 5, true)
        );
        let e = errors_of(&GOOD.replace("tags", "updated = 2026-06-01\ntags"));
        assert_eq!((e.len(), e[0].line), (1, 5), "{e:?}");
        assert!(e[0].message.contains("`updated` is before `date`"), "{e:?}");
        let e = errors_of(&GOOD.replace("tags", "updated = \"soon\"\nminor = 1\ntags"));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].message.starts_with("`updated`") && e[1].message.contains("true or false"));
    }

    #[test]
    fn errors_on_empty_body() {
        let e = errors_of("+++\ntitle = \"x\"\ndate = 2026-01-01\nsummary = \"s\"\n+++\n\n  \n");
        assert_eq!((e[0].line, e[0].message.contains("no body")), (5, true));
    }

    #[test]
    fn tolerates_crlf_and_a_byte_order_mark() {
        let text = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
        assert_eq!(parse("p.md", &text).unwrap().front.title, "Hello");
    }
}
