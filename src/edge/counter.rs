//! Read counts: a SQLite-backed Durable Object that owns them, and the Worker's client for it.
//! The client never lets the counter slow a page down or fail it.

use crate::ranking::{self, ReadStats};
use crate::readers;
use futures_util::future::{select, Either};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::HashMap;
use std::time::Duration;
use worker::{
    durable_object, js_sys, wasm_bindgen, Date, DurableObject, Delay, Env, Method, Request, RequestInit,
    Response, Result, SqlStorage, State,
};

const BINDING: &str = "READS";
/// All counts live in one object; see the README for the model at larger scale.
const OBJECT_NAME: &str = "all-posts";
/// How long a page waits for counts before it shows none (and ranks by date).
const STATS_TIMEOUT: Duration = Duration::from_millis(150);
/// Daily rows older than this many half-lives weigh under 0.1% and are not read.
const HORIZON_HALF_LIVES: f64 = 10.0;

/// One read to count: which post, and who (a fingerprint the object salts and forgets daily).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hit {
    pub slug: String,
    pub reader: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct HitBatch {
    hits: Vec<Hit>,
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
    salt: std::cell::RefCell<String>,
}

impl DurableObject for ReadCounter {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        migrate(&sql).expect("read counter schema migrates");
        Self { sql, salt_day: Cell::new(i64::MIN), salt: Default::default() }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let url = req.url()?;
        match (req.method(), url.path()) {
            (Method::Post, "/hits") => {
                let batch: HitBatch = req.json().await?;
                self.handle_hits(&batch.hits)
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

pub const SCHEMA_VERSION: i64 = 2;

/// Brings any earlier schema up to date in place, keeping every count.
fn migrate(sql: &SqlStorage) -> Result<()> {
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)", None)?;
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
    sql.exec("CREATE TABLE IF NOT EXISTS reads (slug TEXT PRIMARY KEY, count INTEGER NOT NULL)", None)?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS daily (slug TEXT NOT NULL, day INTEGER NOT NULL, reads INTEGER NOT NULL, PRIMARY KEY (slug, day))",
        None,
    )?;
    sql.exec("CREATE TABLE IF NOT EXISTS seen (reader TEXT PRIMARY KEY, day INTEGER NOT NULL)", None)?;
    sql.exec("CREATE TABLE IF NOT EXISTS salt (day INTEGER PRIMARY KEY, value TEXT NOT NULL)", None)?;
    // Reads from before daily buckets existed have no date: weigh them as of today, so
    // Popular Reads looks the same after the upgrade as before it.
    sql.exec(
        "INSERT OR IGNORE INTO daily (slug, day, reads) SELECT slug, ?, count FROM reads",
        vec![today().into()],
    )?;
    sql.exec(
        "INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        vec![(SCHEMA_VERSION as f64).into()],
    )?;
    Ok(())
}

fn today() -> f64 {
    readers::day_number((Date::now().as_millis() / 1000) as i64) as f64
}

impl ReadCounter {
    /// Counts each hit unless its reader already read that post today.
    fn handle_hits(&self, hits: &[Hit]) -> Result<Response> {
        let day = today();
        let salt = self.salt_for(day as i64)?;
        let mut counted = 0;
        for hit in hits {
            if hit.slug.is_empty() || hit.slug.len() > crate::content::MAX_SLUG_BYTES {
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
        self.sql.exec("DELETE FROM salt WHERE day < ?", vec![(day as f64).into()])?;
        self.sql.exec("DELETE FROM seen WHERE day < ?", vec![(day as f64).into()])?;
        let stored = self
            .sql
            .exec("SELECT value FROM salt WHERE day = ?", vec![(day as f64).into()])?
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
        for row in self.sql.exec("SELECT slug, count FROM reads", None)?.to_array::<Total>()? {
            stats.entry(row.slug).or_default().reads = row.count as u64;
        }
        let mut daily: HashMap<String, Vec<(i64, u64)>> = HashMap::new();
        for row in self
            .sql
            .exec("SELECT slug, day, reads FROM daily WHERE day >= ?", vec![since.into()])?
            .to_array::<Daily>()?
        {
            daily.entry(row.slug).or_default().push((row.day as i64, row.reads as u64));
        }
        for (slug, days) in daily {
            stats.entry(slug).or_default().score = ranking::decayed_score(days, today as i64, half_life_days);
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
    Ok(array.to_vec().iter().map(|b| format!("{b:02x}")).collect())
}

fn stub(env: &Env) -> Result<worker::Stub> {
    env.durable_object(BINDING)?.id_from_name(OBJECT_NAME)?.get_stub()
}

/// Sends reads to the counter. Runs after the response has gone (`wait_until`); a failure
/// is logged and the reads are lost rather than retried, so none is ever counted twice.
pub async fn record(env: Env, hits: Vec<Hit>) {
    let n = hits.len();
    let result = async {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(serde_json::to_string(&HitBatch { hits })?.into()));
        let req = Request::new_with_init("https://counter/hits", &init)?;
        let mut resp = stub(&env)?.fetch_with_request(req).await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!("counter answered {}", resp.status_code())));
        }
        resp.json::<Counted>().await
    }
    .await;
    if let Err(e) = result {
        worker::console_error!("recording {n} reads failed: {e}");
    }
}

/// Every slug's stats, or `None` if the counter fails or is slower than the timeout.
pub async fn stats(env: &Env, half_life_days: f64) -> Option<HashMap<String, ReadStats>> {
    let fetch = async {
        let url = format!("https://counter/stats?half_life={half_life_days}");
        let mut resp = stub(env)?.fetch_with_str(&url).await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!("counter answered {}", resp.status_code())));
        }
        resp.json::<HashMap<String, ReadStats>>().await
    };
    match select(Box::pin(fetch), Delay::from(STATS_TIMEOUT)).await {
        Either::Left((Ok(stats), _)) => Some(stats),
        Either::Left((Err(e), _)) => {
            worker::console_error!("read counts unavailable: {e}");
            None
        }
        Either::Right(_) => {
            worker::console_warn!("read counts took longer than {STATS_TIMEOUT:?}; showing none");
            None
        }
    }
}
