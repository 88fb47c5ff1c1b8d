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

/// What a counter answers a [`crate::counting::StatsQuery`]: of every slug's stats, the `top`
/// with the highest score (ties: more reads, then the slug) and those of `slugs`.
pub fn bounded(
    all: HashMap<String, ReadStats>,
    top: usize,
    slugs: &[String],
) -> HashMap<String, ReadStats> {
    let mut ranked: Vec<(String, ReadStats)> = all.into_iter().collect();
    ranked.sort_by(|(a, x), (b, y)| {
        y.score
            .total_cmp(&x.score)
            .then(y.reads.cmp(&x.reads))
            .then(a.cmp(b))
    });
    ranked
        .into_iter()
        .enumerate()
        .filter(|(i, (slug, _))| *i < top || slugs.contains(slug))
        .map(|(_, row)| row)
        .collect()
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
    posts: impl IntoIterator<Item = &'a PostMeta>,
    stats: &HashMap<String, ReadStats>,
    n: usize,
) -> Vec<&'a PostMeta> {
    let mut ranked: Vec<(&PostMeta, f64)> = posts
        .into_iter()
        .map(|p| (p, stats_for(p, stats).score))
        .collect();
    // A stable sort keeps the newest-first order among equal scores.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.into_iter().take(n).map(|(p, _)| p).collect()
}

/// The slugs worth looking up for Popular Reads when the edge does not hold every post: the
/// best `2 n` scores once reads counted under an old slug go to the post renamed from it
/// (room for `n` that turn out not to be published), best first.
pub fn candidates(
    stats: &HashMap<String, ReadStats>,
    aliases: &crate::content::Aliases,
    now: crate::date::Timestamp,
    n: usize,
) -> Vec<String> {
    let mut folded: HashMap<&str, f64> = HashMap::new();
    for (slug, s) in stats {
        *folded.entry(aliases.counted_as(slug, now)).or_default() += s.score;
    }
    let mut ranked: Vec<(&str, f64)> = folded.into_iter().filter(|(_, s)| *s > 0.0).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(2 * n)
        .map(|(slug, _)| slug.to_string())
        .collect()
}

/// What Popular Reads is chosen from when the edge does not hold every post: the published
/// records of the candidates and the front page's newest posts (which fill the list while
/// few posts have reads), once each, newest first.
pub fn pool(
    front: &[PostMeta],
    candidates: impl IntoIterator<Item = PostMeta>,
    now: crate::date::Timestamp,
) -> Vec<PostMeta> {
    let mut pool: Vec<PostMeta> = front.to_vec();
    for post in candidates {
        if post.published <= now && !pool.iter().any(|p| p.slug == post.slug) {
            pool.push(post);
        }
    }
    crate::content::sort_newest_first(&mut pool);
    pool
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
mod candidate_tests {
    use super::*;
    use crate::content::{Aliases, SiteIndex};

    #[test]
    fn candidates_are_the_best_scores_with_old_slugs_folded_in() {
        let mut renamed = PostMeta {
            slug: "new".into(),
            published: 10,
            ..PostMeta::default()
        };
        renamed.aliases = vec!["/posts/old".into()];
        let index = SiteIndex::new(vec![renamed], Default::default(), "v".into());
        let aliases = Aliases::of(&index);
        let stats: HashMap<String, ReadStats> =
            [("old", 5.0), ("new", 1.0), ("b", 4.0), ("c", 0.0)]
                .into_iter()
                .map(|(s, score)| (s.to_string(), ReadStats { reads: 1, score }))
                .collect();
        assert_eq!(candidates(&stats, &aliases, 100, 5), ["new", "b"]);
        assert_eq!(
            candidates(&stats, &aliases, 100, 1),
            ["new", "b"],
            "two per place"
        );
        // Before the renamed post is out, its old slug's reads are its own.
        assert_eq!(candidates(&stats, &aliases, 5, 1), ["old", "b"]);
        // The pool: the front page's posts and the published candidates, once each.
        let post = |slug: &str, published| PostMeta {
            slug: slug.into(),
            published,
            ..PostMeta::default()
        };
        let front = [post("f2", 20), post("f1", 15)];
        let pool = pool(
            &front,
            [post("f1", 15), post("x", 5), post("later", 99)],
            30,
        );
        let slugs: Vec<&str> = pool.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["f2", "f1", "x"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_answers_the_top_and_the_slugs_asked_for_never_every_row() {
        let all: HashMap<String, ReadStats> = (0..1000)
            .map(|i| {
                let stats = ReadStats {
                    reads: i,
                    score: (i % 100) as f64,
                };
                (format!("p{i}"), stats)
            })
            .collect();
        let answer = bounded(all.clone(), 3, &["p5".into(), "nobody".into()]);
        let mut slugs: Vec<&str> = answer.keys().map(String::as_str).collect();
        slugs.sort();
        // Score 99 three times over (p999, p899, p799: most reads first), and p5 as asked.
        assert_eq!(slugs, ["p5", "p799", "p899", "p999"]);
        assert_eq!(answer["p5"], all["p5"]);
        assert!(bounded(all, 0, &[]).is_empty());
    }

    fn posts(n: i64) -> Vec<PostMeta> {
        (0..n)
            .map(|i| PostMeta {
                draft: false,
                slug: format!("p{i}"),
                title: format!("Post {i}"),
                summary: String::new(),
                published: 1_000_000 - i * 86_400,
                utc_offset: 0,
                tags: vec![],
                aliases: vec![],
                updated: None,
                series: None,
                series_part: None,
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
