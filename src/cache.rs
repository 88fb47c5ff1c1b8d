//! Per-isolate memory: the content version last read, the parsed index and rendered
//! responses. A page built from the post list (the index, tags, feeds) is keyed by the
//! content version `blog sync` writes (and how many posts are visible) and is dropped when
//! that version changes; a post's page is keyed by everything it shows, so it outlives a
//! sync that changed only other posts. Nothing here is served once new content is published
//! or a scheduled post comes due. The version itself is re-read after
//! [`blog_core::kv::VERSION_RECHECK_MS`], and `blog sync` does not finish before that window
//! has passed, so a sync is visible on the next request.

use blog_core::content::{Aliases, PostMeta, SiteRecord};
use blog_core::kv::RecentVersion;
use blog_core::memory::{Lasts, Memory};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use worker::js_sys::Uint8Array;
use worker::worker_sys::web_sys::{self, ResponseInit};

/// A finished response, ready to send again.
pub struct Cached {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub cache_control: String,
    pub etag: String,
    /// The body and the response options (status and every header) as JavaScript objects,
    /// made at the first send: later sends hand them to `new Response` as they are, so the
    /// body crosses from wasm once, not on every request.
    js: OnceCell<Js>,
}

struct Js {
    body: Uint8Array,
    headers: web_sys::Headers,
    ok: ResponseInit,
    /// Made at the first 304: most pages never send one from this isolate.
    not_modified: OnceCell<ResponseInit>,
}

fn init(status: u16, headers: &web_sys::Headers) -> ResponseInit {
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(headers);
    init
}

impl Cached {
    pub fn new(
        body: Vec<u8>,
        content_type: &'static str,
        cache_control: String,
        etag: String,
    ) -> Self {
        Self {
            body,
            content_type,
            cache_control,
            etag,
            js: OnceCell::new(),
        }
    }

    /// The response for one request: 304 when the reader already has it, no body for HEAD.
    pub fn response(&self, not_modified: bool, head: bool) -> worker::Result<web_sys::Response> {
        let js = match self.js.get() {
            Some(js) => js,
            None => {
                let js = self.js_objects()?;
                self.js.get_or_init(|| js)
            }
        };
        let (init, body) = if not_modified {
            (js.not_modified.get_or_init(|| init(304, &js.headers)), None)
        } else {
            (&js.ok, Some(&js.body))
        };
        let body = if head { None } else { body.map(|b| b.as_ref()) };
        Ok(web_sys::Response::new_with_opt_buffer_source_and_init(
            body, init,
        )?)
    }

    fn js_objects(&self) -> worker::Result<Js> {
        // The security headers are the same on every page: copied from one set made once
        // per isolate, in one call, where setting each costs a call and its strings' copies.
        let headers = SECURITY_HEADERS.with(|base| match base {
            Ok(base) => Ok(web_sys::Headers::new_with_headers(base)?),
            Err(e) => Err(worker::Error::from(e.clone())),
        })?;
        headers.set("content-type", self.content_type)?;
        headers.set("cache-control", &self.cache_control)?;
        headers.set("etag", &self.etag)?;
        Ok(Js {
            body: Uint8Array::from(self.body.as_slice()),
            ok: init(200, &headers),
            headers,
            not_modified: OnceCell::new(),
        })
    }
}

fn security_headers() -> Result<web_sys::Headers, worker::wasm_bindgen::JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in blog_core::headers::SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    Ok(headers)
}

/// Bounds on the page memory of one isolate (128 MB in all).
const MAX_ENTRIES: usize = 1024;
const MAX_BYTES: usize = 32 * 1024 * 1024;

thread_local! {
    static SECURITY_HEADERS: Result<web_sys::Headers, worker::wasm_bindgen::JsValue> = security_headers();
    static VERSION: RefCell<RecentVersion> = RefCell::new(RecentVersion::default());
    static SITE: RefCell<Option<Rc<SiteRecord>>> = const { RefCell::new(None) };
    static ALIASES: RefCell<Option<(String, Rc<Aliases>)>> = const { RefCell::new(None) };
    static HOME: RefCell<Option<Rc<HomePosts>>> = const { RefCell::new(None) };
    static METAS: RefCell<Metas> = RefCell::new(Default::default());
    static PAGES: RefCell<Memory<Cached>> = RefCell::new(Memory::new(MAX_ENTRIES, MAX_BYTES));
}

/// The version read less than a window before `now`, if any: [`blog_core::kv::VERSION_RECHECK_MS`],
/// or what [`set_recheck_window`] said.
pub fn recent_version(now: u64) -> Option<Option<String>> {
    let window = RECHECK
        .get()
        .copied()
        .unwrap_or(blog_core::kv::VERSION_RECHECK_MS);
    VERSION.with(|v| v.borrow().within(now, window).cloned())
}

