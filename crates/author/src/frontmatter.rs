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
    /// Empty only in a draft (which may wait for one, with a warning).
    pub summary: String,
    pub slug: Option<String>,
    /// Line of the `slug` field, or 1 when there is none.
    pub slug_line: usize,
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
    pub format: Format,
}

/// The two ways a front matter may be written: TOML between `+++` lines, or YAML between
/// `---` lines. Both carry the same fields, of the same types, with the same checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    pub fn fence(self) -> &'static str {
        match self {
            Format::Toml => FENCE,
            Format::Yaml => YAML_FENCE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Toml => "TOML",
            Format::Yaml => "YAML",
        }
    }

    /// A field's line as the author would write it in this format.
    fn line(self, field: &str, value: &str) -> String {
        match self {
            Format::Toml => format!("{field} = {value}"),
            Format::Yaml => format!("{field}: {value}"),
        }
    }
}

pub const YAML_FENCE: &str = "---";

/// A value as the front matter wrote it, whatever its format.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Str(String),
    /// A whole number; `None` when it does not fit 64 bits.
    Int(Option<i64>),
    Float,
    Bool(bool),
    /// A date the format itself knows (TOML's), read or refused.
    Date(Result<DateTime, String>),
    /// Each item with the file line it is on.
    List(Vec<(Value, usize)>),
    /// A nested table (no field's type, but an importer reads other engines' sections).
    Table(Vec<Field>),
    Null,
}

/// One top-level field: its name, the file line of its name, its value.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub line: usize,
    pub value: Value,
}

/// Splits and parses a post's text. `file` only names the file in diagnostics.
/// Every problem found is reported, not just the first.
pub fn parse<'a>(file: &str, text: &'a str) -> Result<Split<'a>, Vec<Diagnostic>> {
    let raw = read(file, text)?;
    let (front, warnings) = check(file, raw.format, &raw.fields, raw.body, raw.body_line - 1)?;
    Ok(Split {
        front,
        body: raw.body,
        body_line: raw.body_line,
        warnings,
        format: raw.format,
    })
}

/// A front matter read into its fields, none of them checked yet: what [`parse`] checks, and
/// what an importer maps from another engine's field names.
#[derive(Debug)]
pub(crate) struct Raw<'a> {
    pub format: Format,
    pub fields: Vec<Field>,
    pub body: &'a str,
    /// File line on which the body starts.
    pub body_line: usize,
}

/// Splits a post's text into its front matter's fields and its body.
pub(crate) fn read<'a>(file: &str, text: &'a str) -> Result<Raw<'a>, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    let format = match first.trim_end() {
        FENCE => Format::Toml,
        YAML_FENCE => Format::Yaml,
        _ => {
            return Err(vec![Diagnostic::error(
                file,
                1,
                "no front matter: a post starts with a line `+++`, then `title`, `date` and `summary` in TOML, then a closing `+++` (or the same in YAML between `---` lines)",
            )])
        }
    };
    let fence = format.fence();
    let front_start = first.len();
    let mut offset = front_start;
    let mut closing = None;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == fence {
            closing = Some((offset, offset + line.len(), i + 2));
            break;
        }
        offset += line.len();
    }
    let Some((front_end, body_start, closing_line)) = closing else {
        return Err(vec![Diagnostic::error(
            file,
            1,
            format!("the front matter opened here is never closed: add a line `{fence}` after the last field"),
        )]);
    };
    let front_text = &text[front_start..front_end];
    let fields = match format {
        Format::Toml => toml_fields(file, front_text)?,
        Format::Yaml => crate::yaml::fields(file, front_text, closing_line)?,
    };
    Ok(Raw {
        format,
        fields,
        body: &text[body_start..],
        body_line: closing_line + 1,
    })
}

