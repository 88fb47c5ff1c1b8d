//! `blog preview`: publish one draft or scheduled post under its secret link and print the
//! link; `--revoke` takes the link back.

use super::Site;
use blog_author::lease::Lease;
use blog_author::preview::{self, Stage, Tokens};
use blog_author::publish::{self, Highlighting, Kept};
use blog_author::wrangler::{Kv, Place};
use blog_core::routes;
use std::path::Path;

pub const HELP: &str = "\
Publish a draft or a scheduled post under a secret, unguessable link and print the link, so a
reviewer can read it on the real site before it is public. The page is the post's, marked
\"Preview\", and found nowhere else: not in feeds, lists, search or the sitemap, never
indexed and never counted as a read. The link stays the same while you edit (run `blog
preview` or `blog sync` again to update the page) until --revoke; once the post is out it
leads to the post. Tokens are kept in <content>.previews beside the content folder: keep
that file out of version control.

Usage: blog preview [OPTIONS] <FILE>

Arguments:
  <FILE>  The post's file, such as content/my-draft.md

Options:
      --revoke            Take the post's link back: it answers 404 from now on
      --content <DIR>     The posts folder [default: content]
      --settings <FILE>   The site settings [default: site.toml]
      --remote            Publish to the Cloudflare account's KV instead of local dev state
      --persist-to <DIR>  The local state folder [default: .wrangler/state]
  -h, --help              Print help
";

pub fn run(site: &Site, file: &Path, revoke: bool, place: Place) -> Result<(), String> {
    let (settings, content) = super::load(site)?;
    let wanted = file_key(&site.content, file);
    let Some(post) = content
        .posts
        .iter()
        .find(|p| publish::file_key(&site.content, &p.file) == wanted)
    else {
        return Err(format!(
            "{}: no post there in {} (name a post's file, such as {}/my-draft.md)",
            file.display(),
            site.content.display(),
            site.content.display()
        ));
    };
    let tokens_path = preview::tokens_path(&site.content);
    let mut tokens = Tokens::read(&tokens_path)?;
    let kv = Kv::new(place);
    let _lease = Lease::take(&kv, &mut |line| eprintln!("{line}"))?;
    let remote = kv.list()?;
    let held: Vec<String> = preview::listed(&remote)
        .into_iter()
        .filter(|l| l.file() == Some(wanted.as_str()))
        .map(|l| l.key.to_string())
        .collect();
    if revoke {
        let had_token = tokens.0.remove(&wanted).is_some();
        if !held.is_empty() {
            kv.bulk_delete(&held)?;
        }
        if had_token {
            tokens.write(&tokens_path)?;
        }
        match had_token || !held.is_empty() {
            true => println!(
                "Revoked the preview of {}: its link answers 404 now.",
                file.display()
            ),
            false => println!("{} has no preview to revoke.", file.display()),
        }
        return Ok(());
    }
    let (posts, _) = super::prepare(
        site,
        settings.clone(),
        &content,
        false,
        Highlighting::WhereLimitsNeedIt,
        &mut Kept::default(),
    )?;
    let stage = preview::stage(post, &posts, super::now());
    if let Stage::Published { slug } = &stage {
        return Err(format!(
            "{} is published ({}): a preview is for a draft or a scheduled post",
            file.display(),
            settings.absolute(&routes::post_path(slug))
        ));
    }
    let kind = match stage {
        Stage::Draft(_) => "draft",
        _ => "scheduled",
    };
    let token = match tokens.0.get(&wanted) {
        Some(token) => token.clone(),
        None => {
            let token = preview::new_token()?;
            tokens.0.insert(wanted.clone(), token.clone());
            tokens.write(&tokens_path)?;
            token
        }
    };
    let token_hash = blog_core::preview::token_hash(&token);
    let key = blog_core::preview::key_of_hash(&token_hash);
    // The files the page shows, before the page.
    let used = publish::used_files(std::slice::from_ref(post), &content);
    let files: Vec<_> = used
        .iter()
        .filter(|(key, _)| !remote.contains_key(*key))
        .map(|(_, file)| *file)
        .collect();
    kv.put_files(&site.content, &files)?;
    let hash = stage.hash(&token_hash, !settings.raw_html);
    let highlighter = blog_author::highlight::Highlighter::new();
    let record = stage.render(&token_hash, &highlighter, !settings.raw_html);
    kv.put_in_batches("preview", &[preview::entry(&record, &hash, &wanted)])?;
    // One link a post: one made before (from a tokens file since lost) goes.
    let stale: Vec<String> = held.into_iter().filter(|k| *k != key).collect();
    if !stale.is_empty() {
        kv.bulk_delete(&stale)?;
    }
    println!(
        "Preview of {} ({kind}), the same link until `blog preview --revoke {}`:",
        file.display(),
        file.display()
    );
    println!("{}", settings.absolute(&routes::preview_path(&token)));
    if !kv.stale_window().is_zero() {
        eprintln!(
            "  (a new link may take up to {:.0} s to answer at every location)",
            kv.stale_window().as_secs_f64()
        );
    }
    Ok(())
}

/// A post's file as the content folder knows it (`post.md` for `content/post.md` or
/// `./content/post.md`).
fn file_key(content_dir: &Path, file: &Path) -> String {
    let file = file.strip_prefix(".").unwrap_or(file);
    let dir = content_dir.strip_prefix(".").unwrap_or(content_dir);
    let inside = file.strip_prefix(dir).unwrap_or(file);
    inside.to_string_lossy().into_owned()
}
