//! One handler per route: each reads what the page needs (KV, the counter, isolate memory),
//! asks the core for the page, its key and its lifetime ([`blog_core::caching`]), and
//! answers. Pages that depend only on content are rendered once and served from memory (and
//! the Cache API on custom domains) after that, until what they show changes.

use crate::cache::{self, Cached};
use crate::request::Req;
use crate::{counter, records, redirect, respond, Failure, Outcome, Reply};
use blog_core::caching::{self, Lifetime, Moment};
use blog_core::content::{SiteIndex, SiteRecord};
use blog_core::date::Timestamp;
use blog_core::feeds;
use blog_core::headers::{self, HTML};
use blog_core::memory::Lasts;
use blog_core::routes::{self, FeedKind, Route};
use blog_core::{kv, pages, ranking, readers};
use futures_util::future::join_all;
use std::rc::Rc;
use std::thread::LocalKey;
use worker::{Cache, Context, Env};

const STYLESHEET: &str = concat!(
    include_str!("../templates/style.css"),
    include_str!("../templates/highlight.css")
);
const FAVICON: &str = include_str!("../templates/favicon.svg");
/// Changes whenever what renders pages changes (see `src/build_id.rs`): part of every key.
const BUILD_ID: &str = env!("BLOG_BUILD_ID");

/// Answers any route. The one match over routes in the Worker; [`ready`] is its synchronous
/// shortcut for the routes that can be answered from memory.
pub async fn handle(route: Route, req: &Req, env: &Env, ctx: &Context) -> Outcome {
    let index = match route {
        Route::Stylesheet => return static_asset(req, &STYLESHEET_PAGES, pages::STYLE_VERSION),
        Route::Favicon => return static_asset(req, &FAVICON_PAGES, pages::FAVICON_VERSION),
        Route::File { name } => return file(req, env, &name).await,
        Route::Redirect { location } => return Ok(redirect(&location)?.into()),
        Route::MethodNotAllowed => {
            let mut resp = respond(
                b"Method not allowed\n".to_vec(),
                headers::TEXT,
                caching::NO_STORE,
                405,
            )?;
            resp.headers_mut().set("allow", routes::ALLOWED_METHODS)?;
            return Ok(resp.into());
        }
        Route::Post { ref slug } => return post(&route, slug, req, env, ctx).await,
        _ => {
            let first = caching::first_reads(&route, records::holds_index(), records::holds_site());
            if first.any() {
                let read = records::read_at_once(env, first).await;
                read.index
                    .expect("a list page's first reads name the index")?
            } else {
                records::current_index(env).await?
            }
        }
    };
    let page = Page::new(&index, req, env, ctx);
    match route {
        Route::Index => page.home().await,
        Route::ReadsBadge { slug } => page.reads_badge(&slug).await,
        Route::Tags => {
            let cache_control = page.at.page_cache(0);
            page.cached(HTML, cache_control, |p| {
                Ok(Some(pages::tags(p.settings(), &p.at.visible)))
            })
            .await
        }
        Route::Tag { slug, page: n } => {
            let cache_control = page.at.page_cache(0);
            page.cached(HTML, cache_control, |p| {
                Ok(pages::tag(p.settings(), &p.at.visible, &slug, n))
            })
            .await
        }
        Route::Archive => {
            let cache_control = page.at.page_cache(0);
            page.cached(HTML, cache_control, |p| {
                Ok(Some(pages::archive(p.settings(), &p.at.visible)))
            })
            .await
        }
        Route::Year { year, page: n } => {
            let cache_control = page.at.page_cache(0);
            page.cached(HTML, cache_control, |p| {
                Ok(pages::year(p.settings(), &p.at.visible, year, n))
            })
            .await
        }
        Route::Feed { kind, tag } => page.feed(kind, tag.as_deref()).await,
        Route::Sitemap => {
            let cache_control = page.at.page_cache(caching::SITEMAP_MAX_AGE);
            page.cached(feeds::SITEMAP_TYPE, cache_control, |p| {
                let part_urls = feeds::SITEMAP_PART_URLS;
                Ok(Some(feeds::sitemap_index(
                    p.settings(),
                    &p.at.visible,
                    part_urls,
                )))
            })
            .await
        }
        Route::SitemapPart { part } => {
            let cache_control = page.at.page_cache(caching::SITEMAP_MAX_AGE);
            page.cached(feeds::SITEMAP_TYPE, cache_control, |p| {
                let part_urls = feeds::SITEMAP_PART_URLS;
                Ok(feeds::sitemap_part(
                    p.settings(),
                    &p.at.visible,
                    part,
                    part_urls,
                ))
            })
            .await
        }
        Route::Robots => {
            let cache_control = caching::ASSET_CACHE.into();
            page.cached(feeds::ROBOTS_TYPE, cache_control, |p| {
                Ok(Some(feeds::robots(p.settings())))
            })
            .await
        }
        Route::Manifest => page.manifest().await,
        _ => page.not_found(),
    }
}

