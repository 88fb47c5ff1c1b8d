//! One handler per route: each maps a request to core calls and a response.

use super::{counter, redirect, respond, store, Failure, Outcome};
use crate::content::{PostMeta, PostRecord, SiteIndex, Visible};
use crate::date::Timestamp;
use crate::feeds::{self, FeedEntry, FeedInfo};
use crate::markdown::{self, RenderOptions};
use crate::routes::{self, FeedKind, Route};
use crate::{pages, ranking, readers};
use futures_util::future::{join, join_all};
use worker::{Context, Date, Env, Method, Request};

const STYLESHEET: &str = concat!(include_str!("../../templates/style.css"), include_str!("../../templates/highlight.css"));
const FAVICON: &str = include_str!("../../templates/favicon.svg");
/// Assets that change only with a deploy: cached for a month.
const ASSET_CACHE: &str = "public, max-age=2592000";
const HTML: &str = "text/html; charset=utf-8";

pub async fn handle(route: Route, req: &Request, env: &Env, ctx: &Context) -> Outcome {
    match route {
        Route::Stylesheet => Ok(respond(STYLESHEET.into(), "text/css; charset=utf-8", "public, max-age=3600", 200)?),
        Route::Favicon => Ok(respond(FAVICON.into(), "image/svg+xml", ASSET_CACHE, 200)?),
        Route::Redirect { location } => Ok(redirect(&location)?),
        Route::MethodNotAllowed => {
            let mut resp = respond(b"Method not allowed\n".to_vec(), "text/plain; charset=utf-8", "no-store", 405)?;
            resp.headers_mut().set("allow", routes::ALLOWED_METHODS)?;
            Ok(resp)
        }
        Route::Post { slug } => post(&slug, req, env, ctx).await,
        route => {
            let index = store::index(env).await?;
            let now = now();
            let visible = index.visible(now);
            match route {
                Route::Index => home(&index, &visible, env, now).await,
                Route::Tags => html(pages::tags(&index.settings, &visible), &visible, now),
                Route::Tag { slug } => match pages::tag(&index.settings, &visible, &slug) {
                    Some(page) => html(page, &visible, now),
                    None => not_found(&index, &visible, req),
                },
                Route::Feed { kind, tag } => feed(&index, &visible, kind, tag.as_deref(), env, now).await,
                Route::Sitemap => sitemap(&index, &visible, now),
                Route::Manifest => Ok(respond(
                    pages::manifest(&index.settings).into_bytes(),
                    "application/manifest+json",
                    "public, max-age=86400",
                    200,
                )?),
                Route::Robots => Ok(respond(
                    feeds::robots(&index.settings).into_bytes(),
                    feeds::ROBOTS_TYPE,
                    "public, max-age=86400",
                    200,
                )?),
                _ => not_found(&index, &visible, req),
            }
        }
    }
}

fn now() -> Timestamp {
    (Date::now().as_millis() / 1000) as Timestamp
}

/// Cache lifetime for a page that lists posts: never past the next scheduled publication,
/// so a post dated in the future appears on time.
fn cache_control(max_age: i64, visible: &Visible<'_>, now: Timestamp) -> String {
    let max_age = visible.next_publication.map_or(max_age, |t| max_age.min((t - now).max(0)));
    format!("public, max-age={max_age}, must-revalidate")
}

fn html(page: String, visible: &Visible<'_>, now: Timestamp) -> Outcome {
    Ok(respond(page.into_bytes(), HTML, &cache_control(0, visible, now), 200)?)
}

/// A path no page answers: an alias of a post answers 301 to it, anything else 404.
fn not_found(index: &SiteIndex, visible: &Visible<'_>, req: &Request) -> Outcome {
    let path = req.path();
    match visible.alias_target(&path) {
        Some(post) => Ok(redirect(&post.url())?),
        None => Err(Failure::NotFound { settings: index.settings.clone() }),
    }
}

async fn home(index: &SiteIndex, visible: &Visible<'_>, env: &Env, now: Timestamp) -> Outcome {
    let settings = &index.settings;
    // Popular Reads is a sidebar: if the counter is slow or down, it ranks by date instead.
    let stats = counter::stats(env, settings.popular_half_life_days).await.unwrap_or_default();
    let popular = ranking::popular(visible.posts, &stats, settings.popular_count);
    html(pages::index(settings, visible.posts, popular), visible, now)
}

