//! The local front of `blog serve`: an HTTP proxy on the author's port in front of
//! `wrangler dev`, which adds what only local dev has and the Worker never sees.
//!
//! - Every HTML page gets a small reload script (an `EventSource` on [`EVENTS_PATH`]) with a
//!   nonce of its own, which the page's Content-Security-Policy is widened to allow: the
//!   deployed policy allows no script, and the Worker does not know this exists.
//! - When the last sync failed, the pages of the posts that failed (every page, when the
//!   settings did) show the problems, `file:line: message`, in place of the page; the others
//!   show their last good version, which is what local KV still holds.
//! - HTML is answered `no-store`, without validators: a reload always shows the latest sync.
//!
//! The proxy asks `wrangler dev` for each request on a connection of its own
//! (`Connection: close`, no compression) and answers the browser the same way.

use crate::diagnostic::{Diagnostic, Severity};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The event stream pages listen on for "a sync finished".
pub const EVENTS_PATH: &str = "/_blog/events";
/// The largest request head and body the proxy reads, and the longest upstream answer.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 32 * 1024 * 1024;

/// What the pages show: which sync they are at, and the problems of the last one.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// Bumped at every finished sync, failed or not: pages at an older one reload.
    pub generation: u64,
    /// The last sync's errors, none when it published.
    pub problems: Vec<Diagnostic>,
    /// The address of each post file, from the last sync that published.
    pub pages: Vec<(String, String)>,
    /// The settings file, whose errors break every page.
    pub settings_file: String,
}

impl State {
    /// The problems to show in place of the page at `path`: those of the post whose page it
    /// is (known from the last good sync, else from its file name), or all of them when the
    /// settings file or a file that is no post failed; none when the page is fine.
    pub fn problems_for(&self, path: &str) -> Vec<&Diagnostic> {
        let errors: Vec<&Diagnostic> = self
            .problems
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if errors.is_empty() {
            return errors;
        }
        let everywhere = errors
            .iter()
            .any(|d| d.file == self.settings_file || !d.file.ends_with(".md"));
        if everywhere {
            return errors;
        }
        let path = path.trim_end_matches('/');
        let hit: Vec<&Diagnostic> = errors
            .iter()
            .copied()
            .filter(|d| self.page_of(&d.file).iter().any(|page| page == path))
            .collect();
        hit
    }

    /// Where the post in `file` is: where the last good sync put it, and where its file
    /// name says (a new post, or one whose slug the broken front matter no longer shows).
    fn page_of(&self, file: &str) -> Vec<String> {
        let mut pages: Vec<String> = self
            .pages
            .iter()
            .filter(|(f, _)| f == file)
            .map(|(_, page)| page.clone())
            .collect();
        if let Some(stem) = std::path::Path::new(file).file_stem() {
            pages.push(blog_core::routes::post_path(&stem.to_string_lossy()));
        }
        pages
    }
}

/// The reload script, for a page made at `generation` of the server started as `epoch`.
/// It reloads when a later sync finishes, or when the server restarted, once: the stream is
/// closed first, so a reconnect while the new page is still loading cannot start the
/// navigation again (each `reload()` cancels the one in flight).
pub fn reload_script(epoch: &str, generation: u64, nonce: &str) -> String {
    format!(
        "<script nonce=\"{nonce}\">(function(){{var s=new EventSource(\"{EVENTS_PATH}?at={epoch}-{generation}\");\
         s.onmessage=function(){{s.close();location.reload()}}}})()</script>"
    )
}

/// `html` with `script` before its closing `</body>` (at the end when it has none).
pub fn inject(html: &str, script: &str) -> String {
    let at = html.rfind("</body>").unwrap_or(html.len());
    let mut out = String::with_capacity(html.len() + script.len());
    out.push_str(&html[..at]);
    out.push_str(script);
    out.push_str(&html[at..]);
    out
}

/// A Content-Security-Policy that also lets the script with `nonce` run: the policy's own
/// `script-src`, if it has one, gains the nonce; else one that allows only it is added.
pub fn allow_nonce(csp: &str, nonce: &str) -> String {
    let source = format!("'nonce-{nonce}'");
    let mut found = false;
    let mut directives: Vec<String> = csp
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.split_whitespace().next() == Some("script-src") {
                found = true;
                let rest: Vec<&str> = d
                    .split_whitespace()
                    .skip(1)
                    .filter(|s| *s != "'none'")
                    .collect();
                format!("script-src {source} {}", rest.join(" "))
                    .trim_end()
                    .to_string()
            } else {
                d.to_string()
            }
        })
        .collect();
    if !found {
        directives.push(format!("script-src {source}"));
    }
    directives.join("; ")
}

