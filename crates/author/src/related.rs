//! Related posts, computed at sync: for each post, the few others closest to it by TF-IDF
//! cosine over the words search reads in it (title, headings, tags, summary and body, each
//! field weighed as search weighs it: [`blog_core::search::weigh`]) and its tags (a tag is a
//! term of its own, weighed above words), so posts that share tags and vocabulary come first.
//!
//! Cheap at ten thousand posts: the words are search's, read once per post and kept by
//! content hash between syncs ([`crate::search::TermCache`]), so a sync reads only the
//! posts it changed. Each post keeps only its [`TERMS_PER_POST`] heaviest terms, and a term
//! most posts use is no evidence, so it is dropped. Scores accumulate over the postings of
//! those terms only, never over every pair. Deterministic: the same posts give the same
//! answer on every machine and every sync (ties go to the earlier post, then the term that
//! sorts first).

use blog_core::content::tag_slug;
use std::collections::HashMap;
use std::path::Path;

/// How many related posts a page shows.
pub const RELATED: usize = 3;
/// The heaviest terms a post keeps: what bounds the work per post.
pub const TERMS_PER_POST: usize = 64;

/// A shared tag weighs four body words: it is the author's own word for what is alike.
const TAG: f32 = 4.0;

/// What relates a post to others: its weighted words as search counts them (stemmed, in
/// half units of a body word: see [`blog_core::search::Posting`]) and its tags.
#[derive(Clone, Copy, Debug)]
pub struct Terms<'a> {
    pub words: &'a [(String, u32)],
    pub tags: &'a [String],
}

/// For each post, up to [`RELATED`] others (their places in `posts`), best first.
/// `allowed(a, b)` says whether `b` may be shown as related to `a` (not a post `a`'s page
/// already links, not one that is not out yet).
pub fn related(posts: &[Terms], allowed: impl Fn(usize, usize) -> bool + Sync) -> Vec<Vec<usize>> {
    let n = posts.len();
    let tags: Vec<Vec<String>> = posts
        .iter()
        .map(|p| p.tags.iter().map(|t| format!("#{}", tag_slug(t))).collect())
        .collect();
    // Every term as a number, and each post's weighted counts by number. The numbers
    // follow the order the posts' words come in, which a cache may change: nothing below
    // orders by them, only by the terms they stand for.
    let mut numbers: HashMap<&str, u32> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let counts: Vec<Vec<(u32, f32)>> = posts
        .iter()
        .zip(&tags)
        .map(|(post, tags)| {
            let words = post
                .words
                .iter()
                .filter(|(term, _)| STOP_WORDS.binary_search(&term.as_str()).is_err())
                .map(|(term, half_units)| (term.as_str(), *half_units as f32 / 2.0));
            words
                .chain(tags.iter().map(|t| (t.as_str(), TAG)))
                .map(|(term, tf)| {
                    let id = *numbers.entry(term).or_insert_with(|| {
                        names.push(term);
                        names.len() as u32 - 1
                    });
                    (id, tf)
                })
                .collect()
        })
        .collect();
    let mut df = vec![0u32; names.len()];
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
    let mut vectors = counts;
    crate::cores::each(&mut vectors, 256, |v| {
        v.retain(|&(id, _)| (2..=max_df).contains(&df[id as usize]));
        for (id, w) in v.iter_mut() {
            let idf = (n as f32 / df[*id as usize] as f32).ln();
            *w = (1.0 + w.ln()) * idf;
        }
        v.retain(|(_, w)| *w > 0.0);
        v.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| names[a.0 as usize].cmp(names[b.0 as usize]))
        });
        v.truncate(TERMS_PER_POST);
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        for (_, w) in v.iter_mut() {
            *w /= norm;
        }
    });
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); names.len()];
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

/// Names how related posts are chosen in a [`Chosen`] file's inputs: a change of the
/// ranking changes it, so no choice made by other code is ever taken.
pub const RANKING: &str = "related 2";

/// The related posts the last sync chose (places in its posts), kept on the author's
/// machine under the hash of everything the choice was made from ([`crate::publish::relate`]
/// names it), so a sync that changed none of that chooses nothing again. Only a speed-up:
/// a missing, damaged or other file is no choice.
#[derive(Default, Debug, PartialEq)]
pub struct Chosen {
    inputs: String,
    related: Vec<Vec<usize>>,
    /// Whether a choice was made since it was read: what is worth saving.
    pub changed: bool,
}

const CHOSEN_FORMAT: &str = "blog related posts";

