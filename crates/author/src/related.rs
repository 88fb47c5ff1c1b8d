//! Related posts, computed at sync: for each post, the few others closest to it by TF-IDF
//! cosine over their titles, headings, bodies and tags (a tag is a term of its own, weighed
//! above words), so posts that share tags and vocabulary come first.
//!
//! Cheap at ten thousand posts: each post keeps only its [`TERMS_PER_POST`] heaviest terms,
//! and a term most posts use is no evidence, so it is dropped. Scores accumulate over the
//! postings of those terms only, never over every pair. Deterministic: the same posts give
//! the same answer on every machine and every sync (ties go to the earlier post).

use blog_core::search::{terms, Document};
use std::collections::HashMap;

/// How many related posts a page shows.
pub const RELATED: usize = 3;
/// The heaviest terms a post keeps: what bounds the work per post.
pub const TERMS_PER_POST: usize = 64;

/// Field weights: a title word counts three body words, a heading word two, a tag four.
const TITLE: f32 = 3.0;
const HEADING: f32 = 2.0;
const BODY: f32 = 1.0;
const TAG: f32 = 4.0;

/// For each document, up to [`RELATED`] others (their places in `docs`), best first.
/// `allowed(a, b)` says whether `b` may be shown as related to `a` (not a post `a`'s page
/// already links, not one that is not out yet).
pub fn related(
    docs: &[Document],
    allowed: impl Fn(usize, usize) -> bool + Sync,
) -> Vec<Vec<usize>> {
    let n = docs.len();
    // Every term as a number, in the order first met (so the same posts number them alike),
    // and each document's weighted counts by number.
    // Reading the words is most of the work: on every core.
    let mut texts: Vec<(&Document, Vec<(String, f32)>)> =
        docs.iter().map(|doc| (doc, Vec::new())).collect();
    crate::cores::each(&mut texts, 64, |(doc, terms)| {
        *terms = term_counts(doc).into_iter().collect();
        terms.sort_by(|a, b| a.0.cmp(&b.0));
    });
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let counts: Vec<Vec<(u32, f32)>> = texts
        .into_iter()
        .map(|(_, terms)| {
            let mut counts: Vec<(u32, f32)> = terms
                .into_iter()
                .map(|(term, tf)| {
                    let next = numbers.len() as u32;
                    (*numbers.entry(term).or_insert(next), tf)
                })
                .collect();
            counts.sort_by_key(|(id, _)| *id);
            counts
        })
        .collect();
    let mut df = vec![0u32; numbers.len()];
    for c in &counts {
        for &(id, _) in c {
            df[id as usize] += 1;
        }
    }
    // A term in over a quarter of a large collection says little about any one post, and
    // one in a single post relates it to nothing.
    let max_df = if n >= 20 {
        (n / 4).max(2) as u32
    } else {
        n as u32
    };
    let vectors: Vec<Vec<(u32, f32)>> = counts
        .iter()
        .map(|c| {
            let mut v: Vec<(u32, f32)> = c
                .iter()
                .filter(|&&(id, _)| (2..=max_df).contains(&df[id as usize]))
                .map(|&(id, tf)| {
                    let idf = (n as f32 / df[id as usize] as f32).ln();
                    (id, (1.0 + tf.ln()) * idf)
                })
                .filter(|(_, w)| *w > 0.0)
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(TERMS_PER_POST);
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            for (_, w) in &mut v {
                *w /= norm;
            }
            v
        })
        .collect();
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); numbers.len()];
    for (doc, v) in vectors.iter().enumerate() {
        for &(id, w) in v {
            postings[id as usize].push((doc as u32, w));
        }
    }
    // Posts in runs of 256, the runs shared out over the cores, each with its own scores.
    let mut runs: Vec<(std::ops::Range<usize>, Vec<Vec<usize>>)> = (0..n)
        .step_by(256)
        .map(|start| (start..(start + 256).min(n), Vec::new()))
        .collect();
    crate::cores::each(&mut runs, 2, |(run, out)| {
        let mut scores = vec![0f32; n];
        let mut touched = Vec::new();
        for a in run.clone() {
            for &(id, wa) in &vectors[a] {
                for &(b, wb) in &postings[id as usize] {
                    let b = b as usize;
                    if scores[b] == 0.0 {
                        touched.push(b);
                    }
                    scores[b] += wa * wb;
                }
            }
            // The best few in one pass (sorting every post touched would cost more than
            // scoring them): better score first, then the earlier post.
            let mut best: Vec<(usize, f32)> = Vec::with_capacity(RELATED + 1);
            for b in touched.drain(..) {
                let score = std::mem::take(&mut scores[b]);
                let beats = |&(c, s): &(usize, f32)| score > s || (score == s && b < c);
                if b == a
                    || score <= 0.0
                    || (best.len() == RELATED && !beats(&best[RELATED - 1]))
                    || !allowed(a, b)
                {
                    continue;
                }
                let at = best.iter().position(beats).unwrap_or(best.len());
                best.insert(at, (b, score));
                best.truncate(RELATED);
            }
            out.push(best.into_iter().map(|(b, _)| b).collect());
        }
    });
    runs.into_iter().flat_map(|(_, out)| out).collect()
}

