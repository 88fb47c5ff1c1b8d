//! The read counter's rules: what travels between the Worker and its counter objects, how
//! reads are batched, sharded and retried, and when the counts in an isolate's memory are
//! used, refreshed or waited for. The Worker's client only does the I/O these decide.

use crate::readers;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Reads are spread over this many counter objects by reader (see the README's model).
/// Changing it re-routes readers, which only weakens once-a-day detection for that day.
pub const SHARDS: usize = 8;
/// How long a page waits for counts, when an isolate has none yet, before it ranks by date.
pub const STATS_TIMEOUT: Duration = Duration::from_millis(150);
/// Counts older than this (ms) are refreshed in the background while still being used, so
/// Popular Reads is at most this old plus the index page's `max-age`. After a failed fetch,
/// an isolate without counts does not wait for them again within this window either.
pub const STATS_FRESH_MS: u64 = 10_000;
/// Reads arriving within this window go to the counter in one batch.
pub const FLUSH_DELAY: Duration = Duration::from_millis(50);
/// A batch that fails is tried again with the next flush, this many times at most.
pub const MAX_ATTEMPTS: u32 = 3;
/// Daily rows older than this many half-lives weigh under 0.1% and are not read.
pub const HORIZON_HALF_LIVES: f64 = 10.0;
/// The half-life (days) of the stats query when it names none, or none that makes sense.
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 30.0;

/// One read to count: which post, and who (a fingerprint the object salts and forgets daily).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub slug: String,
    pub reader: String,
    /// The site the reader came from (`stats::referring_host`), counted with the read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// Reads sent together. The id makes a retried batch count once even if the first attempt
/// reached the object and only its answer was lost. Only the id and the hits travel; the
/// shard and the attempts so far stay with the sender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitBatch {
    pub id: String,
    pub hits: Vec<Hit>,
    #[serde(skip)]
    pub shard: usize,
    #[serde(skip)]
    pub attempts: u32,
}

/// The object's answer to a batch: how many of its hits it counted.
#[derive(Debug, Serialize, Deserialize)]
pub struct Counted {
    pub counted: u64,
}

/// What becomes of a batch whose sending failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// It goes out again with the next flush.
    Retry,
    /// It failed [`MAX_ATTEMPTS`] times: its reads are lost.
    Drop,
}

impl HitBatch {
    /// A batch not sent yet.
    pub fn new(id: String, shard: usize, hits: Vec<Hit>) -> Self {
        Self {
            id,
            hits,
            shard,
            attempts: 0,
        }
    }

    /// Records one failed attempt and says whether the batch is tried again.
    pub fn failed(&mut self) -> AfterFailure {
        self.attempts += 1;
        if self.attempts < MAX_ATTEMPTS {
            AfterFailure::Retry
        } else {
            AfterFailure::Drop
        }
    }
}

/// The name of a shard's counter object. Shard 0 keeps the name of the single counter of
/// earlier versions, so its counts stay.
pub fn shard_name(shard: usize) -> String {
    if shard == 0 {
        "all-posts".into()
    } else {
        format!("shard-{shard}")
    }
}

/// Reads grouped by their reader's shard: only shards with reads, in shard order, each
/// group in the order its reads arrived.
pub fn by_shard(hits: Vec<Hit>) -> Vec<(usize, Vec<Hit>)> {
    let mut by_shard: Vec<Vec<Hit>> = vec![Vec::new(); SHARDS];
    for hit in hits {
        by_shard[readers::shard_of(&hit.reader, SHARDS)].push(hit);
    }
    by_shard
        .into_iter()
        .enumerate()
        .filter(|(_, h)| !h.is_empty())
        .collect()
}

/// An isolate's reads not sent yet, and its batches waiting for another attempt.
#[derive(Debug, Default)]
pub struct Outbox {
    pending: Vec<Hit>,
    retry: Vec<HitBatch>,
    flush_scheduled: bool,
}

impl Outbox {
    pub const fn new() -> Self {
        Self {
            pending: Vec::new(),
            retry: Vec::new(),
            flush_scheduled: false,
        }
    }

    /// Adds a read. `true` when no flush is scheduled yet: the caller schedules one, to run
    /// [`FLUSH_DELAY`] later.
    #[must_use]
    pub fn add(&mut self, hit: Hit) -> bool {
        self.pending.push(hit);
        !std::mem::replace(&mut self.flush_scheduled, true)
    }

