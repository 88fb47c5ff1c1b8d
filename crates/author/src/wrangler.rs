//! Workers KV as `blog sync` reaches it: the account's namespace through wrangler, local dev
//! state through one Miniflare session (`tools/kv-local.mjs`) opened as wrangler opens it.
//! Each call is one step that fails, or times out, with a message saying what stopped and
//! what to do.

use crate::assets::{self, FileInfo};
use blog_core::kv::{self, KeyMeta};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which namespace a sync writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Local dev state, in `persist_to` (wrangler's own default, `.wrangler/state`, when none).
    Local { persist_to: Option<PathBuf> },
    /// The Cloudflare account's namespace.
    Remote,
}

/// The `POSTS` namespace: the account's through wrangler, local dev state through one
/// Miniflare session (`tools/kv-local.mjs`) that a sync opens at its first step and keeps.
pub struct Kv {
    place: Place,
    wrangler: String,
    session: Mutex<Option<Session>>,
}

impl Kv {
    /// The namespace at `place`, through `BLOG_WRANGLER` (default: this repository's
    /// wrangler) when remote and `BLOG_NODE` (default: `node`) when local.
    pub fn new(place: Place) -> Self {
        let wrangler =
            std::env::var("BLOG_WRANGLER").unwrap_or_else(|_| "node_modules/.bin/wrangler".into());
        Self {
            place,
            wrangler,
            session: Mutex::new(None),
        }
    }

