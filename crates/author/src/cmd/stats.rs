//! `blog stats`: the read report of the local dev site or, with `--remote`, the deployed one,
//! fetched from the Worker's stats endpoint and printed as text.

use super::Site;
use blog_author::{source, stats};
use blog_core::stats::StatsAnswer;
use std::process::Command;

pub const HELP: &str = "\
Print what is read: each post's reads (all time, the last 7 and 30 days, and a sparkline of
the last 30 days), the site's reads per day and the sites readers came from (only their
host). Counted as Popular Reads counts: no bots, no prefetches, a reader once a day.

Without --remote it asks the local dev site (`make dev`, http://127.0.0.1:8787), with the
token STATS_TOKEN from .dev.vars, which `make dev` makes. With --remote it asks the deployed
site at site.toml's base_url, with the token the Worker was given by
`npx wrangler secret put STATS_TOKEN`, read from BLOG_STATS_TOKEN.

Usage: blog stats [OPTIONS]

Options:
      --remote           Ask the deployed site instead of local dev
      --url <URL>        Ask the site at this address instead
      --json             Print the report as JSON (posts, site_daily, referrers) instead
      --settings <FILE>  The site settings, for base_url [default: site.toml]
  -h, --help             Print help

Environment:
  BLOG_STATS_TOKEN  The stats token (needed with --remote; for local dev, over .dev.vars)
  BLOG_NODE         The node that makes the request [default: node]
";

pub fn run(site: &Site, remote: bool, url: Option<&str>, json: bool) -> Result<(), String> {
    let base = match (url, remote) {
        (Some(url), _) => url.to_string(),
        (None, true) => {
            source::load_settings(&site.settings)
                .map_err(|d| d.to_string())?
                .base_url
        }
        (None, false) => stats::LOCAL_URL.to_string(),
    };
    let token = match std::env::var(stats::TOKEN_ENV) {
        Ok(token) if !token.is_empty() => token,
        _ if remote => {
            return Err(format!(
                "--remote needs the stats token in {}: the value given to `npx wrangler secret put STATS_TOKEN`",
                stats::TOKEN_ENV
            ))
        }
        _ => std::fs::read_to_string(stats::DEV_VARS)
            .ok()
            .and_then(|text| stats::dev_vars_token(&text))
            .ok_or_else(|| {
                format!(
                    "no stats token: {} has no STATS_TOKEN (`make dev` writes one), and {} is not set",
                    stats::DEV_VARS,
                    stats::TOKEN_ENV
                )
            })?,
    };
    let endpoint = stats::endpoint(&base);
    let node = std::env::var("BLOG_NODE").unwrap_or_else(|_| "node".into());
    let output = Command::new(&node)
        .arg("tools/stats-get.mjs")
        .arg(&endpoint)
        .env(stats::TOKEN_ENV, &token)
        .output()
        .map_err(|e| format!("cannot run {node} (Node.js 20 or later is needed): {e}"))?;
    let said = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(3) => {
            return Err(format!(
                "{endpoint} answered 404: the token is not the Worker's STATS_TOKEN, or the Worker has none"
            ))
        }
        _ if !remote && url.is_none() && said.starts_with("cannot reach") => {
            return Err(format!(
                "cannot read the stats: {} (is `make dev` running?)",
                said.trim()
            ))
        }
        _ => return Err(format!("cannot read the stats: {}", said.trim())),
    }
    let answer: StatsAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{endpoint} answered something other than stats: {e}"))?;
    let report = answer.report().ranked();
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", stats::render(&base, &report));
    }
    Ok(())
}