/// The fields of a TOML front matter that starts on the file's second line.
pub(crate) fn toml_fields(file: &str, toml_text: &str) -> Result<Vec<Field>, Vec<Diagnostic>> {
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
    fn value(v: &DeValue<'_>, line_of: &dyn Fn(usize) -> usize, depth: usize) -> Value {
        match v {
            DeValue::String(s) => Value::Str(s.to_string()),
            DeValue::Integer(n) => Value::Int(i64::from_str_radix(n.as_str(), n.radix()).ok()),
            DeValue::Float(_) => Value::Float,
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::Date(toml_date(d)),
            // Lists inside lists are no field's type: their items are not looked into. A
            // table's lists are read, as an importer reads Zola's `[taxonomies]`.
            DeValue::Array(_) if depth > 1 => Value::List(Vec::new()),
            DeValue::Array(a) => Value::List(
                a.iter()
                    .map(|item| {
                        (
                            value(item.get_ref(), line_of, depth + 1),
                            line_of(item.span().start),
                        )
                    })
                    .collect(),
            ),
            DeValue::Table(_) if depth > 0 => Value::Table(Vec::new()),
            DeValue::Table(t) => Value::Table(
                t.iter()
                    .map(|(key, v)| Field {
                        name: key.get_ref().to_string(),
                        line: line_of(key.span().start),
                        value: value(v.get_ref(), line_of, depth + 1),
                    })
                    .collect(),
            ),
        }
    }
    Ok(table
        .iter()
        .map(|(key, v)| Field {
            name: key.get_ref().to_string(),
            line: line_of(key.span().start),
            value: value(v.get_ref(), &line_of, 0),
        })
        .collect())
}

