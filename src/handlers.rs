//! One handler per route: each reads what the page needs (KV, the counter, isolate memory),
//! asks the core for the page, its key and its lifetime ([`blog_core::caching`]), and
//! answers. Pages that depend only on content are rendered once and served from memory (and
//! the Cache API on custom domains) after that, until what they show changes. Every page
//! but the sitemap is built from the small site record and one bounded record of its own
//! (a post, a list page, the tags): none reads anything that grows with the archive.

use crate::cache::{self, Cached, HomePosts};
use crate::request::Req;
use crate::{counter, records, redirect, respond, Failure, Outcome, Reply};
use blog_core::caching::{self, Lifetime};
use blog_core::content::{PostRecord, SiteRecord};
use blog_core::counting::StatsQuery;
use blog_core::date::Timestamp;
use blog_core::feeds;
use blog_core::headers::{self, HTML};
use blog_core::lists::{List, ListRecord, Shown, TagsRecord};
use blog_core::memory::Lasts;
use blog_core::routes::{self, FeedKind, Route};
use blog_core::{kv, pages, preview, ranking, readers, stats};
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
    match route {
        Route::Stylesheet => return static_asset(req, &STYLESHEET_PAGES, pages::STYLE_VERSION),
        Route::Favicon => return static_asset(req, &FAVICON_PAGES, pages::FAVICON_VERSION),
        Route::File { name } => return file(req, env, &name).await,
        Route::Search => return crate::search::results(req, env, ctx).await,
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
        _ => {}
    }
    let first = caching::first_reads(&route, records::holds_site());
    let read = if first.any() {
        records::read_at_once(env, &first).await
    } else {
        records::FirstRead::default()
    };
    let site = match read.site {
        Some(site) => site,
        None => records::current_site(env).await,
    };
    let site = match (site, &route) {
        (Ok(site), _) => site,
        // A broken site record must not take the posts down with it.
        (Err(failure), Route::Post { slug }) => return without_site(slug, req, env, failure).await,
        (Err(failure), _) => return Err(failure),
    };
    let page = Page {
        site: &site,
        now: now(),
        req,
        env,
        ctx,
    };
    let prefetched = read.record;
    match route {
        Route::Post { slug } => page.post(&slug, prefetched).await,
        Route::Preview { token } => page.preview(&token, prefetched).await,
        Route::Index => page.home(prefetched, read.aliases).await,
        Route::ReadsBadge { slug } => page.reads(&slug, prefetched, ReadsAs::Badge).await,
        Route::ReadsText { slug } => page.reads(&slug, prefetched, ReadsAs::Text).await,
        Route::Stats => page.stats().await,
        Route::Tags => {
            let cache_control = page.lifetime().page_cache(0);
            page.cached(page.list_key(""), HTML, cache_control, async || {
                let tags: TagsRecord = page
                    .record(kv::TAGS_KEY, prefetched)
                    .await?
                    .unwrap_or_default();
                Ok(Some(pages::tags(&site.settings, tags.at(page.now))))
            })
            .await
        }
        Route::Tag { slug, page: n } => {
            page.list_page(List::Tag(&slug), n, prefetched, |site, shown| {
                pages::tag(site, &slug, shown)
            })
            .await
        }
        Route::Archive => {
            let cache_control = page.lifetime().page_cache(0);
            page.cached(page.list_key(""), HTML, cache_control, async || {
                Ok(Some(pages::archive(
                    &site.settings,
                    &site.years_at(page.now),
                )))
            })
            .await
        }
        Route::Year { year, page: n } => {
            page.list_page(List::Year(year), n, prefetched, |site, shown| {
                Some(pages::year(site, year, shown))
            })
            .await
        }
        Route::Feed { kind, tag } => page.feed(kind, tag.as_deref(), None, prefetched).await,
        Route::Series { slug } => {
            page.list_page(List::Series(&slug), 1, prefetched, |site, shown| {
                pages::series(site, &slug, shown)
            })
            .await
        }
        Route::SeriesFeed { slug } => {
            page.feed(FeedKind::Atom, None, Some(&slug), prefetched)
                .await
        }
        Route::Sitemap => {
            let cache_control = page.lifetime().page_cache(caching::SITEMAP_MAX_AGE);
            page.cached(
                page.list_key(""),
                feeds::SITEMAP_TYPE,
                cache_control,
                async || {
                    let per_part = feeds::SITEMAP_PART_POSTS;
                    Ok(Some(feeds::sitemap_index(
                        &site.settings,
                        &site,
                        page.now,
                        per_part,
                    )))
                },
            )
            .await
        }
        Route::SitemapPart { part } => {
            let cache_control = page.lifetime().page_cache(caching::SITEMAP_MAX_AGE);
            page.cached(
                page.list_key(""),
                feeds::SITEMAP_TYPE,
                cache_control,
                async || {
                    let per_part = feeds::SITEMAP_PART_POSTS;
                    if part == 0 || part > feeds::sitemap_parts(&site, page.now, per_part) {
                        return Ok(None);
                    }
                    // The first part lists the site's own pages too, the tags among them.
                    let tags: Option<TagsRecord> = match part {
                        1 => Some(page.record(kv::TAGS_KEY, None).await?.unwrap_or_default()),
                        _ => None,
                    };
                    let list: Option<ListRecord> =
                        page.record(&List::Sitemap.key(part), prefetched).await?;
                    Ok(feeds::sitemap_part(
                        &site.settings,
                        &site,
                        tags.as_ref(),
                        list.as_ref(),
                        part,
                        page.now,
                        per_part,
                    ))
                },
            )
            .await
        }
        Route::Robots => {
            let cache_control = String::from(caching::ASSET_CACHE);
            page.cached(
                page.list_key(""),
                feeds::ROBOTS_TYPE,
                cache_control,
                async || Ok(Some(feeds::robots(&site.settings))),
            )
            .await
        }
        Route::Manifest => page.manifest().await,
        Route::OpenSearch => {
            let cache_control = page.lifetime().page_cache(0);
            page.cached(
                page.list_key(""),
                blog_core::search_page::OPENSEARCH_TYPE,
                cache_control,
                async || Ok(Some(blog_core::search_page::opensearch(&site.settings))),
            )
            .await
        }
        _ => page.not_found().await,
    }
}