/// The answer when it needs no I/O: a static asset, or a post page or the index this isolate
/// has in memory under a content version it read within the window (the index with its
/// counts in memory too). `None`: take [`handle`]'s way, which answers every route.
/// Answered here, a request costs no future and no promise on the wasm side.
pub fn ready(route: &Route, req: &Req, env: &Env, ctx: &Context) -> Option<Outcome> {
    match route {
        Route::Stylesheet => Some(static_asset(req, &STYLESHEET_PAGES, pages::STYLE_VERSION)),
        Route::Favicon => Some(static_asset(req, &FAVICON_PAGES, pages::FAVICON_VERSION)),
        Route::Post { slug } => post_from_memory(slug, req, env, ctx),
        Route::Index => {
            let index = records::current_index_in_memory()?;
            Page::new(&index, req, env, ctx).home_from_memory()
        }
        _ => None,
    }
}

fn now() -> Timestamp {
    (crate::now_ms() / 1000) as Timestamp
}

/// The stylesheet or the favicon, under the fingerprinted link pages use or not.
fn static_asset(req: &Req, asset: &'static LocalKey<AssetPages>, version: &str) -> Outcome {
    asset.with(|pages| {
        send(
            req,
            if req.query_has("v", version) {
                &pages.year
            } else {
                &pages.day
            },
        )
    })
}

/// One asset as two ready pages: under its fingerprint and without.
struct AssetPages {
    year: Rc<Cached>,
    day: Rc<Cached>,
}

thread_local! {
    static STYLESHEET_PAGES: AssetPages = asset_pages(STYLESHEET, headers::CSS);
    static FAVICON_PAGES: AssetPages = asset_pages(FAVICON, headers::SVG);
}

fn asset_pages(body: &str, content_type: &'static str) -> AssetPages {
    let page = |fingerprinted: bool| {
        Rc::new(Cached::new(
            body.as_bytes().to_vec(),
            content_type,
            caching::asset_cache(fingerprinted).into(),
            caching::asset_etag(BUILD_ID, content_type),
        ))
    };
    AssetPages {
        year: page(true),
        day: page(false),
    }
}

/// A file a post links to, from KV; a reader who already has it gets a 304 without a KV read.
async fn file(req: &Req, env: &Env, name: &str) -> Outcome {
    let (hash, ext) = name
        .split_once('.')
        .expect("the route table checked the name");
    let etag = caching::file_etag(hash);
    let fallback_type = kv::content_type(ext);
    let answer = |body: Vec<u8>, content_type: &str, status: u16| -> Outcome {
        let mut resp = respond(body, content_type, caching::FILE_CACHE, status)?;
        resp.headers_mut().set("etag", &etag)?;
        if ext == "svg" {
            resp.headers_mut()
                .set("content-security-policy", headers::SVG_CSP)?;
        }
        Ok(resp.into())
    };
    if req
        .header("if-none-match")
        .is_some_and(|v| pages::etag_matches(&v, &etag))
    {
        return answer(Vec::new(), fallback_type, 304);
    }
    let Some((bytes, meta)) = records::file(env, name).await? else {
        let settings = records::current_index(env)
            .await
            .map(|index| index.settings.clone())
            .unwrap_or_default();
        return Err(Failure::NotFound { settings });
    };
    let content_type = meta
        .and_then(|m| m.content_type)
        .unwrap_or_else(|| fallback_type.to_string());
    answer(bytes, &content_type, 200)
}