    /// At the flush: the batches waiting for another attempt, and the new reads grouped by
    /// shard (each group to become a batch). Reads added from now on schedule a new flush.
    pub fn take(&mut self) -> (Vec<HitBatch>, Vec<(usize, Vec<Hit>)>) {
        self.flush_scheduled = false;
        let hits = std::mem::take(&mut self.pending);
        let retry = std::mem::take(&mut self.retry);
        (retry, by_shard(hits))
    }

    /// Records a batch whose sending failed: kept for the next flush, or dropped.
    pub fn failed(&mut self, mut batch: HitBatch) -> AfterFailure {
        let after = batch.failed();
        if after == AfterFailure::Retry {
            self.retry.push(batch);
        }
        after
    }
}

/// The half-life (days) a stats query asks for: its first `half_life` parameter if that is
/// a positive number, else [`DEFAULT_HALF_LIFE_DAYS`].
pub fn half_life_from_query<K: AsRef<str>, V: AsRef<str>>(
    query: impl IntoIterator<Item = (K, V)>,
) -> f64 {
    query
        .into_iter()
        .find(|(k, _)| k.as_ref() == "half_life")
        .and_then(|(_, v)| v.as_ref().parse::<f64>().ok())
        .filter(|h| *h > 0.0)
        .unwrap_or(DEFAULT_HALF_LIFE_DAYS)
}

/// What a stats query asks the counter for. The answer is bounded by the query, never by
/// the number of posts: the `top` slugs by score (Popular Reads needs a few) and the stats of
/// `slugs` (a read count badge needs one post's, its old slugs included).
#[derive(Debug, Clone, PartialEq)]
pub struct StatsQuery {
    pub half_life_days: f64,
    pub top: usize,
    pub slugs: Vec<String>,
}

/// The most slugs one query may name, and the most top slugs it may ask for: what a post
/// with many old slugs, or a long Popular Reads, needs, with room to spare.
pub const MAX_QUERY_SLUGS: usize = 64;
pub const MAX_TOP: usize = 1_000;

impl StatsQuery {
    /// The top of the ranking, for a Popular Reads of `popular_count` posts. Each shard
    /// answers its own top, summed over shards: a post is read by readers of every shard, so
    /// asking each for four times the list (and a few more) leaves room for posts high in
    /// the sum but lower in one shard, and for old slugs that fold into one post.
    pub fn popular(half_life_days: f64, popular_count: usize) -> Self {
        Self {
            half_life_days,
            top: (popular_count * 4 + 8).min(MAX_TOP),
            slugs: Vec::new(),
        }
    }

