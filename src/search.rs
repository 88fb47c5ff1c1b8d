//! The search results page: reads what [`blog_core::search_page`] says a query needs, in
//! three round trips at most (each a set of reads started together; a query that finds
//! nothing reads no doc tables or posts, and may read one endings piece instead), and keeps
//! the page in isolate memory and the Cache API under the content version, like list
//! pages. A search never counts a read.

use crate::cache;
use crate::handlers::{now, send, Page};
use crate::request::Req;
use crate::{records, Failure, Outcome};
use blog_core::caching::{self, FirstReads};
use blog_core::content::{PostRecord, SiteRecord};
use blog_core::date::Timestamp;
use blog_core::headers::HTML;
use blog_core::search_page::{self, Search};
use blog_core::search_store::DocTable;
use futures_util::future::join_all;
use std::rc::Rc;
use worker::{Context, Env};

const BUILD_ID: &str = env!("BLOG_BUILD_ID");

/// The key a results page is kept under: the list pages' key (build, content version,
/// scheduled posts come due) and the query as typed (the form shows it back) and the page.
fn key(site: &SiteRecord, now: Timestamp, search: &Search) -> String {
    let extra = format!("?{}&{}", search.params.page, search.params.q);
    caching::list_key(BUILD_ID, site, now, blog_core::routes::SEARCH_PATH, &extra)
}

/// The page from memory, when this isolate holds it under the current version.
pub fn from_memory(req: &Req) -> Option<Outcome> {
    let site = records::current_site_in_memory()?;
    let search = Search::new(req.query());
    let page = cache::get(&key(&site, now(), &search))?;
    Some(send(req, &page))
}

/// The current site record, read with `version` (and, cold, the site record) at once
/// with whatever else the first round trip reads.
async fn site(env: &Env) -> Result<Rc<SiteRecord>, Failure> {
    if records::holds_site() {
        return records::current_site(env).await;
    }
    let first = FirstReads {
        site: true,
        record: None,
        aliases: false,
    };
    match records::read_at_once(env, &first).await.site {
        Some(site) => site,
        None => records::current_site(env).await,
    }
}

/// Answers `/search?q=…&page=n`.
pub async fn results(req: &Req, env: &Env, ctx: &Context) -> Outcome {
    let search = Search::new(req.query());
    let keys = search.keys();
    // First round trip: the version (and site record), the head, the terms' shards and
    // the tags' lists, all computed from the query alone.
    let (site, pieces) = futures_util::join!(
        site(env),
        join_all(keys.iter().map(|key| records::get_bytes(env, key)))
    );
    let site = site?;
    let page = Page {
        site: &site,
        now: now(),
        req,
        env,
        ctx,
    };
    let cache_control = page.lifetime().page_cache(0);
    page.cached(
        key(&site, page.now, &search),
        HTML,
        cache_control,
        async || {
            let mut pieces: Vec<Option<Vec<u8>>> = pieces.into_iter().collect::<Result<_, _>>()?;
            search_page::forget_removed(&site, &keys, &mut pieces);
            let mut matches = search
                .matches(&pieces, page.now)
                .map_err(|e| Failure::internal("search pieces", e))?;
            // Found nothing, and nothing near in the terms' shards: the terms sharing the
            // unmatched one's ending, for a misspelling in its first two characters.
            if let Some(key) = matches.ending_key() {
                let mut ending = [records::get_bytes(env, &key).await?];
                search_page::forget_removed(&site, std::slice::from_ref(&key), &mut ending);
                let [ending] = ending;
                matches
                    .suggest_from_ending(&search.params.q, ending.as_deref())
                    .map_err(|e| Failure::internal("search endings", e))?;
            }
            // Second: the doc tables of the posts the page shows.
            let table_keys: Vec<String> = matches
                .tables()
                .into_iter()
                .map(blog_core::search_store::doc_table_key)
                .collect();
            let tables = join_all(
                table_keys
                    .iter()
                    .map(|key| records::get_json::<DocTable>(env, key)),
            )
            .await;
            let mut tables: Vec<Option<DocTable>> = tables.into_iter().collect::<Result<_, _>>()?;
            search_page::forget_removed(&site, &table_keys, &mut tables);
            let slugs = matches.slugs(&tables, page.now);
            // Third: their records, for title, date, summary and the snippet's text.
            let posts = join_all(slugs.iter().map(|slug| records::post(env, &site, slug))).await;
            let posts: Vec<Option<PostRecord>> = posts.into_iter().collect::<Result<_, _>>()?;
            let (hits, total) = matches.page(&search, &posts, page.now);
            Ok(Some(search_page::render(
                &site.settings,
                &search,
                hits,
                total,
                matches.suggestion.as_deref(),
            )))
        },
    )
    .await
}
