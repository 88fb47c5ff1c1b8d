//! The blog's pure core: the content model, Markdown, pages and their templates, feeds, the
//! route table, ranking, the KV layout and the caching and freshness rules. It builds for the
//! host and for wasm alike, does no I/O and never imports `worker`: everything here is tested
//! on the host with `cargo test`.

pub mod archive;
pub mod caching;
pub mod content;
pub mod counting;
pub mod date;
pub mod feeds;
pub mod headers;
pub mod hex;
pub mod html;
pub mod kv;
pub mod lists;
pub mod markdown;
pub mod memory;
pub mod pages;
pub mod preview;
pub mod ranking;
pub mod readers;
pub mod routes;
pub mod search;
pub mod search_page;
pub mod search_store;
pub mod settings;
pub mod slug;
pub mod stats;