    /// These slugs' stats alone.
    pub fn slugs<'a>(half_life_days: f64, slugs: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            half_life_days,
            top: 0,
            slugs: slugs
                .into_iter()
                .take(MAX_QUERY_SLUGS)
                .map(str::to_string)
                .collect(),
        }
    }

    /// The query string the counter is sent (slugs are plain `a-z0-9-`, joined by commas).
    pub fn to_query(&self) -> String {
        let mut q = format!("half_life={}&top={}", self.half_life_days, self.top);
        if !self.slugs.is_empty() {
            q.push_str("&slugs=");
            q.push_str(&self.slugs.join(","));
        }
        q
    }

    /// The query a counter was sent; what is missing or malformed takes its default (the
    /// default half-life, no top, no slugs), and the bounds hold whatever was sent.
    pub fn from_query(query: &str) -> Self {
        let pairs: Vec<(&str, &str)> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        let value = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        Self {
            half_life_days: half_life_from_query(pairs.iter().copied()),
            top: value("top")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0usize)
                .min(MAX_TOP),
            slugs: value("slugs")
                .map(|v| {
                    v.split(',')
                        .filter(|s| crate::slug::validate_slug(s).is_ok())
                        .take(MAX_QUERY_SLUGS)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The oldest day whose daily rows count for a score seen from `today`, [`HORIZON_HALF_LIVES`]
/// half-lives back; a number as SQLite is given it.
pub fn horizon_day(today: i64, half_life_days: f64) -> f64 {
    today as f64 - (half_life_days * HORIZON_HALF_LIVES).ceil()
}

/// What to do for counts, given what an isolate has in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<S> {
    /// Use these (`None`: there are no counts to show) and nothing else: they are fresh, or
    /// a refresh is already under way.
    Use(Option<S>),
    /// Use these, and start a refresh in the background: they are stale, or there are none
    /// and a fetch failed within [`STATS_FRESH_MS`].
    UseAndRefresh(Option<S>),
    /// There are none: wait for a first fetch, at most [`STATS_TIMEOUT`].
    Wait,
}

/// The counts an isolate last fetched (`S`), when, whether a refresh is under way and when
/// one last failed: the state behind [`Lookup`]. Times are milliseconds since the epoch.
#[derive(Debug)]
pub struct StatsMemory<S> {
    stats: Option<(u64, S)>,
    refreshing: bool,
    failed_at: Option<u64>,
}

impl<S> Default for StatsMemory<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> StatsMemory<S> {
    /// An isolate's memory before its first fetch.
    pub const fn new() -> Self {
        Self {
            stats: None,
            refreshing: false,
            failed_at: None,
        }
    }
}

impl<S: Clone> StatsMemory<S> {
    /// What a request at `now` does for counts. It changes nothing: the caller reports a
    /// refresh it starts with [`StatsMemory::refresh_started`].
    pub fn lookup(&self, now: u64) -> Lookup<S> {
        let stale = self
            .stats
            .as_ref()
            .is_none_or(|(at, _)| now.saturating_sub(*at) > STATS_FRESH_MS);
        let have = self.current();
        if !stale || self.refreshing {
            return Lookup::Use(have);
        }
        let failed_lately = self
            .failed_at
            .is_some_and(|at| now.saturating_sub(at) < STATS_FRESH_MS);
        if have.is_none() && !failed_lately {
            return Lookup::Wait;
        }
        Lookup::UseAndRefresh(have)
    }

    /// A refresh has started (in the background, or one a request waits for).
    pub fn refresh_started(&mut self) {
        self.refreshing = true;
    }

    /// A refresh ended at `now`: with the counts fetched, or `None` if it failed. After a
    /// failure the counts held are kept and count as fresh again, so the next attempt comes
    /// only after the freshness window.
    pub fn refreshed(&mut self, now: u64, fetched: Option<S>) {
        match fetched {
            Some(stats) => self.stats = Some((now, stats)),
            None => {
                if let Some((_, stats)) = self.stats.take() {
                    self.stats = Some((now, stats));
                }
                self.failed_at = Some(now);
            }
        }
        self.refreshing = false;
    }

    /// The counts held, however old.
    pub fn current(&self) -> Option<S> {
        self.stats.as_ref().map(|(_, stats)| stats.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stats_query_survives_the_trip_and_stays_bounded_whatever_is_sent() {
        let popular = StatsQuery::popular(7.5, 5);
        assert_eq!(popular.to_query(), "half_life=7.5&top=28");
        assert_eq!(StatsQuery::from_query(&popular.to_query()), popular);
        let badge = StatsQuery::slugs(30.0, ["new-name", "old-name"]);
        assert_eq!(
            badge.to_query(),
            "half_life=30&top=0&slugs=new-name,old-name"
        );
        assert_eq!(StatsQuery::from_query(&badge.to_query()), badge);
        // Nothing asked: nothing but the default half-life; too much asked: the bounds.
        assert_eq!(
            StatsQuery::from_query(""),
            StatsQuery {
                half_life_days: DEFAULT_HALF_LIFE_DAYS,
                top: 0,
                slugs: vec![]
            }
        );
        let many: Vec<String> = (0..500).map(|i| format!("s{i}")).collect();
        let greedy = StatsQuery::from_query(&format!("top=99999999&slugs={}", many.join(",")));
        assert_eq!(greedy.top, MAX_TOP);
        assert_eq!(greedy.slugs.len(), MAX_QUERY_SLUGS);
        // A slug that could be no post's is dropped.
        let odd = StatsQuery::from_query("slugs=ok,..%2F,Bad Slug,,also-ok");
        assert_eq!(odd.slugs, ["ok", "also-ok"]);
    }

    const T0: u64 = 1_700_000_000_000;

    fn hit(slug: &str, reader: &str) -> Hit {
        Hit {
            slug: slug.into(),
            reader: reader.into(),
            referrer: None,
        }
    }

    fn fetched_at(at: u64, stats: &'static str) -> StatsMemory<&'static str> {
        let mut memory = StatsMemory::new();
        memory.refresh_started();
        memory.refreshed(at, Some(stats));
        memory
    }

    #[test]
    fn shard_zero_keeps_the_name_of_the_single_counter_of_earlier_versions() {
        assert_eq!(shard_name(0), "all-posts");
        assert_eq!(shard_name(1), "shard-1");
        assert_eq!(shard_name(SHARDS - 1), "shard-7");
    }

    #[test]
    fn reads_are_grouped_by_their_readers_shard_in_arrival_order() {
        // shard_of takes the first 8 hex digits modulo SHARDS.
        let hits = vec![
            hit("a", "00000003ff"),
            hit("b", "00000001ff"),
            hit("c", "0000000bff"),
            hit("d", "00000001ee"),
        ];
        assert_eq!(
            by_shard(hits),
            vec![
                (1, vec![hit("b", "00000001ff"), hit("d", "00000001ee")]),
                (3, vec![hit("a", "00000003ff"), hit("c", "0000000bff")]),
            ]
        );
    }

    #[test]
    fn shards_without_reads_get_no_batch() {
        assert!(by_shard(Vec::new()).is_empty());
        assert_eq!(by_shard(vec![hit("a", "not hex")]).len(), 1);
        assert_eq!(by_shard(vec![hit("a", "not hex")])[0].0, 0);
    }

    #[test]
    fn a_failed_batch_is_retried_with_the_next_flush() {
        let mut batch = HitBatch::new("id".into(), 2, vec![hit("a", "r")]);
        assert_eq!(batch.failed(), AfterFailure::Retry);
        assert_eq!(batch.attempts, 1);
    }

    #[test]
    fn a_batch_is_dropped_after_three_failed_attempts() {
        let mut batch = HitBatch::new("id".into(), 2, vec![hit("a", "r")]);
        let outcomes: Vec<_> = (0..3).map(|_| batch.failed()).collect();
        assert_eq!(
            outcomes,
            [AfterFailure::Retry, AfterFailure::Retry, AfterFailure::Drop]
        );
        assert_eq!(MAX_ATTEMPTS, 3);
    }

    #[test]
    fn only_the_first_read_of_a_window_schedules_a_flush() {
        let mut outbox = Outbox::new();
        assert!(outbox.add(hit("a", "00000001")));
        assert!(!outbox.add(hit("b", "00000002")));
        let (retry, groups) = outbox.take();
        assert!(retry.is_empty());
        assert_eq!(groups.len(), 2);
        // The flush has taken them: the next read schedules the next flush.
        assert!(outbox.add(hit("c", "00000003")));
    }

    #[test]
    fn a_flush_sends_the_batches_to_retry_with_the_new_reads() {
        let mut outbox = Outbox::new();
        let batch = HitBatch::new("old".into(), 5, vec![hit("a", "00000005")]);
        assert_eq!(outbox.failed(batch.clone()), AfterFailure::Retry);
        let _ = outbox.add(hit("b", "00000001"));
        let (retry, groups) = outbox.take();
        assert_eq!(retry.len(), 1);
        assert_eq!((retry[0].id.as_str(), retry[0].shard), ("old", 5));
        assert_eq!(retry[0].attempts, 1);
        assert_eq!(groups, vec![(1, vec![hit("b", "00000001")])]);
        // Taken once: a second flush has nothing to send.
        let (retry, groups) = outbox.take();
        assert!(retry.is_empty() && groups.is_empty());
    }

    #[test]
    fn the_outbox_keeps_a_failing_batch_for_three_attempts_only() {
        let mut outbox = Outbox::new();
        let batch = HitBatch::new("id".into(), 0, vec![hit("a", "00000000")]);
        assert_eq!(outbox.failed(batch), AfterFailure::Retry);
        let batch = outbox.take().0.pop().expect("kept for the second attempt");
        assert_eq!(outbox.failed(batch), AfterFailure::Retry);
        let batch = outbox.take().0.pop().expect("kept for the third attempt");
        assert_eq!(outbox.failed(batch), AfterFailure::Drop);
        assert!(
            outbox.take().0.is_empty(),
            "a dropped batch is not sent again"
        );
    }

    #[test]
    fn a_batch_travels_as_its_id_and_hits_only() {
        let batch = HitBatch {
            id: "ab12".into(),
            hits: vec![hit("post", "f00d")],
            shard: 3,
            attempts: 2,
        };
        let json = serde_json::to_string(&batch).unwrap();
        assert_eq!(
            json,
            r#"{"id":"ab12","hits":[{"slug":"post","reader":"f00d"}]}"#
        );
        let back: HitBatch = serde_json::from_str(&json).unwrap();
        assert_eq!((back.shard, back.attempts), (0, 0));
        assert_eq!(back.hits, batch.hits);
        let counted: Counted = serde_json::from_str(r#"{"counted":4}"#).unwrap();
        assert_eq!(counted.counted, 4);
    }

    #[test]
    fn the_stats_query_names_its_half_life() {
        assert_eq!(half_life_from_query([("half_life", "7")]), 7.0);
        assert_eq!(
            half_life_from_query([("x", "1"), ("half_life", "0.5")]),
            0.5
        );
        // The client writes the number with `{}`: it comes back exactly.
        let sent = 1.0 / 3.0;
        assert_eq!(
            half_life_from_query([("half_life", format!("{sent}"))]),
            sent
        );
    }

    #[test]
    fn a_missing_or_senseless_half_life_is_thirty_days() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(half_life_from_query(none), 30.0);
        for bad in ["", "abc", "0", "-2", "NaN"] {
            assert_eq!(half_life_from_query([("half_life", bad)]), 30.0, "{bad:?}");
        }
        // Only the first half_life counts.
        assert_eq!(
            half_life_from_query([("half_life", "x"), ("half_life", "7")]),
            30.0
        );
    }

    #[test]
    fn daily_rows_are_read_back_ten_half_lives() {
        assert_eq!(horizon_day(20_000, 30.0), 19_700.0);
        // Part of a day counts as a whole one.
        assert_eq!(horizon_day(20_000, 0.25), 19_997.0);
        assert_eq!(horizon_day(20_000, 0.01), 19_999.0);
    }

    #[test]
    fn an_isolate_without_counts_waits_for_the_first_fetch() {
        let memory = StatsMemory::<&str>::new();
        assert_eq!(memory.lookup(T0), Lookup::Wait);
        assert_eq!(memory.current(), None);
    }

    #[test]
    fn fresh_counts_are_used_as_they_are() {
        let memory = fetched_at(T0, "counts");
        assert_eq!(memory.lookup(T0), Lookup::Use(Some("counts")));
        assert_eq!(
            memory.lookup(T0 + STATS_FRESH_MS),
            Lookup::Use(Some("counts"))
        );
    }

    #[test]
    fn stale_counts_are_used_while_a_refresh_runs() {
        let mut memory = fetched_at(T0, "old");
        let later = T0 + STATS_FRESH_MS + 1;
        assert_eq!(memory.lookup(later), Lookup::UseAndRefresh(Some("old")));
        memory.refresh_started();
        // One refresh at a time: the next requests use the old counts and start none.
        assert_eq!(memory.lookup(later + 5), Lookup::Use(Some("old")));
        memory.refreshed(later + 40, Some("new"));
        assert_eq!(memory.lookup(later + 41), Lookup::Use(Some("new")));
    }

    #[test]
    fn requests_arriving_while_the_first_fetch_runs_do_not_wait() {
        let mut memory = StatsMemory::<&str>::new();
        memory.refresh_started();
        assert_eq!(memory.lookup(T0), Lookup::Use(None));
    }

    #[test]
    fn after_a_failed_first_fetch_nobody_waits_again_within_the_window() {
        let mut memory = StatsMemory::<&str>::new();
        memory.refresh_started();
        memory.refreshed(T0, None);
        // No counts to show, and no wait: the next attempt runs in the background.
        assert_eq!(memory.lookup(T0 + 1), Lookup::UseAndRefresh(None));
        assert_eq!(
            memory.lookup(T0 + STATS_FRESH_MS - 1),
            Lookup::UseAndRefresh(None)
        );
        // Past the window a request waits again.
        assert_eq!(memory.lookup(T0 + STATS_FRESH_MS), Lookup::Wait);
    }

    #[test]
    fn a_failed_refresh_keeps_the_counts_and_retries_after_the_window() {
        let mut memory = fetched_at(T0, "counts");
        let failed = T0 + STATS_FRESH_MS + 100;
        memory.refresh_started();
        memory.refreshed(failed, None);
        assert_eq!(memory.current(), Some("counts"));
        assert_eq!(
            memory.lookup(failed + STATS_FRESH_MS),
            Lookup::Use(Some("counts"))
        );
        assert_eq!(
            memory.lookup(failed + STATS_FRESH_MS + 1),
            Lookup::UseAndRefresh(Some("counts"))
        );
    }

    #[test]
    fn a_clock_that_steps_back_leaves_counts_fresh() {
        let memory = fetched_at(T0, "counts");
        assert_eq!(memory.lookup(T0 - 1), Lookup::Use(Some("counts")));
    }

    #[test]
    fn the_timings_are_the_documented_ones() {
        assert_eq!(STATS_TIMEOUT, Duration::from_millis(150));
        assert_eq!(STATS_FRESH_MS, 10_000);
        assert_eq!(FLUSH_DELAY, Duration::from_millis(50));
        assert_eq!(SHARDS, 8);
    }
}
