//! Read counts: a SQLite-backed Durable Object that owns them, and the Worker's client for it.
//! The client never lets the counter slow a page down or fail it.

use blog_core::ranking::{self, ReadStats};
use blog_core::readers;
use futures_util::future::{join_all, select, Either};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::{
    durable_object, js_sys, wasm_bindgen, Context, Delay, DurableObject, Env, Method, Request,
    RequestInit, Response, Result, SqlStorage, State,
};

const BINDING: &str = "READS";
/// Reads are spread over this many counter objects by reader (see the README's model).
/// Changing it re-routes readers, which only weakens once-a-day detection for that day.
pub const SHARDS: usize = 8;

/// Shard 0 keeps the name of the single counter of earlier versions, so its counts stay.
fn shard_name(shard: usize) -> String {
    if shard == 0 {
        "all-posts".into()
    } else {
        format!("shard-{shard}")
    }
}
/// How long a page waits for counts, when an isolate has none yet, before it ranks by date.
const STATS_TIMEOUT: Duration = Duration::from_millis(150);
/// Counts older than this are refreshed in the background while still being used, so
/// Popular Reads is at most this old plus the index page's `max-age`.
const STATS_FRESH_MS: f64 = 10_000.0;
/// Reads arriving within this window go to the counter in one batch.
const FLUSH_DELAY: Duration = Duration::from_millis(50);
/// A batch that fails is tried again with the next flush, this many times at most.
const MAX_ATTEMPTS: u32 = 3;
/// Test-only fault injection, set with `wrangler dev --var COUNTER_FAULT:...`: `throw` (the
/// object fails every call), `slow=MS` (it answers MS late), `unreachable` (no call gets
/// through), `panic` (the Worker panics while it sends reads). Never set in production.
const FAULT_VAR: &str = "COUNTER_FAULT";
/// Daily rows older than this many half-lives weigh under 0.1% and are not read.
const HORIZON_HALF_LIVES: f64 = 10.0;

/// One read to count: which post, and who (a fingerprint the object salts and forgets daily).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hit {
    pub slug: String,
    pub reader: String,
}

/// Reads sent together. The id makes a retried batch count once even if the first attempt
/// reached the object and only its answer was lost.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HitBatch {
    id: String,
    hits: Vec<Hit>,
    #[serde(skip)]
    shard: usize,
    #[serde(skip)]
    attempts: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Counted {
    counted: u64,
}

/// Owns every post's read count, by day, and the day's record of who has read what.
///
/// Schema (version 2): `reads(slug, count)` all-time totals (version 1 had only this);
/// `daily(slug, day, reads)` for time-weighted ranking; `seen(reader, day)` salted reader
/// keys of the current day; `salt(day, value)` the current day's random salt; `meta`.
/// The object runs one request at a time and SQL calls are synchronous, so concurrent reads
/// never lose an increment.
#[durable_object]
pub struct ReadCounter {
    sql: SqlStorage,
    /// The day whose salt is loaded, and the salt.
    salt_day: Cell<i64>,
    salt: RefCell<String>,
    fault: Option<String>,
}

impl DurableObject for ReadCounter {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        migrate(&sql).expect("read counter schema migrates");
        let fault = env
            .var(FAULT_VAR)
            .ok()
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty());
        Self {
            sql,
            salt_day: Cell::new(i64::MIN),
            salt: Default::default(),
            fault,
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match self.fault.as_deref() {
            Some("throw") => {
                return Err(worker::Error::RustError(
                    "injected fault: counter throws".into(),
                ))
            }
            Some(f) if f.starts_with("slow=") => {
                let ms = f["slow=".len()..].parse().unwrap_or(200);
                Delay::from(Duration::from_millis(ms)).await;
            }
            _ => {}
        }
        let url = req.url()?;
        match (req.method(), url.path()) {
            (Method::Post, "/hits") => {
                let batch: HitBatch = req.json().await?;
                self.handle_batch(&batch)
            }
            (Method::Get, "/stats") => {
                let half_life = url
                    .query_pairs()
                    .find(|(k, _)| k == "half_life")
                    .and_then(|(_, v)| v.parse::<f64>().ok())
                    .filter(|h| *h > 0.0)
                    .unwrap_or(30.0);
                self.handle_stats(half_life)
            }
            _ => Response::error("not found", 404),
        }
    }
}

pub const SCHEMA_VERSION: i64 = 3;

