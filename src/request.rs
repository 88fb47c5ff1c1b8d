//! The request as handlers read it: method, URL and headers, taken from the runtime's
//! request once. workers-rs's own `Request` reads `cf` (an object the runtime builds on
//! every access) and the URL was parsed several times per request; on a page served from
//! memory that was about a tenth of the work. What needs a URL parser (a path that is not
//! plain already, the host) asks the runtime's own `URL`, the WHATWG parser the Rust `url`
//! crate follows too: the Worker then carries no URL parser of its own (some 25 KB of
//! gzipped wasm with its international domain name tables).

use blog_core::routes;
use std::ops::Range;
use worker::worker_sys::web_sys;
use worker::worker_sys::web_sys::Url;

pub struct Req {
    method: String,
    url: String,
    path: Range<usize>,
    query: Option<Range<usize>>,
    /// The path as a URL parser makes it, when the text sent is not already that.
    parsed_path: Option<String>,
    headers: web_sys::Headers,
}

impl Req {
    pub fn new(raw: &web_sys::Request) -> Self {
        let url = raw.url();
        let (path, query) = routes::url_parts(&url);
        let parsed_path = (!routes::is_plain_path(&url[path.clone()]))
            .then(|| Url::new(&url).map_or_else(|_| "/".to_string(), |u| u.pathname()));
        Self {
            method: raw.method(),
            url,
            path,
            query,
            parsed_path,
            headers: raw.headers(),
        }
    }

    /// The method as sent: routing answers 405 to any it does not serve.
    pub fn method(&self) -> &str {
        &self.method
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    pub fn is_get(&self) -> bool {
        self.method == "GET"
    }

    /// The path, percent-encoded, without the query.
    pub fn path(&self) -> &str {
        self.parsed_path
            .as_deref()
            .unwrap_or(&self.url[self.path.clone()])
    }

    /// Whether the query has `key=value`, as written.
    pub fn query_has(&self, key: &str, value: &str) -> bool {
        self.query
            .clone()
            .is_some_and(|q| routes::query_has(&self.url[q], key, value))
    }

    /// The query string as sent, without its `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.query.clone().map_or("", |q| &self.url[q])
    }

    /// The host the request was sent to, without a port.
    pub fn host(&self) -> Option<&str> {
        routes::url_host(&self.url)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }
}
