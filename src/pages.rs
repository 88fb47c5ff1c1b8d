//! The pages readers see: one Askama template struct per page, data shaped here, not in templates.

use crate::content::{PostMeta, PostRecord};
use crate::date;
use crate::markdown;
use askama::Template;

/// Who the site is. Later this comes from settings synced with the content.
#[derive(Debug, Clone)]
pub struct Site {
    pub title: &'static str,
    pub tagline: &'static str,
}

pub const SITE: Site = Site {
    title: "Writing",
    tagline: "I write about development techniques, project insights, and lessons learned building software.",
};

/// Posts of one calendar year, in index order.
pub struct YearGroup<'a> {
    pub year: i64,
    pub posts: Vec<&'a PostMeta>,
}

/// Groups newest-first posts under their year, newest year first.
pub fn group_by_year(posts: &[PostMeta]) -> Vec<YearGroup<'_>> {
    let mut groups: Vec<YearGroup<'_>> = Vec::new();
    for post in posts {
        let year = date::year(post.published);
        match groups.last_mut() {
            Some(group) if group.year == year => group.posts.push(post),
            _ => groups.push(YearGroup { year, posts: vec![post] }),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage<'a> {
    pub site: &'a Site,
    pub years: Vec<YearGroup<'a>>,
    pub popular: Vec<&'a PostMeta>,
}

#[derive(Template)]
#[template(path = "post.html")]
pub struct PostPage<'a> {
    pub site: &'a Site,
    pub post: &'a PostMeta,
    pub body_html: String,
    pub reading_minutes: usize,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage<'a> {
    pub site: &'a Site,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub site: &'a Site,
}

pub fn index(site: &Site, posts: &[PostMeta], popular: Vec<&PostMeta>) -> String {
    IndexPage { site, years: group_by_year(posts), popular }.render().expect("index template renders")
}

pub fn post(site: &Site, record: &PostRecord) -> String {
    let rendered = markdown::render(&record.body);
    PostPage {
        site,
        post: &record.meta,
        body_html: rendered.html,
        reading_minutes: rendered.words.div_ceil(230).max(1),
    }
    .render()
    .expect("post template renders")
}

pub fn not_found(site: &Site) -> String {
    NotFoundPage { site }.render().expect("404 template renders")
}

pub fn error(site: &Site) -> String {
    ErrorPage { site }.render().expect("error template renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(slug: &str, title: &str, day: &str) -> PostMeta {
        PostMeta {
            slug: slug.into(),
            title: title.into(),
            summary: format!("About {title}."),
            published: date::parse_rfc3339(day).unwrap().timestamp(),
            tags: vec![],
            hash: "h".into(),
        }
    }

    #[test]
    fn groups_posts_by_year_newest_first() {
        let posts = [meta("a", "A", "2026-01-02"), meta("b", "B", "2026-01-01"), meta("c", "C", "2025-12-31")];
        let groups = group_by_year(&posts);
        let shape: Vec<_> = groups.iter().map(|g| (g.year, g.posts.len())).collect();
        assert_eq!(shape, [(2026, 2), (2025, 1)]);
    }

    #[test]
    fn index_page_shows_years_posts_and_popular_reads() {
        let posts = [meta("new", "New <post>", "2026-06-14"), meta("old", "Old", "2025-03-01")];
        let html = index(&SITE, &posts, vec![&posts[1]]);
        assert!(html.contains("<h1 id=\"writing\">Writing</h1>"));
        assert!(html.contains(SITE.tagline));
        assert!(html.contains("<h2 class=\"year\">2026</h2>"));
        assert!(html.contains("<a href=\"/posts/new\">New &#60;post&#62;</a>"), "{html}");
        assert!(html.contains("Jun 14, 2026"));
        let popular = html.split("Popular Reads").nth(1).unwrap();
        assert!(popular.contains("/posts/old") && !popular.contains("/posts/new"));
    }

    #[test]
    fn post_page_renders_markdown_and_escapes_the_title() {
        let record = PostRecord {
            meta: meta("p", "Tom & <Jerry>", "2026-05-02"),
            body: "## Intro\n\nSome **bold** text.\n".into(),
        };
        let html = post(&SITE, &record);
        assert!(html.contains("<title>Tom &#38; &#60;Jerry&#62; · Writing</title>"), "{html}");
        assert!(html.contains("<h2 id=\"intro\">Intro</h2>"));
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("May 2, 2026"));
        assert!(html.contains("href=\"/\""));
    }

    #[test]
    fn not_found_page_links_home() {
        let html = not_found(&SITE);
        assert!(html.contains("Page not found") && html.contains("href=\"/\""));
    }
}
