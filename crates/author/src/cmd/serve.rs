//! `blog serve`: sync into local KV, serve the site through `wrangler dev`, and on every save
//! in the content folder or the settings sync again and reload the open pages. The proxy in
//! front ([`blog_author::devserver`]) and the watcher ([`blog_author::watch`]) are local
//! only: nothing of them is in the Worker or reaches `wrangler deploy`.

use super::sync::{self, Settle};
use super::Site;
use blog_author::devserver::{self, Shared, State};
use blog_author::watch::{Burst, Snapshot, POLL};
use blog_author::wrangler::{Kv, Place};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const HELP: &str = "\
Sync the content into local dev KV (drafts included, marked as drafts), serve the site at
http://127.0.0.1:<port> through `wrangler dev`, and watch the content folder and the
settings: each save (a burst of saves counts once) syncs what changed and reloads the pages
open in the browser. A save that breaks a post shows its problems, file:line and message,
here and in the browser in place of that post's page; the rest of the site keeps its last
good version, and the next good save recovers by itself. `make dev` runs this.

Usage: blog serve [OPTIONS]

Options:
      --content <DIR>     The posts folder [default: content]
      --settings <FILE>   The site settings [default: site.toml]
      --persist-to <DIR>  The local state folder [default: .wrangler/state]
      --port <PORT>       Where to serve [default: 8787]
  -h, --help              Print help

Environment:
  BLOG_WRANGLER          The wrangler command [default: node_modules/.bin/wrangler]
";

pub fn run(site: &Site, persist_to: Option<PathBuf>, port: u16) -> Result<(), String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let place = Place::Local {
        persist_to: persist_to.clone(),
    };
    // One local KV session for every sync of this run: a save pays for its writes only.
    let kv = Kv::new(place);
    blog_author::highlight::Highlighter::keep_blocks();
    let watched = [site.content.as_path(), site.settings.as_path()];
    let mut seen = Snapshot::take(&watched);
    let shared = Shared::new(State {
        settings_file: site.settings.display().to_string(),
        ..State::default()
    });
    // The first sync runs before wrangler starts: workerd can fail to start while another
    // process writes its state folder.
    let first = sync_once(site, &kv);
    shared.finished(first.problems, first.pages);
    let upstream = free_port()?;
    let mut wrangler = start_wrangler(persist_to.as_deref(), upstream)?;
    wait_until_ready(&mut wrangler, upstream)?;
    {
        let shared = shared.clone();
        std::thread::spawn(move || devserver::serve(listener, upstream, shared));
    }
    println!(
        "Serving http://127.0.0.1:{port}/ (drafts included); watching {} and {}. Ctrl-C stops.",
        site.content.display(),
        site.settings.display()
    );
    let mut burst = Burst::default();
    let clock = Instant::now();
    loop {
        std::thread::sleep(POLL);
        if let Ok(Some(status)) = wrangler.try_wait() {
            return Err(format!("wrangler dev stopped ({status})"));
        }
        let now = Snapshot::take(&watched);
        let changed = seen.changes(&now);
        seen = now;
        if !burst.poll(clock.elapsed().as_millis() as u64, !changed.is_empty()) {
            continue;
        }
        let started = Instant::now();
        let outcome = sync_once(site, &kv);
        let ok = outcome.pages.is_some();
        let problems = outcome.problems.len();
        let pages = shared.finished(outcome.problems, outcome.pages);
        let took = started.elapsed().as_millis();
        if ok {
            println!("synced in {took} ms; reloading {pages} open page(s)");
        } else {
            eprintln!(
                "sync failed in {took} ms ({problems} problem(s) above); the rest of the site \
                 keeps its last good version; showing the problems in {pages} open page(s)"
            );
        }
        // What the sync itself wrote (a renamed post's alias) is not a save of the author's;
        // a save made while it ran is, and gets its own sync.
        let after = Snapshot::take(&watched);
        if !seen.changes(&after).is_empty() {
            burst.poll(clock.elapsed().as_millis() as u64, true);
        }
        seen = after;
    }
}

/// What one sync left: its problems, and each post's address when it published.
struct Outcome {
    problems: Vec<blog_author::diagnostic::Diagnostic>,
    pages: Option<Vec<(String, String)>>,
}

fn sync_once(site: &Site, kv: &Kv) -> Outcome {
    super::new_run();
    let (result, heard) =
        super::hearing(|| sync::publish(site, kv, true, false, false, Settle::NoWindow));
    match result {
        Ok(published) => Outcome {
            problems: heard,
            pages: Some(published.pages),
        },
        Err(e) => {
            eprintln!("blog: {e}");
            let mut problems = heard;
            if problems.is_empty() {
                // A failure that is no post's (KV, the lease): every page says so.
                problems.push(blog_author::diagnostic::Diagnostic::error(
                    "blog sync",
                    0,
                    e,
                ));
            }
            Outcome {
                problems,
                pages: None,
            }
        }
    }
}

fn free_port() -> Result<SocketAddr, String> {
    let probe = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("no free port: {e}"))?;
    probe.local_addr().map_err(|e| format!("no free port: {e}"))
}

/// `wrangler dev` on `upstream`, its version window shortened so that a sync shows at the
/// next request. It stays in this process's group: Ctrl-C stops both.
fn start_wrangler(
    persist_to: Option<&std::path::Path>,
    upstream: SocketAddr,
) -> Result<Child, String> {
    let wrangler =
        std::env::var("BLOG_WRANGLER").unwrap_or_else(|_| "node_modules/.bin/wrangler".into());
    let inspector = free_port()?;
    let mut cmd = Command::new(&wrangler);
    cmd.args(["dev", "--ip", "127.0.0.1", "--port"])
        .arg(upstream.port().to_string())
        .arg("--inspector-port")
        .arg(inspector.port().to_string())
        .arg("--show-interactive-dev-session=false")
        .arg("--var")
        .arg(format!("{}:0", blog_core::kv::RECHECK_VAR))
        .env("WRANGLER_SEND_METRICS", "false")
        .stdin(Stdio::null());
    if let Some(dir) = persist_to {
        cmd.arg("--persist-to").arg(dir);
    }
    cmd.spawn()
        .map_err(|e| format!("cannot run {wrangler} (run `make tools` to install it): {e}"))
}

fn wait_until_ready(wrangler: &mut Child, upstream: SocketAddr) -> Result<(), String> {
    // Its first start may build the Worker (`wrangler.toml`'s [build]): minutes, not seconds.
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = wrangler.try_wait() {
            return Err(format!(
                "wrangler dev stopped before it was ready ({status})"
            ));
        }
        if ready(upstream) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = wrangler.kill();
    Err("wrangler dev was not ready after 15 min".into())
}

/// Whether the Worker answers its stylesheet, which needs no KV.
fn ready(upstream: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&upstream, Duration::from_secs(1))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let asked = stream
        .write_all(b"GET /style.css HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .is_ok();
    let mut answer = [0u8; 12];
    asked && stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.1 200")
}
