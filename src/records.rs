//! Reading the KV records `blog sync` wrote.

use crate::{cache, Failure};
use blog_core::caching::FirstReads;
use blog_core::content::{Aliases, PostRecord, SiteRecord};
use blog_core::kv;
use std::rc::Rc;
use worker::Env;

const BINDING: &str = "POSTS";

/// The KV namespace's own `get`, called as the runtime defines it. workers-rs's `KvStore`
/// looks up five methods by name when it is made and builds an options object for each
/// read; for the one call the hot path makes, that was a tenth of an uncached post's CPU.
mod binding {
    use worker::js_sys::Promise;
    use worker::wasm_bindgen::prelude::*;

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
    extern "C" {
        pub type KvNamespace;
        /// `get(key, "arrayBuffer")`: the value's bytes, or null.
        #[wasm_bindgen(method, catch, js_name = get)]
        pub fn get_as(this: &KvNamespace, key: &str, kind: &str) -> Result<Promise, JsValue>;
    }
}

pub async fn get_bytes(env: &Env, key: &str) -> Result<Option<Vec<u8>>, Failure> {
    use worker::js_sys::{ArrayBuffer, Reflect, Uint8Array};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let failed = |e: JsValue| Failure::internal(format!("KV get {key}"), worker::Error::from(e));
    let namespace = Reflect::get(env.as_ref(), &JsValue::from_str(BINDING)).map_err(failed)?;
    if namespace.is_undefined() {
        return Err(Failure::internal(
            format!("KV get {key}"),
            format!("no KV binding {BINDING}"),
        ));
    }
    let namespace: binding::KvNamespace = namespace.unchecked_into();
    let promise = namespace.get_as(key, "arrayBuffer").map_err(failed)?;
    let value = worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(failed)?;
    Ok(value
        .dyn_ref::<ArrayBuffer>()
        .map(|buffer| Uint8Array::new(buffer).to_vec()))
}

/// A record from its bytes (see [`kv::Stored`]).
pub fn parse<T: kv::Stored>(key: &str, bytes: Option<Vec<u8>>) -> Result<Option<T>, Failure> {
    match bytes {
        None => Ok(None),
        Some(bytes) => T::from_stored(&bytes)
            .map(Some)
            .map_err(|e| Failure::internal(format!("corrupt KV record {key}"), e)),
    }
}

/// A record, read as bytes: they cross into wasm in one copy, where a JavaScript
/// string is re-encoded character by character (half the CPU of an uncached render).
pub async fn get_json<T: kv::Stored>(env: &Env, key: &str) -> Result<Option<T>, Failure> {
    parse(key, get_bytes(env, key).await?)
}

async fn version(env: &Env) -> Result<Option<String>, Failure> {
    env.kv(BINDING)?
        .get(kv::VERSION_KEY)
        .text()
        .await
        .map_err(|e| Failure::internal(format!("KV get {}", kv::VERSION_KEY), e))
}

/// Whether this isolate holds a site record, current or not (see [`FirstReads`]).
pub fn holds_site() -> bool {
    cache::holds_site()
}

/// The bytes of the record a page is built from, read before the site record said which
/// version is current.
pub type Prefetched = Option<Result<Option<Vec<u8>>, Failure>>;

/// What a request read in its first round trip.
#[derive(Default)]
pub struct FirstRead {
    pub site: Option<Result<Rc<SiteRecord>, Failure>>,
    pub record: Prefetched,
    pub aliases: Prefetched,
}

