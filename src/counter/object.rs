//! The `ReadCounter` Durable Object: what it stores (see [`super::schema`]) and how it answers
//! the client's calls: `POST /hits`, `GET /stats` and the author's `GET /report`.

use super::fault::{self, Fault};
use super::{random_hex, schema};
use blog_core::counting::{self, Counted, HitBatch};
use blog_core::ranking::{self, ReadStats};
use blog_core::readers;
use blog_core::stats::{self, ShardReport};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use worker::{
    durable_object, wasm_bindgen, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, State,
};

/// A `totals` row: a slug's reads from the days rolled up.
#[derive(Deserialize)]
struct Total {
    slug: String,
    count: f64,
}

/// A `daily` row: a slug's reads on one day.
#[derive(Deserialize)]
struct Daily {
    slug: String,
    day: f64,
    reads: f64,
}

/// Owns every post's read count, by day, and the day's record of who has read what (the
/// tables are in [`super::schema`]). The object runs one request at a time and SQL calls are
/// synchronous, so concurrent reads never lose an increment.
#[durable_object]
pub struct ReadCounter {
    sql: SqlStorage,
    /// The day whose salt is loaded, and the salt.
    salt_day: Cell<i64>,
    salt: RefCell<String>,
    /// The last day old rows were rolled up, once known: most batches need no query for it.
    rolled_up: Cell<Option<i64>>,
    fault: Option<Fault>,
}

impl DurableObject for ReadCounter {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        schema::migrate(&sql, today()).expect("read counter schema migrates");
        Self {
            sql,
            salt_day: Cell::new(i64::MIN),
            salt: Default::default(),
            rolled_up: Cell::new(None),
            fault: Fault::from_env(&env),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        fault::before_answer(self.fault).await?;
        // Our own URLs (`https://counter/stats?half_life=30`): the path and query as sent,
        // without a URL parser.
        let url = req.inner().url();
        let query = url.split_once('?').map_or("", |(_, q)| q).to_string();
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/hits") => self.handle_hits(req, &query).await,
            (Method::Get, "/stats") => self.handle_stats(&query),
            (Method::Get, "/report") => self.handle_report(&query),
            _ => Response::error("not found", 404),
        }
    }
}

/// Today's UTC day number, as SQLite is given it.
fn today() -> f64 {
    readers::day_number((crate::now_ms() / 1000) as i64) as f64
}

impl ReadCounter {
    /// Counts a batch once, however often it is sent; each hit counts unless its reader
    /// already read that post today, and so does the referral it carries.
    async fn handle_hits(&self, mut req: Request, query: &str) -> Result<Response> {
        let batch: HitBatch = req.json().await?;
        let day = today();
        let salt = self.salt_for(day as i64)?;
        self.roll_up(day as i64, stats::retention_from_query(query))?;
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
            if let Some(host) = hit.referrer.as_deref().filter(|h| stats::is_host_name(h)) {
                self.count_referral(host, day)?;
            }
            counted += 1;
        }
        Response::from_json(&Counted { counted })
    }

    /// One referral from `host` on `day`, under the host while the day has room for it.
    fn count_referral(&self, host: &str, day: f64) -> Result<()> {
        #[derive(Deserialize)]
        struct Row {
            host: String,
        }
        let hosts: Vec<Row> = self
            .sql
            .exec("SELECT host FROM referrers WHERE day = ?", vec![day.into()])?
            .to_array()?;
        let known = hosts.iter().any(|r| r.host == host);
        let row = stats::referral_row(host, known, hosts.len());
        self.sql.exec(
            "INSERT INTO referrers (host, day, reads) VALUES (?, ?, 1) ON CONFLICT(host, day) DO UPDATE SET reads = reads + 1",
            vec![row.into(), day.into()],
        )?;
        Ok(())
    }

    /// Once a day, the rows older than the retention go: a post's daily rows (its all-time
    /// total in `reads` already holds them) and the referring sites' rows.
    fn roll_up(&self, today: i64, retention: u32) -> Result<()> {
        if !stats::roll_up_due(self.rolled_up.get(), today) {
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Value {
            value: f64,
        }
        let last = self
            .sql
            .exec(
                "SELECT value FROM meta WHERE key = ?",
                vec![schema::ROLLED_UP.into()],
            )?
            .to_array::<Value>()?
            .first()
            .map(|v| v.value as i64);
        if !stats::roll_up_due(last, today) {
            self.rolled_up.set(last);
            return Ok(());
        }
        let cutoff = stats::retention_cutoff(today, retention) as f64;
        self.sql
            .exec("DELETE FROM daily WHERE day < ?", vec![cutoff.into()])?;
        self.sql
            .exec("DELETE FROM referrers WHERE day < ?", vec![cutoff.into()])?;
        self.sql.exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            vec![schema::ROLLED_UP.into(), (today as f64).into()],
        )?;
        self.rolled_up.set(Some(today));
        Ok(())
    }

    /// This counter's part of the author's report: every slug's total, the daily rows of the
    /// report's window, and the referring sites kept (the most referrals first, bounded).
    fn handle_report(&self, query: &str) -> Result<Response> {
        self.roll_up(today() as i64, stats::retention_from_query(query))?;
        #[derive(Deserialize)]
        struct Host {
            host: String,
            recent: f64,
            total: f64,
        }
        let first = stats::report_first_day(today() as i64) as f64;
        let totals = self
            .sql
            .exec("SELECT slug, count FROM reads", None)?
            .to_array::<Total>()?
            .into_iter()
            .map(|r| (r.slug, r.count as u64))
            .collect();
        let daily = self
            .sql
            .exec(
                "SELECT slug, day, reads FROM daily WHERE day >= ?",
                vec![first.into()],
            )?
            .to_array::<Daily>()?
            .into_iter()
            .map(|r| (r.slug, r.day as i64, r.reads as u64))
            .collect();
        let referrers = self
            .sql
            .exec(
                "SELECT host, SUM(CASE WHEN day >= ? THEN reads ELSE 0 END) AS recent, SUM(reads) AS total FROM referrers GROUP BY host ORDER BY recent DESC, total DESC, host LIMIT ?",
                vec![first.into(), (stats::MAX_REPORT_HOSTS as f64).into()],
            )?
            .to_array::<Host>()?
            .into_iter()
            .map(|r| (r.host, r.recent as u64, r.total as u64))
            .collect();
        Response::from_json(&ShardReport {
            totals,
            daily,
            referrers,
        })
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

    /// The stats a query asks for (its top slugs by score, and the slugs it names): each
    /// slug's all-time reads and its score with the query's half-life, from the daily rows
    /// within the horizon. The answer is bounded by the query, not by the number of posts.
    fn handle_stats(&self, query: &str) -> Result<Response> {
        let query = counting::StatsQuery::from_query(query);
        let half_life_days = query.half_life_days;
        let today = today();
        let since = counting::horizon_day(today as i64, half_life_days);
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
        Response::from_json(&ranking::bounded(stats, query.top, &query.slugs))
    }
}