/// Reads the version window from the environment, once per isolate
/// ([`blog_core::kv::RECHECK_VAR`]; only `blog serve` sets it).
pub fn set_recheck_window(env: &worker::Env) {
    if RECHECK.get().is_none() {
        let var = env
            .var(blog_core::kv::RECHECK_VAR)
            .ok()
            .map(|v| v.to_string());
        let _ = RECHECK.set(blog_core::kv::recheck_window(var.as_deref()));
    }
}

/// The isolate's version window, once read.
static RECHECK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Remembers a version read that began at `read_at`.
pub fn set_version(read_at: u64, version: Option<String>) {
    VERSION.with(|v| v.borrow_mut().remember(read_at, version));
}

/// The cached site record, if it is the given version.
pub fn site(version: &str) -> Option<Rc<SiteRecord>> {
    SITE.with(|s| {
        s.borrow()
            .as_ref()
            .filter(|site| site.version == version)
            .cloned()
    })
}

/// Whether this isolate holds a site record at all, current or not.
pub fn holds_site() -> bool {
    SITE.with(|s| s.borrow().is_some())
}

/// Keeps the site record; a new version drops the pages kept for the old one.
pub fn set_site(site: Rc<SiteRecord>) {
    let stale = SITE.with(|s| {
        s.borrow()
            .as_ref()
            .is_some_and(|old| old.version != site.version)
    });
    if stale {
        PAGES.with(|p| p.borrow_mut().drop_version_pages());
    }
    SITE.with(|s| *s.borrow_mut() = Some(site));
}

/// The aliases of a content version, if this isolate read them.
pub fn aliases(version: &str) -> Option<Rc<Aliases>> {
    ALIASES.with(|a| {
        a.borrow()
            .as_ref()
            .filter(|(v, _)| v == version)
            .map(|(_, a)| a.clone())
    })
}

pub fn set_aliases(version: &str, aliases: Rc<Aliases>) {
    ALIASES.with(|a| *a.borrow_mut() = Some((version.to_string(), aliases)));
}

/// The posts the front page shows and picks Popular Reads from, as read for one content
/// version, moment (posts come due) and set of candidates: what a front page in memory
/// needs to find its key without a read.
pub struct HomePosts {
    pub version: String,
    pub due: usize,
    pub candidates: Vec<String>,
    /// The newest posts, as the front page lists them, and whether there are older ones.
    pub front: Vec<PostMeta>,
    pub more: bool,
    /// What Popular Reads is chosen from, newest first.
    pub pool: Vec<PostMeta>,
}

pub fn home_posts(version: &str, due: usize, candidates: &[String]) -> Option<Rc<HomePosts>> {
    HOME.with(|h| {
        h.borrow()
            .as_ref()
            .filter(|h| h.version == version && h.due == due && h.candidates == candidates)
            .cloned()
    })
}

pub fn set_home_posts(posts: Rc<HomePosts>) {
    HOME.with(|h| *h.borrow_mut() = Some(posts));
}

/// Posts' metadata by slug, under the content version they were read in.
type Metas = (
    String,
    std::collections::HashMap<String, Option<Rc<PostMeta>>>,
);

/// How many posts' metadata an isolate keeps for read count badges (a few hundred bytes each).
const MAX_METAS: usize = 4096;

/// A post's metadata as its record had it under a content version (`None`: no such post),
/// for the read count badges, which need nothing else of it.
pub fn meta(version: &str, slug: &str) -> Option<Option<Rc<PostMeta>>> {
    METAS.with(|m| {
        let m = m.borrow();
        (m.0 == version).then(|| m.1.get(slug).cloned()).flatten()
    })
}

pub fn set_meta(version: &str, slug: &str, meta: Option<Rc<PostMeta>>) {
    METAS.with(|m| {
        let mut m = m.borrow_mut();
        if m.0 != version || m.1.len() >= MAX_METAS {
            *m = (version.to_string(), Default::default());
        }
        m.1.insert(slug.to_string(), meta);
    })
}

pub fn get(key: &str) -> Option<Rc<Cached>> {
    PAGES.with(|p| p.borrow().get(key))
}

pub fn put(key: String, page: Rc<Cached>, lasts: Lasts) {
    let body_len = page.body.len();
    PAGES.with(|p| p.borrow_mut().put(key, page, body_len, lasts));
}

/// Keeps a second key for a page already kept: its body is counted once, under the first.
pub fn put_alias(key: String, page: Rc<Cached>) {
    PAGES.with(|p| p.borrow_mut().put(key, page, 0, Lasts::Version));
}
