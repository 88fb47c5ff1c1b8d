//! What one search costs, natively, over what a real sync wrote.
//!
//! `cargo run --release --example search_bench KV_JSON QUERY...` reads the records of a
//! local KV (`bench/kv-export.mjs` writes them) and, for each query, answers it the way the
//! Worker does, with KV replaced by that map: the keys of the first round trip (head, term
//! shards, tag lists), the doc tables of the second, the post records of the third. It
//! prints the bytes each round trip reads and the median time of the pure work:
//!
//! - `match`: decoding the shards and ranking (`Search::matches`), what a query costs
//!   before it knows which posts it shows;
//! - `page`: everything after the reads, the shards decoded and ranked, the doc tables and
//!   the shown posts' records parsed, their HTML made text, snippets cut and the page rendered.
//!
//! The last lines (`search_bench: ...`) are for bench/search.mjs to read.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use blog_core::content::{PostRecord, SiteRecord};
use blog_core::search_page::{self, Search};
use blog_core::search_store::{self as store, DocTable};

const MIN_TIME: Duration = Duration::from_millis(300);
const MIN_RUNS: usize = 21;

#[derive(serde::Deserialize)]
struct Entry {
    key: String,
    value: String,
}

fn median_us(mut work: impl FnMut()) -> f64 {
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < MIN_RUNS || started.elapsed() < MIN_TIME {
        let t = Instant::now();
        work();
        times.push(t.elapsed().as_secs_f64() * 1e6);
        if times.len() > 20_000 {
            break;
        }
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: search_bench KV_JSON QUERY...");
    let queries: Vec<String> = args.collect();
    let entries: Vec<Entry> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("reads KV_JSON"))
            .expect("KV_JSON is a list of records");
    let kv: HashMap<String, Vec<u8>> = entries
        .into_iter()
        .map(|e| (e.key, e.value.into_bytes()))
        .collect();
    let site: SiteRecord = serde_json::from_slice(&kv["site"]).expect("a site record");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (pieces, bytes): (usize, usize) = kv
        .iter()
        .filter(|(k, _)| k.starts_with(store::PREFIX))
        .fold((0, 0), |(n, b), (_, v)| (n + 1, b + v.len()));
    println!(
        "index: {pieces} pieces, {bytes} bytes ({:.1} MB) of {} records",
        bytes as f64 / 1e6,
        kv.len()
    );
    println!("search_bench: index pieces={pieces} bytes={bytes}");
    for q in &queries {
        let query_string = format!("q={}", store::encode_component(q));
        let search = Search::new(&query_string);
        let get = |key: &str| kv.get(key).cloned();
        let first: Vec<Option<Vec<u8>>> = search.keys().iter().map(|k| get(k)).collect();
        let first_bytes: usize = first.iter().flatten().map(Vec::len).sum();
        let matches = search.matches(&first, now).expect("pieces decode");
        let table_keys: Vec<String> = matches
            .tables()
            .into_iter()
            .map(store::doc_table_key)
            .collect();
        let tables_raw: Vec<Option<Vec<u8>>> = table_keys.iter().map(|k| get(k)).collect();
        let second_bytes: usize = tables_raw.iter().flatten().map(Vec::len).sum();
        let parse_tables = |raw: &[Option<Vec<u8>>]| -> Vec<Option<DocTable>> {
            raw.iter()
                .map(|v| v.as_ref().map(|v| serde_json::from_slice(v).unwrap()))
                .collect()
        };
        let slugs = matches.slugs(&parse_tables(&tables_raw), now);
        let posts_raw: Vec<Option<Vec<u8>>> = slugs
            .iter()
            .map(|s| get(&blog_core::kv::post_key(s)))
            .collect();
        let third_bytes: usize = posts_raw.iter().flatten().map(Vec::len).sum();
        let match_us = median_us(|| {
            black_box(search.matches(black_box(&first), now).unwrap());
        });
        let page_us = median_us(|| {
            let matches = search.matches(black_box(&first), now).unwrap();
            let _ = matches.slugs(&parse_tables(&tables_raw), now);
            let records: Vec<Option<PostRecord>> = posts_raw
                .iter()
                .map(|v| v.as_ref().map(|v| PostRecord::from_stored(v).unwrap()))
                .collect();
            let (hits, total) = matches.page(&search, &records, now);
            black_box(search_page::render(
                &site.settings,
                &search,
                hits,
                total,
                matches.suggestion.as_deref(),
            ));
        });
        println!(
            "{q:?}: {} matches; reads {} + {} + {} keys = {} + {} + {} bytes; match {match_us:.0} µs, page {page_us:.0} µs",
            matches.docs.len(),
            first.len(),
            tables_raw.len(),
            posts_raw.len(),
            first_bytes,
            second_bytes,
            third_bytes,
        );
        println!(
            "search_bench: query text=\"{}\" matches={} keys={} bytes1={first_bytes} bytes2={second_bytes} bytes3={third_bytes} match_us={match_us:.1} page_us={page_us:.1}",
            q.replace('"', "'"),
            matches.docs.len(),
            first.len() + tables_raw.len() + posts_raw.len(),
        );
    }
}
