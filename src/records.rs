//! Reading the KV records `blog sync` wrote.

use crate::{cache, Failure};
use blog_core::content::{PostRecord, SiteIndex};
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

/// The current index, from isolate memory when the small `version` key says it is current.
/// That key is read at most once per [`kv::VERSION_RECHECK_MS`] (and `blog sync` waits
/// longer than that before it finishes), not on every request.
pub async fn current_index(env: &Env) -> Result<Rc<SiteIndex>, Failure> {
    // Taken before the read: the window runs from a moment no later than the read began.
    let now = crate::now_ms();
    let version = match cache::recent_version(now) {
        Some(version) => version,
        None => {
            let version = env
                .kv(BINDING)?
                .get(kv::VERSION_KEY)
                .text()
                .await
                .map_err(|e| Failure::internal(format!("KV get {}", kv::VERSION_KEY), e))?;
            cache::set_version(now, version.clone());
            version
        }
    };
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
