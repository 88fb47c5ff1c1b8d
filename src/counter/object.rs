//! The `ReadCounter` Durable Object: what it stores (see [`super::schema`]) and how it answers
//! the client's two calls, `POST /hits` and `GET /stats`.

use super::fault::{self, Fault};
use super::{random_hex, schema};
use blog_core::counting::{self, Counted, HitBatch};
use blog_core::ranking::{self, ReadStats};
use blog_core::readers;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use worker::{
    durable_object, wasm_bindgen, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, State,
};

/// Owns every post's read count, by day, and the day's record of who has read what (the
/// tables are in [`super::schema`]). The object runs one request at a time and SQL calls are
/// synchronous, so concurrent reads never lose an increment.
#[durable_object]
pub struct ReadCounter {
    sql: SqlStorage,
    /// The day whose salt is loaded, and the salt.
    salt_day: Cell<i64>,
    salt: RefCell<String>,
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
            (Method::Post, "/hits") => self.handle_hits(req).await,
            (Method::Get, "/stats") => self.handle_stats(&query),
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
    /// already read that post today.
    async fn handle_hits(&self, mut req: Request) -> Result<Response> {
        let batch: HitBatch = req.json().await?;
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

    /// The stats a query asks for (its top slugs by score, and the slugs it names): each
    /// slug's all-time reads and its score with the query's half-life, from the daily rows
    /// within the horizon. The answer is bounded by the query, not by the number of posts.
    fn handle_stats(&self, query: &str) -> Result<Response> {
        let query = counting::StatsQuery::from_query(query);
        let half_life_days = query.half_life_days;
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
