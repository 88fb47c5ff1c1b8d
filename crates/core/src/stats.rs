//! What the author may learn about reads without tracking anyone: which site referred a read
//! (its host, nothing more), how long daily rows are kept, who may ask (a secret token,
//! compared in constant time), and the report the stats endpoint answers and `blog stats`
//! prints.

use crate::date::civil_from_days;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// How many days of daily rows a counter keeps when the settings name no other number.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;
/// The fewest days a setting may keep: the report shows the last 30.
pub const MIN_RETENTION_DAYS: u32 = 30;
/// The most days a setting may keep (ten years): storage stays bounded.
pub const MAX_RETENTION_DAYS: u32 = 3660;
/// The report's window: daily counts for the last this many days, today included.
pub const REPORT_DAYS: usize = 30;
/// The most distinct referring hosts one counter records for one day; referrals from further
/// hosts that day are counted under [`OTHER_HOSTS`], so a flood of made-up referrers cannot
/// grow storage.
pub const MAX_HOSTS_PER_DAY: usize = 100;
/// What referrals past [`MAX_HOSTS_PER_DAY`] are counted under. No referring host has this
/// name: a host has a dot.
pub const OTHER_HOSTS: &str = "other";
/// The most hosts one counter's report names (the most referrals first).
pub const MAX_REPORT_HOSTS: usize = 1000;
/// The longest host name DNS allows.
pub const MAX_HOST_BYTES: usize = 253;
/// The stats endpoint's path. It is linked from no page, and without the right token it
/// answers the ordinary 404.
pub const STATS_PATH: &str = "/_stats";

