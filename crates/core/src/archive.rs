//! How a long list of posts is cut into pages readers can walk: the front page's newest
//! posts, every year with its number of posts, and numbered pages of a year or a tag, each
//! linking to the one before and after it. A page's size is bounded by the settings, never
//! by the size of the archive.

use crate::content::PostMeta;
use crate::routes;

/// One numbered page of a list (1-based), and how many pages the list has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub page: usize,
    pub pages: usize,
}

/// The posts on page `page` (1-based) of `posts` cut into pages of `per_page`, and the
/// paging; `None` when the list is empty or has no such page.
pub fn page_of<T>(posts: &[T], per_page: usize, page: usize) -> Option<(&[T], Paging)> {
    let per_page = per_page.max(1);
    let pages = posts.len().div_ceil(per_page);
    if page == 0 || page > pages {
        return None;
    }
    let start = (page - 1) * per_page;
    let end = (start + per_page).min(posts.len());
    Some((&posts[start..end], Paging { page, pages }))
}

/// How many pages `count` posts fill.
pub fn pages_for(count: usize, per_page: usize) -> usize {
    count.div_ceil(per_page.max(1))
}

/// A list's links to its pages: the one before (newer posts) and after (older posts) this
/// one, and every page by number, as `path(n)` spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLinks {
    pub paging: Paging,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// Every page's number and path, this one's included; empty when there is one page.
    pub numbered: Vec<(usize, String)>,
}

impl PageLinks {
    pub fn new(paging: Paging, path: impl Fn(usize) -> String) -> Self {
        let Paging { page, pages } = paging;
        PageLinks {
            previous: (page > 1).then(|| path(page - 1)),
            next: (page < pages).then(|| path(page + 1)),
            numbered: if pages > 1 {
                (1..=pages).map(|n| (n, path(n))).collect()
            } else {
                Vec::new()
            },
            paging,
        }
    }

    pub fn is_current(&self, page: &usize) -> bool {
        *page == self.paging.page
    }
}

/// A year in the archive: how many posts it has, its page and its numbered pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveYear {
    pub year: i64,
    pub count: usize,
    pub url: String,
    /// Its pages by number, when it has more than one: the archive links each, so every
    /// post is three clicks from the front page (`/`, `/archive`, its page).
    pub pages: Vec<(usize, String)>,
}

/// Every year that has posts, newest first, from newest-first posts.
pub fn years(posts: &[PostMeta], per_page: usize) -> Vec<ArchiveYear> {
    let mut counts: Vec<(i64, usize)> = Vec::new();
    for post in posts {
        let year = post.year();
        match counts.iter_mut().find(|(y, _)| *y == year) {
            Some((_, count)) => *count += 1,
            None => counts.push((year, 1)),
        }
    }
    years_of(&counts, per_page)
}

/// The archive's years from `(year, posts)` counts, newest first.
pub fn years_of(counts: &[(i64, usize)], per_page: usize) -> Vec<ArchiveYear> {
    let mut counts = counts.to_vec();
    counts.sort_by_key(|(year, _)| std::cmp::Reverse(*year));
    counts
        .into_iter()
        .map(|(year, count)| {
            let paging = Paging {
                page: 1,
                pages: pages_for(count, per_page),
            };
            ArchiveYear {
                year,
                count,
                url: routes::year_path(year, 1),
                pages: PageLinks::new(paging, |n| routes::year_path(year, n)).numbered,
            }
        })
        .collect()
}

/// The posts of one year, newest first, from newest-first posts.
pub fn year_posts(posts: &[PostMeta], year: i64) -> Vec<&PostMeta> {
    posts.iter().filter(|p| p.year() == year).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(slug: &str, published: i64) -> PostMeta {
        PostMeta {
            slug: slug.into(),
            title: slug.into(),
            published,
            ..PostMeta::default()
        }
    }

    const YEAR: i64 = 365 * 86_400;
    /// 2026-01-01T00:00:00Z.
    const Y2026: i64 = 1_767_225_600;

    #[test]
    fn a_list_cuts_into_full_pages_and_a_last_short_one() {
        let posts: Vec<u32> = (0..7).collect();
        let (first, paging) = page_of(&posts, 3, 1).unwrap();
        assert_eq!(
            (first, paging),
            (&[0, 1, 2][..], Paging { page: 1, pages: 3 })
        );
        assert_eq!(page_of(&posts, 3, 3).unwrap().0, &[6]);
        assert_eq!(page_of(&posts, 3, 4), None, "past the last page");
        assert_eq!(page_of(&posts, 3, 0), None);
        assert_eq!(page_of::<u32>(&[], 3, 1), None, "an empty list has no page");
        assert_eq!(page_of(&posts, 7, 1).unwrap().1.pages, 1);
        assert_eq!(pages_for(0, 5), 0);
        assert_eq!(pages_for(10, 5), 2);
        assert_eq!(pages_for(11, 5), 3);
    }

    #[test]
    fn page_links_name_the_neighbours_and_every_page() {
        let path = |n| format!("/x/{n}");
        let middle = PageLinks::new(Paging { page: 2, pages: 3 }, path);
        assert_eq!(middle.previous.as_deref(), Some("/x/1"));
        assert_eq!(middle.next.as_deref(), Some("/x/3"));
        assert_eq!(middle.numbered.len(), 3);
        assert!(middle.is_current(&2) && !middle.is_current(&1));
        let first = PageLinks::new(Paging { page: 1, pages: 3 }, path);
        assert_eq!(
            (first.previous, first.next.as_deref()),
            (None, Some("/x/2"))
        );
        let only = PageLinks::new(Paging { page: 1, pages: 1 }, path);
        assert_eq!(
            (only.previous, only.next, only.numbered),
            (None, None, vec![])
        );
    }

    #[test]
    fn the_archive_counts_each_year_and_links_its_pages() {
        let posts = vec![
            post("c", Y2026 + 10),
            post("b", Y2026 + 5),
            post("a", Y2026 + 1),
            post("old", Y2026 - YEAR),
        ];
        let years = years(&posts, 2);
        assert_eq!(
            years,
            vec![
                ArchiveYear {
                    year: 2026,
                    count: 3,
                    url: "/2026/".into(),
                    pages: vec![(1, "/2026/".into()), (2, "/2026/page/2/".into())],
                },
                ArchiveYear {
                    year: 2025,
                    count: 1,
                    url: "/2025/".into(),
                    pages: vec![],
                },
            ]
        );
        let slugs: Vec<&str> = year_posts(&posts, 2026)
            .iter()
            .map(|p| p.slug.as_str())
            .collect();
        assert_eq!(slugs, ["c", "b", "a"]);
        assert!(year_posts(&posts, 2024).is_empty());
    }

    #[test]
    fn a_year_is_the_sites_year_not_utcs() {
        // 23:30 on Dec 31 in UTC is already the new year two hours east.
        let mut late = post("late", Y2026 - 1800);
        late.utc_offset = 120;
        let years = years(&[late], 50);
        assert_eq!(years[0].year, 2026);
    }
}