    /// Whose KV this is, for "Syncing … to {place} KV".
    pub fn place(&self) -> &'static str {
        match self.place {
            Place::Remote => "the account's",
            Place::Local { .. } => "local dev",
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.wrangler);
        cmd.args(["kv"])
            .args(args)
            .args(["--binding", "POSTS", "--remote"]);
        cmd.env("WRANGLER_SEND_METRICS", "false");
        cmd
    }

    /// Where this namespace is.
    pub fn location(&self) -> &Place {
        &self.place
    }

    /// How long a location of this namespace may serve a key's previous value after a
    /// write: `BLOG_KV_STALE_MS` when set, else none for local state (one store, read
    /// where it is written) and [`kv::REMOTE_STALE_MS`] for the account's.
    pub fn stale_window(&self) -> Duration {
        let ms = std::env::var("BLOG_KV_STALE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(match self.place {
                Place::Local { .. } => 0,
                Place::Remote => kv::REMOTE_STALE_MS,
            });
        Duration::from_millis(ms)
    }

    /// One key's value, remotely (`None` when there is none): for the sync lease.
    pub fn get_key(&self, key: &str) -> Result<Option<String>, String> {
        let out = self.run(&["key", "get", key, "--text"])?;
        Ok(Some(out.trim_end_matches('\n').to_string())
            .filter(|v| !v.is_empty() && v.trim() != "Value not found"))
    }

    /// Writes the sync lease remotely, to expire by itself after [`crate::lease::LEASE_SECONDS`].
    pub fn put_lease(&self, key: &str, value: &str) -> Result<(), String> {
        let ttl = crate::lease::LEASE_SECONDS.to_string();
        self.run(&["key", "put", key, value, "--ttl", &ttl])
            .map(drop)
    }

    /// Deletes one key, remotely.
    pub fn delete_key(&self, key: &str) -> Result<(), String> {
        self.run(&["key", "delete", key]).map(drop)
    }

    /// Runs one wrangler command as a [`run_step`].
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let what = format!("wrangler kv {}", args.join(" "));
        let cannot = format!(
            "cannot run {} (run `make tools` to install wrangler)",
            self.wrangler
        );
        run_step(&what, &cannot, self.command(args))
    }

    /// Sends one request to the local session, starting it at the first.
    fn ask(&self, what: &str, request: serde_json::Value) -> Result<serde_json::Value, String> {
        let Place::Local { persist_to } = &self.place else {
            unreachable!("only local KV has a session")
        };
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if session.is_none() {
            *session = Some(Session::start(persist_to.as_deref())?);
        }
        let answer = session.as_mut().expect("started").ask(what, &request);
        if answer.is_err() {
            // A session that failed once is not trusted with the next step.
            *session = None;
        }
        answer
    }

    /// Every key with its stored metadata (`None` for a key that carries none).
    pub fn list(&self) -> Result<BTreeMap<String, Option<KeyMeta>>, String> {
        #[derive(serde::Deserialize)]
        struct Key {
            name: String,
            metadata: Option<KeyMeta>,
        }
        let keys: Vec<Key> = match &self.place {
            Place::Remote => {
                let out = self.run(&["key", "list"])?;
                let json = out.find('[').map(|i| &out[i..]).unwrap_or(&out);
                serde_json::from_str(json)
                    .map_err(|e| format!("cannot read the key list from wrangler: {e}\n{out}"))?
            }
            Place::Local { .. } => {
                let answer = self.ask("local KV key list", serde_json::json!({"op": "list"}))?;
                serde_json::from_value(answer["keys"].clone())
                    .map_err(|e| format!("cannot read the local key list: {e}"))?
            }
        };
        Ok(keys.into_iter().map(|k| (k.name, k.metadata)).collect())
    }

    /// Writes entries in batches that stay well inside wrangler's bulk limits, with a
    /// progress line for long syncs.
    pub fn put_in_batches(&self, what: &str, entries: &[serde_json::Value]) -> Result<(), String> {
        const MAX_BATCH_BYTES: usize = 50 * 1024 * 1024;
        const MAX_BATCH_KEYS: usize = 500;
        let mut done = 0;
        let mut batch: Vec<&serde_json::Value> = Vec::new();
        let mut bytes = 0;
        for (i, entry) in entries.iter().enumerate() {
            let size = entry["value"].as_str().map_or(0, str::len);
            if !batch.is_empty()
                && (bytes + size > MAX_BATCH_BYTES || batch.len() == MAX_BATCH_KEYS)
            {
                self.bulk_put(what, &batch)?;
                done += batch.len();
                progress(what, done, entries.len());
                batch.clear();
                bytes = 0;
            }
            batch.push(entry);
            bytes += size;
            if i + 1 == entries.len() {
                self.bulk_put(what, &batch)?;
                done += batch.len();
                progress(what, done, entries.len());
            }
        }
        Ok(())
    }

    /// Uploads files (paths inside `content`), one call each, with a progress line.
    pub fn put_files(&self, content: &Path, files: &[(&str, &FileInfo)]) -> Result<(), String> {
        for (i, (path, info)) in files.iter().enumerate() {
            self.put_file(content, path, info)?;
            progress("files", i + 1, files.len());
        }
        Ok(())
    }

    /// Uploads image variants, each from the file the encoder (or the cache) left it in.
    pub fn put_variants(&self, uploads: &[crate::images::Upload]) -> Result<(), String> {
        for (i, upload) in uploads.iter().enumerate() {
            let path = upload
                .path
                .to_str()
                .ok_or_else(|| format!("{}: the path is not UTF-8", upload.path.display()))?;
            self.put_path(&upload.key, path, &upload.meta)?;
            progress("image variants", i + 1, uploads.len());
        }
        Ok(())
    }

    /// Stores the bytes of the file at `path` under `key`, as they are.
    fn put_path(&self, key: &str, path: &str, meta: &KeyMeta) -> Result<(), String> {
        match self.place {
            Place::Local { .. } => self
                .ask(
                    &format!("local KV key put {key}"),
                    serde_json::json!({"op": "put-file", "key": key, "path": path, "metadata": meta}),
                )
                .map(drop),
            Place::Remote => {
                let meta = serde_json::to_string(meta).expect("metadata serialises");
                self.run(&["key", "put", key, "--path", path, "--metadata", &meta])
                    .map(drop)
            }
        }
    }

    /// Uploads one file (`path` inside `content`) under its content-addressed key. One
    /// `kv key put --path` per file remotely: wrangler 4.86's `kv bulk put` turns
    /// `"base64": true` values into text on the way, which mangles any byte that is not
    /// UTF-8, while `key put --path` stores the bytes as they are. Locally the session
    /// stores the file's bytes as they are too.
    fn put_file(&self, content: &Path, path: &str, info: &FileInfo) -> Result<(), String> {
        let full = content.join(path);
        // The key names these exact bytes: make sure the file is still what was checked.
        let bytes =
            std::fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
        if assets::inspect(path, &bytes).hash != info.hash {
            return Err(format!(
                "{} changed during the sync: run `blog sync` again",
                full.display()
            ));
        }
        let meta = KeyMeta {
            hash: info.hash.clone(),
            file: None,
            content_type: Some(info.content_type.to_string()),
            card: None,
        };
        let full = full
            .to_str()
            .ok_or_else(|| format!("{}: the path is not UTF-8", full.display()))?;
        self.put_path(&info.key(), full, &meta)
    }

    /// Whether a bulk put stores base64 values as bytes: the local session does; wrangler
    /// 4.86's `kv bulk put` does not (see [`Self::put_file`]).
    pub fn bulk_keeps_bytes(&self) -> bool {
        matches!(self.place, Place::Local { .. })
    }

    /// Uploads rendered files (a post's social card) one call each, from a temporary file,
    /// as [`Self::put_file`] does; with a progress line.
    pub fn put_rendered(
        &self,
        files: &[(String, Vec<u8>)],
        meta: fn(&str) -> KeyMeta,
    ) -> Result<(), String> {
        for (i, (key, bytes)) in files.iter().enumerate() {
            let file = TempFile::write("card", bytes)?;
            let meta = serde_json::to_value(meta(key)).expect("metadata serialises");
            match self.place {
                Place::Local { .. } => self
                    .ask(
                        &format!("local KV key put {key}"),
                        serde_json::json!({"op": "put-file", "key": key, "path": file.path_str(), "metadata": meta}),
                    )
                    .map(drop)?,
                Place::Remote => {
                    let meta = serde_json::to_string(&meta).expect("metadata serialises");
                    self.run(&["key", "put", key, "--path", file.path_str(), "--metadata", &meta])
                        .map(drop)?
                }
            }
            progress("cards", i + 1, files.len());
        }
        Ok(())
    }

    fn bulk_put(&self, what: &str, entries: &[&serde_json::Value]) -> Result<(), String> {
        let file = TempFile::write(
            "put",
            &serde_json::to_vec(entries).expect("entries serialise"),
        )?;
        match self.place {
            Place::Local { .. } => self
                .ask(
                    &format!("local KV bulk put of {what}"),
                    serde_json::json!({"op": "put", "file": file.path_str()}),
                )
                .map(drop),
            Place::Remote => self.run(&["bulk", "put", file.path_str()]).map(drop),
        }
    }

    /// Deletes keys, in one bulk call.
    pub fn bulk_delete(&self, keys: &[String]) -> Result<(), String> {
        let file = TempFile::write("delete", &serde_json::to_vec(keys).expect("keys serialise"))?;
        match self.place {
            Place::Local { .. } => self
                .ask(
                    "local KV bulk delete",
                    serde_json::json!({"op": "delete", "file": file.path_str()}),
                )
                .map(drop),
            Place::Remote => self
                .run(&["bulk", "delete", file.path_str(), "--force"])
                .map(drop),
        }
    }
}

