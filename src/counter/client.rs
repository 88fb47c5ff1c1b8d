//! The Worker's client for the counter objects: the I/O around what `blog_core::counting`
//! decides (batches, retries, shards, and when counts in memory are used or fetched).
//! It never lets the counter slow a page down or fail it.

use super::fault::{self, Fault};
use super::random_hex;
use blog_core::counting::{
    self, AfterFailure, Counted, Hit, HitBatch, Lookup, Outbox, StatsMemory, StatsQuery,
    FLUSH_DELAY, MAX_ATTEMPTS, SHARDS, STATS_TIMEOUT,
};
use blog_core::ranking::{self, ReadStats};
use blog_core::stats;
use futures_util::future::{join_all, select, Either};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Context, Delay, Env, Method, Request, RequestInit, Result};

const BINDING: &str = "READS";

/// Counts as last fetched, by slug, shared by the isolate's requests.
type Stats = Rc<HashMap<String, ReadStats>>;

thread_local! {
    /// Reads of this isolate not yet sent, and batches waiting for another attempt.
    static OUTBOX: RefCell<Outbox> = const { RefCell::new(Outbox::new()) };
    /// For each query (Popular Reads' top, each badge's slugs): the last counts fetched,
    /// when, whether a refresh is under way and when one failed.
    static MEMORY: RefCell<HashMap<String, StatsMemory<Stats>>> = RefCell::new(HashMap::new());
    /// The site's retention setting as of the last read counted, sent with each batch.
    static RETENTION: Cell<u32> = const { Cell::new(stats::DEFAULT_RETENTION_DAYS) };
}

/// The most queries an isolate remembers counts for; past it, it starts again.
const MAX_QUERIES: usize = 1024;

/// Runs `f` on the memory of `query`.
fn memory<T>(query: &str, f: impl FnOnce(&mut StatsMemory<Stats>) -> T) -> T {
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_QUERIES && !m.contains_key(query) {
            m.clear();
        }
        f(m.entry(query.to_string()).or_default())
    })
}

fn stub(env: &Env, fault: Option<Fault>, shard: usize) -> Result<worker::Stub> {
    fault::before_reaching(fault)?;
    env.durable_object(BINDING)?
        .id_from_name(&counting::shard_name(shard))?
        .get_stub()
}

/// Counts one read. It joins the isolate's pending reads, sent as one batch a moment later
/// through `wait_until`, after the response has gone. If the isolate is torn down before
/// that, its pending reads are lost (never counted twice).
/// `retention` is the site's `stats_retention_days`: the counter rolls up older days.
pub fn count(env: &Env, ctx: &Context, hit: Hit, retention: u32) {
    RETENTION.with(|r| r.set(retention));
    if OUTBOX.with(|o| o.borrow_mut().add(hit)) {
        ctx.wait_until(flush(env.clone()));
    }
}

async fn flush(env: Env) {
    Delay::from(FLUSH_DELAY).await;
    let (mut batches, by_shard) = OUTBOX.with(|o| o.borrow_mut().take());
    for (shard, hits) in by_shard {
        match random_hex(12) {
            Ok(id) => batches.push(HitBatch::new(id, shard, hits)),
            Err(e) => {
                worker::console_error!("cannot make a batch id: {e}; {} reads lost", hits.len())
            }
        }
    }
    let fault = Fault::from_env(&env);
    let results = join_all(batches.iter().map(|batch| send(&env, fault, batch))).await;
    for (batch, result) in batches.into_iter().zip(results) {
        if let Err(e) = result {
            let reads = batch.hits.len();
            match OUTBOX.with(|o| o.borrow_mut().failed(batch)) {
                AfterFailure::Retry => {
                    worker::console_warn!("sending {reads} reads failed ({e}); will retry")
                }
                AfterFailure::Drop => worker::console_error!(
                    "sending {reads} reads failed {MAX_ATTEMPTS} times ({e}); dropped"
                ),
            }
        }
    }
}