/// Checks the fields of a front matter, in whichever format, and the body after it.
/// What only publishing needs (a summary, a body, an `updated` after `date`) is an error
/// for a post that is out or will come out by itself, and a warning for a draft.
fn check(
    file: &str,
    format: Format,
    fields: &[Field],
    body: &str,
    closing_line: usize,
) -> Result<(FrontMatter, Vec<Diagnostic>), Vec<Diagnostic>> {
    let draft = fields
        .iter()
        .any(|f| f.name == "draft" && matches!(f.value, Value::Bool(true)));
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let (mut title, mut date, mut summary, mut slug) = (None, None, None, None);
    let (mut tags, mut aliases, mut cover) = (Vec::new(), Vec::new(), None);
    let (mut updated, mut minor) = (None, false);
    let (mut series, mut series_part) = (None, None);
    let mut slug_line = 1;
    // The fields present, right or wrong: a wrong one is reported at its own line only.
    let mut present = std::collections::HashSet::new();
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for field in fields {
        let (name, line) = (field.name.as_str(), field.line);
        present.insert(name);
        if let Some(first) = seen.insert(name, line) {
            // TOML refuses this itself; YAML would keep the last one silently.
            errors.push(Diagnostic::error(
                file,
                line,
                format!("`{name}` is given twice (first at line {first}): keep one"),
            ));
            continue;
        }
        let mut wrong_type = |expected: &str| {
            errors.push(Diagnostic::error(
                file,
                line,
                format!(
                    "`{name}` must be {expected}, but it is {}",
                    describe(&field.value)
                ),
            ))
        };
        match (name, &field.value) {
            ("title", Value::Str(s)) => title = Some((s.trim().to_string(), line)),
            ("summary", Value::Str(s)) => summary = Some((s.trim().to_string(), line)),
            // `summary:` with nothing after it, in YAML: as empty as `summary = ""`.
            ("title", Value::Null) => title = Some((String::new(), line)),
            ("summary", Value::Null) => summary = Some((String::new(), line)),
            ("slug", Value::Str(s)) => {
                slug = Some(s.to_string());
                slug_line = line;
            }
            ("date", Value::Date(d)) => match d {
                Ok(d) => date = Some(*d),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`date`: {e}"))),
            },
            ("date", Value::Str(s)) => match date::parse_rfc3339(s.trim()) {
                Ok(d) => date = Some(d),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`date`: {e}"))),
            },
            ("draft", Value::Bool(_)) => {}
            ("minor", Value::Bool(b)) => minor = *b,
            ("series", Value::Str(s)) if !s.trim().is_empty() => {
                series = Some((s.trim().to_string(), line))
            }
            ("series_part", Value::Int(n)) => match n.and_then(|n| u32::try_from(n).ok()) {
                Some(n) if n >= 1 => series_part = Some((n, line)),
                _ => errors.push(Diagnostic::error(
                    file,
                    line,
                    "`series_part` must be a whole number from 1, such as 2",
                )),
            },
            ("updated", Value::Date(d)) => match d {
                Ok(d) => updated = Some((*d, line)),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`updated`: {e}"))),
            },
            ("updated", Value::Str(s)) => match date::parse_rfc3339(s.trim()) {
                Ok(d) => updated = Some((d, line)),
                Err(e) => errors.push(Diagnostic::error(file, line, format!("`updated`: {e}"))),
            },
            ("cover", Value::Str(s)) if !s.trim().is_empty() => {
                cover = Some((s.trim().to_string(), line))
            }
            ("tags", Value::List(items)) => {
                for (item, item_line) in items {
                    match item {
                        Value::Str(s) if !s.trim().is_empty() => tags.push(s.trim().to_string()),
                        other => errors.push(Diagnostic::error(
                            file,
                            *item_line,
                            format!(
                                "each tag must be a non-empty string, but one is {}",
                                describe(other)
                            ),
                        )),
                    }
                }
            }
            ("aliases", Value::List(items)) => {
                for (item, item_line) in items {
                    match item {
                        Value::Str(s) if s.starts_with('/') && !s.contains(char::is_whitespace) => {
                            aliases.push((s.to_string(), *item_line))
                        }
                        Value::Str(s) => errors.push(Diagnostic::error(
                            file,
                            *item_line,
                            format!("the alias `{s}` must be a site path starting with `/` and without spaces, such as \"/posts/old-name\""),
                        )),
                        other => errors.push(Diagnostic::error(
                            file,
                            *item_line,
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
    // A missing field has no line of its own: it is reported at the opening fence.
    let missing = |field: &str, example: &str| {
        format!(
            "the front matter has no `{field}`: add a line such as `{}`",
            format.line(field, example)
        )
    };
    match &title {
        None if !present.contains("title") => {
            errors.push(Diagnostic::error(file, 1, missing("title", "\"My post\"")))
        }
        Some((t, line)) if t.is_empty() => errors.push(Diagnostic::error(
            file,
            *line,
            format!(
                "`title` is empty: name the post, as in `{}`",
                format.line("title", "\"My post\"")
            ),
        )),
        _ => {}
    }
    if date.is_none() && !present.contains("date") {
        errors.push(Diagnostic::error(file, 1, missing("date", "2026-06-14")));
    }
    let summary_example = "\"One line for the index.\"";
    match &summary {
        None if !present.contains("summary") => errors.push(Diagnostic::unless_draft(
            draft,
            file,
            1,
            missing("summary", summary_example),
        )),
        Some((s, line)) if s.is_empty() => errors.push(Diagnostic::unless_draft(
            draft,
            file,
            *line,
            format!(
                "`summary` is empty: write the line the index and the feeds show, as in `{}`",
                format.line("summary", summary_example)
            ),
        )),
        _ => {}
    }
    if body.trim().is_empty() {
        errors.push(Diagnostic::unless_draft(
            draft,
            file,
            closing_line,
            format!(
                "the post has no body: write the post's Markdown after the closing `{}`",
                format.fence()
            ),
        ));
    }
    // Both on one clock (the site's, or the offsets written), so comparable as written.
    if let (Some(published), Some((changed, line))) = (&date, &updated) {
        if changed.timestamp() < published.timestamp() {
            errors.push(Diagnostic::unless_draft(
                draft,
                file,
                *line,
                "`updated` is before `date`: a post cannot change before it is published; fix the date or remove `updated`",
            ));
        }
    }
    // A draft's publication-only problems are warnings: they go with the others.
    let (now_warnings, errors): (Vec<_>, Vec<_>) = errors.into_iter().partition(|d| !d.is_error());
    warnings.extend(now_warnings);
    if !errors.is_empty() {
        let mut errors = errors;
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    warnings.sort_by_key(|w| w.line);
    // One tag per tag page: `Rust` after `rust` would count the post twice there.
    let mut seen_tags = std::collections::HashSet::new();
    tags.retain(|t| seen_tags.insert(blog_core::content::tag_slug(t)));
    Ok((
        FrontMatter {
            title: title.map(|(t, _)| t).unwrap_or_default(),
            date: date.expect("checked above"),
            summary: summary.map(|(s, _)| s).unwrap_or_default(),
            slug,
            slug_line,
            tags,
            draft,
            aliases,
            cover,
            updated,
            minor,
            series,
            series_part,
        },
        warnings,
    ))
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

pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Str(_) => "a string",
        Value::Int(_) | Value::Float => "a number",
        Value::Bool(_) => "a boolean",
        Value::Date(_) => "a date",
        Value::List(_) => "a list",
        Value::Table(_) => "a table",
        Value::Null => "empty",
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
        // YAML is read: what it lacks is named in its own syntax.
        let e = errors_of("---\ntitle: x\n---\n");
        assert_eq!(e[0].line, 1);
        assert!(e[0].message.contains("`date: 2026-06-14`"), "{e:?}");
    }

    const GOOD_YAML: &str = "---\ntitle: Hello\ndate: 2026-06-14\nsummary: Hi.\ntags:\n  - rust\n  - web\n---\n\nBody text.\n";

    #[test]
    fn yaml_front_matter_reads_as_the_same_post_as_toml() {
        let toml = parse("content/p.md", GOOD).unwrap();
        let yaml = parse("content/p.md", GOOD_YAML).unwrap();
        assert_eq!(yaml.format, Format::Yaml);
        assert_eq!(toml.format, Format::Toml);
        assert_eq!(yaml.front.title, toml.front.title);
        assert_eq!(yaml.front.summary, toml.front.summary);
        assert_eq!(yaml.front.tags, toml.front.tags);
        assert_eq!(yaml.front.date.timestamp(), toml.front.date.timestamp());
        assert_eq!(yaml.body, toml.body);
        assert_eq!(yaml.body_line, 9);
        assert!(yaml.warnings.is_empty(), "{:?}", yaml.warnings);
        // Flow lists, quoted strings, a Jekyll date, a slug, aliases, a draft.
        let text = "---\ntitle: \"Colons: fine\"\ndate: 2026-06-14 09:30:00 +0200\nsummary: 'It''s short.'\nslug: colons\ntags: [rust, web]\naliases: [/2026/06/14/colons.html]\ndraft: true\nseries_part: 2\nseries: Colons\n---\nBody\n";
        let s = parse("p.md", text).unwrap();
        assert_eq!(s.front.title, "Colons: fine");
        assert_eq!(s.front.summary, "It's short.");
        assert_eq!(s.front.slug.as_deref(), Some("colons"));
        assert_eq!(s.front.slug_line, 5);
        assert_eq!(
            s.front.aliases,
            [("/2026/06/14/colons.html".to_string(), 7)]
        );
        assert!(s.front.draft);
        assert_eq!(s.front.series_part, Some((2, 9)));
    }

    #[test]
    fn yaml_errors_and_warnings_name_their_line_in_the_yaml() {
        let e = errors_of(&GOOD_YAML.replace("date: 2026-06-14", "date: soon"));
        assert_eq!((e.len(), e[0].line), (1, 3), "{e:?}");
        assert!(e[0].message.contains("`soon` is not a date"), "{e:?}");
        let e = errors_of(&GOOD_YAML.replace("  - web", "  - 7"));
        assert_eq!(e[0].line, 7, "{e:?}");
        assert!(e[0]
            .message
            .contains("each tag must be a non-empty string, but one is a number"));
        let e = errors_of(&GOOD_YAML.replace("summary: Hi.", "summary: \"\""));
        assert_eq!(e[0].line, 4, "{e:?}");
        assert!(
            e[0].message.starts_with("`summary` is empty") && e[0].message.contains("`summary: ")
        );
        let e = errors_of(&GOOD_YAML.replace("summary: Hi.", "summary:"));
        assert_eq!(e[0].line, 4, "{e:?}");
        let e = errors_of(&GOOD_YAML.replace("summary: Hi.", "draft: yes"));
        let lines: Vec<_> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 4], "{e:?}");
        assert!(e[1]
            .message
            .contains("`draft` must be true or false, but it is a string"));
        let e = errors_of(&GOOD_YAML.replace("summary: Hi.", "summary: Hi.\ntitle: Again"));
        assert!(
            e[0].message
                .contains("`title` is given twice (first at line 2)")
                && e[0].line == 5
        );
        let e = errors_of(&GOOD_YAML.replace("summary: Hi.", "summary: [oops"));
        assert!(
            e[0].message.contains("not valid YAML") && e[0].line >= 4,
            "{e:?}"
        );
        let e = errors_of("---\ntitle: x\n");
        assert!(e[0].message.contains("add a line `---`"), "{e:?}");
        let text = GOOD_YAML.replace("summary: Hi.", "summary: Hi.\ncategories: [a]");
        let s = parse("p.md", &text).unwrap();
        assert_eq!(s.warnings[0].line, 5);
        assert!(s.warnings[0]
            .message
            .starts_with("unknown field `categories`"));
        // A draft in YAML waits for its summary with a warning at its line, as in TOML.
        let text = GOOD_YAML.replace("summary: Hi.", "summary: \"\"\ndraft: true");
        let s = parse("p.md", &text).unwrap();
        assert_eq!(
            (s.warnings.len(), s.warnings[0].line),
            (1, 4),
            "{:?}",
            s.warnings
        );
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
    fn an_empty_summary_is_empty_at_its_own_line_and_a_missing_one_missing() {
        let e = errors_of(&GOOD.replace("\"Hi.\"", "\"  \""));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].line, 4);
        assert!(e[0].message.starts_with("`summary` is empty"), "{e:?}");
        assert!(e[0].is_error());
        let e = errors_of(&GOOD.replace("summary = \"Hi.\"\n", ""));
        assert_eq!((e[0].line, e.len()), (1, 1), "{e:?}");
        assert!(e[0].message.contains("has no `summary`"), "{e:?}");
        let e = errors_of(&GOOD.replace("\"Hello\"", "\"\""));
        assert_eq!(e[0].line, 2);
        assert!(e[0].message.starts_with("`title` is empty"), "{e:?}");
    }

    #[test]
    fn a_draft_waits_for_what_only_publishing_needs_with_warnings() {
        // What `blog new` writes: an empty summary, a draft.
        let new = crate::source::new_post_text("Hello", "2026-06-14T09:30:00+02:00");
        let split = parse("content/hello.md", &new).unwrap();
        assert!(split.front.draft);
        assert_eq!(split.front.summary, "");
        let w = &split.warnings;
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, 4);
        assert!(!w[0].is_error());
        assert!(w[0].message.starts_with("`summary` is empty"), "{w:?}");
        // The moment it would be published, the same is an error at the same line.
        let e = errors_of(&new.replace("draft = true", "draft = false"));
        assert_eq!((e.len(), e[0].line, e[0].is_error()), (1, 4, true), "{e:?}");
        // No summary, no body, an `updated` before its date: warnings in a draft.
        let draft =
            "+++\ntitle = \"T\"\ndate = 2026-06-14\nupdated = 2026-06-01\ndraft = true\n+++\n\n";
        let split = parse("p.md", draft).unwrap();
        let lines: Vec<_> = split.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [1, 4, 6], "{:?}", split.warnings);
        assert_eq!(
            errors_of(&draft.replace("draft = true", "draft = false")).len(),
            3
        );
    }

    #[test]
    fn a_draft_whose_front_matter_cannot_be_read_is_still_an_error() {
        let draft = |extra: &str| {
            format!("+++\ntitle = \"T\"\ndate = 2026-06-14\ndraft = true\n{extra}+++\nbody\n")
        };
        for (extra, line, says) in [
            ("summary = oops\n", 5, "not valid TOML"),
            ("tags = \"rust\"\n", 5, "must be a list"),
            ("summary = 3\n", 5, "must be a string"),
        ] {
            let e = errors_of(&draft(extra));
            assert_eq!(e[0].line, line, "{extra}: {e:?}");
            assert!(e[0].message.contains(says), "{extra}: {e:?}");
        }
        let e = errors_of("+++\ntitle = \"T\"\ndraft = true\nsummary = \"\"\n+++\nbody\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("no `date`"));
        assert!(errors_of("+++\ndraft = true\n")[0]
            .message
            .contains("never closed"));
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
