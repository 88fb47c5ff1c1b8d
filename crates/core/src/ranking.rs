//! Popular Reads: which posts to list, given how often and how recently each was read.

use crate::content::PostMeta;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What the counter knows about one slug.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadStats {
    /// Every counted read, ever.
    pub reads: u64,
    /// Reads weighed by age: a read `half_life` days old counts one half.
    pub score: f64,
}

impl std::ops::AddAssign for ReadStats {
    fn add_assign(&mut self, other: Self) {
        self.reads += other.reads;
        self.score += other.score;
    }
}

/// Adds one counter shard's stats into the total: reads and scores are both sums.
pub fn merge(total: &mut HashMap<String, ReadStats>, shard: HashMap<String, ReadStats>) {
    for (slug, stats) in shard {
        *total.entry(slug).or_default() += stats;
    }
}

/// A post's stats, including reads counted under its former slugs.
pub fn stats_for(post: &PostMeta, stats: &HashMap<String, ReadStats>) -> ReadStats {
    let mut total = ReadStats::default();
    for slug in post.counted_slugs() {
        if let Some(s) = stats.get(slug) {
            total += *s;
        }
    }
    total
}

/// The `n` posts with the highest time-weighted score. `posts` must be newest first (as in
/// the index); where scores tie, including a fresh site with no reads, newer posts come first.
pub fn popular<'a>(
    posts: &'a [PostMeta],
    stats: &HashMap<String, ReadStats>,
    n: usize,
) -> Vec<&'a PostMeta> {
    let mut ranked: Vec<(&PostMeta, f64)> = posts
        .iter()
        .map(|p| (p, stats_for(p, stats).score))
        .collect();
    // A stable sort keeps the newest-first order among equal scores.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.into_iter().take(n).map(|(p, _)| p).collect()
}

/// The time-weighted score of daily read counts `(day number, reads)` seen from `today`.
pub fn decayed_score(
    daily: impl IntoIterator<Item = (i64, u64)>,
    today: i64,
    half_life_days: f64,
) -> f64 {
    let half_life = if half_life_days > 0.0 {
        half_life_days
    } else {
        f64::INFINITY
    };
    daily
        .into_iter()
        .map(|(day, reads)| reads as f64 * (-((today - day).max(0) as f64) / half_life).exp2())
        .sum()
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
                utc_offset: 0,
                tags: vec![],
                aliases: vec![],
                hash: String::new(),
            })
            .collect()
    }

    fn slugs(list: &[&PostMeta]) -> Vec<String> {
        list.iter().map(|p| p.slug.clone()).collect()
    }

    fn scored(entries: &[(&str, f64)]) -> HashMap<String, ReadStats> {
        entries
            .iter()
            .map(|(s, score)| {
                (
                    s.to_string(),
                    ReadStats {
                        reads: *score as u64,
                        score: *score,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn with_no_reads_lists_the_newest() {
        let posts = posts(8);
        assert_eq!(
            slugs(&popular(&posts, &HashMap::new(), 5)),
            ["p0", "p1", "p2", "p3", "p4"]
        );
    }

    #[test]
    fn highest_score_first_and_ties_go_to_the_newer_post() {
        let posts = posts(8);
        let stats = scored(&[("p7", 3.0), ("p5", 3.0), ("p2", 9.0)]);
        assert_eq!(
            slugs(&popular(&posts, &stats, 5)),
            ["p2", "p5", "p7", "p0", "p1"]
        );
    }

    #[test]
    fn counts_for_unknown_posts_are_ignored() {
        let posts = posts(2);
        assert_eq!(
            slugs(&popular(&posts, &scored(&[("gone", 100.0)]), 5)),
            ["p0", "p1"]
        );
    }

    #[test]
    fn reads_under_a_former_slug_still_count() {
        let mut posts = posts(3);
        posts[2].aliases = vec!["/posts/old".into(), "/elsewhere".into()];
        let stats = scored(&[("old", 5.0), ("p2", 1.0), ("p0", 4.0)]);
        assert_eq!(stats_for(&posts[2], &stats).reads, 6);
        assert_eq!(slugs(&popular(&posts, &stats, 1)), ["p2"]);
    }

    #[test]
    fn shard_stats_add_up() {
        let mut total = scored(&[("a", 2.0)]);
        merge(&mut total, scored(&[("a", 3.0), ("b", 1.0)]));
        assert_eq!(
            total["a"],
            ReadStats {
                reads: 5,
                score: 5.0
            }
        );
        assert_eq!(total["b"].reads, 1);
    }

    #[test]
    fn reads_lose_half_their_weight_each_half_life() {
        assert_eq!(decayed_score([(100, 8)], 100, 30.0), 8.0);
        assert_eq!(decayed_score([(70, 8)], 100, 30.0), 4.0);
        assert_eq!(decayed_score([(40, 8), (100, 1)], 100, 30.0), 3.0);
        // A burst long ago ranks below steady recent reading.
        let old_burst = decayed_score([(0, 100)], 365, 30.0);
        let recent = decayed_score([(360, 2), (364, 2)], 365, 30.0);
        assert!(recent > old_burst, "{recent} vs {old_burst}");
    }
}
