//! One handler per route: each maps a request to core calls and a response. Pages that
//! depend only on content are rendered once and served from memory (and the Cache API on
//! custom domains) after that, until what they show changes.

use crate::cache::{self, Cached, Lasts};
use crate::request::Req;
use crate::{counter, records, redirect, respond, Failure, Outcome, Reply};
use blog_core::content::{PostMeta, SiteIndex, Visible};
use blog_core::date::Timestamp;
use blog_core::feeds::{self, FeedEntry, FeedInfo};
use blog_core::markdown::{self, RenderOptions};
use blog_core::ranking::{self, ReadStats};
use blog_core::routes::{self, FeedKind, Route};
use blog_core::{pages, readers};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use std::thread::LocalKey;
use worker::{Cache, Context, Env};

const STYLESHEET: &str = concat!(
    include_str!("../templates/style.css"),
    include_str!("../templates/highlight.css")
);
const FAVICON: &str = include_str!("../templates/favicon.svg");
/// Changes whenever the code or templates that render pages change: part of every ETag.
const BUILD_ID: &str = env!("BLOG_BUILD_ID");
/// Assets that change only with a deploy.
const ASSET_CACHE: &str = "public, max-age=86400";
/// A post's files are named by their content: the bytes under a name never change.
const FILE_CACHE: &str = "public, max-age=31536000, immutable";
/// An SVG opened on its own is a document that could run script: this lets none run.
const SVG_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
const HTML: &str = "text/html; charset=utf-8";
/// Browsers and shared caches may keep a post this long, then serve it stale while they
/// revalidate (a 304 when nothing changed).
const POST_MAX_AGE: i64 = 300;
const POST_STALE: i64 = 86_400;
/// The index shows Popular Reads; counts are at most 10 s old in the isolate, so a 30 s
/// browser lifetime keeps what a reader sees under a minute old.
const INDEX_MAX_AGE: i64 = 30;

pub async fn handle(route: Route, req: &Req, env: &Env, ctx: &Context) -> Outcome {
    match route {
        Route::Stylesheet => static_asset(req, &STYLESHEET_PAGES, pages::STYLE_VERSION),
        Route::Favicon => static_asset(req, &FAVICON_PAGES, pages::FAVICON_VERSION),
        Route::File { name } => file(req, env, &name).await,
        Route::Redirect { location } => Ok(redirect(&location)?.into()),
        Route::MethodNotAllowed => {
            let mut resp = respond(
                b"Method not allowed\n".to_vec(),
                "text/plain; charset=utf-8",
                "no-store",
                405,
            )?;
            resp.headers_mut().set("allow", routes::ALLOWED_METHODS)?;
            Ok(resp.into())
        }
        route => {
            let index = match records::current_index(env).await {
                Ok(index) => index,
                // A broken index must not take the posts down with it.
                Err(failure) => return without_index(route, req, env, failure).await,
            };
            Page::new(&index, req, env, ctx).serve(route).await
        }
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
        Route::Post { .. } | Route::Index => {
            let index = records::current_index_in_memory()?;
            let page = Page::new(&index, req, env, ctx);
            match route {
                Route::Post { slug } => page.post_from_memory(slug),
                Route::Index => page.home_from_memory(),
                _ => None,
            }
        }
        _ => None,
    }
}

fn now() -> Timestamp {
    (crate::now_ms() / 1000) as Timestamp
}

/// Whether the request names `version` in its `?v=`: the fingerprinted link pages use.
fn names_version(req: &Req, version: &str) -> bool {
    req.query_has("v", version)
}

