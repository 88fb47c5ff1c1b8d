//! The Worker: the fetch entry, the handlers that read KV and answer with what the core
//! renders, and the read counter's Durable Object. It only builds for wasm32; on the host
//! this crate is empty, and everything it decides with is in `blog-core`, tested there.
//! Failures become responses in exactly one place: [`failure_response`].

#![cfg(target_arch = "wasm32")]

mod cache;
mod counter;
mod handlers;
mod records;
mod request;
mod search;

use blog_core::routes;
use blog_core::settings::Settings;
use blog_core::{caching, headers, pages};
use request::Req;
use worker::wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;
use worker::{event, Context, Env, Headers, Response, Result};

/// Why a request could not be answered with its page.
#[derive(Clone)]
pub enum Failure {
    NotFound {
        settings: Settings,
    },
    /// Something the reader cannot fix: logged with its cause, shown as a plain 500 page.
    Internal {
        context: String,
        cause: String,
    },
}

impl Failure {
    pub fn internal(context: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Failure::Internal {
            context: context.into(),
            cause: cause.to_string(),
        }
    }
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        Failure::internal("worker", e)
    }
}

/// What a handler answers: a response still to finish (the security headers, HEAD), or one
/// made ready to send from a cached page, with every header already in it.
pub enum Reply {
    Built(Response),
    Ready(web_sys::Response),
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Reply::Built(response)
    }
}

pub type Outcome = std::result::Result<Reply, Failure>;

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// The Worker's fetch handler (what `#[event(fetch)]` would export, written out so that a
/// page answered from memory is answered at once: a `Response`, not a promise of one).
mod entry {
    use super::*;
    use worker::wasm_bindgen::prelude::*;

    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
    pub fn fetch(raw: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> JsValue {
        let ctx = Context::new(ctx);
        cache::set_recheck_window(&env);
        let req = Req::new(&raw);
        // Route on the method as sent: `worker::Method` reads any it does not know (PROPFIND,
        // MKCOL, …) as GET, which would answer them, and count them as reads.
        let route = routes::resolve(req.method(), req.path());
        if let Some(outcome) = handlers::ready(&route, &req, &env, &ctx) {
            return answer(outcome, &req);
        }
        worker::wasm_bindgen_futures::future_to_promise(async move {
            let outcome = handlers::handle(route, &req, &env, &ctx).await;
            Ok(answer(outcome, &req))
        })
        .into()
    }
}

/// The clock, in milliseconds since the epoch: `Date.now()`, without the `Date` object
/// `worker::Date::now()` makes on every call.
pub fn now_ms() -> u64 {
    worker::js_sys::Date::now() as u64
}

/// A handler's outcome as the response to send; a plain 500 if not even that can be made.
fn answer(outcome: Outcome, req: &Req) -> JsValue {
    response(outcome, req).map_or_else(|e| internal_error(req, e), JsValue::from)
}

fn response(outcome: Outcome, req: &Req) -> Result<web_sys::Response> {
    let reply = match outcome {
        Ok(reply) => reply,
        Err(failure) => failure_response(failure, req)?.into(),
    };
    match reply {
        Reply::Ready(response) => Ok(response),
        Reply::Built(response) => Ok(finish(response, req.is_head())?.into()),
    }
}

/// When not even the error page could be made: a plain 500.
fn internal_error(req: &Req, e: worker::Error) -> JsValue {
    worker::console_error!("{} {}: {}", req.method(), req.path(), e);
    let init = web_sys::ResponseInit::new();
    init.set_status(500);
    web_sys::Response::new_with_opt_str_and_init(Some("Internal Server Error"), &init)
        .map_or_else(|e| e, JsValue::from)
}

/// The one place failures become responses. Internal causes go to the log, never to readers.
fn failure_response(failure: Failure, req: &Req) -> Result<Response> {
    let (status, body) = match failure {
        Failure::NotFound { settings } => (404, pages::not_found(&settings)),
        Failure::Internal { context, cause } => {
            worker::console_error!("{} {}: {}: {}", req.method(), req.path(), context, cause);
            (500, pages::error(&Settings::default()))
        }
    };
    respond(body.into_bytes(), headers::HTML, caching::NO_STORE, status)
}

/// A response with its content type and caching policy.
pub fn respond(
    body: Vec<u8>,
    content_type: &str,
    cache_control: &str,
    status: u16,
) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", content_type)?;
    headers.set("cache-control", cache_control)?;
    Ok(Response::from_bytes(body)?
        .with_status(status)
        .with_headers(headers))
}

pub fn redirect(location: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("location", location)?;
    headers.set("cache-control", caching::REDIRECT_CACHE)?;
    Ok(Response::empty()?.with_status(301).with_headers(headers))
}

/// Headers every response carries; HEAD gets the same status and headers with no body.
fn finish(response: Response, head: bool) -> Result<Response> {
    let status = response.status_code();
    let headers: Headers = response.headers().clone();
    for (name, value) in headers::SECURITY_HEADERS {
        // A policy the handler set itself (an SVG file's sandbox) is stricter for what it
        // serves than the pages' one: keep it.
        if name == "content-security-policy" && headers.has(name)? {
            continue;
        }
        headers.set(name, value)?;
    }
    if head {
        return Ok(Response::empty()?.with_status(status).with_headers(headers));
    }
    Ok(response.with_headers(headers))
}
