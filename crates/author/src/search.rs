//! The search index a sync writes: each published post as [`Document`] fields, taken from
//! its source (the Markdown's text, code included, and its headings), numbered in
//! publication order, and cut into the pieces KV holds ([`blog_core::search_store`]).

use crate::source::{hash_of, SourcePost};
use blog_core::content::tag_slug;
use blog_core::date::Timestamp;
use blog_core::kv::KeyMeta;
use blog_core::search::{self, Document, Index};
use blog_core::search_store::{self as store, DocTable, Head};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

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

use search::Weighed;

/// The index of `posts`, in their order: a posting's document number is a place in it.
/// Posts are read on every core.
pub fn index(posts: &[&SourcePost]) -> Index {
    index_cached(posts, &mut TermCache::default())
}

/// [`index`], taking each post's weighted terms from `cache` when it holds them for the
/// post's content hash ([`TermCache::weigh`]).
pub fn index_cached(posts: &[&SourcePost], cache: &mut TermCache) -> Index {
    cache.weigh(posts);
    search::index_weighed(posts.iter().map(|p| cache.get(p)))
}

/// Each post's weighted terms ([`search::weigh`] of its [`document`]) by the post's content
/// hash, kept on the author's machine between syncs so an edit weighs only the posts it
/// changed; both the index and related posts ([`crate::publish::relate`]) read them. Only a
/// speed-up: a missing, unreadable or older file is an empty cache, an entry is found only
/// under the hash of the content it was made from, and the file names [`TERMS_FORMAT`] and
/// [`search::WEIGH_VERSION`], so entries made by other indexing code are never read.
#[derive(Default, Debug, PartialEq)]
pub struct TermCache {
    terms: HashMap<String, Weighed>,
    /// The posts weighed since it was read, by hash: what [`TermCache::save`] keeps.
    kept: HashSet<String>,
    /// Whether any post was weighed anew since it was read.
    weighed: bool,
}

/// The first line of a [`TermCache`] file.
fn terms_header() -> String {
    format!("{TERMS_FORMAT} {INDEX_FORMAT} {}", search::WEIGH_VERSION)
}

const TERMS_FORMAT: &str = "blog search terms";

impl TermCache {
    /// The cache in `path`, or an empty one when it is missing or not one of this version's.
    pub fn load(path: &Path) -> TermCache {
        crate::files::kept(path)
            .and_then(|text| TermCache::parse(&text))
            .unwrap_or_default()
    }

    /// Makes the cache hold the weighed terms of each of `posts`, reading (on every core)
    /// only those whose content it holds none for, and keeps them for the next save.
    pub fn weigh(&mut self, posts: &[&SourcePost]) {
        let mut missing: Vec<(&SourcePost, Option<Weighed>)> = posts
            .iter()
            .filter(|p| !self.terms.contains_key(&p.record.meta.hash))
            .map(|p| (*p, None))
            .collect();
        crate::cores::each(&mut missing, 64, |(post, out)| {
            *out = Some(search::weigh(&document(post)));
        });
        self.weighed |= !missing.is_empty();
        for (post, weighed) in missing {
            self.terms
                .insert(post.record.meta.hash.clone(), weighed.expect("weighed"));
        }
        self.kept
            .extend(posts.iter().map(|p| p.record.meta.hash.clone()));
    }

    /// The weighed terms of `post`, which [`TermCache::weigh`] was given.
    pub fn get(&self, post: &SourcePost) -> &Weighed {
        &self.terms[&post.record.meta.hash]
    }

    /// Whether saving would change the file: a post was weighed anew, or one held is not
    /// among the posts weighed since (its content changed or it is gone). A cache nothing
    /// was weighed with holds what it read, and is left as it is.
    pub fn changed(&self) -> bool {
        !self.kept.is_empty() && (self.weighed || self.kept.len() < self.terms.len())
    }

    fn parse(text: &str) -> Option<TermCache> {
        let mut lines = text.lines();
        if lines.next()? != terms_header() {
            return None;
        }
        let mut terms = HashMap::new();
        while let Some(line) = lines.next() {
            let mut head = line.split('\t');
            let hash = head.next()?.to_string();
            let len: u32 = head.next()?.parse().ok()?;
            let count: usize = head.next()?.parse().ok()?;
            let mut tf = Vec::with_capacity(count);
            for _ in 0..count {
                let (term, f) = lines.next()?.split_once('\t')?;
                tf.push((term.to_string(), f.parse().ok()?));
            }
            terms.insert(hash, (tf, len));
        }
        Some(TermCache {
            terms,
            ..TermCache::default()
        })
    }