/// The answer when it needs no I/O: a static asset, or a post page or the front page this
/// isolate has in memory under a content version it read within the window (the front page
/// with its counts in memory too). `None`: take [`handle`]'s way, which answers every route.
/// Answered here, a request costs no future and no promise on the wasm side.
pub fn ready(route: &Route, req: &Req, env: &Env, ctx: &Context) -> Option<Outcome> {
    match route {
        Route::Stylesheet => Some(static_asset(req, &STYLESHEET_PAGES, pages::STYLE_VERSION)),
        Route::Favicon => Some(static_asset(req, &FAVICON_PAGES, pages::FAVICON_VERSION)),
        Route::Post { slug } => post_from_memory(slug, req, env, ctx),
        Route::Index => home_from_memory(req, env, ctx),
        Route::Search => crate::search::from_memory(req),
        _ => None,
    }
}

pub(crate) fn now() -> Timestamp {
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
        let settings = records::current_site(env)
            .await
            .map(|site| site.settings.clone())
            .unwrap_or_default();
        return Err(Failure::NotFound { settings });
    };
    let content_type = meta
        .and_then(|m| m.content_type)
        .unwrap_or_else(|| fallback_type.to_string());
    answer(bytes, &content_type, 200)
}

/// Answers from a cached response: 304 when the reader already has it.
pub(crate) fn send(req: &Req, page: &Cached) -> Outcome {
    let not_modified = req
        .header("if-none-match")
        .is_some_and(|v| pages::etag_matches(&v, &page.etag));
    Ok(Reply::Ready(page.response(not_modified, req.is_head())?))
}

/// A post's page from this isolate's memory, counted as a read: kept under the current
/// content version, so nothing is read. `None` if it is not there (nothing counted then:
/// [`Page::post`] will).
fn post_from_memory(slug: &str, req: &Req, env: &Env, ctx: &Context) -> Option<Outcome> {
    let site = records::current_site_in_memory()?;
    let page = cache::get(&caching::post_memory_key(BUILD_ID, &site, slug, now()))?;
    count_read(req, env, ctx, &site, slug);
    Some(send(req, &page))
}