/// The host of a `Referer` when it names another site: only an `http(s)` URL's host, lower
/// case, without port, user or path. `None` for anything else: no header, a URL of this
/// site (any of `own_hosts`, with or without `www.`), an address (`203.0.113.7`, `[::1]`:
/// that could be the reader's own machine), a name without a dot (`localhost`, an intranet
/// machine), or something that is no host name at all.
pub fn referring_host(referer: &str, own_hosts: &[&str]) -> Option<String> {
    let referer = referer.trim();
    let rest = strip_prefix_ignore_case(referer, "https://")
        .or_else(|| strip_prefix_ignore_case(referer, "http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.starts_with('[') {
        return None;
    }
    let host = match host_port.split_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return None,
        None => host_port,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if !is_host_name(&host) || host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let bare = |h: &str| h.strip_prefix("www.").unwrap_or(h).to_string();
    let own = own_hosts
        .iter()
        .map(|h| bare(&h.trim_end_matches('.').to_ascii_lowercase()))
        .any(|h| h == bare(&host));
    (!own).then_some(host)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Whether `host` is a host name as [`referring_host`] keeps them: lower-case letters,
/// digits and hyphens in dot-separated labels of 1 to 63 bytes, at least two labels, at most
/// [`MAX_HOST_BYTES`]. The counter checks it again on what it is sent.
pub fn is_host_name(host: &str) -> bool {
    host.len() <= MAX_HOST_BYTES
        && host.contains('.')
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// What a referral is recorded under on its day: its host, or [`OTHER_HOSTS`] when the day
/// already has [`MAX_HOSTS_PER_DAY`] hosts and this is not one of them.
pub fn referral_row(host: &str, known_today: bool, hosts_today: usize) -> &str {
    if known_today || hosts_today < MAX_HOSTS_PER_DAY {
        host
    } else {
        OTHER_HOSTS
    }
}

/// The retention a setting asks for, within [`MIN_RETENTION_DAYS`] and [`MAX_RETENTION_DAYS`].
pub fn retention_days(setting: u32) -> u32 {
    setting.clamp(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)
}

/// The oldest day a counter keeps daily rows for, seen from `today`: the last `retention`
/// days, today included. Older rows are rolled up: a post's all-time total already holds
/// its reads, so its daily rows go; referring hosts' rows go.
pub fn retention_cutoff(today: i64, retention: u32) -> i64 {
    today - i64::from(retention_days(retention)) + 1
}

/// Whether the counter should roll up old rows now: once a day, the first time it counts
/// on a day after its last roll-up (`None`: never rolled up).
pub fn roll_up_due(last_rolled_up: Option<i64>, today: i64) -> bool {
    last_rolled_up.is_none_or(|day| day < today)
}

/// The query of a batch (or a report) asked of a counter: the site's retention rides along,
/// so the counter knows which days to roll up.
pub fn retention_query(retention: u32) -> String {
    format!("retention={}", retention_days(retention))
}

/// The retention a batch's query names ([`DEFAULT_RETENTION_DAYS`] when none does).
pub fn retention_from_query(query: &str) -> u32 {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("retention="))
        .and_then(|v| v.parse().ok())
        .map_or(DEFAULT_RETENTION_DAYS, retention_days)
}

/// The stats token a request carries: `Authorization: Bearer <token>`.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let token = strip_prefix_ignore_case(value, "bearer ")?.trim();
    (!token.is_empty()).then_some(token)
}

/// Whether `given` is the stats token. Both are hashed first and the hashes compared byte by
/// byte without stopping early, so the time taken says nothing about how much of the token
/// was right, nor its length. No token configured (or an empty one) lets nobody in.
pub fn token_matches(expected: Option<&str>, given: Option<&str>) -> bool {
    let (Some(expected), Some(given)) = (expected, given) else {
        return false;
    };
    if expected.is_empty() {
        return false;
    }
    let (a, b) = (Sha256::digest(expected), Sha256::digest(given));
    a.iter().zip(b.iter()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// What one counter object answers for the report: every slug's all-time total, its daily
/// rows within the report's window, and its referring hosts over the days it keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardReport {
    /// `(slug, all-time reads)`.
    pub totals: Vec<(String, u64)>,
    /// `(slug, day number, reads)` for the days from [`report_first_day`] on.
    pub daily: Vec<(String, i64, u64)>,
    /// `(host, reads in the window, reads over every day kept)`.
    pub referrers: Vec<(String, u64, u64)>,
}

/// What the stats endpoint answers: each counter's [`ShardReport`] as the counter sent it,
/// the day, the retention, and the slugs reads were counted under that now name another
/// post. The Worker writes it around the counters' own JSON ([`answer_json`]), parsing
/// nothing; `blog stats` makes the report of it ([`StatsAnswer::report`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsAnswer {
    /// The UTC day number of the answer.
    pub today: i64,
    pub retention_days: u32,
    /// A former slug, and the post it belongs to now.
    #[serde(default)]
    pub renamed: BTreeMap<String, String>,
    pub shards: Vec<ShardReport>,
}

impl StatsAnswer {
    /// The report: the counters summed, a renamed post's reads its own.
    pub fn report(self) -> StatsReport {
        let renamed = self.renamed;
        report(self.today, self.retention_days, self.shards, |slug| {
            renamed
                .get(slug)
                .cloned()
                .unwrap_or_else(|| slug.to_string())
        })
    }
}

/// A [`StatsAnswer`]'s JSON from its parts. Each of `shards` is one counter's answer, a
/// `ShardReport` in JSON, put in as it is; `renamed` gives, for each former slug, the post
/// it names now.
pub fn answer_json<'a>(
    today: i64,
    retention: u32,
    renamed: impl Iterator<Item = (&'a str, &'a str)>,
    shards: &[String],
) -> String {
    // One insert at a time: `collect` would link a sort into the Worker for this alone.
    let mut map = BTreeMap::new();
    for (from, to) in renamed {
        map.insert(from, to);
    }
    let renamed = map;
    let renamed = serde_json::to_string(&renamed).unwrap_or_else(|_| "{}".into());
    format!(
        "{{\"today\":{today},\"retention_days\":{},\"renamed\":{renamed},\"shards\":[{}]}}",
        retention_days(retention),
        shards.join(",")
    )
}

/// The first day of the report's window seen from `today`.
pub fn report_first_day(today: i64) -> i64 {
    today - REPORT_DAYS as i64 + 1
}

/// One post in the report. Reads counted under a post's former slugs are its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostReads {
    pub slug: String,
    pub total: u64,
    pub last_7_days: u64,
    pub last_30_days: u64,
    /// Reads on each of the last 30 days, oldest first (the last is today).
    pub daily: Vec<u64>,
}