/// What a request reads first, all at once (see [`blog_core::caching::first_reads`]):
/// `version`, and the site record and the page's record as `first` says. What
/// is read is kept whichever version it is: it is whole (sync writes the posts and the
/// lists first, then these), and if `version` is already newer the next request reads it
/// again.
pub async fn read_at_once(env: &Env, first: &FirstReads) -> FirstRead {
    let now = crate::now_ms();
    let site = async {
        match first.site {
            true => Some(site(env).await),
            false => None,
        }
    };
    let record = async {
        match &first.record {
            Some(key) => Some(get_bytes(env, key).await),
            None => None,
        }
    };
    let aliases = async {
        match first.aliases {
            true => Some(get_bytes(env, kv::ALIASES_KEY).await),
            false => None,
        }
    };
    let (version, site, record, aliases) = futures_util::join!(version(env), site, record, aliases);
    let version = version.map(|version| cache::set_version(now, version));
    FirstRead {
        site: site.map(|site| {
            version.clone()?;
            let site = Rc::new(site?);
            cache::set_site(site.clone());
            Ok(site)
        }),
        record,
        aliases,
    }
}

/// The site record; before the first sync, an empty site with default settings.
pub async fn site(env: &Env) -> Result<SiteRecord, Failure> {
    Ok(get_json(env, kv::SITE_KEY).await?.unwrap_or_default())
}

/// The content version, from memory within the window, else read (and remembered).
async fn current_version(env: &Env) -> Result<Option<String>, Failure> {
    // Taken before the read: the window runs from a moment no later than the read began.
    let now = crate::now_ms();
    match cache::recent_version(now) {
        Some(version) => Ok(version),
        None => {
            let version = version(env).await?;
            cache::set_version(now, version.clone());
            Ok(version)
        }
    }
}

/// The current site record, from isolate memory when `version` says it is current.
pub async fn current_site(env: &Env) -> Result<Rc<SiteRecord>, Failure> {
    let version = current_version(env).await?;
    if let Some(site) = cache::site(version.as_deref().unwrap_or_default()) {
        return Ok(site);
    }
    let site = Rc::new(site(env).await?);
    cache::set_site(site.clone());
    Ok(site)
}

/// The site record, when this isolate holds the current one: no I/O needed.
pub fn current_site_in_memory() -> Option<Rc<SiteRecord>> {
    let version = cache::recent_version(crate::now_ms())?;
    cache::site(version.as_deref().unwrap_or_default())
}

/// The aliases of `site`'s version, from memory, from what the first round trip read, or
/// read once.
pub async fn aliases(
    env: &Env,
    site: &SiteRecord,
    prefetched: Prefetched,
) -> Result<Rc<Aliases>, Failure> {
    if let Some(aliases) = cache::aliases(&site.version) {
        return Ok(aliases);
    }
    let aliases: Rc<Aliases> = Rc::new(
        record(env, site, kv::ALIASES_KEY, prefetched)
            .await?
            .unwrap_or_default(),
    );
    cache::set_aliases(&site.version, aliases.clone());
    Ok(aliases)
}

/// A post's record, as of `site`'s version.
pub async fn post(env: &Env, site: &SiteRecord, slug: &str) -> Result<Option<PostRecord>, Failure> {
    record(env, site, &kv::post_key(slug), None).await
}

/// A record of `site`'s version, from what the first round trip read, or read now. One the
/// version deleted is absent, whatever this KV location still answers for it.
pub async fn record<T: kv::Stored>(
    env: &Env,
    site: &SiteRecord,
    key: &str,
    prefetched: Prefetched,
) -> Result<Option<T>, Failure> {
    if site.removes(key) {
        return Ok(None);
    }
    match prefetched {
        Some(bytes) => parse(key, bytes?),
        None => get_json(env, key).await,
    }
}

/// A file's bytes and the metadata `blog sync` stored beside them (its content type).
pub async fn file(
    env: &Env,
    name: &str,
) -> Result<Option<(Vec<u8>, Option<kv::KeyMeta>)>, Failure> {
    let key = kv::file_key(name);
    let (bytes, meta) = env
        .kv(BINDING)?
        .get(&key)
        .bytes_with_metadata::<kv::KeyMeta>()
        .await
        .map_err(|e| Failure::internal(format!("KV get {key}"), e))?;
    Ok(bytes.map(|bytes| (bytes, meta)))
}
