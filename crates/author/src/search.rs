//! The search index's input: each published post as [`Document`] fields, taken from its
//! source (the Markdown's text, code included, and its headings), scored by
//! [`blog_core::search::index`].

use crate::source::SourcePost;
use blog_core::search::{self, Document, Index};

/// A post's fields as search reads them.
pub fn document(post: &SourcePost) -> Document {
    let meta = &post.record.meta;
    let (body, headings) = blog_core::markdown::plain_text(&post.record.body);
    Document {
        title: meta.title.clone(),
        headings,
        tags: meta.tags.clone(),
        summary: meta.summary.clone(),
        body,
    }
}

/// The index of `posts`, in their order: a posting's document number is a place in it.
pub fn index(posts: &[&SourcePost]) -> Index {
    let docs: Vec<Document> = posts.iter().map(|p| document(p)).collect();
    search::index(&docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source;
    use blog_core::search::{rank, suggest, Query};
    use std::path::Path;

    /// The repository's content/.
    fn seed() -> source::Content {
        source::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"))
            .expect("content/ loads")
    }

    #[test]
    fn finds_the_post_a_reader_means_in_the_seed_content() {
        let content = seed();
        let posts: Vec<&SourcePost> = content.posts.iter().collect();
        let index = index(&posts);
        // The slugs `query` finds, best first.
        let found = |query: &str| -> Vec<String> {
            rank(
                &Query::parse(query),
                |t| index.postings(t),
                |t| index.prefixed(t),
            )
            .into_iter()
            .map(|(doc, _)| posts[doc as usize].record.meta.slug.clone())
            .collect()
        };
        let first = |q: &str| found(q).into_iter().next().unwrap_or_default();
        assert_eq!(
            first("distroless"),
            "from-342mb-to-37mb-the-go-image-i-was-shipping-wrong"
        );
        assert_eq!(
            first("BuildKit socket"),
            "how-nixpacks-buildctl-and-buildkit-fit-together"
        );
        assert_eq!(
            first("WebRTC pairing"),
            "term-bridge-terminal-sharing-over-webrtc"
        );
        assert_eq!(
            first("CGO_ENABLED"),
            "from-342mb-to-37mb-the-go-image-i-was-shipping-wrong"
        );
        assert!(found("zzzqqq").is_empty());
    }

    #[test]
    fn a_misspelt_term_suggests_the_indexed_one() {
        let content = seed();
        let posts: Vec<&SourcePost> = content.posts.iter().collect();
        let index = index(&posts);
        let terms = index.terms.iter().map(|(t, p)| (t.as_str(), p.len()));
        assert_eq!(suggest("distrolless", terms), Some("distroless"));
    }
}