/// The front page from this isolate's memory, when its counts and posts are there too.
fn home_from_memory(req: &Req, env: &Env, ctx: &Context) -> Option<Outcome> {
    let site = records::current_site_in_memory()?;
    let settings = &site.settings;
    let query = StatsQuery::popular(settings.popular_half_life_days, settings.popular_count);
    let stats = counter::stats_in_memory(env, ctx, &query)?;
    let now = now();
    let aliases = cache::aliases(&site.version)?;
    let none = Default::default();
    let stats = stats.as_deref().unwrap_or(&none);
    let candidates = ranking::candidates(stats, &aliases, now, settings.popular_count);
    let posts = cache::home_posts(&site.version, site.due(now), &candidates)?;
    let popular = ranking::popular(&posts.pool, stats, settings.popular_count);
    let key = caching::home_key(BUILD_ID, &site, now, req.path(), &popular);
    let page = cache::get(&key)?;
    Some(send(req, &page))
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
    let record = records::post(env, &site, slug)
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

/// A real read of a published post goes to the counter, with the site the reader came
/// from: the host of an external `Referer`, read only for a read that counts.
fn count_read(req: &Req, env: &Env, ctx: &Context, site: &SiteRecord, slug: &str) {
    let Some(reader) = req.is_get().then(|| reader(req)).flatten() else {
        return;
    };
    let referrer = req.header("referer").and_then(|referer| {
        let own: Vec<&str> = [req.host(), routes::url_host(&site.settings.base_url)]
            .into_iter()
            .flatten()
            .collect();
        stats::referring_host(&referer, &own)
    });
    counter::count(
        env,
        ctx,
        counter::Hit {
            slug: slug.to_string(),
            reader,
            referrer,
        },
        site.settings.stats_retention_days,
    );
}

/// How a post's read count is shown: the badge the page draws, or the text it links to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadsAs {
    Badge,
    Text,
}

/// A page of the site as it stands at this second, and the request's I/O handles.
pub(crate) struct Page<'a> {
    pub(crate) site: &'a SiteRecord,
    pub(crate) now: Timestamp,
    pub(crate) req: &'a Req,
    pub(crate) env: &'a Env,
    pub(crate) ctx: &'a Context,
}