/// English words too common to tell posts apart, as [`terms`] spells them: in a small
/// collection the document frequency alone cannot tell.
const STOP_WORDS: [&str; 48] = [
    "a", "about", "after", "all", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do",
    "for", "from", "had", "has", "have", "i", "if", "in", "into", "is", "it", "its", "my", "no",
    "not", "of", "on", "one", "or", "so", "that", "the", "then", "there", "this", "to", "up",
    "was", "we", "what", "when", "with", "you", "your",
];

fn term_counts(doc: &Document) -> HashMap<String, f32> {
    let mut counts: HashMap<String, f32> = HashMap::new();
    let mut add = |text: &str, weight: f32| {
        for term in terms(text) {
            if STOP_WORDS.binary_search(&term.as_str()).is_ok() {
                continue;
            }
            *counts.entry(term).or_insert(0.0) += weight;
        }
    };
    add(&doc.title, TITLE);
    for heading in &doc.headings {
        add(heading, HEADING);
    }
    add(&doc.body, BODY);
    for tag in &doc.tags {
        // Apart from the words: a shared tag is the author's own word for what is alike.
        *counts
            .entry(format!("#{}", blog_core::content::tag_slug(tag)))
            .or_insert(0.0) += TAG;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, tags: &[&str], body: &str) -> Document {
        Document {
            title: title.into(),
            headings: vec![],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            summary: String::new(),
            body: body.into(),
        }
    }

    fn docs() -> Vec<Document> {
        vec![
            doc(
                "Rust builds in CI",
                &["rust", "ci"],
                "cargo caches and incremental builds in CI runners",
            ),
            doc(
                "Faster cargo builds",
                &["rust"],
                "cargo incremental builds, sccache and caches",
            ),
            doc(
                "Sourdough at home",
                &["baking"],
                "flour water salt and a starter",
            ),
            doc(
                "A CI pipeline for Go",
                &["go", "ci"],
                "runners caches and go build in the pipeline",
            ),
            doc(
                "Rye bread",
                &["baking"],
                "rye flour, a starter and patience",
            ),
        ]
    }

    #[test]
    fn posts_that_share_tags_and_words_come_first_and_never_the_post_itself() {
        let related = related(&docs(), |_, _| true);
        let mut builds = related[0].clone();
        builds.sort();
        assert_eq!(builds, [1, 3], "{related:?}");
        assert_eq!(related[1][0], 0, "{related:?}");
        assert_eq!(related[2], [4], "baking has nothing in common with builds");
        assert_eq!(related[4], [2]);
        assert!(related
            .iter()
            .enumerate()
            .all(|(a, r)| !r.contains(&a) && r.len() <= RELATED));
    }

    #[test]
    fn a_post_already_linked_is_left_out_and_the_next_one_comes_up() {
        let related = related(&docs(), |a, b| !(a == 0 && b == 1));
        assert_eq!(related[0], [3], "{related:?}");
        let related = super::related(&docs(), |a, b| !(a == 0 && b == 3));
        assert_eq!(related[0], [1], "{related:?}");
    }

    #[test]
    fn stop_words_are_sorted_and_spelt_as_terms_spells_them() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        for word in ["this", "was", "the", "is"] {
            let term = terms(word).pop().unwrap();
            assert!(STOP_WORDS.contains(&term.as_str()), "{word} -> {term}");
        }
    }

    #[test]
    fn the_same_posts_give_the_same_answer_every_time() {
        let once = related(&docs(), |_, _| true);
        for _ in 0..5 {
            assert_eq!(related(&docs(), |_, _| true), once);
        }
    }

    /// `BLOG_RELATED_POSTS=10000 cargo test --release -p blog-author related::tests::many`
    /// measures a larger collection.
    #[test]
    fn many_posts_take_seconds_not_minutes() {
        let count: usize = std::env::var("BLOG_RELATED_POSTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2000);
        let words: Vec<String> = (0..3000).map(|i| format!("w{i}")).collect();
        let mut seed = 11u64;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % m
        };
        let docs: Vec<Document> = (0..count)
            .map(|i| {
                let body: Vec<&str> = (0..300)
                    .map(|_| words[next(words.len())].as_str())
                    .collect();
                let tag = format!("t{}", next(40));
                doc(
                    &format!("Post {i} {}", words[next(100)]),
                    &[tag.as_str()],
                    &body.join(" "),
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let related = related(&docs, |_, _| true);
        let took = started.elapsed();
        eprintln!("related posts of {count} posts of 300 words: {took:?}");
        assert!(related.iter().all(|r| r.len() == RELATED));
        // Unoptimised, 2,000 posts: about 4 s on a busy 2-core machine.
        assert!(took.as_secs() < 30, "{took:?}");
    }
}
