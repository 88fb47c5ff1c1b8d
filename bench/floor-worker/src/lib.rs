//! The floor of an uncached post for any workers-rs Worker: `bench/workerd/limit-kv.js` in
//! Rust. Per request it reads the post's record (or `version`) from KV as bytes, and answers
//! with the page the limit worker sends and the same headers, made as the blog makes its
//! responses. The page and headers are bindings (`PAGE`, `HEADERS`), read once per isolate.
//! What the blog costs beyond this is its own code; what this costs beyond the JavaScript
//! reference is the SDK's and the wasm boundary's.

#![cfg(target_arch = "wasm32")]

use std::cell::OnceCell;
use std::collections::BTreeMap;
use worker::{event, Context, Env, Headers, Request, Response, Result};

struct Page {
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

thread_local! {
    static PAGE: OnceCell<Page> = const { OnceCell::new() };
}

fn load(env: &Env) -> Result<Page> {
    let body = env.var("PAGE")?.to_string().into_bytes();
    let headers: BTreeMap<String, String> = serde_json::from_str(&env.var("HEADERS")?.to_string())?;
    Ok(Page {
        body,
        headers: headers.into_iter().collect(),
    })
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let kv = env.kv("POSTS")?;
    let path = req.path();
    match path.strip_prefix("/posts/") {
        Some(slug) => {
            kv.get(&format!("post/{slug}")).bytes().await?;
        }
        None => {
            kv.get("version").text().await?;
        }
    }
    PAGE.with(|cell| {
        if cell.get().is_none() {
            let page = load(&env)?;
            let _ = cell.set(page);
        }
        let page = cell.get().expect("set above");
        let headers = Headers::new();
        for (name, value) in &page.headers {
            headers.set(name, value)?;
        }
        Ok(Response::from_bytes(page.body.clone())?.with_headers(headers))
    })
}
