//! `blog sync`: validate, then publish what changed to Workers KV, in the order that keeps
//! the site whole at every step (files, posts, index, version, deletions), and report it.

use super::Site;
use blog_author::card::{self, Cards};
use blog_author::images;
use blog_author::lease::Lease;
use blog_author::preview;
use blog_author::publish::{self, Highlighting, Kept};
use blog_author::sync;
use blog_author::wrangler::{Kv, Place};
use blog_core::content::SiteRecord;
use blog_core::{kv, routes};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub const HELP: &str = "\
Validate the content as `blog check` does, then publish what changed to Workers KV: files
first, then posts, then the index, then deletions, so a reader never meets a link to
something not there yet. A renamed post gets its old address as an alias in its own file.
A sync that stops half-way loses nothing: run it again to finish. One sync runs at a time:
a second one waits for the first.

The account's KV may serve a key's old value for up to 60 s at each location, so with
--remote a sync waits that long after writing new posts and files, after new tag, year or
list pages, and before the version that switches the site over: about a minute for an
edit, two when posts are added, three when they start a tag or a year.

Usage: blog sync [OPTIONS]

Options:
      --content <DIR>     The posts folder [default: content]
      --settings <FILE>   The site settings [default: site.toml]
      --drafts            Also publish posts marked `draft = true` (local dev only)
      --remote            Publish to the Cloudflare account's KV instead of local dev state
      --persist-to <DIR>  The local state folder, as given to `wrangler dev --persist-to`
                          [default: .wrangler/state]
      --preview           Also give every draft and scheduled post its preview link (as
                          `blog preview` does) and print the links
      --dry-run           Print what would be written, and write nothing
  -h, --help              Print help

Environment:
  BLOG_WRANGLER          The wrangler command [default: node_modules/.bin/wrangler]
  BLOG_NODE              The node that runs the local KV session [default: node]
  BLOG_WRANGLER_TIMEOUT  Seconds one wrangler call or local KV request may take [default: 300]
  BLOG_KV_STALE_MS       How long a KV location may serve old values after a write
                         [default: 0 locally, 60000 with --remote]
  BLOG_NO_SEARCH         Leave the search index out (and delete it from KV): for
                         measuring what search adds to a sync
  BLOG_NO_RELATED        Leave each post's related posts out: for measuring what
                         they add to a sync
";

pub fn run(
    site: &Site,
    drafts: bool,
    place: Place,
    dry_run: bool,
    preview: bool,
) -> Result<(), String> {
    let kv = Kv::new(place);
    publish(site, &kv, drafts, dry_run, preview, Settle::Wait).map(drop)
}

/// Whether a sync waits, after writing `version`, until every isolate would read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    Wait,
    /// The isolates read `version` on every request (`blog serve`'s `wrangler dev`).
    NoWindow,
}

/// What a finished sync published: each post's file and address.
#[derive(Debug, Default, Clone)]
pub struct Published {
    pub pages: Vec<(String, String)>,
}