    fn text(&self) -> String {
        let mut out = terms_header();
        out.push('\n');
        for (hash, (tf, len)) in self.terms.iter().filter(|(h, _)| self.kept.contains(*h)) {
            out.push_str(&format!("{hash}\t{len}\t{}\n", tf.len()));
            for (term, f) in tf {
                out.push_str(term);
                out.push('\t');
                out.push_str(&f.to_string());
                out.push('\n');
            }
        }
        out
    }

    /// Writes the posts weighed since the cache was read to `path` ([`crate::files::keep`]).
    pub fn save(&self, path: &Path) {
        crate::files::keep(path, self.text(), "search");
    }
}

/// Names the index's form in [`inputs`]: a change of how posts are indexed or stored
/// changes it, so every piece is written again.
const INDEX_FORMAT: &str = "search 3";

/// What the index is made of: each indexed post's slug, content hash and instant, and
/// which of them are scheduled at `now`. The head is stored under this hash: when KV holds
/// a head of the same inputs, every piece written with it is there too (the head is
/// written last), and a sync needs to build nothing.
pub fn inputs(indexed: &[&SourcePost], now: Timestamp) -> String {
    let posts: Vec<(&str, &str, Timestamp)> = indexed
        .iter()
        .map(|p| {
            let m = &p.record.meta;
            (m.slug.as_str(), m.hash.as_str(), m.published)
        })
        .collect();
    let scheduled = posts.iter().filter(|p| p.2 > now).count();
    hash_of(&(INDEX_FORMAT, posts, scheduled))
}

/// The search pieces a sync publishes (see [`records`]), or, when KV's head was made from
/// the same inputs, the pieces KV holds under their stored hashes: the plan then writes
/// and deletes none of them, and no post is read for the index. `remote` is KV's listing.
pub fn records_unless_current(
    posts: &[SourcePost],
    now: Timestamp,
    remote: &BTreeMap<String, Option<KeyMeta>>,
    cache: &mut TermCache,
) -> BTreeMap<String, (String, String)> {
    let held: Vec<(&String, Option<&KeyMeta>)> = remote
        .iter()
        .filter(|(k, _)| k.starts_with(store::PREFIX))
        .map(|(k, m)| (k, m.as_ref()))
        .collect();
    let current = matches!(
        remote.get(store::HEAD_KEY),
        Some(Some(m)) if m.hash == inputs(&indexed(posts), now)
    ) && held.iter().all(|(_, m)| m.is_some());
    if current {
        return held
            .into_iter()
            .filter_map(|(k, m)| Some((k.clone(), (String::new(), m?.hash.clone()))))
            .collect();
    }
    records_cached(posts, now, cache)
}

/// Every piece of the search index for `posts` (drafts left out), by key: its text and
/// that text's hash (the head's: its [`inputs`]), as [`crate::publish::list_records`]
/// gives list records. `now` is the sync's moment: posts after it are the head's
/// scheduled ones.
pub fn records(posts: &[SourcePost], now: Timestamp) -> BTreeMap<String, (String, String)> {
    records_cached(posts, now, &mut TermCache::default())
}

