//! Answering a search, step by step between the Worker's reads: which pieces a query reads
//! ([`Search::new`]), what they match ([`Search::matches`]), which posts the page needs
//! ([`Matches::wanted`]), and the results page itself ([`render`]), with the OpenSearch
//! description browsers add the site's search from.
//!
//! A query costs three round trips to KV at most, each a set of reads started together:
//! the head, its terms' shards and its tags' lists; the doc tables of the posts it shows;
//! those posts' records (title, date, summary, and the text the snippet comes from).

use crate::content::{PostMeta, PostRecord, SiteRecord};
use crate::date::Timestamp;
use crate::pages::Head;
use crate::routes;
use crate::search::{self, Posting, Query};
use crate::search_store::{self as store, Corrupt, DocTable, Params};
use crate::settings::Settings;
use askama::Template;
use std::collections::BTreeMap;

/// A search as its URL asks for it.
pub struct Search {
    pub params: Params,
    pub query: Query,
}

impl Search {
    pub fn new(query_string: &str) -> Search {
        let params = Params::from_query(query_string);
        let query = Query::parse(&params.q);
        Search { params, query }
    }

    /// The keys the first round trip reads, all at once (none for an empty query).
    pub fn keys(&self) -> Vec<String> {
        if self.query.is_empty() {
            return Vec::new();
        }
        store::keys_for(&self.query)
    }

    /// What the query matches, from the values of [`Search::keys`] (in their order, `None`
    /// for a key KV does not hold), at `now`.
    pub fn matches(&self, values: &[Option<Vec<u8>>], now: Timestamp) -> Result<Matches, Corrupt> {
        let keys = self.keys();
        let mut head = store::Head::default();
        let mut lengths = Vec::new();
        let mut terms: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
        let mut tags: Vec<Vec<u32>> = Vec::new();
        for (key, value) in keys.iter().zip(values) {
            let Some(value) = value else {
                continue;
            };
            if key == store::HEAD_KEY {
                head = serde_json::from_slice(value).map_err(|_| Corrupt("head"))?;
                lengths = head.lengths()?;
            } else if key.starts_with("search/t/") {
                // Only the terms asked for and those they begin: a shard of common words
                // holds long postings the query does not need.
                let wanted = |t: &str| {
                    self.query
                        .terms
                        .iter()
                        .any(|q| t == q || (q.len() >= 3 && t.starts_with(q.as_str())))
                };
                store::decode_shard_where(value, wanted, &lengths, &mut terms)?;
            } else {
                tags.push(store::decode_docs(value)?);
            }
        }
        let visible = head.visible(now);
        let ranked = if keys.is_empty() {
            Vec::new()
        } else {
            let top = if self.query.phrases.is_empty() {
                self.params.page.saturating_mul(store::PER_PAGE)
            } else {
                store::PHRASE_CANDIDATES
            };
            search::answer_top(&self.query, &terms, &tags, head.stats(), visible, top)
        };
        let suggestion = if ranked.is_empty() && !self.query.terms.is_empty() {
            // Every term of the shards, for the nearest one.
            let mut all: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
            for (key, value) in keys.iter().zip(values) {
                if let (true, Some(value)) = (key.starts_with("search/t/"), value) {
                    store::decode_shard(value, &lengths, &mut all)?;
                }
            }
            terms = all;
            search::did_you_mean(&self.query, &terms, visible)
                .and_then(|(asked, term)| replace_word(&self.params.q, &asked, term))
        } else {
            None
        };
        // Nothing near in the term's own shard: the misspelling may be in its first two
        // characters, and the terms sharing its last one are one read away.
        let ending = match (&suggestion, ranked.is_empty()) {
            (None, true) => search::first_unmatched(&self.query, &terms, visible)
                .filter(|term| term.chars().count() >= MIN_ENDING_TERM)
                .cloned(),
            _ => None,
        };
        Ok(Matches {
            docs: ranked.into_iter().map(|(doc, _)| doc).collect(),
            phrases: !self.query.phrases.is_empty(),
            page: self.params.page,
            suggestion,
            ending,
            visible,
        })
    }
}

/// The query with the first word that reads as `asked` replaced by `term`: the "did you
/// mean" query, as the reader typed it otherwise.
fn replace_word(q: &str, asked: &str, term: &str) -> Option<String> {
    let (_, range) = search::words(q)
        .into_iter()
        .find(|(w, _)| search::stem(w) == asked)?;
    Some(format!("{}{term}{}", &q[..range.start], &q[range.end..]))
}

/// `values`, read for `keys`, with every piece the site record's sync deleted read as
/// absent: a KV location may serve a deleted piece for a while after the delete, and a shard
/// or doc table of an older numbering would find the wrong posts.
pub fn forget_removed<T>(site: &SiteRecord, keys: &[String], values: &mut [Option<T>]) {
    for (key, value) in keys.iter().zip(values) {
        if site.removes(key) {
            *value = None;
        }
    }
}

