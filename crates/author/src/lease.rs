//! One sync at a time per namespace. Two syncs that interleaved (a CI job on push and the
//! author's laptop, say) could each write half of what they planned, and the site would show
//! a mix; so a sync holds a lease from before it lists KV until its last write.
//!
//! - Local dev state lives on this machine: the lease is an exclusive lock on a file in the
//!   state folder (`flock`). The system lets it go when the sync ends however it ends, a kill
//!   included, so a sync that died blocks nothing.
//! - The account's namespace is shared by machines: the lease is a KV key of its own
//!   ([`LEASE_KEY`]) naming its holder and how long it holds, written with an expiry, so a
//!   sync that died blocks the next one for at most [`LEASE_SECONDS`]. A sync renews it as it
//!   goes and deletes it when done. A second sync waits while the lease is held, and stops
//!   with a message naming the holder if it is held for longer than it waits.

use crate::wrangler::{Kv, Place};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The key of the account namespace's lease. The Worker never reads it, and sync's plan
/// leaves alone every key outside the layout it writes.
pub const LEASE_KEY: &str = "sync-lease";
/// How long a remote lease holds unless renewed (KV expires it after this: its shortest
/// expiry is 60 s).
pub const LEASE_SECONDS: i64 = 120;
/// How long a second sync waits for the lease before it stops.
pub const WAIT_SECONDS: u64 = 600;
/// A remote lease is renewed once this much of it has passed.
const RENEW_AFTER_SECONDS: i64 = LEASE_SECONDS / 3;
/// Between writing a remote lease and trusting it: a sync that wrote at the same moment and
/// won has written by then.
const CONFIRM_AFTER: Duration = Duration::from_secs(2);

/// What a lease key says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// Unique to one sync.
    pub token: String,
    /// Who holds it, for the other sync's message: host, process, when it began.
    pub holder: String,
    /// Unix seconds until which it holds.
    pub until: i64,
}

/// Whether a sync with `token` may go ahead, given what the lease key holds at `now`.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// No lease, or one that has run out.
    Free,
    /// This sync's own.
    Ours,
    /// Another sync's, until `until`.
    Held { holder: String, until: i64 },
}

/// The rule: a lease binds everyone but its holder until it runs out. A key that is not a
/// lease record (written by hand, or half of one) binds nobody.
pub fn claim(current: Option<&str>, token: &str, now: i64) -> Claim {
    let Some(record) = current.and_then(|text| serde_json::from_str::<LeaseRecord>(text).ok())
    else {
        return Claim::Free;
    };
    if record.token == token {
        Claim::Ours
    } else if record.until <= now {
        Claim::Free
    } else {
        Claim::Held {
            holder: record.holder,
            until: record.until,
        }
    }
}

/// A held lease; dropping it lets it go.
pub enum Lease<'a> {
    Local(#[allow(dead_code)] File),
    Remote {
        kv: &'a Kv,
        record: LeaseRecord,
        written: i64,
    },
}

impl<'a> Lease<'a> {
    /// Takes the lease of `place`, waiting (up to [`WAIT_SECONDS`]) while another sync holds
    /// it. `say` gets a line when this sync has to wait.
    pub fn take(kv: &'a Kv, say: &mut dyn FnMut(&str)) -> Result<Self, String> {
        match kv.location() {
            Place::Local { persist_to } => {
                let dir = persist_to
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(".wrangler/state"));
                take_local(&dir, say).map(Lease::Local)
            }
            Place::Remote => take_remote(kv, say),
        }
    }

    /// Renews a remote lease that is a third gone; call it between the steps of a sync.
    pub fn renew(&mut self) -> Result<(), String> {
        if let Lease::Remote {
            kv,
            record,
            written,
        } = self
        {
            let now = unix_now();
            if now - *written >= RENEW_AFTER_SECONDS {
                record.until = now + LEASE_SECONDS;
                kv.put_lease(
                    LEASE_KEY,
                    &serde_json::to_string(record).expect("serialises"),
                )?;
                *written = now;
            }
        }
        Ok(())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // A local lock goes with its file. A remote lease that cannot be deleted now runs out
        // by itself.
        if let Lease::Remote { kv, .. } = self {
            let _ = kv.delete_key(LEASE_KEY);
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Who this sync is, for another sync's message.
fn holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "a machine".into());
    let started = blog_core::date::format_rfc3339(unix_now());
    format!(
        "`blog sync` on {host}, process {}, since {started}",
        std::process::id()
    )
}