/// Answers from a cached response: 304 when the reader already has it.
fn send(req: &Req, page: &Cached) -> Outcome {
    let not_modified = req
        .header("if-none-match")
        .is_some_and(|v| pages::etag_matches(&v, &page.etag));
    Ok(Reply::Ready(page.response(not_modified, req.is_head())?))
}

/// A post's page from this isolate's memory, counted as a read: kept under the current
/// content version, so nothing is read. `None` if it is not there (nothing counted then:
/// [`post`] will).
fn post_from_memory(slug: &str, req: &Req, env: &Env, ctx: &Context) -> Option<Outcome> {
    let site = records::current_site_in_memory()?;
    let page = cache::get(&caching::post_memory_key(BUILD_ID, &site, slug, now()))?;
    count_read(req, env, ctx, slug);
    Some(send(req, &page))
}

/// A post's page: the site record and the post's own record (its neighbours are in it),
/// read together when the isolate is cold; never the index, whatever the archive's size.
async fn post(route: &Route, slug: &str, req: &Req, env: &Env, ctx: &Context) -> Outcome {
    let first = caching::first_reads(route, records::holds_index(), records::holds_site());
    let (site, prefetched) = if first.any() {
        let read = records::read_at_once(env, first).await;
        let site = read
            .site
            .expect("a post's first reads name the site record");
        (site, read.post)
    } else {
        (records::current_site(env).await, None)
    };
    let site = match site {
        Ok(site) => site,
        // A broken site record must not take the posts down with it.
        Err(failure) => return without_site(slug, req, env, failure).await,
    };
    let now = now();
    let memory_key = caching::post_memory_key(BUILD_ID, &site, slug, now);
    if let Some(page) = cache::get(&memory_key) {
        count_read(req, env, ctx, slug);
        return send(req, &page);
    }
    let record = match prefetched {
        Some(record) => record?,
        None => records::post(env, slug).await?,
    };
    // The record says whether the post is out: scheduled ones are not served before their time.
    let Some((record, key)) = record.and_then(|record| {
        let key = caching::post_key(BUILD_ID, &site, &record, now)?;
        Some((record, key))
    }) else {
        return no_post(req, env, ctx, &site, slug).await;
    };
    count_read(req, env, ctx, slug);
    if let Some(page) = cache::get(key.memory()) {
        cache::put_alias(memory_key, page.clone());
        return send(req, &page);
    }
    let cache_control = Lifetime::of_site(&site, now).page_cache(caching::POST_MAX_AGE);
    let etag = pages::etag(&[key.shown()]);
    let page = match read_cache_api(req, key.shown()).await {
        Some(body) => Rc::new(Cached::new(body, HTML, cache_control, etag)),
        None => {
            let body = pages::post(&site.settings, &record, now);
            let page = Rc::new(Cached::new(body.into_bytes(), HTML, cache_control, etag));
            write_cache_api(req, ctx, key.shown(), &page);
            page
        }
    };
    cache::put(key.into_memory(), page.clone(), Lasts::Key);
    cache::put_alias(memory_key, page.clone());
    send(req, &page)
}

/// No post under this slug (or not yet): an old address of a post answers 301 to it, which
/// only the index knows; anything else 404. A broken index still gives a 404 here.
async fn no_post(req: &Req, env: &Env, ctx: &Context, site: &SiteRecord, slug: &str) -> Outcome {
    match records::current_index(env).await {
        Ok(index) => {
            let page = Page::new(&index, req, env, ctx);
            if page.at.visible.find(slug).is_some() {
                // Listed but missing from KV: a sync still under way, or lost data.
                worker::console_error!("index lists {slug} but KV has no {}", kv::post_key(slug));
            }
            page.not_found()
        }
        Err(failure) => {
            if let Failure::Internal { context, cause } = &failure {
                worker::console_error!("{}: {context}: {cause}; no alias lookup", req.path());
            }
            Err(Failure::NotFound {
                settings: site.settings.clone(),
            })
        }
    }
}

/// Posts still answer when the site record cannot be read: default settings, kept nowhere.
async fn without_site(slug: &str, req: &Req, env: &Env, failure: Failure) -> Outcome {
    if let Failure::Internal { context, cause } = &failure {
        worker::console_error!(
            "{}: {context}: {cause}; serving the post without it",
            req.path()
        );
    }
    let site = SiteRecord::default();
    let record = records::post(env, slug)
        .await?
        .filter(|r| r.meta.published <= now());
    let Some(record) = record else {
        return Err(Failure::NotFound {
            settings: site.settings,
        });
    };
    let body = pages::post(&site.settings, &record, now());
    Ok(respond(body.into_bytes(), HTML, caching::NO_STORE, 200)?.into())
}