/// What a query matched, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Matches {
    pub docs: Vec<u32>,
    /// Whether the query has phrases: they are checked in the posts' text, among the
    /// [`store::PHRASE_CANDIDATES`] best matches.
    pub phrases: bool,
    pub page: usize,
    /// "Did you mean": the query with a term replaced, when nothing matched.
    pub suggestion: Option<String>,
    /// The term nothing matched, when its own shard had nothing near it: its endings piece
    /// ([`Matches::ending_key`]) may ([`Matches::suggest_from_ending`]).
    pub ending: Option<String>,
    /// How many posts the query could find at its moment.
    pub visible: u32,
}

/// The shortest term whose endings are looked in for a suggestion: a shorter one's
/// misspellings are mostly in its shard already, and its nearest terms are many.
const MIN_ENDING_TERM: usize = 5;

impl Matches {
    /// The endings piece to read for a suggestion, when nothing matched and nothing near
    /// was found in the first round trip.
    pub fn ending_key(&self) -> Option<String> {
        self.ending.as_deref().map(store::ending_key)
    }

    /// Suggests, from the endings piece [`Matches::ending_key`] named (`None`: KV holds no
    /// such piece), the nearest term a visible post holds, as the query with it in place.
    pub fn suggest_from_ending(&mut self, q: &str, value: Option<&[u8]>) -> Result<(), Corrupt> {
        let (Some(asked), Some(value)) = (self.ending.take(), value) else {
            return Ok(());
        };
        let terms = store::decode_endings(value)?;
        let visible = self.visible;
        let candidates = terms
            .iter()
            .filter(|e| e.first_doc < visible)
            .map(|e| (e.term.as_str(), 1));
        self.suggestion =
            search::suggest(&asked, candidates).and_then(|term| replace_word(q, &asked, term));
        Ok(())
    }

    /// The posts whose records the page needs, best first: the page's, or with phrases
    /// every candidate (the page is cut once the phrases are checked).
    pub fn wanted(&self) -> &[u32] {
        if self.phrases {
            return &self.docs[..self.docs.len().min(store::PHRASE_CANDIDATES)];
        }
        let start = (self.page - 1).saturating_mul(store::PER_PAGE);
        let start = start.min(self.docs.len());
        &self.docs[start..(start + store::PER_PAGE).min(self.docs.len())]
    }

    /// The doc tables [`Matches::wanted`] are in, each once.
    pub fn tables(&self) -> Vec<u32> {
        let mut tables: Vec<u32> = self.wanted().iter().map(|&d| store::table_of(d)).collect();
        tables.sort_unstable();
        tables.dedup();
        tables
    }

    /// The slugs of [`Matches::wanted`], from their doc tables (`tables` in the order of
    /// [`Matches::tables`]); a post a table lacks or not yet published at `now` is left out.
    pub fn slugs(&self, tables: &[Option<DocTable>], now: Timestamp) -> Vec<String> {
        let numbers = self.tables();
        self.wanted()
            .iter()
            .filter_map(|&doc| {
                let at = numbers.iter().position(|&t| t == store::table_of(doc))?;
                let (slug, published) = tables.get(at)?.as_ref()?.get(doc)?;
                (*published <= now).then(|| slug.clone())
            })
            .collect()
    }

    /// The page's results from the records of [`Matches::slugs`] (`None`: absent), with
    /// how many results there are in all.
    pub fn page<'a>(
        &self,
        search: &Search,
        records: &'a [Option<PostRecord>],
        now: Timestamp,
    ) -> (Vec<Hit<'a>>, usize) {
        let texts = records
            .iter()
            .flatten()
            .filter(|r| r.meta.published <= now)
            .map(|r| (r, store::text_of_html(&r.html)));
        if !self.phrases {
            let hits = texts.map(|(r, text)| Hit::new(&r.meta, &text, &search.query));
            return (hits.collect(), self.docs.len());
        }
        let found: Vec<(&PostRecord, String)> = texts
            .filter(|(r, text)| {
                let all = format!("{}\n{}\n{}", r.meta.title, r.meta.summary, text);
                search
                    .query
                    .phrases
                    .iter()
                    .all(|p| search::contains_phrase(&all, p))
            })
            .collect();
        let total = found.len();
        let start = (self.page - 1).saturating_mul(store::PER_PAGE).min(total);
        let hits = found[start..(start + store::PER_PAGE).min(total)]
            .iter()
            .map(|(r, text)| Hit::new(&r.meta, text, &search.query))
            .collect();
        (hits, total)
    }
}

/// The most bytes of a snippet.
const SNIPPET_BYTES: usize = 220;