async fn post(slug: &str, req: &Request, env: &Env, ctx: &Context) -> Outcome {
    // The index (for settings and neighbours) and the post are independent reads.
    let (index, record) = join(store::index(env), store::post(env, slug)).await;
    let index = index?;
    let now = now();
    let visible = index.visible(now);
    let Some(record) = record?.filter(|r| r.meta.published <= now) else {
        return not_found(&index, &visible, req);
    };
    let settings = &index.settings;
    let stats = counter::stats(env, settings.popular_half_life_days).await;
    if req.method() == Method::Get && is_real_read(req) {
        // Counted after the response has gone; the page shows the count before this read.
        let hit = counter::Hit { slug: record.meta.slug.clone(), reader: reader_fingerprint(req) };
        ctx.wait_until(counter::record(env.clone(), vec![hit]));
    }
    let reads = stats.map(|s| ranking::stats_for(&record.meta, &s).reads);
    html(pages::post(settings, &record, &visible, reads), &visible, now)
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

fn is_real_read(req: &Request) -> bool {
    readers::is_countable(
        header(req, "user-agent").as_deref(),
        header(req, "sec-purpose").as_deref(),
        header(req, "purpose").or_else(|| header(req, "x-moz")).as_deref(),
    )
}

fn reader_fingerprint(req: &Request) -> String {
    let ip = header(req, "cf-connecting-ip").unwrap_or_default();
    readers::reader_fingerprint(&ip, &header(req, "user-agent").unwrap_or_default())
}

async fn feed(
    index: &SiteIndex,
    visible: &Visible<'_>,
    kind: FeedKind,
    tag: Option<&str>,
    env: &Env,
    now: Timestamp,
) -> Outcome {
    let settings = &index.settings;
    let (posts, title, self_path, home_path): (Vec<&PostMeta>, String, String, String) = match tag {
        None => {
            let self_path = match kind {
                FeedKind::Atom => "/feed.xml",
                FeedKind::Rss => "/rss.xml",
                FeedKind::Json => "/feed.json",
            };
            (visible.posts.iter().collect(), settings.title.clone(), self_path.into(), "/".into())
        }
        Some(tag) => {
            let posts = visible.tagged(tag);
            let Some(name) = posts.first().and_then(|p| p.tags.iter().find(|t| crate::content::tag_slug(t) == tag)) else {
                return Err(Failure::NotFound { settings: settings.clone() });
            };
            let title = format!("{} · {name}", settings.title);
            (posts, title, format!("/tags/{tag}/feed.xml"), format!("/tags/{tag}"))
        }
    };
    let posts: Vec<&PostMeta> = posts.into_iter().take(settings.feed_posts).collect();
    let records = join_all(posts.iter().map(|p| store::post(env, &p.slug))).await;
    let mut rendered: Vec<(&PostMeta, String)> = Vec::with_capacity(posts.len());
    for (meta, record) in posts.iter().zip(records) {
        // A post the index lists but KV lacks is left out of the feed rather than failing it.
        let Some(record): Option<PostRecord> = record? else {
            worker::console_error!("feed: index lists {} but its record is missing", meta.slug);
            continue;
        };
        let html = markdown::render(&record.body, &RenderOptions { code_html: &record.code_html }).html;
        rendered.push((meta, feeds::absolutize(&html, &settings.base_url, &meta.url())));
    }
    let entries: Vec<FeedEntry<'_>> =
        rendered.iter().map(|(meta, html)| FeedEntry { meta, content_html: html }).collect();
    let info = FeedInfo { title, self_path, home_path, settings };
    let (body, content_type) = match kind {
        FeedKind::Atom => (feeds::atom(&info, &entries), feeds::ATOM_TYPE),
        FeedKind::Rss => (feeds::rss(&info, &entries), feeds::RSS_TYPE),
        FeedKind::Json => (feeds::json_feed(&info, &entries), feeds::JSON_FEED_TYPE),
    };
    Ok(respond(body.into_bytes(), content_type, &cache_control(300, visible, now), 200)?)
}

fn sitemap(index: &SiteIndex, visible: &Visible<'_>, now: Timestamp) -> Outcome {
    let newest = visible.posts.first().map(|p| p.published);
    let mut urls: Vec<(String, Option<i64>)> = vec![("/".into(), newest), ("/tags".into(), newest)];
    urls.extend(visible.posts.iter().map(|p| (p.url(), Some(p.published))));
    urls.extend(visible.tags().into_iter().map(|(t, _)| (t.url(), None)));
    let body = feeds::sitemap(&index.settings, &urls);
    Ok(respond(body.into_bytes(), feeds::SITEMAP_TYPE, &cache_control(3600, visible, now), 200)?)
}

