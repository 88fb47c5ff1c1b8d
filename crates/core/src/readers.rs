//! Who counts as a reader: only real reads of a post are counted, each reader once a day,
//! without cookies and without keeping an IP address.

use crate::hex;
use sha2::{Digest, Sha256};

/// Substrings of user agents that belong to programs, not people (compared lower-case).
const NOT_PEOPLE: [&str; 24] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "archiver",
    "facebookexternalhit",
    "embedly",
    "preview",
    "headless",
    "lighthouse",
    "pagespeed",
    "monitor",
    "uptime",
    "curl",
    "wget",
    "httpie",
    "python",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "node",
    "undici",
    "feed",
];

/// Whether a request for an existing post is a person reading it: not a prefetch or
/// prerender (`Sec-Purpose`, `Purpose`), and not a crawler, feed reader or script.
pub fn is_countable(
    user_agent: Option<&str>,
    sec_purpose: Option<&str>,
    purpose: Option<&str>,
) -> bool {
    let speculative = |h: Option<&str>| {
        h.is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("prefetch") || v.contains("prerender")
        })
    };
    !speculative(sec_purpose) && !speculative(purpose) && is_browser(user_agent)
}

/// Whether a user agent is a person's browser: the part of [`is_countable`] that needs only
/// that header (the edge asks it first, and reads the others only when it says yes).
pub fn is_browser(user_agent: Option<&str>) -> bool {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return false;
    };
    let ua = ua.to_ascii_lowercase();
    ua.starts_with("mozilla/") && !NOT_PEOPLE.iter().any(|p| ua.contains(p))
}

/// What the Worker knows of a reader: a hash of their address and browser, computed per
/// request and never stored. The counter hashes it again with a salt it forgets after a day.
pub fn reader_fingerprint(ip: &str, user_agent: &str) -> String {
    hex::encode(&Sha256::digest(format!("{ip}\n{user_agent}").as_bytes())[..16])
}

/// The key under which one reader's read of one post is remembered for one day. Without the
/// day's random salt, which is deleted when the day ends, nobody can link it to a reader.
pub fn daily_reader_key(salt: &str, fingerprint: &str, slug: &str) -> String {
    hex::encode(&Sha256::digest(format!("{salt}\n{fingerprint}\n{slug}").as_bytes())[..16])
}

/// Which of `shards` counters a reader's reads go to. The same reader always lands on the
/// same shard, so "once per reader per day" holds within each shard.
pub fn shard_of(fingerprint: &str, shards: usize) -> usize {
    let prefix = fingerprint
        .get(..8)
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    prefix as usize % shards.max(1)
}

/// The UTC day number of an instant (days since 1970-01-01).
pub fn day_number(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

    #[test]
    fn browsers_count() {
        assert!(is_countable(Some(FIREFOX), None, None));
        assert!(is_countable(Some(CHROME), None, None));
    }

    #[test]
    fn prefetch_and_prerender_do_not_count() {
        assert!(!is_countable(Some(CHROME), Some("prefetch"), None));
        assert!(!is_countable(
            Some(CHROME),
            Some("prefetch;prerender"),
            None
        ));
        assert!(!is_countable(Some(CHROME), None, Some("prefetch")));
        assert!(is_countable(Some(CHROME), Some(""), None));
    }

    #[test]
    fn bots_scripts_and_missing_agents_do_not_count() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/126.0 Safari/537.36",
            "facebookexternalhit/1.1",
            "curl/8.5.0",
            "python-requests/2.32",
            "node",
            "Feedly/1.0 (+http://www.feedly.com/fetcher.html)",
            "",
            "   ",
        ] {
            assert!(!is_countable(Some(ua), None, None), "{ua}");
        }
        assert!(!is_countable(None, None, None));
    }

    #[test]
    fn reader_keys_change_with_salt_reader_and_post() {
        let a = reader_fingerprint("203.0.113.7", FIREFOX);
        assert_eq!(a, reader_fingerprint("203.0.113.7", FIREFOX));
        assert_ne!(a, reader_fingerprint("203.0.113.8", FIREFOX));
        assert!(!a.contains("203"));
        let key = daily_reader_key("salt1", &a, "post");
        assert_eq!(key.len(), 32);
        assert_ne!(key, daily_reader_key("salt2", &a, "post"));
        assert_ne!(key, daily_reader_key("salt1", &a, "other"));
    }

    #[test]
    fn readers_spread_over_shards_and_stay_on_theirs() {
        let mut seen = [0usize; 8];
        for i in 0..800 {
            let f = reader_fingerprint(&format!("10.0.{}.{}", i / 256, i % 256), FIREFOX);
            let shard = shard_of(&f, 8);
            assert_eq!(shard, shard_of(&f, 8));
            seen[shard] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        assert_eq!(shard_of("not hex", 8), 0);
        assert_eq!(shard_of("ffffffff", 1), 0);
    }

    #[test]
    fn days_are_utc() {
        assert_eq!(day_number(0), 0);
        assert_eq!(day_number(86_399), 0);
        assert_eq!(day_number(86_400), 1);
        assert_eq!(day_number(-1), -1);
    }
}