/// Brings any earlier schema up to date in place, keeping every count.
fn migrate(sql: &SqlStorage) -> Result<()> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        None,
    )?;
    #[derive(Deserialize)]
    struct Value {
        value: f64,
    }
    let version = sql
        .exec("SELECT value FROM meta WHERE key = 'schema'", None)?
        .to_array::<Value>()?
        .first()
        .map_or(0, |v| v.value as i64);
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    // Version 1 (or a new object): totals only.
    sql.exec(
        "CREATE TABLE IF NOT EXISTS reads (slug TEXT PRIMARY KEY, count INTEGER NOT NULL)",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS daily (slug TEXT NOT NULL, day INTEGER NOT NULL, reads INTEGER NOT NULL, PRIMARY KEY (slug, day))",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS seen (reader TEXT PRIMARY KEY, day INTEGER NOT NULL)",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS salt (day INTEGER PRIMARY KEY, value TEXT NOT NULL)",
        None,
    )?;
    // Version 3: ids of batches already counted today, so a retried batch counts once.
    sql.exec(
        "CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, day INTEGER NOT NULL)",
        None,
    )?;
    if version < 2 {
        // Reads from before daily buckets existed have no date: weigh them as of today, so
        // Popular Reads looks the same after the upgrade as before it.
        sql.exec(
            "INSERT OR IGNORE INTO daily (slug, day, reads) SELECT slug, ?, count FROM reads",
            vec![today().into()],
        )?;
    }
    sql.exec(
        "INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        vec![(SCHEMA_VERSION as f64).into()],
    )?;
    Ok(())
}

fn today() -> f64 {
    readers::day_number((crate::now_ms() / 1000) as i64) as f64
}

impl ReadCounter {
    /// Counts a batch once, however often it is sent; each hit counts unless its reader
    /// already read that post today.
    fn handle_batch(&self, batch: &HitBatch) -> Result<Response> {
        let day = today();
        let salt = self.salt_for(day as i64)?;
        #[derive(Deserialize)]
        struct Id {
            #[allow(dead_code)]
            id: String,
        }
        let first_time = !self
            .sql
            .exec(
                "INSERT OR IGNORE INTO batches (id, day) VALUES (?, ?) RETURNING id",
                vec![batch.id.as_str().into(), day.into()],
            )?
            .to_array::<Id>()?
            .is_empty();
        if !first_time {
            return Response::from_json(&Counted { counted: 0 });
        }
        let mut counted = 0;
        for hit in &batch.hits {
            if hit.slug.is_empty() || hit.slug.len() > blog_core::content::MAX_SLUG_BYTES {
                continue;
            }
            let key = readers::daily_reader_key(&salt, &hit.reader, &hit.slug);
            #[derive(Deserialize)]
            struct Seen {
                #[allow(dead_code)]
                reader: String,
            }
            let fresh = !self
                .sql
                .exec(
                    "INSERT OR IGNORE INTO seen (reader, day) VALUES (?, ?) RETURNING reader",
                    vec![key.into(), day.into()],
                )?
                .to_array::<Seen>()?
                .is_empty();
            if !fresh {
                continue;
            }
            self.sql.exec(
                "INSERT INTO reads (slug, count) VALUES (?, 1) ON CONFLICT(slug) DO UPDATE SET count = count + 1",
                vec![hit.slug.as_str().into()],
            )?;
            self.sql.exec(
                "INSERT INTO daily (slug, day, reads) VALUES (?, ?, 1) ON CONFLICT(slug, day) DO UPDATE SET reads = reads + 1",
                vec![hit.slug.as_str().into(), day.into()],
            )?;
            counted += 1;
        }
        Response::from_json(&Counted { counted })
    }

    /// Today's salt, made on the first read of the day; yesterday's salt and reader keys
    /// are deleted then, so they cannot be linked to anyone afterwards.
    fn salt_for(&self, day: i64) -> Result<String> {
        if self.salt_day.get() == day {
            return Ok(self.salt.borrow().clone());
        }
        #[derive(Deserialize)]
        struct Salt {
            value: String,
        }
        self.sql
            .exec("DELETE FROM salt WHERE day < ?", vec![(day as f64).into()])?;
        self.sql
            .exec("DELETE FROM seen WHERE day < ?", vec![(day as f64).into()])?;
        self.sql.exec(
            "DELETE FROM batches WHERE day < ?",
            vec![(day as f64 - 1.0).into()],
        )?;
        let stored = self
            .sql
            .exec(
                "SELECT value FROM salt WHERE day = ?",
                vec![(day as f64).into()],
            )?
            .to_array::<Salt>()?;
        let salt = match stored.into_iter().next() {
            Some(s) => s.value,
            None => {
                let salt = random_hex(16)?;
                self.sql.exec(
                    "INSERT INTO salt (day, value) VALUES (?, ?)",
                    vec![(day as f64).into(), salt.as_str().into()],
                )?;
                salt
            }
        };
        self.salt_day.set(day);
        *self.salt.borrow_mut() = salt.clone();
        Ok(salt)
    }

