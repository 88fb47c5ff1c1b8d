//! Writes every syndication document for a few hostile sample posts into a directory, so a real
//! feed parser (`tests/feedcheck.py`) can judge the output: `cargo run --example write_feeds -- DIR`.

use blog_core::content::PostMeta;
use blog_core::date::parse_rfc3339;
use blog_core::feeds::{self, FeedEntry, FeedInfo};
use blog_core::markdown;
use blog_core::settings::Settings;
use std::path::{Path, PathBuf};
use std::{env, fs, process};

struct Sample {
    meta: PostMeta,
    markdown: &'static str,
}

fn post(
    slug: &str,
    title: &str,
    summary: &str,
    date: &str,
    tags: &[&str],
    markdown: &'static str,
) -> Sample {
    Sample {
        meta: PostMeta {
            draft: false,
            slug: slug.into(),
            title: title.into(),
            summary: summary.into(),
            published: parse_rfc3339(date)
                .expect("sample dates are valid")
                .timestamp(),
            utc_offset: 0,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            aliases: vec![],
            updated: None,
            series: None,
            series_part: None,
            hash: format!("sample-{slug}"),
        },
        markdown,
    }
}

/// Newest first, as the index keeps them: titles that break naive escaping, control characters
/// that break XML, a non-ASCII slug, and relative links, images and footnotes that only
/// `absolutize` makes usable away from the site.
fn samples() -> Vec<Sample> {
    vec![
        post(
            "hostile-titles",
            "<script>alert('x')</script> & \"Friends\" \u{7}ring",
            "Escaping <b>matters</b> & so do\u{0} NULs.",
            "2026-06-14",
            &["rust", "c&c", "<xml>"],
            "## Links\n\nSee [the other post](/posts/café), [a sibling](relative-post), \
             [a section](#links) and [mail](mailto:me@example.com).\n\n\
             ![Diagram](/img/diagram.png) ![Figure](figure.svg \"A figure\")\n\n\
             A footnote[^1] and a control character: \u{1b}[0m.\n\n\
             ```html\n<a href=\"/not-a-link\">]]></a>\n```\n\n\
             [^1]: The note.\n",
        ),
        post(
            "café",
            "Café, ünïcode & a bell\u{7}",
            "A post whose slug is not ASCII.",
            "2026-05-02T09:30:00+02:00",
            &["unicode"],
            "Plain *text* with an [external link](https://example.org/?a=1&b=2).\n",
        ),
        post(
            "untagged",
            "No tags, CDATA end ]]> in the title",
            "Nothing tagged.",
            "2025-12-31T23:59:59Z",
            &[],
            "<p>Raw HTML with <img src='/img/raw.png' alt=raw> and <a href=../about>about</a>.</p>\n",
        ),
    ]
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", parent.display())));
    }
    fs::write(&path, text)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
    println!("{}", path.display());
}

fn fail(message: &str) -> ! {
    eprintln!("write_feeds: {message}");
    process::exit(1)
}

fn main() {
    let Some(dir) = env::args_os().nth(1).map(PathBuf::from) else {
        fail("usage: cargo run --example write_feeds -- OUTPUT_DIR");
    };
    let settings = Settings {
        title: "Writing & <Notes>".into(),
        tagline: "Development \"techniques\" & lessons".into(),
        author: "Ada 'A' Lovelace".into(),
        base_url: "https://blog.example.com".into(),
        ..Settings::default()
    };
    let samples = samples();
    let html: Vec<String> = samples
        .iter()
        .map(|s| {
            feeds::absolutize(
                &markdown::render(s.markdown, &markdown::RenderOptions::default()).html,
                &settings.base_url,
                &s.meta.url(),
            )
        })
        .collect();
    let entries: Vec<FeedEntry> = samples
        .iter()
        .zip(&html)
        .map(|(s, html)| FeedEntry {
            meta: &s.meta,
            content_html: html,
        })
        .take(settings.feed_posts)
        .collect();
    let info = |self_path: &str, home_path: &str, title: String| FeedInfo {
        title,
        self_path: self_path.into(),
        home_path: home_path.into(),
        settings: &settings,
    };

    write(
        &dir,
        "feed.xml",
        &feeds::atom(&info("/feed.xml", "/", settings.title.clone()), &entries),
    );
    write(
        &dir,
        "rss.xml",
        &feeds::rss(&info("/rss.xml", "/", settings.title.clone()), &entries),
    );
    write(
        &dir,
        "feed.json",
        &feeds::json_feed(&info("/feed.json", "/", settings.title.clone()), &entries),
    );

    let rust: Vec<FeedEntry> = entries
        .iter()
        .copied()
        .filter(|e| e.meta.tags.iter().any(|t| t == "rust"))
        .collect();
    let tag_title = format!("{}: rust", settings.title);
    write(
        &dir,
        "tags/rust/feed.xml",
        &feeds::atom(
            &info("/tags/rust/feed.xml", "/tags/rust", tag_title.clone()),
            &rust,
        ),
    );
    write(
        &dir,
        "tags/rust/rss.xml",
        &feeds::rss(
            &info("/tags/rust/rss.xml", "/tags/rust", tag_title.clone()),
            &rust,
        ),
    );
    write(
        &dir,
        "tags/rust/feed.json",
        &feeds::json_feed(
            &info("/tags/rust/feed.json", "/tags/rust", tag_title),
            &rust,
        ),
    );

    let empty = info("/tags/none/feed.xml", "/tags/none", "Nothing yet".into());
    write(&dir, "tags/none/feed.xml", &feeds::atom(&empty, &[]));

    let mut urls = vec![("/".to_string(), entries.first().map(|e| e.meta.published))];
    urls.extend(
        samples
            .iter()
            .map(|s| (s.meta.url(), Some(s.meta.published))),
    );
    write(&dir, "sitemap.xml", &feeds::sitemap(&settings, &urls));
    write(&dir, "robots.txt", &feeds::robots(&settings));
}