impl Chosen {
    /// The choice kept in `path`, or none.
    pub fn load(path: &Path) -> Chosen {
        crate::files::kept(path)
            .and_then(|text| Chosen::parse(&text))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> Option<Chosen> {
        let mut lines = text.lines();
        let inputs = lines
            .next()?
            .strip_prefix(CHOSEN_FORMAT)?
            .strip_prefix(' ')?;
        let related = lines
            .map(|line| line.split_whitespace().map(|n| n.parse().ok()).collect())
            .collect::<Option<Vec<Vec<usize>>>>()?;
        Some(Chosen {
            inputs: inputs.to_string(),
            related,
            changed: false,
        })
    }

    /// The choice made from `inputs` for `count` posts, if it is the one kept.
    pub fn get(&self, inputs: &str, count: usize) -> Option<&[Vec<usize>]> {
        let fits = self.related.iter().flatten().all(|&b| b < count);
        (self.inputs == inputs && self.related.len() == count && fits).then_some(&self.related)
    }

    /// Keeps `related` as the choice made from `inputs`.
    pub fn put(&mut self, inputs: String, related: Vec<Vec<usize>>) {
        *self = Chosen {
            inputs,
            related,
            changed: true,
        };
    }

    /// Writes the choice to `path` ([`crate::files::keep`]).
    pub fn save(&self, path: &Path) {
        let mut text = format!("{CHOSEN_FORMAT} {}\n", self.inputs);
        for related in &self.related {
            let places: Vec<String> = related.iter().map(usize::to_string).collect();
            text.push_str(&places.join(" "));
            text.push('\n');
        }
        crate::files::keep(path, text, "related posts");
    }
}

/// English words too common to tell posts apart, as search stems them, beyond the ones
/// search never indexes ([`blog_core::search::STOPWORDS`]): in a small collection the
/// document frequency alone cannot tell.
const STOP_WORDS: [&str; 48] = [
    "a", "about", "after", "all", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do",
    "for", "from", "had", "has", "have", "i", "if", "in", "into", "is", "it", "its", "my", "no",
    "not", "of", "on", "one", "or", "so", "that", "the", "then", "there", "this", "to", "up",
    "was", "we", "what", "when", "with", "you", "your",
];

#[cfg(test)]
mod tests {
    use super::*;
    use blog_core::search::{terms, weigh, Document, Weighed};

    /// [`related`] of documents, each read as search reads it.
    fn relate(docs: &[Document], allowed: impl Fn(usize, usize) -> bool + Sync) -> Vec<Vec<usize>> {
        let weighed: Vec<Weighed> = docs.iter().map(weigh).collect();
        related(&terms_of(docs, &weighed), allowed)
    }

    fn terms_of<'a>(docs: &'a [Document], weighed: &'a [Weighed]) -> Vec<Terms<'a>> {
        docs.iter()
            .zip(weighed)
            .map(|(d, (words, _))| Terms {
                words,
                tags: &d.tags,
            })
            .collect()
    }

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
        let related = relate(&docs(), |_, _| true);
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
        let related = relate(&docs(), |a, b| !(a == 0 && b == 1));
        assert_eq!(related[0], [3], "{related:?}");
        let related = relate(&docs(), |a, b| !(a == 0 && b == 3));
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
        let once = relate(&docs(), |_, _| true);
        for _ in 0..5 {
            assert_eq!(relate(&docs(), |_, _| true), once);
        }
    }

    #[test]
    fn the_order_a_post_s_words_come_in_changes_nothing() {
        // A cache hands the words back in another order than they were counted in.
        let docs = docs();
        let weighed: Vec<Weighed> = docs.iter().map(weigh).collect();
        let once = related(&terms_of(&docs, &weighed), |_, _| true);
        for order in [0, 1] {
            let mut turned = weighed.clone();
            for (words, _) in &mut turned {
                words.sort();
                if order == 1 {
                    words.reverse();
                }
            }
            assert_eq!(related(&terms_of(&docs, &turned), |_, _| true), once);
        }
    }

    /// `BLOG_RELATED_POSTS=10000 cargo test --release -p blog-author related::tests::many
    /// -- --nocapture` prints how long a larger collection takes (`make bench` measures a
    /// whole sync).
    #[test]
    fn many_posts_each_find_their_three() {
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
        let weighed: Vec<Weighed> = docs.iter().map(weigh).collect();
        let started = std::time::Instant::now();
        let related = related(&terms_of(&docs, &weighed), |_, _| true);
        eprintln!(
            "related posts of {count} posts of 300 words: {:?}",
            started.elapsed()
        );
        assert!(related.iter().all(|r| r.len() == RELATED));
        assert!(related.iter().enumerate().all(|(a, r)| !r.contains(&a)));
    }
}