    fn handle_stats(&self, half_life_days: f64) -> Result<Response> {
        #[derive(Deserialize)]
        struct Total {
            slug: String,
            count: f64,
        }
        #[derive(Deserialize)]
        struct Daily {
            slug: String,
            day: f64,
            reads: f64,
        }
        let today = today();
        let since = today - (half_life_days * HORIZON_HALF_LIVES).ceil();
        let mut stats: HashMap<String, ReadStats> = HashMap::new();
        for row in self
            .sql
            .exec("SELECT slug, count FROM reads", None)?
            .to_array::<Total>()?
        {
            stats.entry(row.slug).or_default().reads = row.count as u64;
        }
        let mut daily: HashMap<String, Vec<(i64, u64)>> = HashMap::new();
        for row in self
            .sql
            .exec(
                "SELECT slug, day, reads FROM daily WHERE day >= ?",
                vec![since.into()],
            )?
            .to_array::<Daily>()?
        {
            daily
                .entry(row.slug)
                .or_default()
                .push((row.day as i64, row.reads as u64));
        }
        for (slug, days) in daily {
            stats.entry(slug).or_default().score =
                ranking::decayed_score(days, today as i64, half_life_days);
        }
        Response::from_json(&stats)
    }
}

fn random_hex(bytes: u32) -> Result<String> {
    use worker::wasm_bindgen::JsCast;
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())?;
    let get_random_values: js_sys::Function =
        js_sys::Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    let array = js_sys::Uint8Array::new_with_length(bytes);
    get_random_values.call1(&crypto, &array)?;
    Ok(blog_core::hex::encode(&array.to_vec()))
}

fn stub(env: &Env, shard: usize) -> Result<worker::Stub> {
    if env
        .var(FAULT_VAR)
        .is_ok_and(|v| v.to_string() == "unreachable")
    {
        return Err(worker::Error::RustError(
            "injected fault: counter unreachable".into(),
        ));
    }
    env.durable_object(BINDING)?
        .id_from_name(&shard_name(shard))?
        .get_stub()
}

/// Counts as last fetched, by slug, shared by the isolate's requests.
type Stats = Rc<HashMap<String, ReadStats>>;

thread_local! {
    /// Reads of this isolate not yet sent, and batches waiting for another attempt.
    static PENDING: RefCell<Vec<Hit>> = const { RefCell::new(Vec::new()) };
    static RETRY: RefCell<Vec<HitBatch>> = const { RefCell::new(Vec::new()) };
    static FLUSH_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// The last counts fetched, when (ms), and whether a refresh is under way.
    static STATS: RefCell<Option<(f64, Stats)>> = const { RefCell::new(None) };
    static REFRESHING: Cell<bool> = const { Cell::new(false) };
    static FAILED_AT: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// Counts one read. It joins the isolate's pending reads, sent as one batch a moment later
/// through `wait_until`, after the response has gone. If the isolate is torn down before
/// that, its pending reads are lost (never counted twice).
pub fn count(env: &Env, ctx: &Context, hit: Hit) {
    PENDING.with(|p| p.borrow_mut().push(hit));
    if !FLUSH_SCHEDULED.with(|f| f.replace(true)) {
        ctx.wait_until(flush(env.clone()));
    }
}

async fn flush(env: Env) {
    Delay::from(FLUSH_DELAY).await;
    FLUSH_SCHEDULED.with(|f| f.set(false));
    let hits = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let mut batches = RETRY.with(|r| std::mem::take(&mut *r.borrow_mut()));
    let mut by_shard: Vec<Vec<Hit>> = vec![Vec::new(); SHARDS];
    for hit in hits {
        by_shard[readers::shard_of(&hit.reader, SHARDS)].push(hit);
    }
    for (shard, hits) in by_shard
        .into_iter()
        .enumerate()
        .filter(|(_, h)| !h.is_empty())
    {
        match random_hex(12) {
            Ok(id) => batches.push(HitBatch {
                id,
                hits,
                shard,
                attempts: 0,
            }),
            Err(e) => {
                worker::console_error!("cannot make a batch id: {e}; {} reads lost", hits.len())
            }
        }
    }
    let results = join_all(batches.iter().map(|batch| send(&env, batch))).await;
    for (mut batch, result) in batches.into_iter().zip(results) {
        if let Err(e) = result {
            batch.attempts += 1;
            if batch.attempts < MAX_ATTEMPTS {
                worker::console_warn!(
                    "sending {} reads failed ({e}); will retry",
                    batch.hits.len()
                );
                RETRY.with(|r| r.borrow_mut().push(batch));
            } else {
                worker::console_error!(
                    "sending {} reads failed {MAX_ATTEMPTS} times ({e}); dropped",
                    batch.hits.len()
                );
            }
        }
    }
}

async fn send(env: &Env, batch: &HitBatch) -> Result<Counted> {
    if env.var(FAULT_VAR).is_ok_and(|v| v.to_string() == "panic") {
        // A bug in the Worker itself: the wasm instance aborts in the middle of a flush.
        panic!("injected fault: the counter client panics");
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(batch)?.into()));
    let req = Request::new_with_init("https://counter/hits", &init)?;
    let mut resp = stub(env, batch.shard)?.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "counter answered {}",
            resp.status_code()
        )));
    }
    resp.json::<Counted>().await
}