/// The stylesheet or the favicon: for a year under the fingerprinted link pages use, for a
/// day under a bare or outdated one.
fn static_asset(req: &Req, asset: &'static LocalKey<AssetPages>, version: &str) -> Outcome {
    asset.with(|pages| {
        send(
            req,
            if names_version(req, version) {
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
    static STYLESHEET_PAGES: AssetPages = asset_pages(STYLESHEET, "text/css; charset=utf-8");
    static FAVICON_PAGES: AssetPages = asset_pages(FAVICON, "image/svg+xml");
}

fn asset_pages(body: &str, content_type: &'static str) -> AssetPages {
    let page = |cache_control: &str| {
        Rc::new(Cached::new(
            body.as_bytes().to_vec(),
            content_type,
            cache_control.into(),
            pages::etag(&[BUILD_ID, content_type]),
        ))
    };
    AssetPages {
        year: page(FILE_CACHE),
        day: page(ASSET_CACHE),
    }
}

/// A file a post links to, from KV. Its ETag is its hash, known from the URL alone, so a
/// reader who already has it gets a 304 without a KV read.
async fn file(req: &Req, env: &Env, name: &str) -> Outcome {
    let (hash, ext) = name
        .split_once('.')
        .expect("the route table checked the name");
    let etag = format!("\"{hash}\"");
    let fallback_type = blog_core::kv::content_type(ext);
    let answer = |body: Vec<u8>, content_type: &str, status: u16| -> Outcome {
        let mut resp = respond(body, content_type, FILE_CACHE, status)?;
        resp.headers_mut().set("etag", &etag)?;
        if ext == "svg" {
            resp.headers_mut().set("content-security-policy", SVG_CSP)?;
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

/// Posts still answer when the index cannot be read: no neighbours, default settings.
async fn without_index(route: Route, req: &Req, env: &Env, failure: Failure) -> Outcome {
    let Route::Post { slug } = route else {
        return Err(failure);
    };
    if let Failure::Internal { context, cause } = &failure {
        worker::console_error!(
            "{}: {context}: {cause}; serving the post without it",
            req.path()
        );
    }
    let index = SiteIndex::default();
    let record = records::post(env, &slug)
        .await?
        .filter(|r| r.meta.published <= now());
    let Some(record) = record else {
        return Err(Failure::NotFound {
            settings: index.settings,
        });
    };
    let visible = index.visible(now());
    let body = pages::post(&index.settings, &record, &visible);
    Ok(respond(body.into_bytes(), HTML, "no-store", 200)?.into())
}

/// Where a post's page is kept. Its ETag and its Cache API entry follow what the page shows
/// (this post, its neighbours, the site settings, the build): `shown`. In this isolate's
/// memory, which keeps it across syncs that changed other posts, the key also names the next
/// scheduled publication, which caps the page's `Cache-Control`.
struct PostKey {
    memory: String,
    shown: usize,
}

impl PostKey {
    fn shown(&self) -> &str {
        &self.memory[..self.shown]
    }
}

/// Everything a page handler needs.
struct Page<'a> {
    index: &'a SiteIndex,
    visible: Visible<'a>,
    now: Timestamp,
    req: &'a Req,
    env: &'a Env,
    ctx: &'a Context,
}

impl<'a> Page<'a> {
    /// A page of `index` as it stands now: the posts visible at this second.
    fn new(index: &'a SiteIndex, req: &'a Req, env: &'a Env, ctx: &'a Context) -> Self {
        let now = now();
        Page {
            index,
            visible: index.visible(now),
            now,
            req,
            env,
            ctx,
        }
    }

    async fn serve(&self, route: Route) -> Outcome {
        match route {
            Route::Post { slug } => self.post(&slug).await,
            Route::Index => self.home().await,
            Route::ReadsBadge { slug } => self.reads_badge(&slug).await,
            Route::Tags => {
                self.cached(HTML, self.html_cache(0), |p| {
                    Ok(Some(pages::tags(&p.index.settings, &p.visible)))
                })
                .await
            }
            Route::Tag { slug } => {
                self.cached(HTML, self.html_cache(0), |p| {
                    Ok(pages::tag(&p.index.settings, &p.visible, &slug))
                })
                .await
            }
            Route::Feed { kind, tag } => self.feed(kind, tag.as_deref()).await,
            Route::Sitemap => {
                self.cached(feeds::SITEMAP_TYPE, self.html_cache(3600), |p| {
                    Ok(Some(p.sitemap()))
                })
                .await
            }
            Route::Robots => {
                self.cached(feeds::ROBOTS_TYPE, ASSET_CACHE.into(), |p| {
                    Ok(Some(feeds::robots(&p.index.settings)))
                })
                .await
            }
            Route::Manifest => {
                // Built from the settings: a year under the link current pages use.
                let versioned =
                    names_version(self.req, &pages::manifest_version(&self.index.settings));
                let (key, cache_control) = if versioned {
                    (self.key("?v"), FILE_CACHE)
                } else {
                    (self.key(""), ASSET_CACHE)
                };
                self.cached_as(
                    key,
                    "application/manifest+json",
                    cache_control.into(),
                    |p| Ok(Some(pages::manifest(&p.index.settings))),
                )
                .await
            }
            _ => self.not_found(),
        }
    }

    /// `Cache-Control` for a page built from the post list: never kept past the moment the
    /// next scheduled post comes due.
    fn html_cache(&self, max_age: i64) -> String {
        if max_age == 0 {
            return "public, max-age=0, must-revalidate".into();
        }
        format!(
            "public, max-age={}, stale-while-revalidate={}",
            self.html_cache_age(max_age),
            self.html_cache_age(POST_STALE)
        )
    }

    /// The key of this request's response in both caches: same content version, same set of
    /// visible posts, same path, same build.
    fn key(&self, extra: &str) -> String {
        format!(
            "{}:{}:{}:{}{}",
            BUILD_ID,
            self.index.version,
            self.visible.posts.len(),
            self.req.path(),
            extra
        )
    }

    /// Serves a response from memory, else the Cache API, else renders, stores and serves it.
    /// `render` returning `None` means not found.
    async fn cached(
        &self,
        content_type: &'static str,
        cache_control: String,
        render: impl FnOnce(&Self) -> Result<Option<String>, Failure>,
    ) -> Outcome {
        self.cached_as(self.key(""), content_type, cache_control, render)
            .await
    }

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

    /// The Cache API keeps pages per data centre on custom domains; a new isolate there
    /// starts warm. Keys are URLs on this host. On `*.workers.dev` it stores nothing, so
    /// there the two calls per render are not made at all.
    fn cache_api_url(&self, key: &str) -> Option<String> {
        let host = self
            .req
            .host()
            .filter(|host| !host.ends_with(".workers.dev"))?;
        Some(format!(
            "https://{host}/__page-cache/{}",
            pages::etag(&[key]).trim_matches('"')
        ))
    }

    async fn read_cache_api(&self, key: &str) -> Option<Vec<u8>> {
        let url = self.cache_api_url(key)?;
        let mut resp = Cache::default().get(url, false).await.ok().flatten()?;
        resp.bytes().await.ok()
    }

    fn write_cache_api(&self, key: &str, page: &Cached) {
        let Some(url) = self.cache_api_url(key) else {
            return;
        };
        let Ok(resp) = respond(
            page.body.clone(),
            page.content_type,
            "public, max-age=604800",
            200,
        ) else {
            return;
        };
        self.ctx.wait_until(async move {
            if let Err(e) = Cache::default().put(url, resp).await {
                worker::console_warn!("Cache API put failed: {e}");
            }
        });
    }

    /// A path no page answers: an alias of a post answers 301 to it, anything else 404.
    fn not_found(&self) -> Outcome {
        match self.visible.alias_target(self.req.path()) {
            Some(post) => Ok(redirect(&post.url())?.into()),
            None => Err(Failure::NotFound {
                settings: self.index.settings.clone(),
            }),
        }
    }

    /// The index page's key: it shows Popular Reads, so the key names their order.
    fn home_key(&self, stats: Option<&HashMap<String, ReadStats>>) -> (String, Vec<&PostMeta>) {
        let settings = &self.index.settings;
        // Popular Reads is a sidebar: without counts it ranks by date.
        let popular = ranking::popular(
            self.visible.posts,
            stats.unwrap_or(&Default::default()),
            settings.popular_count,
        );
        let order: Vec<&str> = popular.iter().map(|p| p.slug.as_str()).collect();
        let key = self.key(&format!("#{}", order.join(",")));
        (key, popular)
    }

    /// The index page from this isolate's memory, when its counts are there too.
    fn home_from_memory(&self) -> Option<Outcome> {
        let stats = counter::stats_in_memory(
            self.env,
            self.ctx,
            self.index.settings.popular_half_life_days,
        )?;
        let (key, _) = self.home_key(stats.as_deref());
        let page = cache::get(&key)?;
        Some(send(self.req, &page))
    }

    async fn home(&self) -> Outcome {
        let settings = &self.index.settings;
        let stats = counter::stats(self.env, self.ctx, settings.popular_half_life_days).await;
        let (key, popular) = self.home_key(stats.as_deref());
        let cache_control = format!("public, max-age={}", self.html_cache_age(INDEX_MAX_AGE));
        self.cached_as(key, HTML, cache_control, |p| {
            Ok(Some(pages::index(settings, p.visible.posts, popular)))
        })
        .await
    }

    /// A lifetime, capped at the next scheduled publication (which changes the post list).
    fn html_cache_age(&self, max_age: i64) -> i64 {
        self.visible
            .next_publication
            .map_or(max_age, |t| max_age.min((t - self.now).max(0)))
    }

    /// A post's page key. `None` when the index does not list the post.
    fn post_key(&self, slug: &str) -> Option<(&PostMeta, PostKey)> {
        let (position, meta) = self.visible.find(slug)?;
        let (previous, next) = pages::neighbours_at(&self.visible, position);
        let mut memory = format!(
            "{BUILD_ID}:{}:{}:{}:{}",
            meta.hash,
            previous.map_or("", |p| p.hash.as_str()),
            next.map_or("", |p| p.hash.as_str()),
            self.index.settings_version(),
        );
        let shown = memory.len();
        if let Some(at) = self.visible.next_publication {
            let _ = write!(memory, "@{at}");
        }
        Some((meta, PostKey { memory, shown }))
    }

    /// A real read of a listed post goes to the counter.
    fn count_read(&self, meta: &PostMeta) {
        if let Some(reader) = self.req.is_get().then(|| reader(self.req)).flatten() {
            counter::count(
                self.env,
                self.ctx,
                counter::Hit {
                    slug: meta.slug.clone(),
                    reader,
                },
            );
        }
    }

    /// The post's page from this isolate's memory, counted as a read; `None` if it is not
    /// there (nothing counted then: [`Page::post`] will).
    fn post_from_memory(&self, slug: &str) -> Option<Outcome> {
        let (meta, key) = self.post_key(slug)?;
        let page = cache::get(&key.memory)?;
        self.count_read(meta);
        Some(send(self.req, &page))
    }

    async fn post(&self, slug: &str) -> Outcome {
        // The index says what is published: a post it does not list (yet) is not served.
        let Some((meta, key)) = self.post_key(slug) else {
            return self.not_found();
        };
        self.count_read(meta);
        if let Some(page) = cache::get(&key.memory) {
            return send(self.req, &page);
        }
        let cache_control = self.html_cache(POST_MAX_AGE);
        let etag = pages::etag(&[key.shown()]);
        if let Some(body) = self.read_cache_api(key.shown()).await {
            let page = Rc::new(Cached::new(body, HTML, cache_control, etag));
            cache::put(key.memory, page.clone(), Lasts::Key);
            return send(self.req, &page);
        }
        let record = records::post(self.env, slug).await?;
        let Some(record) = record else {
            // Listed by the index but missing from KV: a sync still under way, or lost data.
            worker::console_error!(
                "index lists {slug} but KV has no {}",
                blog_core::kv::post_key(slug)
            );
            return Err(Failure::NotFound {
                settings: self.index.settings.clone(),
            });
        };
        let body = pages::post(&self.index.settings, &record, &self.visible);
        if record.meta.hash != meta.hash {
            // KV holds another version than the index lists: a sync under way or cut short.
            // Serve what KV has, but keep it nowhere: the key names the index's version, and
            // a later sync may bring that version back without changing the index.
            return Ok(respond(body.into_bytes(), HTML, "no-store", 200)?.into());
        }
        let page = Rc::new(Cached::new(body.into_bytes(), HTML, cache_control, etag));
        self.write_cache_api(key.shown(), &page);
        cache::put(key.memory, page.clone(), Lasts::Key);
        send(self.req, &page)
    }

    async fn reads_badge(&self, slug: &str) -> Outcome {
        let Some((_, meta)) = self.visible.find(slug) else {
            return self.not_found();
        };
        let stats = counter::stats(
            self.env,
            self.ctx,
            self.index.settings.popular_half_life_days,
        )
        .await;
        let reads = stats.map(|s| ranking::stats_for(meta, &s).reads);
        let svg = reads.map_or_else(pages::reads_badge_unknown, pages::reads_badge);
        let cache_control = if reads.is_some() {
            "public, max-age=30"
        } else {
            "no-store"
        };
        let mut resp = respond(svg.into_bytes(), "image/svg+xml", cache_control, 200)?;
        resp.headers_mut().set(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        )?;
        Ok(resp.into())
    }

    async fn feed(&self, kind: FeedKind, tag: Option<&str>) -> Outcome {
        let settings = &self.index.settings;
        let (posts, title, self_path, home_path): (Vec<&PostMeta>, String, String, String) =
            match tag {
                None => {
                    let self_path = match kind {
                        FeedKind::Atom => "/feed.xml",
                        FeedKind::Rss => "/rss.xml",
                        FeedKind::Json => "/feed.json",
                    };
                    (
                        self.visible.posts.iter().collect(),
                        settings.title.clone(),
                        self_path.into(),
                        "/".into(),
                    )
                }
                Some(tag) => {
                    let posts = self.visible.tagged(tag);
                    let Some(name) = posts.first().and_then(|p| {
                        p.tags
                            .iter()
                            .find(|t| blog_core::content::tag_slug(t) == tag)
                    }) else {
                        return self.not_found();
                    };
                    let title = format!("{} · {name}", settings.title);
                    (
                        posts,
                        title,
                        format!("/tags/{tag}/feed.xml"),
                        format!("/tags/{tag}"),
                    )
                }
            };
        let key = self.key("");
        if let Some(page) = cache::get(&key) {
            return send(self.req, &page);
        }
        let posts: Vec<&PostMeta> = posts.into_iter().take(settings.feed_posts).collect();
        let results = join_all(posts.iter().map(|p| records::post(self.env, &p.slug))).await;
        let mut records = Vec::with_capacity(posts.len());
        // Whether every entry is the version the index lists: only then may the feed be kept.
        let mut complete = true;
        for (meta, record) in posts.iter().zip(results) {
            // A post whose record is missing or unreadable is left out rather than failing the feed.
            match record {
                Ok(Some(record)) => {
                    complete &= record.meta.hash == meta.hash;
                    records.push(record);
                }
                Ok(None) => {
                    worker::console_error!(
                        "feed: index lists {} but its record is missing",
                        meta.slug
                    );
                    complete = false;
                }
                Err(Failure::Internal { context, cause }) => {
                    worker::console_error!("feed: left out {}: {context}: {cause}", meta.slug);
                    complete = false;
                }
                Err(failure) => return Err(failure),
            }
        }
        // Each entry from its own record, so its title and its content are one version.
        let rendered: Vec<String> = records
            .iter()
            .map(|record| {
                let options = RenderOptions {
                    code_html: &record.code_html,
                    strip_raw_html: !settings.raw_html,
                    assets: &record.assets,
                };
                let html = markdown::render(&record.body, &options).html;
                feeds::absolutize(&html, &settings.base_url, &record.meta.url())
            })
            .collect();
        let entries: Vec<FeedEntry<'_>> = records
            .iter()
            .zip(&rendered)
            .map(|(record, html)| FeedEntry {
                meta: &record.meta,
                content_html: html,
            })
            .collect();
        let info = FeedInfo {
            title,
            self_path,
            home_path,
            settings,
        };
        let (body, content_type) = match kind {
            FeedKind::Atom => (feeds::atom(&info, &entries), feeds::ATOM_TYPE),
            FeedKind::Rss => (feeds::rss(&info, &entries), feeds::RSS_TYPE),
            FeedKind::Json => (feeds::json_feed(&info, &entries), feeds::JSON_FEED_TYPE),
        };
        if !complete {
            return Ok(respond(body.into_bytes(), content_type, "no-store", 200)?.into());
        }
        self.cached_as(key, content_type, self.html_cache(300), |_| Ok(Some(body)))
            .await
    }

    fn sitemap(&self) -> String {
        let newest = self.visible.posts.first().map(|p| p.published);
        let mut urls: Vec<(String, Option<i64>)> =
            vec![("/".into(), newest), ("/tags".into(), newest)];
        urls.extend(
            self.visible
                .posts
                .iter()
                .map(|p| (p.url(), Some(p.published))),
        );
        urls.extend(
            self.visible
                .tags()
                .into_iter()
                .map(|(t, _)| (t.url(), None)),
        );
        feeds::sitemap(&self.index.settings, &urls)
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