/// One referring site in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referrer {
    pub host: String,
    pub last_30_days: u64,
    /// Over every day the counters keep ([`StatsReport::retention_days`]).
    pub total: u64,
}

/// What the stats endpoint answers: read counts per post, the site's reads per day, and the
/// sites readers came from. Days are UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    /// Today, `YYYY-MM-DD`: the last of the daily counts.
    pub today: String,
    /// The first day of the daily counts.
    pub first_day: String,
    pub retention_days: u32,
    /// In no order ([`StatsReport::ranked`] puts the most read first).
    pub posts: Vec<PostReads>,
    /// The site's reads on each of the last 30 days, oldest first.
    pub site_daily: Vec<u64>,
    /// In no order ([`StatsReport::ranked`] puts the most referrals first).
    pub referrers: Vec<Referrer>,
}

impl StatsReport {
    /// The report in the order `blog stats` prints it: posts most read first (all time,
    /// then the last 30 days, then by slug), referring sites with the most referrals in the
    /// last 30 days first (then all kept days, then by host). The Worker answers the
    /// report unsorted: ordering is the reader's work, and keeps sorting code out of it.
    pub fn ranked(mut self) -> Self {
        self.posts.sort_by(|a, b| {
            (b.total, b.last_30_days)
                .cmp(&(a.total, a.last_30_days))
                .then_with(|| a.slug.cmp(&b.slug))
        });
        self.referrers.sort_by(|a, b| {
            (b.last_30_days, b.total)
                .cmp(&(a.last_30_days, a.total))
                .then_with(|| a.host.cmp(&b.host))
        });
        self
    }
}

