//! The Worker: turns a request into a route, a route into a page, and failures into
//! error pages, all in this one file. Everything it shows comes from the pure core.

mod reads;

use crate::content::{PostRecord, SiteIndex};
use crate::pages::{self, SITE};
use crate::routes::{self, Route};
use crate::{ranking, store};
use worker::{event, Context, Date, Env, Headers, Method, Request, Response, Result};

const POSTS_BINDING: &str = "POSTS";
const STYLESHEET: &str = include_str!("../../templates/style.css");

/// Why a request could not be answered with its page.
enum Failure {
    NotFound,
    /// Something the reader cannot fix: logged with its cause, shown as a plain 500 page.
    Internal { context: String, cause: String },
}

impl Failure {
    fn internal(context: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Failure::Internal { context: context.into(), cause: cause.to_string() }
    }
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        Failure::internal("worker", e)
    }
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let method = req.method();
    let url = req.url()?;
    let route = routes::resolve(method.as_ref(), url.path());
    let response = match handle(&route, &req, &env, &ctx).await {
        Ok(response) => response,
        Err(failure) => failure_response(failure, &method, url.path())?,
    };
    finish(response, &method)
}

async fn handle(route: &Route, req: &Request, env: &Env, ctx: &Context) -> std::result::Result<Response, Failure> {
    match route {
        Route::Index => index_page(env).await,
        Route::Post { slug } => post_page(slug, req, env, ctx).await,
        Route::Stylesheet => Ok(with_header(
            Response::ok(STYLESHEET)?,
            &[("content-type", "text/css; charset=utf-8"), ("cache-control", "public, max-age=3600")],
        )?),
        Route::Redirect { location } => {
            Ok(with_header(Response::empty()?.with_status(301), &[("location", location)])?)
        }
        Route::MethodNotAllowed => Ok(with_header(
            Response::ok("Method not allowed\n")?.with_status(405),
            &[("allow", routes::ALLOWED_METHODS), ("content-type", "text/plain; charset=utf-8")],
        )?),
        Route::NotFound => Err(Failure::NotFound),
    }
}

async fn index_page(env: &Env) -> std::result::Result<Response, Failure> {
    let index = load_index(env).await?;
    let posts: Vec<_> = visible(&index);
    // Popular Reads is decoration: if the counter is slow or down, rank by date instead.
    let counts = reads::counts(env).await.unwrap_or_default();
    let popular = ranking::popular(&posts, &counts, ranking::POPULAR_LEN);
    html(pages::index(&SITE, &posts, popular), "public, max-age=0, must-revalidate")
}

async fn post_page(slug: &str, req: &Request, env: &Env, ctx: &Context) -> std::result::Result<Response, Failure> {
    let key = store::post_key(slug);
    let kv = env.kv(POSTS_BINDING)?;
    let text = kv.get(&key).text().await.map_err(|e| Failure::internal(format!("KV get {key}"), e))?;
    let Some(text) = text else {
        return Err(Failure::NotFound);
    };
    let record: PostRecord =
        serde_json::from_str(&text).map_err(|e| Failure::internal(format!("corrupt record {key}"), e))?;
    if record.meta.published > now() {
        return Err(Failure::NotFound);
    }
    if req.method() == Method::Get {
        // Counting must never slow the page down or fail it.
        ctx.wait_until(reads::record(env.clone(), record.meta.slug.clone()));
    }
    html(pages::post(&SITE, &record), "public, max-age=0, must-revalidate")
}

async fn load_index(env: &Env) -> std::result::Result<SiteIndex, Failure> {
    let kv = env.kv(POSTS_BINDING)?;
    let text = kv
        .get(store::INDEX_KEY)
        .text()
        .await
        .map_err(|e| Failure::internal(format!("KV get {}", store::INDEX_KEY), e))?;
    match text {
        // Nothing synced yet: an empty blog, not an error.
        None => Ok(SiteIndex::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| Failure::internal(format!("corrupt record {}", store::INDEX_KEY), e)),
    }
}

/// Posts whose publication time has come.
fn visible(index: &SiteIndex) -> Vec<crate::content::PostMeta> {
    let now = now();
    index.posts.iter().filter(|p| p.published <= now).cloned().collect()
}

fn now() -> i64 {
    (Date::now().as_millis() / 1000) as i64
}

fn html(body: String, cache_control: &str) -> std::result::Result<Response, Failure> {
    Ok(with_header(
        Response::from_html(body)?,
        &[("cache-control", cache_control)],
    )?)
}

fn with_header(mut response: Response, headers: &[(&str, &str)]) -> Result<Response> {
    for (name, value) in headers {
        response.headers_mut().set(name, value)?;
    }
    Ok(response)
}

/// The one place failures become responses. Internal causes go to the log, never to readers.
fn failure_response(failure: Failure, method: &Method, path: &str) -> Result<Response> {
    let (status, body) = match failure {
        Failure::NotFound => (404, pages::not_found(&SITE)),
        Failure::Internal { context, cause } => {
            worker::console_error!("{} {}: {}: {}", method.as_ref(), path, context, cause);
            (500, pages::error(&SITE))
        }
    };
    with_header(
        Response::from_html(body)?.with_status(status),
        &[("cache-control", "no-store")],
    )
}

/// Headers every response carries; HEAD gets the same status and headers with no body.
fn finish(response: Response, method: &Method) -> Result<Response> {
    let status = response.status_code();
    let headers: Headers = response.headers().clone();
    for (name, value) in SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    if *method == Method::Head {
        return Ok(Response::empty()?.with_status(status).with_headers(headers));
    }
    Ok(response.with_headers(headers))
}

const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-frame-options", "DENY"),
];