/// One `tools/kv-local.mjs` for the length of a sync: a request a line in, an answer a
/// line out. It runs in a [`Group`] of its own, like a wrangler step, and each request has
/// the timeout a step has; a session that fails or hangs is killed with its children.
struct Session {
    group: Group,
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<String>,
    stderr: Receiver<String>,
    timeout: Duration,
}

impl Session {
    fn start(persist_to: Option<&Path>) -> Result<Self, String> {
        let persist = persist_to.unwrap_or(Path::new(".wrangler/state"));
        let node = std::env::var("BLOG_NODE").unwrap_or_else(|_| "node".into());
        let cannot = format!("cannot run {node} (Node.js 20 or later is needed)");
        let group = Group::new().map_err(|e| format!("{cannot}: {e}"))?;
        let mut child = Command::new(&node)
            .arg("tools/kv-local.mjs")
            .arg(persist)
            .arg(namespace_id()?)
            .process_group(group.id())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{cannot}: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        let (tx, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = drain(Box::new(child.stderr.take().expect("piped")));
        Ok(Self {
            group,
            child,
            stdin,
            answers,
            stderr,
            timeout: Duration::from_secs(step_timeout()),
        })
    }

    /// Sends `request` and waits for its answer; `what` names the step in an error.
    fn ask(
        &mut self,
        what: &str,
        request: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let what = format!("{what} (tools/kv-local.mjs)");
        let rerun =
            "Nothing already written is lost or half-written: run `blog sync` again to finish.";
        let sent = self
            .stdin
            .as_mut()
            .is_some_and(|stdin| writeln!(stdin, "{request}").is_ok() && stdin.flush().is_ok());
        let line = if sent {
            self.answers.recv_timeout(self.timeout)
        } else {
            Err(RecvTimeoutError::Disconnected)
        };
        match line {
            Ok(line) => {
                let answer: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
                    format!("{what} answered what is not JSON ({e}). {rerun}\n{line}")
                })?;
                if answer["ok"] == true {
                    Ok(answer)
                } else {
                    let error = answer["error"].as_str().unwrap_or("no reason given");
                    Err(format!("{what} failed: {error}. {rerun}"))
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                self.group.kill();
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(format!(
                    "{what} timed out after {} s. {rerun}",
                    self.timeout.as_secs()
                ))
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.stdin = None;
                let status = self.child.wait().map_err(|e| e.to_string())?;
                let stderr = self
                    .stderr
                    .recv_timeout(Duration::from_secs(5))
                    .unwrap_or_default();
                Err(format!("{what} failed ({status}). {rerun}\n{stderr}"))
            }
        }
    }
}