/// One result: the post, and its snippet as pieces (marked or not).
pub struct Hit<'a> {
    pub post: &'a PostMeta,
    pub snippet: Vec<(String, bool)>,
    pub cut_before: bool,
    pub cut_after: bool,
}

impl<'a> Hit<'a> {
    fn new(post: &'a PostMeta, text: &str, query: &Query) -> Hit<'a> {
        let (pieces, cut_before, cut_after) = search::snippet(text, query, SNIPPET_BYTES);
        Hit {
            post,
            snippet: pieces
                .into_iter()
                .map(|p| (p.text.to_string(), p.marked))
                .collect(),
            cut_before,
            cut_after,
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage<'a> {
    pub site: &'a Settings,
    pub head: Head,
    /// The query as typed, shown back in the form.
    pub q: &'a str,
    pub searched: bool,
    pub hits: Vec<Hit<'a>>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// The "did you mean" query and its link.
    pub suggestion: Option<(String, String)>,
}

/// A search URL: `/search?q=…`, then `&page=n`.
pub fn search_path(q: &str, page: usize) -> String {
    let mut path = format!("{}?q={}", routes::SEARCH_PATH, store::encode_component(q));
    if page > 1 {
        path.push_str(&format!("&page={page}"));
    }
    path
}

/// The results page: never indexed by search engines, linked to the pages before and after.
pub fn render(
    site: &Settings,
    search: &Search,
    hits: Vec<Hit<'_>>,
    total: usize,
    suggestion: Option<&str>,
) -> String {
    let q = search.params.q.as_str();
    let page = search.params.page;
    let pages = total.div_ceil(store::PER_PAGE);
    // A query of stopwords or punctuation alone was still a search: it finds nothing.
    let searched = !q.trim().is_empty();
    let previous = (searched && page > 1 && page <= pages).then(|| search_path(q, page - 1));
    let next = (searched && page < pages).then(|| search_path(q, page + 1));
    let title = match (searched, page) {
        (false, _) => format!("Search · {}", site.title),
        (true, 1) => format!("Search: {} · {}", shorten(q), site.title),
        (true, n) => format!("Search: {}, page {n} · {}", shorten(q), site.title),
    };
    let mut head = Head::page(site, title, "Search the posts.", routes::SEARCH_PATH);
    head.noindex = true;
    head.previous = previous.as_deref().map(|p| site.absolute(p));
    head.next = next.as_deref().map(|p| site.absolute(p));
    SearchPage {
        site,
        head,
        q,
        searched,
        hits,
        total,
        page,
        pages,
        previous,
        next,
        suggestion: suggestion.map(|s| (s.to_string(), search_path(s, 1))),
    }
    .render()
    .expect("search template renders")
}

/// "1 result", "1,234 results".
pub fn results_label(count: &usize) -> String {
    let posts = crate::pages::posts_label(count);
    let n = posts.split(' ').next().unwrap_or_default();
    format!("{n} {}", if *count == 1 { "result" } else { "results" })
}

/// A query cut for a page's title.
fn shorten(q: &str) -> &str {
    let mut cut = q.len().min(80);
    while !q.is_char_boundary(cut) {
        cut -= 1;
    }
    &q[..cut]
}

/// The OpenSearch description: how a browser adds the site's search.
pub fn opensearch(site: &Settings) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\">\n<ShortName>",
    );
    let short: String = site.title.chars().take(16).collect();
    crate::html::escape_xml_into(&mut out, &short);
    out.push_str("</ShortName>\n<Description>");
    crate::html::escape_xml_into(&mut out, &format!("Search {}", site.title));
    out.push_str("</Description>\n<InputEncoding>UTF-8</InputEncoding>\n<Url type=\"text/html\" method=\"get\" template=\"");
    crate::html::escape_xml_into(
        &mut out,
        &format!("{}?q={{searchTerms}}", site.absolute(routes::SEARCH_PATH)),
    );
    out.push_str("\"/>\n</OpenSearchDescription>\n");
    out
}

pub const OPENSEARCH_TYPE: &str = "application/opensearchdescription+xml";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Document;

    fn doc(title: &str) -> Document {
        Document {
            title: title.into(),
            ..Document::default()
        }
    }

    /// The pieces of an index of `titles`, as KV would answer `search`'s keys.
    fn answer(titles: &[&str], search: &Search) -> Vec<Option<Vec<u8>>> {
        let docs: Vec<Document> = titles.iter().map(|t| doc(t)).collect();
        let index = search::index(&docs);
        let stats = index.stats();
        search
            .keys()
            .iter()
            .map(|key| {
                if key == store::HEAD_KEY {
                    let lengths: Vec<u8> = index
                        .lengths
                        .iter()
                        .map(|&l| search::quantise_len(l))
                        .collect();
                    let head = store::Head {
                        docs: stats.docs,
                        avg_len: stats.avg_len,
                        lengths: store::Head::encode_lengths(&lengths),
                        scheduled: vec![],
                    };
                    return Some(serde_json::to_vec(&head).unwrap());
                }
                let terms: Vec<(&str, &[Posting])> = index
                    .terms
                    .iter()
                    .filter(|(t, _)| store::term_key(t) == *key)
                    .map(|(t, p)| (t.as_str(), p.as_slice()))
                    .collect();
                (!terms.is_empty()).then(|| store::encode_shard(terms).into_bytes())
            })
            .collect()
    }

