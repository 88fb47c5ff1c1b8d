//! Any query and any text: reading the query stays within its bounds and yields only plain
//! terms, and marking a snippet never panics and only cuts the text, whatever either holds.
//! Any search URL and any stored piece: the page number stays in range, the query text in its
//! bound, and a damaged shard or list is refused or read, never a panic; what is read encodes
//! back to the same postings.
#![no_main]

use blog_core::search::{fold, snippet, stem, words, Query, MAX_QUERY_TERMS, MAX_TERM_BYTES};
use blog_core::search_page::Search;
use blog_core::search_store::{self as store, Params, MAX_PAGE, MAX_Q_BYTES};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|input: &str| {
    let (query_text, text) = input.split_once('\n').unwrap_or((input, input));
    let query = Query::parse(query_text);
    assert!(query.terms.len() <= MAX_QUERY_TERMS && query.tags.len() <= MAX_QUERY_TERMS, "{query:?}");
    for term in query.terms.iter().chain(query.phrases.iter().flatten()) {
        assert!(!term.is_empty() && term.len() <= 4 * MAX_TERM_BYTES, "{term:?}");
        assert!(term.chars().all(|c| c.is_alphanumeric() || c == '_'), "{term:?}");
    }
    for (word, range) in words(text) {
        assert_eq!(fold(&text[range]), word);
        let _ = stem(&word);
    }
    let (pieces, cut_before, cut_after) = snippet(text, &query, 160);
    let shown: String = pieces.iter().map(|p| p.text).collect();
    assert!(text.contains(&shown), "a snippet is a piece of its text");
    assert!(shown.len() <= 160 + 4 * MAX_TERM_BYTES, "{} bytes", shown.len());
    if !cut_before && !cut_after {
        assert_eq!(shown, text);
    }

    // The URL's parameters.
    let params = Params::from_query(query_text);
    assert!((1..=MAX_PAGE).contains(&params.page), "{params:?}");
    assert!(params.q.len() <= MAX_Q_BYTES, "{}", params.q.len());
    let search = Search::new(query_text);
    assert!(search.keys().len() <= 1 + 2 * MAX_QUERY_TERMS);

    // Stored pieces, as the text after the first line; whatever they hold, no panic.
    // Lengths for the first posts, from the input's own bytes.
    let lengths: Vec<u8> = text.bytes().take(256).collect();
    let mut terms = BTreeMap::new();
    if store::decode_shard(text.as_bytes(), &lengths, &mut terms).is_ok() {
        let again = store::encode_shard(terms.iter().map(|(t, p)| (t.as_str(), p.as_slice())));
        let mut back = BTreeMap::new();
        store::decode_shard(again.as_bytes(), &lengths, &mut back)
            .expect("what was read encodes back");
        assert_eq!(back, terms);
    }
    if let Ok(endings) = store::decode_endings(text.as_bytes()) {
        let again = store::encode_endings(&endings);
        assert_eq!(store::decode_endings(again.as_bytes()).unwrap(), endings);
    }
    if let Ok(docs) = store::decode_docs(text.as_bytes()) {
        assert!(docs.windows(2).all(|w| w[0] < w[1]), "numbers ascend");
    }
    let values: Vec<Option<Vec<u8>>> = search.keys().iter().map(|_| Some(text.as_bytes().to_vec())).collect();
    if let Ok(matches) = search.matches(&values, i64::from(text.len() as u32)) {
        assert!(matches.wanted().len() <= store::PHRASE_CANDIDATES.max(store::PER_PAGE));
    }
});