impl Page<'_> {
    pub(crate) fn lifetime(&self) -> Lifetime {
        Lifetime::of_site(self.site, self.now)
    }

    /// The key of a page built from a list, under its path (`extra` tells variants apart).
    fn list_key(&self, extra: &str) -> String {
        caching::list_key(BUILD_ID, self.site, self.now, self.req.path(), extra)
    }

    async fn record<T: kv::Stored>(
        &self,
        key: &str,
        prefetched: records::Prefetched,
    ) -> Result<Option<T>, Failure> {
        records::record(self.env, self.site, key, prefetched).await
    }

    /// A page kept in memory or in the Cache API under `key`.
    async fn kept(
        &self,
        key: &str,
        content_type: &'static str,
        cache_control: &str,
    ) -> Option<Rc<Cached>> {
        if let Some(page) = cache::get(key) {
            return Some(page);
        }
        let body = self.read_cache_api(key).await?;
        let etag = pages::etag(&[key]);
        let page = Rc::new(Cached::new(body, content_type, cache_control.into(), etag));
        cache::put(key.to_string(), page.clone(), Lasts::Version);
        Some(page)
    }

    /// A page under `key`: kept in memory or the Cache API, else built by `build` (`None`:
    /// not found), kept and sent.
    pub(crate) async fn cached(
        &self,
        key: String,
        content_type: &'static str,
        cache_control: String,
        build: impl AsyncFnOnce() -> Result<Option<String>, Failure>,
    ) -> Outcome {
        if let Some(kept) = self.kept(&key, content_type, &cache_control).await {
            return send(self.req, &kept);
        }
        match build().await? {
            Some(body) => self.keep(key, body, content_type, cache_control),
            None => self.not_found().await,
        }
    }

    /// Keeps a page just built under `key` (memory and the Cache API) and answers with it.
    fn keep(
        &self,
        key: String,
        body: String,
        content_type: &'static str,
        cache_control: String,
    ) -> Outcome {
        let etag = pages::etag(&[&key]);
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

    /// Page `n` of a list, from its record; `render` gets what it shows.
    async fn list_page(
        &self,
        list: List<'_>,
        n: usize,
        prefetched: records::Prefetched,
        render: impl FnOnce(&blog_core::settings::Settings, &Shown<'_>) -> Option<String>,
    ) -> Outcome {
        let cache_control = self.lifetime().page_cache(0);
        self.cached(self.list_key(""), HTML, cache_control, async || {
            let record: Option<ListRecord> = self.record(&list.key(n), prefetched).await?;
            let settings = &self.site.settings;
            Ok(record
                .as_ref()
                .and_then(|r| r.page_at(self.now, list.per_page(settings), n))
                .and_then(|shown| render(settings, &shown)))
        })
        .await
    }

    async fn read_cache_api(&self, key: &str) -> Option<Vec<u8>> {
        let url = caching::cache_api_url(self.req.host(), key)?;
        let mut resp = Cache::default().get(url, false).await.ok().flatten()?;
        resp.bytes().await.ok()
    }

    fn write_cache_api(&self, key: &str, page: &Cached) {
        let Some(url) = caching::cache_api_url(self.req.host(), key) else {
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
        self.ctx.wait_until(async move {
            if let Err(e) = Cache::default().put(url, resp).await {
                worker::console_warn!("Cache API put failed: {e}");
            }
        });
    }

    /// A path no page answers: an alias of a post answers 301 to it, anything else 404. The
    /// aliases are read once per content version; when they cannot be, a 404 still.
    async fn not_found(&self) -> Outcome {
        let not_found = || {
            Err(Failure::NotFound {
                settings: self.site.settings.clone(),
            })
        };
        match records::aliases(self.env, self.site, None).await {
            Ok(aliases) => match aliases.target(self.req.path(), self.now) {
                Some(slug) => Ok(redirect(&routes::post_path(slug))?.into()),
                None => not_found(),
            },
            Err(failure) => {
                if let Failure::Internal { context, cause } = &failure {
                    worker::console_error!(
                        "{}: {context}: {cause}; no alias lookup",
                        self.req.path()
                    );
                }
                not_found()
            }
        }
    }

    /// The web app manifest, built from the settings: a year under the link pages use.
    async fn manifest(&self) -> Outcome {
        let settings = &self.site.settings;
        let fingerprinted = self.req.query_has("v", &pages::manifest_version(settings));
        let key = self.list_key(caching::manifest_variant(fingerprinted));
        let cache_control = String::from(caching::asset_cache(fingerprinted));
        self.cached(key, headers::MANIFEST, cache_control, async || {
            Ok(Some(pages::manifest(settings)))
        })
        .await
    }

    /// A post's page: the site record and the post's own record (its neighbours are in it),
    /// read together when the isolate is cold; never the index, whatever the archive's size.
    async fn post(&self, slug: &str, prefetched: records::Prefetched) -> Outcome {
        let (req, site, now) = (self.req, self.site, self.now);
        let memory_key = caching::post_memory_key(BUILD_ID, site, slug, now);
        if let Some(page) = cache::get(&memory_key) {
            count_read(req, self.env, self.ctx, site, slug);
            return send(req, &page);
        }
        let record: Option<PostRecord> = self.record(&kv::post_key(slug), prefetched).await?;
        // The record says whether the post is out: scheduled ones are not served before their time.
        let Some((record, key)) = record.and_then(|record| {
            let key = caching::post_key(BUILD_ID, site, &record, now)?;
            Some((record, key))
        }) else {
            return self.not_found().await;
        };
        count_read(req, self.env, self.ctx, site, slug);
        if let Some(page) = cache::get(key.memory()) {
            cache::put_alias(memory_key, page.clone());
            return send(req, &page);
        }
        let cache_control = self.lifetime().page_cache(caching::POST_MAX_AGE);
        let etag = pages::etag(&[key.shown()]);
        let page = match self.read_cache_api(key.shown()).await {
            Some(body) => Rc::new(Cached::new(body, HTML, cache_control, etag)),
            None => {
                let body = pages::post(&site.settings, &record, now);
                let page = Rc::new(Cached::new(body.into_bytes(), HTML, cache_control, etag));
                self.write_cache_api(key.shown(), &page);
                page
            }
        };
        cache::put(key.into_memory(), page.clone(), Lasts::Key);
        cache::put_alias(memory_key, page.clone());
        send(req, &page)
    }

    /// A draft or scheduled post at its secret link. One KV read, under the token's hash;
    /// the core says what it answers. Never kept, never counted as a read; a wrong or
    /// revoked token is the ordinary 404.
    async fn preview(&self, token: &str, prefetched: records::Prefetched) -> Outcome {
        let record: Option<preview::Preview> =
            self.record(&preview::key(token), prefetched).await?;
        let mut resp = match preview::answer(token, record.as_ref(), self.now) {
            preview::Answer::Page(post) => {
                let body = pages::preview(&self.site.settings, post, self.now);
                respond(body.into_bytes(), HTML, preview::CACHE_CONTROL, 200)?
            }
            preview::Answer::Redirect(location) => redirect(&location)?,
            preview::Answer::NotFound => {
                return Err(Failure::NotFound {
                    settings: self.site.settings.clone(),
                })
            }
        };
        for (name, value) in preview::headers() {
            resp.headers_mut().set(name, value)?;
        }
        Ok(resp.into())
    }

    /// The front page: its list's newest posts and Popular Reads. The counts name the
    /// candidates; their records are read once per content version and set of candidates.
    async fn home(&self, prefetched: records::Prefetched, aliases: records::Prefetched) -> Outcome {
        let settings = &self.site.settings;
        let n = settings.popular_count;
        let query = StatsQuery::popular(settings.popular_half_life_days, n);
        let stats = counter::stats(self.env, self.ctx, &query).await;
        let none = Default::default();
        let stats = stats.as_deref().unwrap_or(&none);
        let aliases = records::aliases(self.env, self.site, aliases).await?;
        let candidates = ranking::candidates(stats, &aliases, self.now, n);
        let due = self.site.due(self.now);
        let posts = match cache::home_posts(&self.site.version, due, &candidates) {
            Some(posts) => posts,
            None => {
                let posts = self.home_posts(due, candidates, prefetched).await?;
                cache::set_home_posts(posts.clone());
                posts
            }
        };
        let popular = ranking::popular(&posts.pool, stats, n);
        let key = caching::home_key(BUILD_ID, self.site, self.now, self.req.path(), &popular);
        let cache_control = self.lifetime().index_cache();
        self.cached(key, HTML, cache_control, async || {
            let front: Vec<_> = posts.front.iter().collect();
            Ok(Some(pages::index(settings, &front, posts.more, popular)))
        })
        .await
    }

    async fn home_posts(
        &self,
        due: usize,
        candidates: Vec<String>,
        prefetched: records::Prefetched,
    ) -> Result<Rc<HomePosts>, Failure> {
        let front: Option<ListRecord> = self.record(&List::Front.key(1), prefetched).await?;
        let per_page = List::Front.per_page(&self.site.settings);
        let shown = front
            .as_ref()
            .and_then(|r| r.page_at(self.now, per_page, 1));
        let (front_posts, more) = match &shown {
            Some(shown) => (
                shown.posts.iter().map(|p| (*p).clone()).collect::<Vec<_>>(),
                shown.total > shown.posts.len(),
            ),
            None => (Vec::new(), false),
        };
        // The candidates not on the front page: their records, at once. One that cannot be
        // read is left out (Popular Reads is a list of suggestions, not a page of its own).
        let missing: Vec<&String> = candidates
            .iter()
            .filter(|c| !front_posts.iter().any(|p| &p.slug == *c))
            .collect();
        let read = join_all(
            missing
                .iter()
                .map(|slug| records::post(self.env, self.site, slug)),
        )
        .await;
        let metas = read.into_iter().filter_map(|r| match r {
            Ok(record) => record.map(|r| r.meta),
            Err(Failure::Internal { context, cause }) => {
                worker::console_error!("Popular Reads: left out: {context}: {cause}");
                None
            }
            Err(_) => None,
        });
        let pool = ranking::pool(&front_posts, metas, self.now);
        Ok(Rc::new(HomePosts {
            version: self.site.version.clone(),
            due,
            candidates,
            front: front_posts,
            more,
            pool,
        }))
    }

    /// A post's read count, as the badge or as text: fresh within `BADGE_CACHE`, the text
    /// kept nowhere.
    async fn reads(&self, slug: &str, prefetched: records::Prefetched, to: ReadsAs) -> Outcome {
        // The post's metadata says whether it is out and which slugs its reads count under:
        // read once per content version, then kept (badges are asked for on every view).
        let meta = match cache::meta(&self.site.version, slug) {
            Some(meta) => meta,
            None => {
                let record: Option<PostRecord> =
                    self.record(&kv::post_key(slug), prefetched).await?;
                let meta = record.map(|r| Rc::new(r.meta));
                cache::set_meta(&self.site.version, slug, meta.clone());
                meta
            }
        };
        let Some(meta) = meta.filter(|m| m.published <= self.now) else {
            return self.not_found().await;
        };
        let half_life = self.site.settings.popular_half_life_days;
        let query = StatsQuery::slugs(half_life, meta.counted_slugs());
        let stats = counter::stats(self.env, self.ctx, &query).await;
        let reads = stats.map(|s| ranking::stats_for(&meta, &s).reads);
        if to == ReadsAs::Text {
            let text = pages::reads_text(reads);
            return Ok(respond(text.into_bytes(), headers::TEXT, caching::NO_STORE, 200)?.into());
        }
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

    /// The author's report, for the holder of the stats token (the Worker's `STATS_TOKEN`
    /// secret, sent as `Authorization: Bearer …`). Anyone else gets the ordinary 404, made
    /// the way every other 404 is, so nothing tells the endpoint apart from a missing page.
    async fn stats(&self) -> Outcome {
        let expected = self.env.secret("STATS_TOKEN").ok().map(|s| s.to_string());
        let given = self.req.header("authorization");
        if !stats::token_matches(expected.as_deref(), stats::bearer_token(given.as_deref())) {
            return self.not_found().await;
        }
        let retention = self.site.settings.stats_retention_days;
        let shards = counter::report(self.env, retention)
            .await
            .map_err(|e| Failure::internal("stats: the counters", e))?;
        let aliases = records::aliases(self.env, self.site, None).await?;
        let today = readers::day_number(self.now);
        let renamed = aliases.renamed_posts(self.now);
        let body = stats::answer_json(today, retention, renamed, &shards);
        Ok(respond(body.into_bytes(), headers::JSON, caching::NO_STORE, 200)?.into())
    }

    /// The site's feeds, a tag's, or with `series` a series' (in Atom).
    async fn feed(
        &self,
        kind: FeedKind,
        tag: Option<&str>,
        series: Option<&str>,
        prefetched: records::Prefetched,
    ) -> Outcome {
        let key = self.list_key("");
        if let Some(page) = cache::get(&key) {
            return send(self.req, &page);
        }
        let list = match (series, tag) {
            (Some(series), _) => List::Series(series),
            (None, Some(tag)) => List::TagFeed(tag),
            (None, None) => List::Feed,
        };
        let settings = &self.site.settings;
        let record: Option<ListRecord> = self.record(&list.key(1), prefetched).await?;
        let shown = record
            .as_ref()
            .and_then(|r| r.page_at(self.now, list.per_page(settings), 1));
        let posts = shown.map(|s| s.posts).unwrap_or_default();
        let plan = match series {
            Some(series) => feeds::series_plan(settings, posts, series),
            None => feeds::plan(settings, posts, kind, tag),
        };
        let Some(plan) = plan else {
            return self.not_found().await;
        };
        // The feed's record carries its posts' HTML: nothing more to read. One written
        // before it did (or too large to) names the posts, read then, all at once.
        let carried: Option<Vec<Option<PostRecord>>> = record.as_ref().and_then(|record| {
            plan.posts
                .iter()
                .map(|meta| record.feed_post(meta).map(Some))
                .collect()
        });
        if let Some(carried) = carried {
            return self.send_feed(key, &plan, &carried);
        }
        let results = join_all(
            plan.posts
                .iter()
                .map(|p| records::post(self.env, self.site, &p.slug)),
        )
        .await;
        let mut fetched = Vec::with_capacity(results.len());
        for (meta, result) in plan.posts.iter().zip(results) {
            fetched.push(match result {
                Ok(Some(record)) => Some(record),
                Ok(None) => {
                    worker::console_error!(
                        "feed: its list names {} but KV has no {}",
                        meta.slug,
                        kv::post_key(&meta.slug)
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
        self.send_feed(key, &plan, &fetched)
    }

    /// A feed from its posts' records, kept when every one is the version its list names.
    fn send_feed(
        &self,
        key: String,
        plan: &feeds::FeedPlan<'_>,
        records: &[Option<PostRecord>],
    ) -> Outcome {
        let feed = feeds::assemble(plan, records);
        if !feed.complete {
            return Ok(respond(
                feed.body.into_bytes(),
                feed.content_type,
                caching::NO_STORE,
                200,
            )?
            .into());
        }
        let cache_control = self.lifetime().page_cache(caching::FEED_MAX_AGE);
        self.keep(key, feed.body, feed.content_type, cache_control)
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
