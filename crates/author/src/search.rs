//! The search index a sync writes: each published post as [`Document`] fields, taken from
//! its source (the Markdown's text, code included, and its headings), numbered in
//! publication order, and cut into the pieces KV holds ([`blog_core::search_store`]).

use crate::source::{hash_of, SourcePost};
use blog_core::content::tag_slug;
use blog_core::date::Timestamp;
use blog_core::search::{self, Document, Index};
use blog_core::search_store::{self as store, DocTable, Head};
use std::collections::BTreeMap;

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

/// The posts search finds, in the order they are numbered: published ones (never drafts),
/// oldest first, so a new post takes the next number and renumbers none.
pub fn indexed(posts: &[SourcePost]) -> Vec<&SourcePost> {
    let mut indexed: Vec<&SourcePost> = posts.iter().filter(|p| !p.draft).collect();
    indexed.sort_by(|a, b| {
        let (a, b) = (&a.record.meta, &b.record.meta);
        (a.published, &a.slug).cmp(&(b.published, &b.slug))
    });
    indexed
}

/// A post's weighted term frequencies and length ([`search::weigh`]).
type Weighed = (BTreeMap<String, u32>, u32);

/// The index of `posts`, in their order: a posting's document number is a place in it.
/// Posts are read on every core.
pub fn index(posts: &[&SourcePost]) -> Index {
    let mut weighed: Vec<(&SourcePost, Weighed)> =
        posts.iter().map(|p| (*p, Default::default())).collect();
    crate::cores::each(&mut weighed, 64, |(post, out)| {
        *out = search::weigh(&document(post));
    });
    search::index_weighed(weighed.into_iter().map(|(_, w)| w).collect())
}

/// Every piece of the search index for `posts` (drafts left out), by key: its text and
/// that text's hash, as [`crate::publish::list_records`] gives list records. `now` is the
/// sync's moment: posts after it are the head's scheduled ones.
pub fn records(posts: &[SourcePost], now: Timestamp) -> BTreeMap<String, (String, String)> {
    let indexed = indexed(posts);
    let index = index(&indexed);
    let mut out = BTreeMap::new();
    let mut put = |key: String, text: String| {
        let hash = hash_of(&text);
        out.insert(key, (text, hash));
    };
    let mut shards: BTreeMap<String, Vec<(&str, &[search::Posting])>> = BTreeMap::new();
    for (term, postings) in &index.terms {
        shards
            .entry(store::term_key(term))
            .or_default()
            .push((term.as_str(), postings.as_slice()));
    }
    for (key, terms) in shards {
        put(key, store::encode_shard(terms));
    }
    let mut tags: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (doc, post) in indexed.iter().enumerate() {
        for tag in &post.record.meta.tags {
            let list = tags.entry(tag_slug(tag)).or_default();
            if list.last() != Some(&(doc as u32)) {
                list.push(doc as u32);
            }
        }
    }
    for (slug, docs) in tags {
        put(store::tag_key(&slug), store::encode_docs(&docs));
    }
    for (n, chunk) in indexed.chunks(store::DOCS_PER_TABLE as usize).enumerate() {
        let table = DocTable(
            chunk
                .iter()
                .map(|p| (p.record.meta.slug.clone(), p.record.meta.published))
                .collect(),
        );
        put(
            store::doc_table_key(n as u32),
            serde_json::to_string(&table).expect("doc tables serialise"),
        );
    }
    let stats = index.stats();
    let head = Head {
        docs: stats.docs,
        avg_len: stats.avg_len,
        scheduled: indexed
            .iter()
            .map(|p| p.record.meta.published)
            .filter(|&at| at > now)
            .collect(),
    };
    put(
        store::HEAD_KEY.to_string(),
        serde_json::to_string(&head).expect("the head serialises"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source;
    use blog_core::search::Query;
    use std::path::Path;

    /// The repository's content/.
    fn seed() -> source::Content {
        source::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"))
            .expect("content/ loads")
    }

    /// The slugs `query` finds in the seed content, best first.
    fn finder(content: &source::Content) -> impl Fn(&str) -> Vec<String> + '_ {
        let posts = indexed(&content.posts);
        let index = index(&posts);
        move |query: &str| {
            search::answer(
                &Query::parse(query),
                &index.terms,
                &[],
                index.stats(),
                index.docs,
            )
            .into_iter()
            .map(|(doc, _)| posts[doc as usize].record.meta.slug.clone())
            .collect()
        }
    }

    #[test]
    fn finds_the_post_a_reader_means_in_the_seed_content() {
        let content = seed();
        let found = finder(&content);
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
        let posts = indexed(&content.posts);
        let index = index(&posts);
        let q = Query::parse("distrolless");
        assert_eq!(
            search::did_you_mean(&q, &index.terms, index.docs),
            Some(("distrolless".to_string(), "distroless"))
        );
    }

    #[test]
    fn drafts_are_never_indexed_and_posts_number_oldest_first() {
        let mut content = seed();
        content.posts[0].draft = true;
        let draft = content.posts[0].record.meta.slug.clone();
        let posts = indexed(&content.posts);
        assert_eq!(posts.len(), content.posts.len() - 1);
        assert!(posts.iter().all(|p| p.record.meta.slug != draft));
        let pieces = records(&content.posts, 0);
        assert!(!pieces["search/d/0"].0.contains(&format!("\"{draft}\"")));
        assert!(posts
            .windows(2)
            .all(|w| w[0].record.meta.published <= w[1].record.meta.published));
    }

    #[test]
    fn the_pieces_read_back_into_the_index_they_came_from() {
        let content = seed();
        let pieces = records(&content.posts, 0);
        let posts = indexed(&content.posts);
        let index = index(&posts);
        let mut read = BTreeMap::new();
        for (key, (text, _)) in &pieces {
            if key.starts_with("search/t/") {
                store::decode_shard(text.as_bytes(), &mut read).unwrap();
            }
        }
        assert_eq!(read, index.terms);
        let head: Head = serde_json::from_str(&pieces[store::HEAD_KEY].0).unwrap();
        assert_eq!(head.docs as usize, posts.len());
        let table: DocTable = serde_json::from_str(&pieces["search/d/0"].0).unwrap();
        assert_eq!(table.get(0).map(|d| &d.0), Some(&posts[0].record.meta.slug));
    }

    #[test]
    fn an_edit_rewrites_only_the_shards_of_the_terms_it_changes() {
        let mut content = seed();
        let before = records(&content.posts, 0);
        let post = content
            .posts
            .iter_mut()
            .find(|p| !p.draft)
            .expect("a published post");
        post.record.body.push_str("\n\nA zyxwvut appears.\n");
        let after = records(&content.posts, 0);
        let changed: Vec<&String> = after
            .iter()
            .filter(|(k, (_, hash))| before.get(*k).map(|(_, h)| h) != Some(hash))
            .map(|(k, _)| k)
            .collect();
        // The new word's shard, the shard of "appear", and the head (a longer post
        // changes the average length); the doc tables and every other shard stay.
        assert!(changed.contains(&&"search/t/zy".to_string()), "{changed:?}");
        assert!(changed.contains(&&"search/head".to_string()), "{changed:?}");
        assert!(
            changed.len() <= 4 && after.len() > 50,
            "{} of {} pieces changed: {changed:?}",
            changed.len(),
            after.len()
        );
    }
}
