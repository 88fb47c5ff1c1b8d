//! Popular Reads: which posts to list, given how often each was read.

use crate::content::PostMeta;
use std::collections::HashMap;

pub const POPULAR_LEN: usize = 5;

/// The `n` most-read posts. `posts` must be newest first (as in the index); where read
/// counts tie, including a fresh site where every count is zero, newer posts come first.
pub fn popular<'a>(posts: &'a [PostMeta], reads: &HashMap<String, u64>, n: usize) -> Vec<&'a PostMeta> {
    let mut ranked: Vec<(&PostMeta, u64)> =
        posts.iter().map(|p| (p, reads.get(&p.slug).copied().unwrap_or(0))).collect();
    // A stable sort keeps the newest-first order among equal counts.
    ranked.sort_by(|a, b| b.1.cmp(&a.1));
    ranked.into_iter().take(n).map(|(p, _)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts(n: i64) -> Vec<PostMeta> {
        (0..n)
            .map(|i| PostMeta {
                slug: format!("p{i}"),
                title: format!("Post {i}"),
                summary: String::new(),
                published: 1_000_000 - i * 86_400,
                tags: vec![],
                hash: String::new(),
            })
            .collect()
    }

    fn slugs(list: &[&PostMeta]) -> Vec<String> {
        list.iter().map(|p| p.slug.clone()).collect()
    }

    #[test]
    fn with_no_reads_lists_the_newest() {
        let posts = posts(8);
        assert_eq!(slugs(&popular(&posts, &HashMap::new(), 5)), ["p0", "p1", "p2", "p3", "p4"]);
    }

    #[test]
    fn most_read_first_and_ties_go_to_the_newer_post() {
        let posts = posts(8);
        let reads = HashMap::from([("p7".to_string(), 3), ("p5".to_string(), 3), ("p2".to_string(), 9)]);
        assert_eq!(slugs(&popular(&posts, &reads, 5)), ["p2", "p5", "p7", "p0", "p1"]);
    }

    #[test]
    fn counts_for_unknown_posts_are_ignored() {
        let posts = posts(2);
        let reads = HashMap::from([("gone".to_string(), 100)]);
        assert_eq!(slugs(&popular(&posts, &reads, 5)), ["p0", "p1"]);
    }
}