/// A real read of a published post goes to the counter.
fn count_read(req: &Req, env: &Env, ctx: &Context, slug: &str) {
    if let Some(reader) = req.is_get().then(|| reader(req)).flatten() {
        counter::count(
            env,
            ctx,
            counter::Hit {
                slug: slug.to_string(),
                reader,
            },
        );
    }
}

async fn read_cache_api(req: &Req, key: &str) -> Option<Vec<u8>> {
    let url = caching::cache_api_url(req.host().as_deref(), key)?;
    let mut resp = Cache::default().get(url, false).await.ok().flatten()?;
    resp.bytes().await.ok()
}

fn write_cache_api(req: &Req, ctx: &Context, key: &str, page: &Cached) {
    let Some(url) = caching::cache_api_url(req.host().as_deref(), key) else {
        return;
    };
    let Ok(resp) = respond(
        page.body.clone(),
        page.content_type,
        caching::CACHE_API_ENTRY,
        200,
    ) else {
        return;
    };
    ctx.wait_until(async move {
        if let Err(e) = Cache::default().put(url, resp).await {
            worker::console_warn!("Cache API put failed: {e}");
        }
    });
}

/// A page of the site as it stands at this second, and the request's I/O handles.
struct Page<'a> {
    at: Moment<'a>,
    req: &'a Req,
    env: &'a Env,
    ctx: &'a Context,
}

impl<'a> Page<'a> {
    fn new(index: &'a SiteIndex, req: &'a Req, env: &'a Env, ctx: &'a Context) -> Self {
        Page {
            at: Moment::new(BUILD_ID, index, now()),
            req,
            env,
            ctx,
        }
    }