    #[test]
    fn a_piece_the_sync_deleted_is_absent_whatever_kv_answers() {
        let titles = ["Zyxwvut notes", "Rust notes"];
        let s = Search::new("q=zyxwvut");
        let mut pieces = answer(&titles, &s);
        assert_eq!(s.matches(&pieces, 0).unwrap().docs, [0]);
        let site = SiteRecord {
            removed: vec!["post/gone".into(), store::term_key("zyxwvut")],
            ..SiteRecord::default()
        };
        forget_removed(&site, &s.keys(), &mut pieces);
        assert!(pieces[0].is_some(), "the head stays");
        assert!(s.matches(&pieces, 0).unwrap().docs.is_empty());
    }

    #[test]
    fn results_are_paged_ten_at_a_time() {
        let titles: Vec<String> = (0..25).map(|i| format!("Rust note {i}")).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        for (page, want) in [(1, 10), (2, 10), (3, 5), (4, 0), (store::MAX_PAGE, 0)] {
            let s = Search::new(&format!("q=rust&page={page}"));
            let m = s.matches(&answer(&titles, &s), 0).unwrap();
            assert_eq!(m.docs.len(), 25);
            assert_eq!(m.wanted().len(), want, "page {page}");
        }
        let s = Search::new("q=rust&page=2");
        let m = s.matches(&answer(&titles, &s), 0).unwrap();
        assert!(m.tables() == [0]);
    }

    #[test]
    fn a_missing_index_finds_nothing_and_a_corrupt_one_says_so() {
        let s = Search::new("q=rust");
        let none = vec![None; s.keys().len()];
        assert!(s.matches(&none, 0).unwrap().docs.is_empty());
        let mut bad = none.clone();
        bad[1] = Some(b"@@@@".to_vec());
        assert!(s.matches(&bad, 0).is_err());
        let empty = Search::new("q=%21%21");
        assert!(empty.keys().is_empty(), "punctuation reads nothing");
        assert!(empty.matches(&[], 0).unwrap().docs.is_empty());
    }

    #[test]
    fn a_typo_suggests_the_query_with_the_indexed_word() {
        let s = Search::new("q=Distrolesss+images");
        let m = s
            .matches(&answer(&["Distroless images", "Other"], &s), 0)
            .unwrap();
        assert!(m.docs.is_empty());
        assert_eq!(m.suggestion.as_deref(), Some("distroless images"));
    }

    #[test]
    fn the_page_escapes_the_query_and_asks_not_to_be_indexed() {
        let site = Settings::default();
        let s = Search::new("q=%3Cscript%3Ealert(1)%3C/script%3E%22&page=2");
        let page = render(&site, &s, Vec::new(), 0, Some("<b>"));
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
        assert!(page.contains("<meta name=\"robots\" content=\"noindex\">"));
        assert!(!page.contains("<b>"));
        assert!(page.contains(r#"action="/search""#));
    }

    #[test]
    fn a_query_of_stopwords_or_punctuation_says_nothing_matched() {
        let site = Settings::default();
        for q in ["q=the+and", "q=%21%21%3F"] {
            let page = render(&site, &Search::new(q), Vec::new(), 0, None);
            assert!(page.contains("No posts match"), "{q}");
        }
        let empty = render(&site, &Search::new("q=+"), Vec::new(), 0, None);
        assert!(!empty.contains("No posts match"), "no query, no verdict");
    }

    #[test]
    fn paging_links_point_both_ways_within_the_results() {
        let site = Settings::default();
        let s = Search::new("q=rust+go&page=2");
        let page = render(&site, &s, Vec::new(), 35, None);
        assert!(
            page.contains(r#"<a href="/search?q=rust+go" rel="prev""#),
            "{page}"
        );
        assert!(
            page.contains(r#"<a href="/search?q=rust+go&#38;page=3" rel="next""#),
            "{page}"
        );
        let last = render(&site, &Search::new("q=rust&page=4"), Vec::new(), 35, None);
        assert!(!last.contains("rel=\"next\""));
    }

    #[test]
    fn the_opensearch_description_names_the_search_url() {
        let site = Settings::default();
        let xml = opensearch(&site);
        assert!(xml.contains(&format!(
            "template=\"{}?q={{searchTerms}}\"",
            site.absolute("/search")
        )));
    }
}