/// One sync through `kv`, which may stay open from one sync to the next (`blog serve`).
pub fn publish(
    site: &Site,
    kv: &Kv,
    drafts: bool,
    dry_run: bool,
    preview: bool,
    settle: Settle,
) -> Result<Published, String> {
    let place = kv.location().clone();
    // Read beside the content, which it does not need; kept beside the writes.
    let (terms_path, related_path) = (
        kept_path(&place, "search-terms.txt"),
        kept_path(&place, "related.txt"),
    );
    let kept_read = {
        let (terms, related) = (terms_path.clone(), related_path.clone());
        std::thread::spawn(move || Kept {
            terms: blog_author::search::TermCache::load(&terms),
            related: blog_author::related::Chosen::load(&related),
        })
    };
    // One sync at a time: held from before the listing until the last write. A dry run
    // only reads.
    let mut lease = if dry_run {
        None
    } else {
        Some(Lease::take(kv, &mut |line| eprintln!("{line}"))?)
    };
    let mut renew = || lease.as_mut().map_or(Ok(()), Lease::renew);
    // What the edge holds is listed while the content is read and checked: the two take
    // about as long at ten thousand posts, and neither needs the other. The listing only
    // reads, so content that fails its checks still writes nothing.
    let (loaded, listed) = std::thread::scope(|scope| {
        let listing = scope.spawn(|| kv.list());
        let loaded = super::load(site).and_then(|(settings, content)| {
            // Only what KV might refuse once highlighted is highlighted now; the plan says
            // which posts are written, and only those are highlighted then.
            let mut kept = kept_read.join().unwrap_or_default();
            let (posts, index) = super::prepare(
                site,
                settings.clone(),
                &content,
                drafts,
                Highlighting::WhereLimitsNeedIt,
                &mut kept,
            )?;
            Ok((settings, content, posts, index, kept))
        });
        (loaded, listing.join().expect("listing KV does not panic"))
    });
    let (settings, content, mut posts, mut index, mut kept) = loaded?;
    let strip_raw_html = !settings.raw_html;
    let base_url = settings.base_url.clone();
    let card_settings = settings.clone();
    println!("Syncing {} to {} KV…", site.content.display(), kv.place());
    let remote = listed?;
    let renamed = publish::renames(&content, &site.content, &remote);
    if !dry_run {
        for edit in publish::alias_edits(&renamed, &content, &site.content) {
            edit.apply()?;
            println!("{edit}");
        }
    }
    if !renamed.is_empty() {
        // The files changed: read them again, so what is published is what is on disk.
        let (_, reread) = super::load(site)?;
        (posts, index) = super::prepare(
            site,
            settings,
            &reread,
            drafts,
            Highlighting::WhereLimitsNeedIt,
            &mut kept,
        )?;
    }
    let published = Published {
        pages: posts
            .iter()
            .map(|p| {
                (
                    p.file.clone(),
                    blog_core::routes::post_path(&p.record.meta.slug),
                )
            })
            .collect(),
    };
    let records: Vec<_> = posts.iter().map(|p| p.record.clone()).collect();
    // Every preview KV holds stays at its link and shows its post as it is now: a draft's
    // page, a scheduled post's, or once the post is out, a redirect to it.
    let links = if preview {
        Links::of(site, &content, &posts, dry_run)?
    } else {
        Links::default()
    };
    let previews = preview::refresh(
        &remote,
        &links.wanted,
        &content,
        &site.content,
        &posts,
        super::now(),
        strip_raw_html,
    );
    let mut used = publish::used_files(&posts, &content);
    used.extend(publish::used_files(&previews.sources, &content));
    // The resized copies of the images the posts show: stored as files are, counted apart.
    let showing: Vec<_> = posts.iter().chain(&previews.sources).collect();
    let variants = images::wanted(&showing, &content);
    let variant_keys: BTreeSet<String> = variants.keys().cloned().collect();
    let mut file_keys: BTreeSet<String> = used.keys().cloned().collect();
    file_keys.extend(variant_keys.iter().cloned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let site_record = SiteRecord::of(&index, now.as_secs() as i64);
    let nonce = now.as_nanos().to_string();
    let mut list_records = publish::list_records(&index, now.as_secs() as i64);
    let mut cache_saved = None;
    // The search index's pieces go with the list records: only the changed ones are
    // written, after the posts and before `version`; the ones no term needs are deleted.
    if std::env::var_os("BLOG_NO_SEARCH").is_none() {
        let now = now.as_secs() as i64;
        list_records.extend(blog_author::search::records_unless_current(
            &posts,
            now,
            &remote,
            &mut kept.terms,
        ));
    }
    if !dry_run {
        cache_saved = Some(std::thread::spawn(move || {
            if kept.terms.changed() {
                kept.terms.save(&terms_path);
            }
            if kept.related.changed {
                kept.related.save(&related_path);
            }
        }));
    }
    let mut plan = sync::plan(&records, &file_keys, index, site_record, &remote, &nonce);
    sync::split_variants(&mut plan, &variant_keys, &remote);
    sync::plan_records(&mut plan, list_records, &remote);
    let cache = images::Cache {
        dir: kept_path(&place, "image-variants"),
    };
    let work = images::work(&variants, &plan.put_variants, |name| cache.has(name));
    if dry_run {
        for (file, _) in &previews.put {
            println!("  preview of {file} would be updated");
        }
        print!("{}", publish::report(&plan, &renamed, &used, true));
        if !variants.is_empty() || !plan.delete_variants.is_empty() {
            println!(
                "image variants: {} would be added ({} encoded from {} images, {} from the local cache), {} removed, {} unchanged",
                plan.put_variants.len(),
                work.encode.values().map(Vec::len).sum::<usize>(),
                work.encode.len(),
                work.from_cache.len(),
                plan.delete_variants.len(),
                plan.unchanged_variants
            );
        }
        return Ok(published);
    }
    // Encoded before anything is written: an image that cannot be decoded stops the sync
    // with nothing written.
    for (path, wanted) in &work.encode {
        println!("  image     resized {path} -> {}", images::describe(wanted));
    }
    let encoding = images::make(&work, &site.content, &cache).map_err(|problems| {
        for problem in &problems {
            eprintln!("{problem}");
        }
        publish::nothing_written(problems.len())
    })?;
    // The dates go to disk before the edge hears of them, so a sync that stops half way
    // and runs again publishes the same dates.
    if let Some(text) = &content.dates_lock {
        let path = blog_author::dates::lock_path(&site.content);
        blog_author::dates::write(&path, text)?;
        println!("  dates     written to {} (commit it)", path.display());
    }
    publish::render_planned(&mut plan, strip_raw_html);
    publish::feed_html(&mut plan, &posts, strip_raw_html);
    // Each written post's card, now that its reading time is known; the cards of the posts
    // left alone are kept. Only the cards KV lacks are drawn.
    let mut cards = Cards::plan(
        plan.put_posts.iter_mut().map(|(_, record)| record),
        &plan.unchanged,
        &card_settings,
        &remote,
    );
    plan.delete_files.retain(|key| !cards.used.contains(key));
    renew()?;
    let files: Vec<_> = plan.put_files.iter().map(|key| used[key]).collect();
    kv.put_files(&site.content, &files)?;
    // Cards are files too, written before the posts that name them. A few go locally in
    // the posts' own bulk put, ahead of them (the session writes in order); many are drawn
    // and written a chunk at a time first; remotely, one call each.
    let missing: Vec<String> = cards.missing.keys().cloned().collect();
    let mut card_entries = Vec::new();
    if kv.bulk_keeps_bytes() && missing.len() <= card::INLINE {
        card_entries = publish::card_entries(&cards.draw(&missing)?);
    } else {
        cards.draw_and_write(&missing, card::CHUNK, |drawn| {
            if kv.bulk_keeps_bytes() {
                kv.put_in_batches("cards", &publish::card_entries(drawn))?;
            } else {
                kv.put_rendered(drawn, card::key_meta)?;
            }
            renew()
        })?;
    }
    let cards_written = !missing.is_empty();
    renew()?;
    kv.put_variants(&encoding.uploads)?;
    renew()?;
    // On a KV whose locations may serve old values for a while (the account's, 60 s), what
    // the next step links must be there everywhere before that step: new posts and files
    // before the posts and lists that link them, every record before `version`, which
    // isolates key their pages by. Local state is read where it is written: no waits.
    // New keys go first, as nothing links them until the posts and lists written after
    // them: the new posts, then the tag, year and list pages no page had yet (which list
    // the new posts, so every location must serve those first).
    let stale = kv.stale_window();
    let mut entries = publish::post_entries(&plan, &posts, &site.content);
    let mut index_entries = Vec::new();
    if let Some((site_record, hash)) = &plan.put_site {
        index_entries.push(publish::site_entry(site_record, hash));
    }
    index_entries.extend(publish::record_entries(&plan.put_records));
    // Previews show posts and files written before them; one turned into a redirect
    // leads to a post written before it.
    index_entries.extend(previews.put.iter().map(|(_, entry)| entry.clone()));
    let mut new_records = publish::record_entries(&plan.new_records);
    // The search head vouches for the pieces written before it (a later sync that finds it
    // current builds no index): it goes last of all, after the changed pieces too.
    let head = blog_author::search::take_head(&mut new_records);
    index_entries.extend(head);
    blog_author::search::head_last(&mut index_entries);
    if stale.is_zero() {
        index_entries.extend(new_records);
        blog_author::search::head_last(&mut index_entries);
        entries.splice(0..0, card_entries);
    } else {
        kv.put_in_batches("cards", &card_entries)?;
        let (added, changed): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .zip(&plan.put_posts)
            .partition(|(_, (change, _))| *change == sync::Change::Added);
        let added: Vec<_> = added.into_iter().map(|(entry, _)| entry).collect();
        kv.put_in_batches("new posts", &added)?;
        if !added.is_empty() || !files.is_empty() || !encoding.uploads.is_empty() || cards_written {
            wait_for_locations(stale, "the new posts and files");
        }
        renew()?;
        kv.put_in_batches("new pages", &new_records)?;
        if !new_records.is_empty() {
            wait_for_locations(stale, "the new tag, year and list pages");
        }
        entries = changed.into_iter().map(|(entry, _)| entry).collect();
    }
    renew()?;
    kv.put_in_batches("posts", &entries)?;
    let mut written = None;
    // The site record and the list records in one call: after the posts, before `version`.
    renew()?;
    if !index_entries.is_empty() {
        kv.put_in_batches("index", &index_entries)?;
        written = Some(Instant::now());
    }
    if let Some(index) = &plan.put_index {
        if !stale.is_zero() {
            wait_for_locations(stale, "the posts and lists");
            renew()?;
        }
        kv.put_in_batches("version", &[publish::version_entry(index)])?;
        written = Some(Instant::now());
    }
    let mut deletions = publish::deletions(&plan);
    deletions.extend(previews.delete.iter().cloned());
    renew()?;
    if !deletions.is_empty() {
        kv.bulk_delete(&deletions)?;
    }
    if let (Some(at), Settle::Wait) = (written, settle) {
        // Isolates trust the version they read for a moment: once this has passed, every
        // one of them has read the new version, and the next request shows it.
        let settle = Duration::from_millis(kv::SYNC_SETTLE_MS);
        std::thread::sleep(settle.saturating_sub(at.elapsed()));
    }
    if let Some(saved) = cache_saved {
        saved
            .join()
            .expect("keeping what the next sync may take does not panic");
    }
    for (file, _) in &previews.put {
        println!("  preview of {file} updated (same link)");
    }
    if !previews.delete.is_empty() {
        println!(
            "  {} previews removed with their posts",
            previews.delete.len()
        );
    }
    links.commit(&base_url)?;
    let shown: BTreeSet<String> = variants.values().map(|w| w.spec.name()).collect();
    cache.keep_only(&shown);
    print!("{}", publish::report(&plan, &renamed, &used, false));
    if !variants.is_empty() || !plan.delete_variants.is_empty() {
        println!(
            "{}",
            encoding.summary(
                plan.put_variants.len(),
                plan.delete_variants.len(),
                plan.unchanged_variants
            )
        );
    }
    println!("{}", cards.report());
    Ok(published)
}

/// `--preview`: a link for every draft and scheduled post, its token kept in the tokens file
/// (made now for a post that has none).
#[derive(Default)]
struct Links {
    /// Post's file to its token's hash: what the sync writes.
    wanted: BTreeMap<String, String>,
    /// Post's file to its token, for the links printed at the end.
    tokens: BTreeMap<String, String>,
    /// The tokens file to write once the previews are written (a new token was made).
    write: Option<(std::path::PathBuf, preview::Tokens)>,
}

impl Links {
    fn of(
        site: &Site,
        content: &blog_author::source::Content,
        posts: &[blog_author::source::SourcePost],
        dry_run: bool,
    ) -> Result<Self, String> {
        let path = preview::tokens_path(&site.content);
        let mut tokens = preview::Tokens::read(&path)?;
        let mut links = Links::default();
        let mut made = false;
        for (file, _) in preview::unpublished(content, &site.content, posts, super::now()) {
            let token = match tokens.0.get(&file) {
                Some(token) => token.clone(),
                None if dry_run => {
                    println!("  {file} would get a preview link");
                    continue;
                }
                None => {
                    let token = preview::new_token()?;
                    tokens.0.insert(file.clone(), token.clone());
                    made = true;
                    token
                }
            };
            links
                .wanted
                .insert(file.clone(), blog_core::preview::token_hash(&token));
            links.tokens.insert(file, token);
        }
        if made {
            links.write = Some((path, tokens));
        }
        Ok(links)
    }

    /// Keeps the new tokens, now that their previews are written, and prints every link.
    fn commit(self, base_url: &str) -> Result<(), String> {
        if let Some((path, tokens)) = &self.write {
            tokens.write(path)?;
        }
        if !self.tokens.is_empty() {
            println!("Preview links (the same until `blog preview --revoke <FILE>`):");
        }
        for (file, token) in &self.tokens {
            println!("  {file}  {base_url}{}", routes::preview_path(token));
        }
        Ok(())
    }
}

/// Where a sync keeps `name` for the next one ([`Kept`], the image variants it encoded): in
/// the local state folder, which deleting resets it with the state, or for the account's
/// KV under `target/blog/`. Never committed; each is only a speed-up, safe to delete.
fn kept_path(place: &Place, name: &str) -> std::path::PathBuf {
    match place {
        Place::Local { persist_to } => persist_to
            .as_deref()
            .unwrap_or(std::path::Path::new(".wrangler/state"))
            .join(format!("blog-{name}")),
        Place::Remote => std::path::Path::new("target/blog").join(name),
    }
}

/// Lets `stale` pass, so every KV location serves what was just written.
fn wait_for_locations(stale: Duration, what: &str) {
    eprintln!(
        "  waiting {:.0} s for every KV location to serve {what}…",
        stale.as_secs_f64()
    );
    std::thread::sleep(stale);
}