    fn settings(&self) -> &'a blog_core::settings::Settings {
        &self.at.index.settings
    }

    /// A page built from the post list, under its path's key.
    async fn cached(
        &self,
        content_type: &'static str,
        cache_control: String,
        render: impl FnOnce(&Self) -> Result<Option<String>, Failure>,
    ) -> Outcome {
        let key = self.at.list_key(self.req.path(), "");
        self.cached_as(key, content_type, cache_control, render)
            .await
    }

    /// Serves a response from memory, else the Cache API, else renders, stores and serves it.
    /// `render` returning `None` means not found.
    async fn cached_as(
        &self,
        key: String,
        content_type: &'static str,
        cache_control: String,
        render: impl FnOnce(&Self) -> Result<Option<String>, Failure>,
    ) -> Outcome {
        if let Some(page) = cache::get(&key) {
            return send(self.req, &page);
        }
        let etag = pages::etag(&[&key]);
        if let Some(body) = self.read_cache_api(&key).await {
            let page = Rc::new(Cached::new(body, content_type, cache_control, etag));
            cache::put(key, page.clone(), Lasts::Version);
            return send(self.req, &page);
        }
        let Some(body) = render(self)? else {
            return self.not_found();
        };
        let page = Rc::new(Cached::new(
            body.into_bytes(),
            content_type,
            cache_control,
            etag,
        ));
        self.write_cache_api(&key, &page);
        cache::put(key, page.clone(), Lasts::Version);
        send(self.req, &page)
    }

    async fn read_cache_api(&self, key: &str) -> Option<Vec<u8>> {
        read_cache_api(self.req, key).await
    }

    fn write_cache_api(&self, key: &str, page: &Cached) {
        write_cache_api(self.req, self.ctx, key, page)
    }

    /// A path no page answers: an alias of a post answers 301 to it, anything else 404.
    fn not_found(&self) -> Outcome {
        match self.at.visible.alias_target(self.req.path()) {
            Some(post) => Ok(redirect(&post.url())?.into()),
            None => Err(Failure::NotFound {
                settings: self.settings().clone(),
            }),
        }
    }

    /// The web app manifest, built from the settings: a year under the link pages use.
    async fn manifest(&self) -> Outcome {
        let fingerprinted = self
            .req
            .query_has("v", &pages::manifest_version(self.settings()));
        let key = self
            .at
            .list_key(self.req.path(), caching::manifest_variant(fingerprinted));
        let cache_control = caching::asset_cache(fingerprinted).into();
        self.cached_as(key, headers::MANIFEST, cache_control, |p| {
            Ok(Some(pages::manifest(p.settings())))
        })
        .await
    }

    /// The index page from this isolate's memory, when its counts are there too.
    fn home_from_memory(&self) -> Option<Outcome> {
        let half_life = self.settings().popular_half_life_days;
        let stats = counter::stats_in_memory(self.env, self.ctx, half_life)?;
        let (key, _) = self.at.home_key(self.req.path(), stats.as_deref());
        let page = cache::get(&key)?;
        Some(send(self.req, &page))
    }

    async fn home(&self) -> Outcome {
        let settings = self.settings();
        let stats = counter::stats(self.env, self.ctx, settings.popular_half_life_days).await;
        let (key, popular) = self.at.home_key(self.req.path(), stats.as_deref());
        let cache_control = self.at.index_cache();
        self.cached_as(key, HTML, cache_control, |p| {
            Ok(Some(pages::index(settings, p.at.visible.posts, popular)))
        })
        .await
    }

    async fn reads_badge(&self, slug: &str) -> Outcome {
        let Some((_, meta)) = self.at.visible.find(slug) else {
            return self.not_found();
        };
        let half_life = self.settings().popular_half_life_days;
        let stats = counter::stats(self.env, self.ctx, half_life).await;
        let reads = stats.map(|s| ranking::stats_for(meta, &s).reads);
        let svg = reads.map_or_else(pages::reads_badge_unknown, pages::reads_badge);
        let cache_control = if reads.is_some() {
            caching::BADGE_CACHE
        } else {
            caching::NO_STORE
        };
        let mut resp = respond(svg.into_bytes(), headers::SVG, cache_control, 200)?;
        resp.headers_mut()
            .set("content-security-policy", headers::BADGE_CSP)?;
        Ok(resp.into())
    }

    async fn feed(&self, kind: FeedKind, tag: Option<&str>) -> Outcome {
        let Some(plan) = feeds::plan(self.settings(), &self.at.visible, kind, tag) else {
            return self.not_found();
        };
        let key = self.at.list_key(self.req.path(), "");
        if let Some(page) = cache::get(&key) {
            return send(self.req, &page);
        }
        let results = join_all(plan.posts.iter().map(|p| records::post(self.env, &p.slug))).await;
        let mut fetched = Vec::with_capacity(results.len());
        for (meta, result) in plan.posts.iter().zip(results) {
            fetched.push(match result {
                Ok(Some(record)) => Some(record),
                Ok(None) => {
                    worker::console_error!(
                        "feed: index lists {} but its record is missing",
                        meta.slug
                    );
                    None
                }
                Err(Failure::Internal { context, cause }) => {
                    worker::console_error!("feed: left out {}: {context}: {cause}", meta.slug);
                    None
                }
                Err(failure) => return Err(failure),
            });
        }
        let feed = feeds::assemble(&plan, &fetched);
        if !feed.complete {
            return Ok(respond(
                feed.body.into_bytes(),
                feed.content_type,
                caching::NO_STORE,
                200,
            )?
            .into());
        }
        let cache_control = self.at.page_cache(caching::FEED_MAX_AGE);
        self.cached_as(key, feed.content_type, cache_control, |_| {
            Ok(Some(feed.body))
        })
        .await
    }
}

/// The reader's fingerprint when the request is a person reading (see
/// [`readers::is_countable`]). Headers are read one at a time (each is a call into the
/// runtime), the user agent first: most requests that are not reads stop there.
fn reader(req: &Req) -> Option<String> {
    let user_agent = req.header("user-agent");
    if !readers::is_browser(user_agent.as_deref()) {
        return None;
    }
    let sec_purpose = req.header("sec-purpose");
    let purpose = req.header("purpose").or_else(|| req.header("x-moz"));
    if !readers::is_countable(
        user_agent.as_deref(),
        sec_purpose.as_deref(),
        purpose.as_deref(),
    ) {
        return None;
    }
    let ip = req.header("cf-connecting-ip").unwrap_or_default();
    Some(readers::reader_fingerprint(
        &ip,
        user_agent.as_deref().unwrap_or_default(),
    ))
}