impl Drop for Session {
    /// Closes the session's input, so it closes Miniflare and ends; one that does not end
    /// soon is killed with its children.
    fn drop(&mut self) {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Ok(None) = self.child.try_wait() {
            if Instant::now() >= deadline {
                self.group.kill();
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Seconds one step (a wrangler call, one request to the local session) may take:
/// `BLOG_WRANGLER_TIMEOUT`, 300 unless set.
fn step_timeout() -> u64 {
    std::env::var("BLOG_WRANGLER_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

/// Runs one step of a sync (a wrangler call, or the local key listing) and returns what it
/// printed; a failure or a hang (past `BLOG_WRANGLER_TIMEOUT` seconds, default 300) is an
/// error that says which step stopped (`what`), and what to do. `cannot` says why the step
/// may not start at all. A hung step is killed with everything it started.
pub fn run_step(what: &str, cannot: &str, cmd: Command) -> Result<String, String> {
    run_within(what, cannot, cmd, step_timeout())
}

fn run_within(what: &str, cannot: &str, mut cmd: Command, timeout: u64) -> Result<String, String> {
    let group = Group::new().map_err(|e| format!("{cannot}: {e}"))?;
    let mut child = cmd
        .process_group(group.id())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cannot}: {e}"))?;
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                group.kill();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // After a timeout, whatever still holds the pipes is not worth waiting for.
    let output = |rx: Receiver<String>| match status {
        Some(_) => rx.recv().unwrap_or_default(),
        None => rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default(),
    };
    let (stdout, stderr) = (output(stdout), output(stderr));
    let rerun = "Nothing already written is lost or half-written: run `blog sync` again to finish.";
    match status {
        None => Err(format!("{what} timed out after {timeout} s. {rerun}")),
        Some(status) if !status.success() => Err(format!(
            "{what} failed ({status}). {rerun}\n{stdout}{stderr}"
        )),
        Some(_) => Ok(stdout),
    }
}

/// Reads a pipe to its end on a thread of its own, so a full pipe never stalls the step.
fn drain(mut pipe: Box<dyn std::io::Read + Send>) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        let _ = tx.send(String::from_utf8_lossy(&out).into_owned());
    });
    rx
}

/// The process group one step runs in, so that a hung step is killed with everything it
/// started: `wrangler` is a launcher that runs the real CLI (which runs workerd) as
/// children, and killing only the launcher leaves them running, holding our pipes open and
/// still able to write after we gave up on them.
///
/// Its leader is a sentry, a `sh` that waits for its standard input, a pipe only `blog`
/// holds, to close, and then kills the group. A group of its own takes the step out of the
/// group a terminal's Ctrl-C (or a kill of `make sync`'s group) reaches; the sentry keeps
/// the step from outliving `blog` and writing on after the author stopped the sync.
struct Group {
    sentry: Child,
}

impl Group {
    fn new() -> std::io::Result<Self> {
        let sentry = Command::new("sh")
            // `0`: every process in the sentry's own group.
            .args(["-c", "read -r line; kill -KILL 0"])
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self { sentry })
    }

    /// The group's id, for [`CommandExt::process_group`].
    fn id(&self) -> i32 {
        self.sentry.id() as i32
    }

    /// Kills every process in the group.
    fn kill(&self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Group {
    /// The step is over: the sentry goes, and leaves alone whatever the step left behind.
    fn drop(&mut self) {
        let _ = self.sentry.kill();
        let _ = self.sentry.wait();
    }
}

/// A progress line, on standard error, for writes of more than one key.
fn progress(what: &str, done: usize, total: usize) {
    if total > 1 {
        eprintln!("  [{done}/{total}] {what} written");
    }
}

/// The id of the `POSTS` namespace in wrangler.toml: local storage is filed under it.
fn namespace_id() -> Result<String, String> {
    let text = std::fs::read_to_string("wrangler.toml")
        .map_err(|e| format!("cannot read wrangler.toml: {e}"))?;
    posts_namespace_id(&text)
}

fn posts_namespace_id(wrangler_toml: &str) -> Result<String, String> {
    let config: toml::Table =
        toml::from_str(wrangler_toml).map_err(|e| format!("wrangler.toml: {e}"))?;
    config
        .get("kv_namespaces")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .find(|ns| ns.get("binding").and_then(|b| b.as_str()) == Some("POSTS"))
        .and_then(|ns| ns.get("id").and_then(|id| id.as_str()))
        .map(str::to_string)
        .ok_or_else(|| {
            "wrangler.toml has no [[kv_namespaces]] with binding = \"POSTS\" and an id".into()
        })
}

/// A file for wrangler's bulk commands, removed when dropped. Named after this process, so a
/// killed sync's leftover is easy to find (and is overwritten by nothing else).
struct TempFile(PathBuf);

impl TempFile {
    fn write(kind: &str, bytes: &[u8]) -> Result<Self, String> {
        let path =
            std::env::temp_dir().join(format!("blog-sync-{kind}-{}.json", std::process::id()));
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    fn path_str(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    /// Whether a process still runs (a zombie, dead but not reaped, does not).
    fn alive(pid: &str) -> bool {
        Command::new("ps")
            .args(["-o", "stat=", "-p", pid])
            .output()
            .is_ok_and(|out| {
                let stat = String::from_utf8_lossy(&out.stdout);
                !stat.trim().is_empty() && !stat.trim_start().starts_with('Z')
            })
    }

    fn gone_within(pid: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while alive(pid) {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("blog-wrangler-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_step_that_succeeds_returns_what_it_printed() {
        let out = run_within(
            "echo",
            "cannot run sh",
            sh("echo listed; echo noise >&2"),
            30,
        );
        assert_eq!(out.unwrap(), "listed\n");
    }

    #[test]
    fn a_step_that_fails_says_which_step_stopped_and_to_run_sync_again_with_its_output() {
        let e = run_within(
            "wrangler kv bulk put x",
            "cannot",
            sh("echo out; echo err >&2; exit 3"),
            30,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "wrangler kv bulk put x failed (exit status: 3). Nothing already written is lost or half-written: run `blog sync` again to finish.\nout\nerr\n"
        );
    }

    #[test]
    fn a_step_that_cannot_start_says_what_to_install() {
        let e = run_within(
            "wrangler kv key list",
            "cannot run /nonexistent/wrangler (run `make tools` to install wrangler)",
            Command::new("/nonexistent/wrangler"),
            30,
        )
        .unwrap_err();
        assert!(
            e.starts_with(
                "cannot run /nonexistent/wrangler (run `make tools` to install wrangler): "
            ),
            "{e}"
        );
    }

    #[test]
    fn a_step_that_hangs_past_its_timeout_is_killed_with_everything_it_started() {
        // A launcher whose child hangs, as wrangler's does: the child's pid goes to a file.
        let pid_file = temp_path("hang");
        let script = format!("sleep 60 & echo $! > {}; wait", pid_file.display());
        let start = Instant::now();
        let e = run_within("listing local KV", "cannot", sh(&script), 1).unwrap_err();
        assert_eq!(
            e,
            "listing local KV timed out after 1 s. Nothing already written is lost or half-written: run `blog sync` again to finish."
        );
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "gave up after {:?}",
            start.elapsed()
        );
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let _ = std::fs::remove_file(&pid_file);
        assert!(
            gone_within(pid.trim(), Duration::from_secs(5)),
            "the hung child {pid} still runs"
        );
    }

    #[test]
    fn a_step_left_running_when_blog_goes_is_killed_by_its_sentry() {
        let mut group = Group::new().unwrap();
        let mut step = Command::new("sleep")
            .arg("60")
            .process_group(group.id())
            .spawn()
            .unwrap();
        // What happens to the sentry's input when blog exits or is killed.
        drop(group.sentry.stdin.take());
        let start = Instant::now();
        let status = loop {
            if let Some(status) = step.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the step outlived blog"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }

    #[test]
    fn a_step_that_ends_by_itself_leaves_what_it_started_alone() {
        // As before process groups: only a hung step is killed with its children.
        let pid_file = temp_path("leftover");
        let script = format!(
            "sleep 60 > /dev/null 2>&1 & echo $! > {}",
            pid_file.display()
        );
        run_within("step", "cannot", sh(&script), 30).unwrap();
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let _ = std::fs::remove_file(&pid_file);
        std::thread::sleep(Duration::from_millis(200));
        assert!(alive(pid.trim()), "the step's leftover {pid} was killed");
        let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
    }

    #[test]
    fn the_posts_namespace_id_is_read_from_wrangler_toml() {
        let toml = "name = \"blog\"\n[[kv_namespaces]]\nbinding = \"OTHER\"\nid = \"no\"\n[[kv_namespaces]]\nbinding = \"POSTS\"\nid = \"abc123\"\n";
        assert_eq!(posts_namespace_id(toml).unwrap(), "abc123");
        let e = posts_namespace_id("name = \"blog\"\n").unwrap_err();
        assert_eq!(
            e,
            "wrangler.toml has no [[kv_namespaces]] with binding = \"POSTS\" and an id"
        );
    }

    #[test]
    fn a_temp_file_for_wrangler_is_removed_when_dropped() {
        let file = TempFile::write("test", b"[]").unwrap();
        let path = file.0.clone();
        assert_eq!(std::fs::read(&path).unwrap(), b"[]");
        drop(file);
        assert!(!path.exists());
    }
}