/// [`records`], with the posts' weighted terms taken from and left in `cache`
/// ([`index_cached`]).
pub fn records_cached(
    posts: &[SourcePost],
    now: Timestamp,
    cache: &mut TermCache,
) -> BTreeMap<String, (String, String)> {
    let indexed = indexed(posts);
    let inputs = inputs(&indexed, now);
    let index = index_cached(&indexed, cache);
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
    let mut endings: BTreeMap<String, Vec<store::Ending>> = BTreeMap::new();
    for (term, postings) in &index.terms {
        let Some(first) = postings.first() else {
            continue;
        };
        endings
            .entry(store::ending_key(term))
            .or_default()
            .push(store::Ending {
                term: term.clone(),
                first_doc: first.doc,
            });
    }
    for (key, terms) in endings {
        put(key, store::encode_endings(&terms));
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
    let lengths: Vec<u8> = index
        .lengths
        .iter()
        .map(|&l| search::quantise_len(l))
        .collect();
    let head = Head {
        docs: stats.docs,
        avg_len: stats.avg_len,
        lengths: Head::encode_lengths(&lengths),
        scheduled: indexed
            .iter()
            .map(|p| p.record.meta.published)
            .filter(|&at| at > now)
            .collect(),
    };
    let head = serde_json::to_string(&head).expect("the head serialises");
    out.insert(store::HEAD_KEY.to_string(), (head, inputs));
    out
}

/// Takes the search head out of `entries`, if it is there.
pub fn take_head(entries: &mut Vec<serde_json::Value>) -> Option<serde_json::Value> {
    let at = entries.iter().position(|e| e["key"] == store::HEAD_KEY)?;
    Some(entries.remove(at))
}

/// Puts the search head last among `entries` (bulk entries with a `key`): pieces are
/// written in order, and a head in KV vouches for the pieces written with it.
pub fn head_last(entries: &mut [serde_json::Value]) {
    entries.sort_by_key(|e| e["key"] == store::HEAD_KEY);
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

    /// What the Worker's search answers from `pieces` for `q`: the slugs found, and the
    /// suggestion (reading the endings piece when the first round trip found none).
    fn through_pieces(
        pieces: &BTreeMap<String, (String, String)>,
        q: &str,
        now: Timestamp,
    ) -> (Vec<String>, Option<String>) {
        let search = blog_core::search_page::Search::new(&format!("q={q}"));
        let read = |key: &String| pieces.get(key).map(|(text, _)| text.clone().into_bytes());
        let first: Vec<Option<Vec<u8>>> = search.keys().iter().map(read).collect();
        let mut matches = search.matches(&first, now).unwrap();
        if let Some(key) = matches.ending_key() {
            matches
                .suggest_from_ending(&search.params.q, read(&key).as_deref())
                .unwrap();
        }
        let tables: Vec<Option<DocTable>> = matches
            .tables()
            .into_iter()
            .map(|n| {
                let (text, _) = pieces.get(&store::doc_table_key(n))?;
                serde_json::from_str(text).ok()
            })
            .collect();
        (matches.slugs(&tables, now), matches.suggestion)
    }

    #[test]
    fn a_misspelling_in_the_first_two_letters_is_suggested_from_the_endings() {
        let content = seed();
        let pieces = records(&content.posts, Timestamp::MAX);
        for (typo, meant) in [("dsitroless", "distroless"), ("vuildkit", "buildkit")] {
            let (found, suggestion) = through_pieces(&pieces, typo, Timestamp::MAX);
            assert!(found.is_empty(), "{typo}: {found:?}");
            assert_eq!(suggestion.as_deref(), Some(meant), "{typo}");
        }
        // A typo past the first two letters is found in the term's own shard, as before.
        let (_, suggestion) = through_pieces(&pieces, "distrolless", Timestamp::MAX);
        assert_eq!(suggestion.as_deref(), Some("distroless"));
        // Nothing near anywhere: no suggestion.
        assert_eq!(through_pieces(&pieces, "qqqqqzzzz", Timestamp::MAX).1, None);
    }

    #[test]
    fn a_term_only_a_scheduled_post_holds_is_never_suggested() {
        let mut content = seed();
        let post = content
            .posts
            .iter_mut()
            .filter(|p| !p.draft)
            .max_by_key(|p| p.record.meta.published)
            .expect("a published post");
        let due = post.record.meta.published;
        post.record.body.push_str("\n\nThe qwertyuiop flag.\n");
        post.record.meta.hash.push_str("-edited");
        let pieces = records(&content.posts, due - 1);
        assert_eq!(through_pieces(&pieces, "wqertyuiop", due - 1).1, None);
        assert_eq!(
            through_pieces(&pieces, "wqertyuiop", due).1.as_deref(),
            Some("qwertyuiop")
        );
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
        let head: Head = serde_json::from_str(&pieces[store::HEAD_KEY].0).unwrap();
        assert_eq!(head.docs as usize, posts.len());
        let lengths = head.lengths().unwrap();
        let mut read = BTreeMap::new();
        for (key, (text, _)) in &pieces {
            if key.starts_with("search/t/") {
                store::decode_shard(text.as_bytes(), &lengths, &mut read).unwrap();
            }
        }
        assert_eq!(read, index.terms);
        let table: DocTable = serde_json::from_str(&pieces["search/d/0"].0).unwrap();
        assert_eq!(table.get(0).map(|d| &d.0), Some(&posts[0].record.meta.slug));
    }

    #[test]
    fn a_sync_with_nothing_new_builds_no_index_and_changes_no_piece() {
        let content = seed();
        let pieces = records(&content.posts, 0);
        let held: BTreeMap<String, Option<KeyMeta>> = pieces
            .iter()
            .map(|(k, (_, hash))| {
                let meta = KeyMeta {
                    hash: hash.clone(),
                    file: None,
                    content_type: None,
                    card: None,
                };
                (k.clone(), Some(meta))
            })
            .collect();
        let kept = records_unless_current(&content.posts, 0, &held, &mut TermCache::default());
        assert_eq!(kept.len(), pieces.len());
        assert!(
            kept.values().all(|(text, _)| text.is_empty()),
            "nothing built"
        );
        assert!(kept.iter().all(|(k, (_, h))| &pieces[k].1 == h));
        // A post's edit, or a scheduled post coming due, builds the index again.
        let mut edited = seed();
        edited.posts[0].record.meta.hash.push('x');
        assert!(
            records_unless_current(&edited.posts, 0, &held, &mut TermCache::default())
                .values()
                .all(|(text, _)| !text.is_empty())
        );
        let last = content
            .posts
            .iter()
            .map(|p| p.record.meta.published)
            .max()
            .unwrap();
        let before = records(&content.posts, last - 1);
        assert_ne!(before[store::HEAD_KEY].1, pieces[store::HEAD_KEY].1);
        let mut entries = vec![
            serde_json::json!({"key": "search/head"}),
            serde_json::json!({"key": "search/t/zz"}),
            serde_json::json!({"key": "list/front"}),
        ];
        head_last(&mut entries);
        assert_eq!(entries[2]["key"], "search/head");
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
        let length_before = search::weigh(&document(post)).1;
        // One new word, repeated until the post is a fifth longer: its quantised length
        // changes, and that is the head's to say, not every shard's that holds its terms.
        let words = (length_before / 5 / 2 + 1) as usize;
        post.record.body.push_str("\n\nA zyxwvut appears");
        post.record.body.push_str(&" zyxwvut".repeat(words));
        post.record.body.push_str(".\n");
        let length_after = search::weigh(&document(post)).1;
        assert_ne!(
            search::quantise_len(length_before),
            search::quantise_len(length_after)
        );
        post.record.meta.hash.push_str("-edited");
        let after = records(&content.posts, 0);
        let changed: Vec<&String> = after
            .iter()
            .filter(|(k, (_, hash))| before.get(*k).map(|(_, h)| h) != Some(hash))
            .map(|(k, _)| k)
            .collect();
        // The new word's shard and endings piece, the shard of "appear", and the head (a
        // longer post changes the average length and its own); the doc tables and every
        // other piece stay.
        assert!(changed.contains(&&"search/t/zy".to_string()), "{changed:?}");
        assert!(changed.contains(&&"search/head".to_string()), "{changed:?}");
        assert!(
            changed.len() <= 4 && after.len() > 50,
            "{} of {} pieces changed: {changed:?}",
            changed.len(),
            after.len()
        );
    }

    #[test]
    fn kept_terms_make_the_same_index_and_stale_ones_are_never_read() {
        let content = seed();
        let posts = indexed(&content.posts);
        let fresh = index(&posts);
        let dir = std::env::temp_dir().join(format!("blog-terms-{}", std::process::id()));
        let path = dir.join("state/blog-search-terms.txt");
        let _ = std::fs::remove_dir_all(&dir);
        // None kept yet: every post is weighed, and the cache holds them all once saved.
        let mut cache = TermCache::load(&path);
        assert_eq!(cache, TermCache::default());
        let built = index_cached(&posts, &mut cache);
        assert_eq!(built.terms, fresh.terms);
        assert!(cache.changed());
        assert_eq!(cache.terms.len(), posts.len());
        cache.save(&path);
        let mut read = TermCache::load(&path);
        assert_eq!(read.terms, cache.terms);
        assert!(!read.changed());
        // A post's kept terms are found only under its content's hash: a post whose terms
        // were kept wrongly is read afresh once its content changes.
        let mut edited = seed();
        let post = edited.posts.iter_mut().find(|p| !p.draft).unwrap();
        post.record.body.push_str("\n\nA zyxwvut appears.\n");
        post.record.meta.hash.push_str("-edited");
        let edited_posts = indexed(&edited.posts);
        let from_cache = index_cached(&edited_posts, &mut read);
        assert_eq!(from_cache.terms, index(&edited_posts).terms);
        assert!(from_cache.terms.contains_key("zyxwvut"));
        assert_eq!(from_cache.lengths, index(&edited_posts).lengths);
        // Only the posts indexed now are kept: the old hash is gone once saved.
        assert!(read.changed());
        read.save(&path);
        let mut reread = TermCache::load(&path);
        assert_eq!(reread.terms.len(), edited_posts.len());
        assert!(reread.terms.keys().all(|h| !h.is_empty()));
        let old_hash = &content
            .posts
            .iter()
            .find(|p| !p.draft)
            .unwrap()
            .record
            .meta
            .hash;
        assert!(!reread.terms.contains_key(old_hash));
        // The same posts again weigh nothing and leave nothing to save.
        assert_eq!(
            index_cached(&edited_posts, &mut reread).terms,
            from_cache.terms
        );
        assert!(!reread.changed());
        // Another indexer's file, a damaged one and none at all are empty caches.
        let text = std::fs::read_to_string(&path).unwrap();
        let other = text.replacen(&terms_header(), "blog search terms search 0 0", 1);
        std::fs::write(&path, other).unwrap();
        assert_eq!(TermCache::load(&path), TermCache::default());
        for cut in [text.len() / 2, text.len() - 6, text.len() - 1] {
            std::fs::write(&path, &text[..cut]).unwrap();
            assert_eq!(TermCache::load(&path), TermCache::default(), "cut at {cut}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(TermCache::load(&path), TermCache::default());
    }
}
