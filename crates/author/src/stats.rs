//! `blog stats` on the author's machine: where the site's stats endpoint is, which token
//! opens it, and the report printed as text with sparklines.

use blog_core::stats::{StatsReport, REPORT_DAYS, STATS_PATH};
use std::fmt::Write;

/// Where `make dev` serves the site.
pub const LOCAL_URL: &str = "http://127.0.0.1:8787";
/// The environment variable that holds the token; `--remote` needs it.
pub const TOKEN_ENV: &str = "BLOG_STATS_TOKEN";
/// The file `wrangler dev` reads the local Worker's secrets from.
pub const DEV_VARS: &str = ".dev.vars";

/// The stats endpoint of the site at `base` (`https://blog.example.com`).
pub fn endpoint(base: &str) -> String {
    format!("{}{STATS_PATH}", base.trim_end_matches('/'))
}

/// The `STATS_TOKEN` a `.dev.vars` file sets (`KEY=value` lines, the value optionally
/// quoted), as wrangler reads it.
pub fn dev_vars_token(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| line.trim().split_once('='))
        .filter(|(key, _)| key.trim() == "STATS_TOKEN")
        .map(|(_, value)| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .to_string()
        })
        .rfind(|v| !v.is_empty())
}

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One character a day: `▁` for none, then `▂` to `█` by the day's share of the busiest day,
/// so a day with one read never looks like a day with none.
pub fn sparkline(days: &[u64]) -> String {
    let max = days.iter().copied().max().unwrap_or(0);
    days.iter()
        .map(|&n| {
            if n == 0 || max == 0 {
                return LEVELS[0];
            }
            let level = (n * 7).div_ceil(max) as usize;
            LEVELS[level.clamp(1, 7)]
        })
        .collect()
}

/// The widest a slug or host is printed before it is cut with `…`.
const NAME_WIDTH: usize = 64;

fn cut(name: &str) -> String {
    if name.chars().count() <= NAME_WIDTH {
        return name.to_string();
    }
    let mut s: String = name.chars().take(NAME_WIDTH - 1).collect();
    s.push('…');
    s
}

/// The report as `blog stats` prints it: reads per post (all time, 7 and 30 days, and a
/// sparkline of 30 days), the site's reads per day, and the referring sites.
pub fn render(site: &str, report: &StatsReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Reads on {site}, {} to {} (UTC days; daily counts kept {} days)",
        report.first_day, report.today, report.retention_days
    );
    let width = report
        .posts
        .iter()
        .map(|p| cut(&p.slug).chars().count())
        .chain(
            report
                .referrers
                .iter()
                .map(|r| cut(&r.host).chars().count()),
        )
        .chain(["Referring sites".len(), "Post".len()])
        .max()
        .unwrap_or(4);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>7}  {:>5}  {:>5}  last {REPORT_DAYS} days",
        "Post", "total", "7d", "30d"
    );
    if report.posts.is_empty() {
        let _ = writeln!(out, "(no reads yet)");
    }
    for p in &report.posts {
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>5}  {:>5}  {}",
            cut(&p.slug),
            p.total,
            p.last_7_days,
            p.last_30_days,
            sparkline(&p.daily)
        );
    }
    let total: u64 = report.site_daily.iter().sum();
    let _ = writeln!(
        out,
        "\nThe site, reads per day: {} ({total} in {REPORT_DAYS} days)",
        sparkline(&report.site_daily)
    );
    let first = blog_core::date::days_from_civil(
        report.first_day[..4].parse().unwrap_or(1970),
        report.first_day[5..7].parse().unwrap_or(1),
        report.first_day[8..10].parse().unwrap_or(1),
    );
    for (i, n) in report.site_daily.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}  {n:>5}",
            blog_core::stats::day_date(first + i as i64)
        );
    }
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>7}  {:>5}",
        "Referring sites", "total", "30d"
    );
    if report.referrers.is_empty() {
        let _ = writeln!(out, "(none yet)");
    }
    for r in &report.referrers {
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>5}",
            cut(&r.host),
            r.total,
            r.last_30_days
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use blog_core::stats::{report, ShardReport};

    #[test]
    fn a_sparkline_has_a_character_a_day_and_tells_none_from_few() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), "▁▂▃▅█");
        assert_eq!(sparkline(&[0, 0, 0]), "▁▁▁");
        assert_eq!(sparkline(&[1, 100]), "▂█");
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[0; 30]).chars().count(), 30);
    }

    #[test]
    fn the_local_token_is_read_from_dev_vars_as_wrangler_does() {
        let text = "# local secrets\nOTHER=1\nSTATS_TOKEN = \"abc123\"\n";
        assert_eq!(dev_vars_token(text).as_deref(), Some("abc123"));
        assert_eq!(
            dev_vars_token("STATS_TOKEN=x\nSTATS_TOKEN=y\n").as_deref(),
            Some("y")
        );
        assert_eq!(dev_vars_token("STATS_TOKEN=\n"), None);
        assert_eq!(dev_vars_token(""), None);
        assert_eq!(
            endpoint("https://blog.example.com/"),
            "https://blog.example.com/_stats"
        );
    }

    #[test]
    fn the_report_prints_posts_days_and_referring_sites() {
        let today = 20_000;
        let shard = ShardReport {
            totals: vec![("a-post".into(), 12), ("quiet".into(), 0)],
            daily: vec![
                ("a-post".into(), today, 3),
                ("a-post".into(), today - 10, 6),
            ],
            referrers: vec![("news.ycombinator.com".into(), 2, 5)],
        };
        let r = report(today, 400, vec![shard], str::to_string);
        let text = render("http://127.0.0.1:8787", &r);
        assert!(
            text.starts_with("Reads on http://127.0.0.1:8787, 2024-09-05 to 2024-10-04"),
            "{text}"
        );
        let line = text.lines().find(|l| l.starts_with("a-post")).unwrap();
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[..4], ["a-post", "12", "3", "9"], "{line}");
        assert_eq!(cells[4].chars().count(), 30);
        assert!(cells[4].ends_with('▅') && cells[4].contains('█'), "{line}");
        assert!(text.contains("(9 in 30 days)"), "{text}");
        assert!(text.contains("  2024-10-04      3\n"), "{text}");
        assert!(text.contains("  2024-09-24      6\n"), "{text}");
        let host = text.lines().find(|l| l.starts_with("news.")).unwrap();
        assert_eq!(
            host.split_whitespace().collect::<Vec<_>>(),
            ["news.ycombinator.com", "5", "2"]
        );
    }

    #[test]
    fn an_empty_report_says_so() {
        let r = report(20_000, 400, vec![], str::to_string);
        let text = render("x", &r);
        assert!(
            text.contains("(no reads yet)") && text.contains("(none yet)"),
            "{text}"
        );
    }
}