async fn send(env: &Env, fault: Option<Fault>, batch: &HitBatch) -> Result<Counted> {
    fault::before_sending(fault);
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(batch)?.into()));
    let url = format!(
        "https://counter/hits?{}",
        stats::retention_query(RETENTION.with(Cell::get))
    );
    let req = Request::new_with_init(&url, &init)?;
    let mut resp = stub(env, fault, batch.shard)?
        .fetch_with_request(req)
        .await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "counter answered {}",
            resp.status_code()
        )));
    }
    resp.json::<Counted>().await
}

/// The stats `query` asks for as this isolate last saw them. Fresh enough ones are used as
/// they are; stale ones are used while a refresh runs in the background. Only an isolate
/// with none waits, at most `STATS_TIMEOUT`, and not again for a while if the counter
/// failed. `None` when there are no counts to show.
pub async fn stats(env: &Env, ctx: &Context, query: &StatsQuery) -> Option<Stats> {
    if let Some(stats) = stats_in_memory(env, ctx, query) {
        return stats;
    }
    // Nothing to show yet: wait a little for the first counts, then let the refresh finish.
    let query = query.to_query();
    memory(&query, StatsMemory::refresh_started);
    let mut refresh = Box::pin(refresh(env.clone(), query.clone()));
    if matches!(
        select(&mut refresh, Delay::from(STATS_TIMEOUT)).await,
        Either::Right(_)
    ) {
        ctx.wait_until(refresh);
    }
    memory(&query, |m| m.current())
}

/// [`stats`] when it need not wait: the counts in memory (a refresh started in the
/// background if they are stale), or none while a refresh runs or after one failed lately.
/// `None` only for an isolate that has never had counts and should wait for the first.
pub fn stats_in_memory(env: &Env, ctx: &Context, query: &StatsQuery) -> Option<Option<Stats>> {
    let now = crate::now_ms();
    let query = query.to_query();
    match memory(&query, |m| m.lookup(now)) {
        Lookup::Use(stats) => Some(stats),
        Lookup::UseAndRefresh(stats) => {
            memory(&query, StatsMemory::refresh_started);
            ctx.wait_until(refresh(env.clone(), query));
            Some(stats)
        }
        Lookup::Wait => None,
    }
}

/// Fetches the counts into memory; after a failure, keeps the old ones and tries again only
/// after the freshness window.
async fn refresh(env: Env, query: String) {
    let fetched = fetch_stats(&env, &query).await;
    let now = crate::now_ms();
    memory(&query, |m| m.refreshed(now, fetched));
}

/// Counter `shard`'s answer to `url`; any status but 200 is an error.
async fn ask_shard(
    env: &Env,
    fault: Option<Fault>,
    shard: usize,
    url: &str,
) -> Result<worker::Response> {
    let resp = stub(env, fault, shard)?.fetch_with_str(url).await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "counter {shard} answered {}",
            resp.status_code()
        )));
    }
    Ok(resp)
}

/// The sum over all shards; all or nothing, so a shard that fails never makes counts shrink.
async fn fetch_stats(env: &Env, query: &str) -> Option<Stats> {
    let url = format!("https://counter/stats?{query}");
    let fault = Fault::from_env(env);
    let shard_stats = |shard: usize| {
        let url = url.clone();
        async move {
            ask_shard(env, fault, shard, &url)
                .await?
                .json::<HashMap<String, ReadStats>>()
                .await
        }
    };
    let mut total = HashMap::new();
    for result in join_all((0..SHARDS).map(shard_stats)).await {
        match result {
            Ok(stats) => ranking::merge(&mut total, stats),
            Err(e) => {
                worker::console_error!("read counts unavailable: {e}");
                return None;
            }
        }
    }
    Some(Rc::new(total))
}

/// Every counter's part of the author's report, as the JSON each sent (a
/// `blog_core::stats::ShardReport`), all or nothing: a report that left a shard out would
/// show counts smaller than they are. Each counter rolls up the days past `retention`
/// first, as its first read of a day does.
pub async fn report(env: &Env, retention: u32) -> Result<Vec<String>> {
    let fault = Fault::from_env(env);
    let url = format!(
        "https://counter/report?{}",
        stats::retention_query(retention)
    );
    let shard_report = |shard: usize| {
        let url = url.clone();
        async move { ask_shard(env, fault, shard, &url).await?.text().await }
    };
    join_all((0..SHARDS).map(shard_report))
        .await
        .into_iter()
        .collect()
}