/// Every slug's stats as this isolate last saw them. Fresh enough ones are used as they are;
/// stale ones are used while a refresh runs in the background. Only an isolate with none
/// waits, at most `STATS_TIMEOUT`, and not again for a while if the counter failed.
/// `None` when there are no counts to show.
pub async fn stats(env: &Env, ctx: &Context, half_life_days: f64) -> Option<Stats> {
    if let Some(stats) = stats_in_memory(env, ctx, half_life_days) {
        return stats;
    }
    // Nothing to show yet: wait a little for the first counts, then let the refresh finish.
    REFRESHING.with(|r| r.set(true));
    let mut refresh = Box::pin(refresh(env.clone(), half_life_days));
    if matches!(
        select(&mut refresh, Delay::from(STATS_TIMEOUT)).await,
        Either::Right(_)
    ) {
        ctx.wait_until(refresh);
    }
    STATS.with(|s| s.borrow().as_ref().map(|(_, stats)| stats.clone()))
}

/// [`stats`] when it need not wait: the counts in memory (a refresh started in the
/// background if they are stale), or none while a refresh runs or after one failed lately.
/// `None` only for an isolate that has never had counts and should wait for the first.
pub fn stats_in_memory(env: &Env, ctx: &Context, half_life_days: f64) -> Option<Option<Stats>> {
    let now = crate::now_ms() as f64;
    let cached = STATS.with(|s| s.borrow().clone());
    let stale = cached
        .as_ref()
        .is_none_or(|(at, _)| now - at > STATS_FRESH_MS);
    let have = cached.map(|(_, stats)| stats);
    if !stale || REFRESHING.with(Cell::get) {
        return Some(have);
    }
    if have.is_none() && now - FAILED_AT.with(Cell::get) >= STATS_FRESH_MS {
        return None;
    }
    REFRESHING.with(|r| r.set(true));
    ctx.wait_until(refresh(env.clone(), half_life_days));
    Some(have)
}

/// Fetches the counts into memory; after a failure, keeps the old ones and tries again only
/// after the freshness window.
async fn refresh(env: Env, half_life_days: f64) {
    if let Some(stats) = fetch_stats(&env, half_life_days).await {
        STATS.with(|s| *s.borrow_mut() = Some((crate::now_ms() as f64, stats)));
    } else {
        let at = crate::now_ms() as f64;
        STATS.with(|s| {
            let mut s = s.borrow_mut();
            if let Some((_, stats)) = s.take() {
                *s = Some((at, stats));
            }
        });
        FAILED_AT.with(|f| f.set(at));
    }
    REFRESHING.with(|r| r.set(false));
}

/// The sum over all shards; all or nothing, so a shard that fails never makes counts shrink.
async fn fetch_stats(env: &Env, half_life_days: f64) -> Option<Stats> {
    let url = format!("https://counter/stats?half_life={half_life_days}");
    let shard_stats = |shard: usize| {
        let url = url.clone();
        async move {
            let mut resp = stub(env, shard)?.fetch_with_str(&url).await?;
            if resp.status_code() != 200 {
                return Err(worker::Error::RustError(format!(
                    "counter {shard} answered {}",
                    resp.status_code()
                )));
            }
            resp.json::<HashMap<String, ReadStats>>().await
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
