//! Any query and any text: reading the query stays within its bounds and yields only plain
//! terms, and marking a snippet never panics and only cuts the text, whatever either holds.
#![no_main]

use blog_core::search::{fold, snippet, stem, words, Query, MAX_QUERY_TERMS, MAX_TERM_BYTES};
use libfuzzer_sys::fuzz_target;

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
});
