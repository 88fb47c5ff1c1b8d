//! The read counter's SQLite schema, its version and the migrations that bring an object of
//! any earlier version up to date in place.

use serde::Deserialize;
use worker::{Result, SqlStorage};

/// Version 1 had only `reads`; version 2 added `daily`, `seen` and `salt`; version 3
/// `batches`; version 4 `referrers` and the index of `daily` by day. Kept in `meta` under
/// the key `schema`.
pub const SCHEMA_VERSION: i64 = 4;

/// The key in `meta` of the last day old rows were rolled up (see `blog_core::stats`).
pub const ROLLED_UP: &str = "rolled_up";

/// `meta(key, value)`: the object's own facts; `schema` is the version of its tables.
const META: &str = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)";
/// `reads(slug, count)`: every post's all-time total of counted reads (version 1 had only
/// this table).
const READS: &str =
    "CREATE TABLE IF NOT EXISTS reads (slug TEXT PRIMARY KEY, count INTEGER NOT NULL)";
/// `daily(slug, day, reads)`: reads by post and UTC day number, for time-weighted ranking.
const DAILY: &str = "CREATE TABLE IF NOT EXISTS daily (slug TEXT NOT NULL, day INTEGER NOT NULL, reads INTEGER NOT NULL, PRIMARY KEY (slug, day))";
/// `seen(reader, day)`: the salted key of each reader's read of each post on the current day,
/// so a reader counts once a day; earlier days' keys are deleted.
const SEEN: &str =
    "CREATE TABLE IF NOT EXISTS seen (reader TEXT PRIMARY KEY, day INTEGER NOT NULL)";
/// `salt(day, value)`: the current day's random salt for `seen`, deleted when the day ends.
const SALT: &str = "CREATE TABLE IF NOT EXISTS salt (day INTEGER PRIMARY KEY, value TEXT NOT NULL)";
/// `batches(id, day)`: ids of the batches counted lately (version 3), so a retried batch
/// counts once.
const BATCHES: &str =
    "CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, day INTEGER NOT NULL)";

/// `referrers(host, day, reads)` (version 4): the counted reads each referring site's links
/// brought, by UTC day; only a host, never a URL or a reader, and at most
/// `blog_core::stats::MAX_HOSTS_PER_DAY` hosts a day.
const REFERRERS: &str = "CREATE TABLE IF NOT EXISTS referrers (host TEXT NOT NULL, day INTEGER NOT NULL, reads INTEGER NOT NULL, PRIMARY KEY (host, day))";
/// Daily rows by day (version 4): the report's window and the roll-up of old days read a
/// range of days, not every row.
const DAILY_BY_DAY: &str = "CREATE INDEX IF NOT EXISTS daily_by_day ON daily (day)";
const REFERRERS_BY_DAY: &str = "CREATE INDEX IF NOT EXISTS referrers_by_day ON referrers (day)";

/// Brings any earlier schema up to date in place, keeping every count. `today` is the
/// current day number: reads of version 1 are dated to it.
pub fn migrate(sql: &SqlStorage, today: f64) -> Result<()> {
    sql.exec(META, None)?;
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
    sql.exec(READS, None)?;
    sql.exec(DAILY, None)?;
    sql.exec(SEEN, None)?;
    sql.exec(SALT, None)?;
    // Version 3: ids of batches already counted today, so a retried batch counts once.
    sql.exec(BATCHES, None)?;
    // Version 4: referring sites, and daily rows found by day. Nothing is rewritten: every
    // count stays where it was, and old days are rolled up by the counter's first read of
    // a day (`ReadCounter::roll_up`), which keeps each post's all-time total.
    sql.exec(REFERRERS, None)?;
    sql.exec(DAILY_BY_DAY, None)?;
    sql.exec(REFERRERS_BY_DAY, None)?;
    if version < 2 {
        // Reads from before daily buckets existed have no date: weigh them as of today, so
        // Popular Reads looks the same after the upgrade as before it.
        sql.exec(
            "INSERT OR IGNORE INTO daily (slug, day, reads) SELECT slug, ?, count FROM reads",
            vec![today.into()],
        )?;
    }
    sql.exec(
        "INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        vec![(SCHEMA_VERSION as f64).into()],
    )?;
    Ok(())
}
