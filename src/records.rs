//! Reading the KV records `blog sync` wrote.

use crate::{cache, Failure};
use blog_core::caching::FirstReads;
use blog_core::content::{PostRecord, SiteIndex, SiteRecord};
use blog_core::kv;
use std::rc::Rc;
use worker::Env;

const BINDING: &str = "POSTS";

/// A JSON record, read as bytes: they cross into wasm in one copy, where a JavaScript
/// string is re-encoded character by character (half the CPU of an uncached render).
async fn get_json<T: serde::de::DeserializeOwned>(
    env: &Env,
    key: &str,
) -> Result<Option<T>, Failure> {
    let kv = env.kv(BINDING)?;
    let bytes = kv
        .get(key)
        .bytes()
        .await
        .map_err(|e| Failure::internal(format!("KV get {key}"), e))?;
    match bytes {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Failure::internal(format!("corrupt KV record {key}"), e)),
    }
}

/// The index; before the first sync, an empty site with default settings.
pub async fn index(env: &Env) -> Result<SiteIndex, Failure> {
    Ok(get_json(env, kv::INDEX_KEY).await?.unwrap_or_default())
}

async fn version(env: &Env) -> Result<Option<String>, Failure> {
    env.kv(BINDING)?
        .get(kv::VERSION_KEY)
        .text()
        .await
        .map_err(|e| Failure::internal(format!("KV get {}", kv::VERSION_KEY), e))
}

/// Whether this isolate holds an index, current or not (see [`FirstReads`]).
pub fn holds_index() -> bool {
    cache::holds_index()
}

/// Whether this isolate holds a site record, current or not (see [`FirstReads`]).
pub fn holds_site() -> bool {
    cache::holds_site()
}

/// A post's record, read before the site record said which version is current.
pub type Prefetched = Option<Result<Option<PostRecord>, Failure>>;

/// What a cold isolate read for its first request, all at once.
pub struct FirstRead {
    pub index: Option<Result<Rc<SiteIndex>, Failure>>,
    pub site: Option<Result<Rc<SiteRecord>, Failure>>,
    pub post: Prefetched,
}

/// What a cold isolate reads for its first request, all at once (see
/// [`blog_core::caching::first_reads`]): `version`, and the index or the site record and
/// the post `first` names. What is read is kept whichever version it is: it is whole (sync
/// writes the posts first, then these), and if `version` is already newer the next request
/// reads it again.
pub async fn read_at_once(env: &Env, first: FirstReads<'_>) -> FirstRead {
    let now = crate::now_ms();
    let index = async {
        match first.index {
            true => Some(index(env).await),
            false => None,
        }
    };
    let site = async {
        match first.site {
            true => Some(site(env).await),
            false => None,
        }
    };
    let post = async {
        match first.post {
            Some(slug) => Some(post(env, slug).await),
            None => None,
        }
    };
    let (version, index, site, post) = futures_util::join!(version(env), index, site, post);
    let version = version.map(|version| cache::set_version(now, version));
    FirstRead {
        index: index.map(|index| {
            version.clone()?;
            let index = Rc::new(index?);
            cache::set_index(index.clone());
            Ok(index)
        }),
        site: site.map(|site| {
            version.clone()?;
            let site = Rc::new(site?);
            cache::set_site(site.clone());
            Ok(site)
        }),
        post,
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

/// The current index, from isolate memory when the small `version` key says it is current.
/// That key is read at most once per [`kv::VERSION_RECHECK_MS`] (and `blog sync` waits
/// longer than that before it finishes), not on every request.
pub async fn current_index(env: &Env) -> Result<Rc<SiteIndex>, Failure> {
    let version = current_version(env).await?;
    if let Some(index) = version.as_deref().and_then(cache::index) {
        return Ok(index);
    }
    let index = Rc::new(index(env).await?);
    cache::set_index(index.clone());
    Ok(index)
}

/// The index, when this isolate holds it and read the `version` key within the window: no
/// I/O needed.
pub fn current_index_in_memory() -> Option<Rc<SiteIndex>> {
    cache::recent_version(crate::now_ms())?
        .as_deref()
        .and_then(cache::index)
}

pub async fn post(env: &Env, slug: &str) -> Result<Option<PostRecord>, Failure> {
    get_json(env, &kv::post_key(slug)).await
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