/// The lock file of a local state folder.
pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join("blog-sync.lock")
}

fn take_local(dir: &Path, say: &mut dyn FnMut(&str)) -> Result<File, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = lock_path(dir);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let start = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if start.elapsed() >= Duration::from_secs(WAIT_SECONDS) {
                    return Err(format!(
                        "another sync still holds {} after {WAIT_SECONDS} s ({}): nothing was \
                         written; run `blog sync` again once it has finished",
                        path.display(),
                        std::fs::read_to_string(&path).unwrap_or_default().trim()
                    ));
                }
                // The holder names itself just after it takes the lock: give it a moment.
                let by = match said {
                    true => String::new(),
                    false => std::fs::read_to_string(&path).unwrap_or_default(),
                };
                let by = by.trim();
                if !said && (!by.is_empty() || start.elapsed() >= Duration::from_secs(1)) {
                    let by = if by.is_empty() {
                        "another `blog sync`"
                    } else {
                        by
                    };
                    say(&format!(
                        "Waiting for another sync to finish ({by}; it holds {})…",
                        path.display()
                    ));
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
    }
    // Say who holds it, for a sync that comes while this one runs.
    file.set_len(0)
        .and_then(|()| file.write_all(holder().as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(file)
}

fn take_remote<'a>(kv: &'a Kv, say: &mut dyn FnMut(&str)) -> Result<Lease<'a>, String> {
    let token = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let start = Instant::now();
    let mut said = false;
    loop {
        let current = kv.get_key(LEASE_KEY)?;
        match claim(current.as_deref(), &token, unix_now()) {
            Claim::Ours => unreachable!("a new token is nobody's yet"),
            Claim::Held { holder, until } => {
                if start.elapsed() >= Duration::from_secs(WAIT_SECONDS) {
                    let until = blog_core::date::format_rfc3339(until);
                    return Err(format!(
                        "another sync ({holder}) still holds the account's KV after \
                         {WAIT_SECONDS} s: nothing was written. Its lease runs out at {until} \
                         if that sync is gone; run `blog sync --remote` again then"
                    ));
                }
                if !said {
                    say(&format!("Waiting for another sync to finish ({holder})…"));
                    said = true;
                }
                std::thread::sleep(Duration::from_secs(5));
            }
            Claim::Free => {
                let now = unix_now();
                let record = LeaseRecord {
                    token: token.clone(),
                    holder: holder(),
                    until: now + LEASE_SECONDS,
                };
                kv.put_lease(
                    LEASE_KEY,
                    &serde_json::to_string(&record).expect("serialises"),
                )?;
                std::thread::sleep(CONFIRM_AFTER);
                // Two syncs that both found it free both wrote it: the one whose write
                // stands goes ahead, the other waits.
                if claim(kv.get_key(LEASE_KEY)?.as_deref(), &token, unix_now()) == Claim::Ours {
                    return Ok(Lease::Remote {
                        kv,
                        record,
                        written: now,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(token: &str, until: i64) -> String {
        serde_json::to_string(&LeaseRecord {
            token: token.into(),
            holder: format!("sync {token}"),
            until,
        })
        .unwrap()
    }

    #[test]
    fn a_lease_binds_everyone_but_its_holder_until_it_runs_out() {
        assert_eq!(claim(None, "a", 100), Claim::Free);
        assert_eq!(claim(Some(&record("a", 200)), "a", 100), Claim::Ours);
        assert_eq!(
            claim(Some(&record("b", 200)), "a", 100),
            Claim::Held {
                holder: "sync b".into(),
                until: 200
            }
        );
        assert_eq!(claim(Some(&record("b", 200)), "a", 200), Claim::Free);
        assert_eq!(claim(Some("not a lease"), "a", 100), Claim::Free);
    }

    #[test]
    fn a_local_lock_is_held_once_and_goes_with_its_holder() {
        let dir = std::env::temp_dir().join(format!("blog-lease-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = take_local(&dir, &mut |_| {}).unwrap();
        let again = OpenOptions::new()
            .write(true)
            .open(lock_path(&dir))
            .unwrap();
        assert!(matches!(again.try_lock(), Err(TryLockError::WouldBlock)));
        let said = std::fs::read_to_string(lock_path(&dir)).unwrap();
        assert!(
            said.contains(&format!("process {}", std::process::id())),
            "{said}"
        );
        drop(first);
        assert!(
            again.try_lock().is_ok(),
            "the lock goes when its holder does"
        );
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