/// `YYYY-MM-DD` of a UTC day number.
pub fn day_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The report from every counter's answer, seen from `today`. `counted_as` names the post a
/// slug's reads belong to now (a renamed post's old slug gives its current one).
pub fn report(
    today: i64,
    retention: u32,
    shards: Vec<ShardReport>,
    counted_as: impl Fn(&str) -> String,
) -> StatsReport {
    let first = report_first_day(today);
    let mut posts: HashMap<String, PostReads> = HashMap::new();
    fn post(posts: &mut HashMap<String, PostReads>, slug: String) -> &mut PostReads {
        posts.entry(slug).or_insert_with_key(|slug| PostReads {
            slug: slug.clone(),
            total: 0,
            last_7_days: 0,
            last_30_days: 0,
            daily: vec![0; REPORT_DAYS],
        })
    }
    let mut site_daily = vec![0u64; REPORT_DAYS];
    let mut hosts: HashMap<String, Referrer> = HashMap::new();
    for shard in shards {
        for (slug, total) in shard.totals {
            post(&mut posts, counted_as(&slug)).total += total;
        }
        for (slug, day, reads) in shard.daily {
            let Some(i) = usize::try_from(day - first)
                .ok()
                .filter(|i| *i < REPORT_DAYS)
            else {
                continue;
            };
            let p = post(&mut posts, counted_as(&slug));
            p.daily[i] += reads;
            p.last_30_days += reads;
            if i >= REPORT_DAYS - 7 {
                p.last_7_days += reads;
            }
            site_daily[i] += reads;
        }
        for (host, recent, total) in shard.referrers {
            let r = hosts.entry(host).or_insert_with_key(|host| Referrer {
                host: host.clone(),
                last_30_days: 0,
                total: 0,
            });
            r.last_30_days += recent;
            r.total += total;
        }
    }
    let posts = posts.into_values().collect();
    let referrers = hosts.into_values().collect();
    StatsReport {
        today: day_date(today),
        first_day: day_date(first),
        retention_days: retention_days(retention),
        posts,
        site_daily,
        referrers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &[&str] = &["blog.example.com"];

    #[test]
    fn a_referring_site_is_the_host_of_an_external_url_and_nothing_more() {
        for (referer, host) in [
            (
                "https://news.ycombinator.com/item?id=123",
                "news.ycombinator.com",
            ),
            ("https://News.YCombinator.com/", "news.ycombinator.com"),
            ("http://lobste.rs", "lobste.rs"),
            (
                "https://user:secret@example.org:8443/private/path#frag",
                "example.org",
            ),
            (
                "HTTPS://www.reddit.com/r/rust/comments/abc/",
                "www.reddit.com",
            ),
            ("https://duckduckgo.com./", "duckduckgo.com"),
            ("  https://a.b.c/  ", "a.b.c"),
        ] {
            assert_eq!(
                referring_host(referer, OWN).as_deref(),
                Some(host),
                "{referer}"
            );
        }
    }

    #[test]
    fn the_sites_own_pages_addresses_and_odd_referers_refer_nothing() {
        for referer in [
            "https://blog.example.com/posts/x",
            "https://www.blog.example.com/",
            "http://BLOG.example.com:8080/",
            "https://203.0.113.7/",
            "http://[2001:db8::1]/",
            "http://localhost:8787/",
            "http://intranet/",
            "android-app://com.google.android.gm/",
            "about:blank",
            "file:///home/me/page.html",
            "",
            "https://",
            "https://exa mple.com/",
            "https://ex_ample.com/",
            "https://-bad.example/",
            "https://example.com:port/",
            "https://пример.рф/",
        ] {
            assert_eq!(referring_host(referer, OWN), None, "{referer:?}");
        }
        let long = format!("https://{}.com/", "a".repeat(250));
        assert_eq!(referring_host(&long, OWN), None);
        // The request's host and the configured one are both the site's own.
        assert_eq!(
            referring_host("http://127.0.0.1:8787/", &["127.0.0.1"]),
            None
        );
        assert_eq!(
            referring_host(
                "https://x.workers.dev/",
                &["blog.example.com", "x.workers.dev"]
            ),
            None
        );
    }

    #[test]
    fn a_day_past_its_hundredth_host_counts_further_hosts_as_other() {
        assert_eq!(referral_row("a.com", false, 0), "a.com");
        assert_eq!(referral_row("a.com", false, MAX_HOSTS_PER_DAY - 1), "a.com");
        assert_eq!(referral_row("a.com", false, MAX_HOSTS_PER_DAY), OTHER_HOSTS);
        assert_eq!(referral_row("a.com", true, MAX_HOSTS_PER_DAY), "a.com");
        assert!(
            !is_host_name(OTHER_HOSTS),
            "no host can be taken for the rest"
        );
    }

    #[test]
    fn daily_rows_are_kept_for_the_retention_then_rolled_up_once_a_day() {
        assert_eq!(DEFAULT_RETENTION_DAYS, 400);
        // 400 days, today included.
        assert_eq!(retention_cutoff(20_000, 400), 19_601);
        // Too few days to show a report, or too many to bound storage: the bounds.
        assert_eq!(retention_cutoff(20_000, 1), 20_000 - 29);
        assert_eq!(retention_cutoff(20_000, 0), 20_000 - 29);
        assert_eq!(retention_cutoff(20_000, 100_000), 20_000 - 3659);
        assert!(roll_up_due(None, 5));
        assert!(roll_up_due(Some(4), 5));
        assert!(!roll_up_due(Some(5), 5));
        assert!(
            !roll_up_due(Some(6), 5),
            "a clock that steps back rolls up nothing"
        );
        // The setting travels with each batch.
        assert_eq!(retention_from_query(&retention_query(60)), 60);
        assert_eq!(
            retention_from_query(&retention_query(5)),
            MIN_RETENTION_DAYS
        );
        assert_eq!(retention_from_query(""), DEFAULT_RETENTION_DAYS);
        assert_eq!(retention_from_query("retention=x"), DEFAULT_RETENTION_DAYS);
    }

    #[test]
    fn only_the_exact_token_opens_the_stats() {
        let token = Some("s3cret-token");
        assert!(token_matches(token, Some("s3cret-token")));
        for wrong in [
            Some("s3cret-tokeN"),
            Some("s3cret-token "),
            Some(""),
            Some("s"),
            None,
        ] {
            assert!(!token_matches(token, wrong), "{wrong:?}");
        }
        // Without a configured token, nothing opens them, not even an empty one.
        assert!(!token_matches(None, Some("")));
        assert!(!token_matches(Some(""), Some("")));
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer   abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn the_report_sums_the_counters_folds_old_slugs_and_counts_windows() {
        let today = 20_000;
        let first = report_first_day(today);
        assert_eq!(first, 19_971);
        let a = ShardReport {
            totals: vec![
                ("post".into(), 10),
                ("old-name".into(), 4),
                ("quiet".into(), 2),
            ],
            daily: vec![
                ("post".into(), today, 2),
                ("post".into(), today - 6, 1),
                ("post".into(), today - 7, 3),
                ("old-name".into(), first, 4),
                // Outside the window: in the total, not in the days.
                ("post".into(), first - 1, 9),
            ],
            referrers: vec![
                ("lobste.rs".into(), 1, 5),
                ("news.ycombinator.com".into(), 3, 3),
            ],
        };
        let b = ShardReport {
            totals: vec![("post".into(), 1)],
            daily: vec![("post".into(), today, 1)],
            referrers: vec![("lobste.rs".into(), 2, 2)],
        };
        let renamed = |slug: &str| match slug {
            "old-name" => "renamed".to_string(),
            s => s.to_string(),
        };
        let r = report(today, 400, vec![a, b], renamed).ranked();
        assert_eq!(
            (r.today.as_str(), r.first_day.as_str()),
            ("2024-10-04", "2024-09-05")
        );
        let slugs: Vec<&str> = r.posts.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["post", "renamed", "quiet"]);
        let post = &r.posts[0];
        assert_eq!(
            (post.total, post.last_7_days, post.last_30_days),
            (11, 4, 7)
        );
        assert_eq!(post.daily.len(), REPORT_DAYS);
        assert_eq!((post.daily[29], post.daily[23], post.daily[22]), (3, 1, 3));
        assert_eq!(r.posts[1].daily[0], 4);
        assert_eq!(r.site_daily[29], 3);
        assert_eq!(r.site_daily.iter().sum::<u64>(), 11);
        let hosts: Vec<(&str, u64, u64)> = r
            .referrers
            .iter()
            .map(|h| (h.host.as_str(), h.last_30_days, h.total))
            .collect();
        assert_eq!(hosts, [("lobste.rs", 3, 7), ("news.ycombinator.com", 3, 3)]);
        // It travels as JSON and comes back the same.
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<StatsReport>(&json).unwrap(), r);
    }

    #[test]
    fn the_endpoint_wraps_the_counters_json_and_blog_stats_reads_it_back() {
        let shard = ShardReport {
            totals: vec![("old-name".into(), 4), ("post".into(), 1)],
            daily: vec![("old-name".into(), 20_000, 4)],
            referrers: vec![("lobste.rs".into(), 1, 1)],
        };
        let shards = [
            serde_json::to_string(&shard).unwrap(),
            serde_json::to_string(&ShardReport::default()).unwrap(),
        ];
        let renamed = [("old-name", "renamed"), ("a\"b", "c")];
        let json = answer_json(20_000, 10, renamed.into_iter(), &shards);
        let answer: StatsAnswer = serde_json::from_str(&json).expect(&json);
        assert_eq!(
            (answer.today, answer.retention_days, answer.shards.len()),
            (20_000, MIN_RETENTION_DAYS, 2)
        );
        assert_eq!(answer.renamed["a\"b"], "c", "names are escaped");
        let r = answer.report().ranked();
        let posts: Vec<(&str, u64, u64)> = r
            .posts
            .iter()
            .map(|p| (p.slug.as_str(), p.total, p.daily[29]))
            .collect();
        assert_eq!(posts, [("renamed", 4, 4), ("post", 1, 0)]);
        assert_eq!(r.referrers[0].host, "lobste.rs");
        let none = answer_json(20_000, 400, std::iter::empty(), &[]);
        assert_eq!(
            serde_json::from_str::<StatsAnswer>(&none).unwrap().report(),
            report(20_000, 400, vec![], str::to_string)
        );
    }

    #[test]
    fn a_site_without_reads_reports_thirty_empty_days() {
        let r = report(20_000, 10, vec![ShardReport::default()], str::to_string);
        assert!(r.posts.is_empty() && r.referrers.is_empty());
        assert_eq!(r.site_daily, vec![0; 30]);
        assert_eq!(r.retention_days, MIN_RETENTION_DAYS);
    }
}