/// The page shown in place of one whose post does not build.
pub fn problem_page(problems: &[&Diagnostic], script: &str) -> String {
    let mut list = String::new();
    for problem in problems {
        list.push_str("<li><code>");
        list.push_str(&escape(&problem.to_string()));
        list.push_str("</code></li>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sync failed</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n\
         <body>\n<main>\n<h1>This page does not build</h1>\n\
         <p>The last save has problems; the rest of the site shows its last good version. \
         Fix them and save: this page reloads by itself.</p>\n<ul class=\"problems\">\n{list}</ul>\n\
         </main>\n{script}</body>\n</html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A nonce for one page: 128 bits from the system's random source, as hex.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut random) = std::fs::File::open("/dev/urandom") {
        let _ = random.read_exact(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The proxy's shared state, and the signal that a sync finished.
pub struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// This server's start, so that a page from an earlier one reloads.
    epoch: String,
    /// How many pages are listening now.
    listening: Mutex<usize>,
}

impl Shared {
    pub fn new(state: State) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(state),
            changed: Condvar::new(),
            epoch: nonce()[..8].to_string(),
            listening: Mutex::new(0),
        })
    }

    /// Records a finished sync (its problems, or the pages it published) and tells every
    /// open page. Returns how many pages were listening.
    pub fn finished(
        &self,
        problems: Vec<Diagnostic>,
        pages: Option<Vec<(String, String)>>,
    ) -> usize {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.problems = problems;
        if let Some(pages) = pages {
            state.pages = pages;
        }
        drop(state);
        self.changed.notify_all();
        *self.listening.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot(&self) -> State {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Serves the proxy on `listener`, forwarding to `upstream`, until the process ends.
pub fn serve(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    for stream in listener.incoming().flatten() {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let _ = connection(stream, upstream, &shared);
        });
    }
}

/// A request as the browser sent it.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> std::io::Result<Option<Request>> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        first.next().unwrap_or_default().to_string(),
        first.next().unwrap_or_default().to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = header(&headers, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn connection(mut stream: TcpStream, upstream: SocketAddr, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let Some(request) = read_request(&stream)? else {
        return Ok(());
    };
    let path = request
        .target
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    if path == EVENTS_PATH {
        return events(stream, &request.target, shared);
    }
    let (status, headers, body) = match forward(&request, upstream) {
        Ok(answer) => answer,
        Err(e) => {
            let body = format!("blog serve: wrangler dev did not answer ({e})\n").into_bytes();
            let headers = vec![("content-type".into(), "text/plain; charset=utf-8".into())];
            ("502 Bad Gateway".to_string(), headers, body)
        }
    };
    let html = header(&headers, "content-type").is_some_and(|t| t.starts_with("text/html"));
    if !html {
        return respond(&mut stream, &status, headers, &body, &request.method);
    }
    let state = shared.snapshot();
    let nonce = nonce();
    let script = reload_script(&shared.epoch, state.generation, &nonce);
    let problems = state.problems_for(&path);
    let (status, body) = if problems.is_empty() {
        (status, inject(&String::from_utf8_lossy(&body), &script))
    } else {
        (
            "500 Internal Server Error".to_string(),
            problem_page(&problems, &script),
        )
    };
    let headers = headers
        .into_iter()
        .filter(|(n, _)| !matches!(n.as_str(), "etag" | "last-modified" | "cache-control"))
        .map(|(n, v)| match n.as_str() {
            "content-security-policy" => (n, allow_nonce(&v, &nonce)),
            _ => (n, v),
        })
        .chain([("cache-control".to_string(), "no-store".to_string())])
        .collect();
    respond(
        &mut stream,
        &status,
        headers,
        body.as_bytes(),
        &request.method,
    )
}

/// An answer as read: its status line's rest, its headers (names in lower case), its body.
type Answer = (String, Vec<(String, String)>, Vec<u8>);

/// Asks `wrangler dev` for `request`, on a connection of its own: (status, headers, body).
fn forward(request: &Request, upstream: SocketAddr) -> std::io::Result<Answer> {
    let mut up = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in &request.headers {
        // Every answer whole and uncompressed, to read to its end; no validators, so a
        // page is always made again (with the latest sync's content and a fresh nonce).
        if matches!(
            name.as_str(),
            "connection"
                | "keep-alive"
                | "accept-encoding"
                | "if-none-match"
                | "if-modified-since"
                | "content-length"
                | "transfer-encoding"
                | "upgrade"
        ) {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !request.body.is_empty() || !matches!(request.method.as_str(), "GET" | "HEAD") {
        head.push_str(&format!("content-length: {}\r\n", request.body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&request.body)?;
    // Read to the answer's own end (its length, or its last chunk), not to the connection's:
    // wrangler dev keeps a connection open for its keep-alive timeout (5 s) despite
    // `connection: close`, and a page waiting on that would take 5 s to reload.
    let head_only = request.method == "HEAD";
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while answer.len() < MAX_BODY && !is_complete(&answer, head_only) {
        match up.read(&mut buf)? {
            0 => break,
            n => answer.extend_from_slice(&buf[..n]),
        }
    }
    parse_response(&answer, head_only)
}

/// The head of an HTTP/1.1 response: its status (`200 OK`), its headers with lower-case
/// names, and where its body starts in the raw bytes.
struct Head {
    status: String,
    headers: Vec<(String, String)>,
    body_start: usize,
}

/// How a response's body ends.
enum Framing {
    /// No body at all: an answer to HEAD, or a 1xx, 204 or 304.
    None,
    Chunked,
    Length(usize),
    /// At the connection's end.
    Close,
}

/// The head of `raw`, once all of it has arrived.
fn split_head(raw: &[u8]) -> Option<Head> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_once(' ')?.1.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Head {
        status,
        headers,
        body_start: end + 4,
    })
}

impl Head {
    fn framing(&self, head_only: bool) -> Framing {
        let code = self
            .status
            .split(' ')
            .next()
            .and_then(|c| c.parse::<u16>().ok());
        if head_only || matches!(code, Some(100..=199 | 204 | 304)) {
            Framing::None
        } else if header(&self.headers, "transfer-encoding").is_some_and(|t| t.contains("chunked"))
        {
            Framing::Chunked
        } else if let Some(length) =
            header(&self.headers, "content-length").and_then(|v| v.parse::<usize>().ok())
        {
            Framing::Length(length)
        } else {
            Framing::Close
        }
    }
}

/// Whether `raw` holds a whole HTTP/1.1 response: its headers and, by its framing, its body.
/// A response framed by the connection's end alone is never complete before that end.
pub fn is_complete(raw: &[u8], head_only: bool) -> bool {
    let Some(head) = split_head(raw) else {
        return false;
    };
    let rest = &raw[head.body_start..];
    match head.framing(head_only) {
        Framing::None => true,
        Framing::Chunked => dechunk(rest).is_some(),
        Framing::Length(length) => rest.len() >= length,
        Framing::Close => false,
    }
}

/// An HTTP/1.1 response read to its end: its status, headers and body (chunks joined).
pub fn parse_response(raw: &[u8], head_only: bool) -> std::io::Result<Answer> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let head = split_head(raw).ok_or_else(|| bad("no whole head with a status line"))?;
    let rest = &raw[head.body_start..];
    let body = match head.framing(head_only) {
        Framing::None => Vec::new(),
        Framing::Chunked => dechunk(rest).ok_or_else(|| bad("bad chunked body"))?,
        Framing::Length(length) => rest[..rest.len().min(length)].to_vec(),
        Framing::Close => rest.to_vec(),
    };
    let headers = head
        .headers
        .into_iter()
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "transfer-encoding" | "connection" | "keep-alive"
            )
        })
        .collect();
    Ok((head.status, headers, body))
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: Vec<(String, String)>,
    body: &[u8],
    method: &str,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        if name != "content-length" {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// The event stream: one `data:` line when a sync finishes after the page's generation
/// (at once when one already did, or the server restarted since), a comment every 15 s
/// to keep the connection open meanwhile.
fn events(mut stream: TcpStream, target: &str, shared: &Shared) -> std::io::Result<()> {
    let at = target.split_once("at=").map(|(_, v)| v).unwrap_or_default();
    let (epoch, generation) = at.split_once('-').unwrap_or((at, ""));
    let seen: Option<u64> = (epoch == shared.epoch)
        .then(|| generation.parse().ok())
        .flatten();
    stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\
          connection: close\r\n\r\nretry: 500\n\n",
    )?;
    *shared.listening.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    let result = (|| loop {
        let state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if seen.is_none_or(|seen| state.generation > seen) {
            let generation = state.generation;
            drop(state);
            stream.write_all(format!("data: {generation}\n\n").as_bytes())?;
            return stream.flush();
        }
        let (state, _) = shared
            .changed
            .wait_timeout(state, Duration::from_secs(15))
            .unwrap_or_else(|e| e.into_inner());
        let idle = seen.is_some_and(|seen| state.generation <= seen);
        drop(state);
        if idle {
            stream.write_all(b": waiting\n\n")?;
        }
    })();
    *shared.listening.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: usize) -> Diagnostic {
        Diagnostic::error(file, line, "the front matter has no `title`")
    }

    #[test]
    fn the_reload_script_goes_before_the_end_of_the_body() {
        let script = reload_script("ab12", 3, "n0nce");
        assert!(script.starts_with("<script nonce=\"n0nce\">"));
        assert!(script.contains("/_blog/events?at=ab12-3"));
        assert_eq!(
            inject("<html><body><p>x</p></body></html>", "<s>"),
            "<html><body><p>x</p><s></body></html>"
        );
        assert_eq!(inject("<p>no body", "<s>"), "<p>no body<s>");
    }

    #[test]
    fn the_page_policy_allows_the_nonce_and_nothing_more() {
        let deployed = blog_core::headers::SECURITY_HEADERS[0].1;
        let local = allow_nonce(deployed, "abc");
        assert!(local.starts_with("default-src 'none'; "), "{local}");
        assert!(local.ends_with("; script-src 'nonce-abc'"), "{local}");
        assert!(!local.contains("unsafe"), "{local}");
        assert_eq!(
            allow_nonce("default-src 'none'; script-src 'none'", "n"),
            "default-src 'none'; script-src 'nonce-n'"
        );
        assert_eq!(
            allow_nonce("script-src 'self'", "n"),
            "script-src 'nonce-n' 'self'"
        );
    }

    #[test]
    fn a_broken_post_replaces_its_own_page_and_a_broken_setting_every_page() {
        let mut state = State {
            pages: vec![("content/hello.md".into(), "/posts/hi".into())],
            settings_file: "site.toml".into(),
            ..State::default()
        };
        assert!(state.problems_for("/posts/hi").is_empty(), "nothing failed");
        state.problems = vec![error("content/hello.md", 2)];
        assert_eq!(state.problems_for("/posts/hi").len(), 1, "its address");
        assert_eq!(state.problems_for("/posts/hi/").len(), 1);
        assert_eq!(
            state.problems_for("/posts/hello").len(),
            1,
            "its file's name"
        );
        assert!(
            state.problems_for("/").is_empty(),
            "the others: last good version"
        );
        assert!(state.problems_for("/posts/other").is_empty());
        state.problems = vec![Diagnostic::warning("content/hello.md", 3, "long")];
        assert!(
            state.problems_for("/posts/hi").is_empty(),
            "warnings do not"
        );
        state.problems = vec![error("site.toml", 4)];
        assert_eq!(state.problems_for("/").len(), 1, "settings: everywhere");
        assert_eq!(state.problems_for("/posts/hi").len(), 1);
    }

    #[test]
    fn the_problem_page_names_file_and_line_escaped() {
        let problem = Diagnostic::error("content/a.md", 7, "bad <tag> & \"quote\"");
        let page = problem_page(&[&problem], "<script nonce=\"x\"></script>");
        assert!(page.contains("content/a.md:7: error: bad &lt;tag&gt; &amp; &quot;quote&quot;"));
        assert!(page.contains("<script nonce=\"x\"></script></body>"));
    }

    #[test]
    fn responses_are_read_whole_chunked_or_not() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let (status, headers, body) = parse_response(raw, false).unwrap();
        assert_eq!(status, "200 OK");
        assert_eq!(body, b"hello world");
        assert_eq!(header(&headers, "content-type"), Some("text/html"));
        assert_eq!(header(&headers, "transfer-encoding"), None);
        let raw = b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nabcdef";
        let (status, _, body) = parse_response(raw, false).unwrap();
        assert_eq!(
            (status.as_str(), body.as_slice()),
            ("404 Not Found", &b"abc"[..])
        );
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n";
        assert!(parse_response(raw, true).unwrap().2.is_empty(), "HEAD");
        assert!(parse_response(b"HTTP/1.1 200", false).is_err());
    }

    #[test]
    fn an_answer_is_complete_by_its_framing_not_the_connection() {
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert!(is_complete(chunked, false));
        assert!(
            !is_complete(&chunked[..chunked.len() - 7], false),
            "last chunk not read yet"
        );
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert!(is_complete(sized, false));
        assert!(!is_complete(&sized[..sized.len() - 1], false));
        assert!(
            !is_complete(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n", false),
            "headers"
        );
        assert!(is_complete(b"HTTP/1.1 304 Not Modified\r\n\r\n", false));
        assert!(
            is_complete(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", true),
            "HEAD"
        );
        assert!(
            !is_complete(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", false),
            "to EOF"
        );
    }
}
