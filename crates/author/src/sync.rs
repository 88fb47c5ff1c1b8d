//! What `blog sync` must write: the difference between the content folder and what the
//! edge holds, decided from content hashes (and content-addressed file names) alone.

use crate::source::{hash_of, stored_hash};
use blog_core::content::{PostRecord, SiteIndex, SiteRecord};
use blog_core::kv::{self, KeyMeta};
use blog_core::search_store;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Updated,
}

/// The writes of one sync, in the order they must happen: files, then posts (so a post
/// never shows an image that is not there yet), then the index (so the index never links a
/// post that is not there yet), then deletions of posts and files (so nothing still
/// published links them when they disappear).
#[derive(Debug, Default)]
pub struct Plan {
    /// `file/…` keys to upload. A file's key names its content, so one already there is
    /// never written again.
    pub put_files: Vec<String>,
    pub put_posts: Vec<(Change, PostRecord)>,
    pub put_index: Option<SiteIndex>,
    /// The site record, with its hash, when the edge's is not this one: written with the
    /// index, before `version`.
    pub put_site: Option<(SiteRecord, String)>,
    /// The list pages, the tags page and the aliases whose record changed: `(key, JSON,
    /// hash)`, written with the index.
    pub put_records: Vec<(String, String, String)>,
    /// The records among those that the edge does not hold yet (a new tag, year or page):
    /// nothing links them before the posts and lists written after them, so with the new
    /// posts they go first.
    pub new_records: Vec<(String, String, String)>,
    /// Posts no longer in the content folder, and list pages no longer there.
    pub delete_keys: Vec<String>,
    /// `file/…` keys no published post uses any more.
    pub delete_files: Vec<String>,
    pub unchanged: Vec<String>,
    pub unchanged_files: usize,
    /// Image variants (`file/…` keys, see [`crate::images`]) to upload, to delete (no post
    /// shows them any more), and already there: written and removed with the files, counted
    /// apart from them.
    pub put_variants: Vec<String>,
    pub delete_variants: Vec<String>,
    pub unchanged_variants: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.put_files.is_empty()
            && self.put_posts.is_empty()
            && self.put_index.is_none()
            && self.put_site.is_none()
            && self.put_records.is_empty()
            && self.new_records.is_empty()
            && self.delete_keys.is_empty()
            && self.delete_files.is_empty()
            && self.put_variants.is_empty()
            && self.delete_variants.is_empty()
    }

    pub fn count(&self, change: Change) -> usize {
        self.put_posts.iter().filter(|(c, _)| *c == change).count()
    }
}

/// `files` are the `file/…` keys the published posts use; `remote` maps every key the edge
/// holds to its stored metadata (`None` when a key carries none: a post is then always
/// rewritten). `nonce` is new for every sync (see below).
pub fn plan(
    posts: &[PostRecord],
    files: &BTreeSet<String>,
    mut index: SiteIndex,
    mut site: SiteRecord,
    remote: &BTreeMap<String, Option<KeyMeta>>,
    nonce: &str,
) -> Plan {
    let mut plan = Plan::default();
    for key in files {
        if remote.contains_key(key) {
            plan.unchanged_files += 1;
        } else {
            plan.put_files.push(key.clone());
        }
    }
    let mut wanted = std::collections::BTreeSet::new();
    for post in posts {
        let key = kv::post_key(&post.meta.slug);
        match remote.get(&key) {
            Some(Some(meta)) if meta.hash == stored_hash(post) => {
                plan.unchanged.push(post.meta.slug.clone())
            }
            Some(_) => plan.put_posts.push((Change::Updated, post.clone())),
            None => plan.put_posts.push((Change::Added, post.clone())),
        }
        wanted.insert(key);
    }
    let index_current =
        matches!(remote.get(kv::VERSION_KEY), Some(Some(m)) if m.hash == index.version);
    // Posts rewritten under an index that did not change: a sync that failed half way, then
    // was repaired or reverted. Isolates find the post pages they keep under the published
    // version, so it must change for them to read the rewritten posts again: the same
    // content under a new version, which `nonce` makes new. (The next sync then finds the
    // index is not the content's version and writes it once more, under the content's.)
    // Posts deleted under an unchanged index (a sync that died after `version`) count too:
    // isolates may keep a page of one, read from a location that still served it.
    plan.delete_keys = remote
        .keys()
        .filter(|k| k.starts_with(kv::POST_PREFIX) && !wanted.contains(*k))
        .cloned()
        .collect();
    let repaired = index_current && !(plan.put_posts.is_empty() && plan.delete_keys.is_empty());
    if repaired {
        index.version = hash_of(&(&index.version, nonce));
        site.version = index.version.clone();
    }
    if !index_current || repaired {
        plan.put_index = Some(index);
    }
    // The hash leaves out the removed keys (set once the plan is whole): a sync that
    // changes nothing finds the site record current.
    site.removed.clear();
    let site_hash = hash_of(&site);
    if !matches!(remote.get(kv::SITE_KEY), Some(Some(m)) if m.hash == site_hash) {
        plan.put_site = Some((site, site_hash));
    }
    // The whole-site index that edges before the list records read: nothing reads it now.
    if remote.contains_key(kv::INDEX_KEY) {
        plan.delete_keys.push(kv::INDEX_KEY.into());
    }
    plan.delete_files = remote
        .keys()
        .filter(|k| k.starts_with(kv::FILE_PREFIX) && !files.contains(*k))
        .cloned()
        .collect();
    plan
}

/// Moves the image variants out of the plan's files: `variants` are the keys the posts
/// show (given to [`plan`] among its `files`); a stored key whose metadata marks a variant
/// and that no post shows is deleted as one.
pub fn split_variants(
    plan: &mut Plan,
    variants: &BTreeSet<String>,
    remote: &BTreeMap<String, Option<KeyMeta>>,
) {
    let (put, files): (Vec<String>, Vec<String>) = std::mem::take(&mut plan.put_files)
        .into_iter()
        .partition(|k| variants.contains(k));
    plan.put_files = files;
    plan.put_variants = put;
    let held = variants.iter().filter(|k| remote.contains_key(*k)).count();
    plan.unchanged_variants = held;
    plan.unchanged_files -= held;
    let (gone, files): (Vec<String>, Vec<String>) = std::mem::take(&mut plan.delete_files)
        .into_iter()
        .partition(|k| crate::images::is_variant(remote.get(k).and_then(Option::as_ref)));
    plan.delete_files = files;
    plan.delete_variants = gone;
}

/// Adds to `plan` the records in `records` (by key: JSON and hash) whose hash the edge does
/// not hold (apart, those whose key it does not hold at all), and deletes the `list/…` and
/// `search/…` keys no longer among them.
pub fn plan_records(
    plan: &mut Plan,
    records: BTreeMap<String, (String, String)>,
    remote: &BTreeMap<String, Option<KeyMeta>>,
) {
    plan.delete_keys.extend(
        remote
            .keys()
            .filter(|k| {
                (k.starts_with(kv::LIST_PREFIX) || k.starts_with(search_store::PREFIX))
                    && !records.contains_key(*k)
            })
            .cloned(),
    );
    for (key, (json, hash)) in records {
        match remote.get(&key) {
            Some(Some(m)) if m.hash == hash => {}
            Some(_) => plan.put_records.push((key, json, hash)),
            None => plan.new_records.push((key, json, hash)),
        }
    }
    mark_removed(plan);
}

/// Names in the site record about to be written the posts, lists and search pieces `plan`
/// deletes: a KV
/// location may serve a deleted key for a while, and a page built from it would be kept
/// under the new version. The site record's hash leaves them out (see [`SiteRecord::removed`]).
fn mark_removed(plan: &mut Plan) {
    if let Some((site, _)) = &mut plan.put_site {
        site.removed = plan
            .delete_keys
            .iter()
            .filter(|k| {
                k.starts_with(kv::POST_PREFIX)
                    || k.starts_with(kv::LIST_PREFIX)
                    || k.starts_with(blog_core::search_store::PREFIX)
            })
            .cloned()
            .collect();
        site.removed.sort();
    }
}

/// A post whose slug changed since the last sync: same file, new slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub file: String,
    pub old_slug: String,
    pub new_slug: String,
}

/// Finds renamed posts. `local` is `(file, slug)` for every post in the content folder; a
/// stored post whose file now carries another slug, and whose old slug no post uses, was renamed.
pub fn renames(
    local: &[(String, String)],
    remote: &BTreeMap<String, Option<KeyMeta>>,
) -> Vec<Rename> {
    let slugs: std::collections::BTreeSet<&str> = local.iter().map(|(_, s)| s.as_str()).collect();
    let mut found = Vec::new();
    for (key, meta) in remote {
        let (Some(old_slug), Some(Some(file))) = (
            key.strip_prefix(kv::POST_PREFIX),
            meta.as_ref().map(|m| m.file.as_ref()),
        ) else {
            continue;
        };
        if slugs.contains(old_slug) {
            continue;
        }
        if let Some((_, new_slug)) = local.iter().find(|(f, s)| f == file && s != old_slug) {
            found.push(Rename {
                file: file.clone(),
                old_slug: old_slug.to_string(),
                new_slug: new_slug.clone(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use blog_core::content::PostMeta;

    fn record(slug: &str, hash: &str) -> PostRecord {
        PostRecord {
            meta: PostMeta {
                draft: false,
                slug: slug.into(),
                title: slug.into(),
                summary: String::new(),
                published: 0,
                utc_offset: 0,
                tags: vec![],
                aliases: vec![],
                updated: None,
                series: None,
                series_part: None,
                hash: hash.into(),
            },
            body: "b".into(),
            code_html: vec![],
            math_html: Vec::new(),
            html: String::new(),
            sections: Vec::new(),
            words: 0,
            assets: Default::default(),
            cover: None,
            card: None,
            neighbours: Default::default(),
            related: Vec::new(),
            series: None,
        }
    }

    /// What the edge holds: keys and their hashes (`=` is the default site record's).
    fn remote(entries: &[(&str, &str)]) -> BTreeMap<String, Option<KeyMeta>> {
        entries
            .iter()
            .map(|(k, h)| {
                (
                    k.to_string(),
                    Some(KeyMeta {
                        hash: match *h {
                            "=" => hash_of(&SiteRecord::default()),
                            h => h.to_string(),
                        },
                        file: None,
                        content_type: None,
                        card: None,
                    }),
                )
            })
            .collect()
    }

    fn no_files() -> BTreeSet<String> {
        BTreeSet::new()
    }

    fn index(version: &str) -> SiteIndex {
        SiteIndex::new(Vec::new(), Default::default(), version.into())
    }

    #[test]
    fn first_sync_adds_everything() {
        let plan = plan(
            &[record("a", "1")],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &BTreeMap::new(),
            "n",
        );
        assert_eq!(plan.count(Change::Added), 1);
        assert!(plan.put_index.is_some());
    }

    #[test]
    fn nothing_changed_writes_nothing() {
        let index = index("v");
        let plan = plan(
            &[record("a", "1")],
            &no_files(),
            index,
            SiteRecord::default(),
            &remote(&[("post/a", "1"), ("version", "v"), ("site", "=")]),
            "n",
        );
        assert!(plan.is_empty(), "{plan:?}");
        assert_eq!(plan.unchanged, ["a"]);
    }

    #[test]
    fn a_changed_site_record_is_written_alone_and_neighbours_change_a_post() {
        let scheduled = SiteRecord {
            scheduled: vec![500],
            ..SiteRecord::default()
        };
        let held = remote(&[("post/a", "1"), ("version", "v"), ("site", "=")]);
        let site_only = plan(
            &[record("a", "1")],
            &no_files(),
            index("v"),
            scheduled.clone(),
            &held,
            "n",
        );
        assert!(site_only.put_index.is_none() && site_only.put_posts.is_empty());
        assert_eq!(site_only.put_site.map(|(s, _)| s), Some(scheduled));
        // A post whose neighbour changed is written again, its own text unchanged.
        let mut a = record("a", "1");
        a.neighbours.older = Some(blog_core::content::Neighbour::of(&record("z", "9").meta));
        let moved = plan(
            &[a],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &held,
            "n",
        );
        assert_eq!(moved.count(Change::Updated), 1);
    }

    #[test]
    fn a_post_rewritten_under_an_unchanged_index_publishes_a_new_version() {
        // A sync wrote b and died before the index; b was then reverted and synced again.
        let held = remote(&[("post/b", "edit"), ("version", "v"), ("site", "=")]);
        let repair = plan(
            &[record("b", "1")],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &held,
            "n1",
        );
        assert_eq!(repair.count(Change::Updated), 1);
        let published = repair
            .put_index
            .as_ref()
            .map(|i| i.version.clone())
            .unwrap();
        assert_ne!(published, "v", "isolates must see a new version");
        assert_eq!(
            repair.put_site.as_ref().map(|(s, _)| s.version.as_str()),
            Some(published.as_str())
        );
        let again = plan(
            &[record("b", "1")],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &held,
            "n2",
        );
        assert_ne!(
            again.put_index.unwrap().version,
            published,
            "each repair is new"
        );
        // The sync after: the index is not the content's version, so it is written again.
        let after = remote(&[
            ("post/b", "1"),
            ("index", &published),
            ("version", &published),
        ]);
        let next = plan(
            &[record("b", "1")],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &after,
            "n3",
        );
        assert!(next.put_posts.is_empty());
        assert_eq!(next.put_index.unwrap().version, "v");
    }

    #[test]
    fn only_changed_list_records_are_written_and_gone_ones_deleted() {
        let held = remote(&[
            ("list/front", "1"),
            ("list/year/2020/1", "1"),
            ("tags", "1"),
            ("search/t/go", "1"),
            ("search/t/ru", "1"),
        ]);
        let mut plan = Plan::default();
        let records = BTreeMap::from([
            (
                "list/front".to_string(),
                ("{}".to_string(), "1".to_string()),
            ),
            ("tags".to_string(), ("{}".to_string(), "2".to_string())),
            (
                "list/tag/new/1".to_string(),
                ("{}".to_string(), "1".to_string()),
            ),
            (
                "search/t/go".to_string(),
                ("x".to_string(), "1".to_string()),
            ),
        ]);
        plan_records(&mut plan, records, &held);
        let keys = |records: &[(String, String, String)]| -> Vec<String> {
            records.iter().map(|(k, _, _)| k.clone()).collect()
        };
        assert_eq!(keys(&plan.put_records), ["tags"]);
        assert_eq!(
            keys(&plan.new_records),
            ["list/tag/new/1"],
            "apart: new keys"
        );
        assert_eq!(
            plan.delete_keys,
            ["list/year/2020/1", "search/t/ru"],
            "a search shard no term needs is deleted, an unchanged one left alone"
        );
    }

    #[test]
    fn the_site_record_names_the_posts_and_lists_a_sync_deletes() {
        let held = remote(&[
            ("post/a", "1"),
            ("post/gone", "1"),
            ("list/tag/gone/1", "1"),
            ("search/t/zy", "1"),
            ("file/0123.png", "f"),
            ("version", "v1"),
            ("site", "old"),
        ]);
        let mut plan = plan(
            &[record("a", "1")],
            &no_files(),
            index("v2"),
            SiteRecord::default(),
            &held,
            "n",
        );
        plan_records(&mut plan, BTreeMap::new(), &held);
        let (site, hash) = plan
            .put_site
            .clone()
            .expect("a new version, a new site record");
        assert_eq!(
            site.removed,
            ["list/tag/gone/1", "post/gone", "search/t/zy"]
        );
        assert!(site.removes("post/gone") && !site.removes("file/0123.png"));
        // The hash is the record's without them: the next sync, with nothing changed,
        // finds the site record current and writes nothing.
        let mut bare = site.clone();
        bare.removed.clear();
        assert_eq!(hash, hash_of(&bare));
        let after = remote(&[("post/a", "1"), ("version", "v2"), ("site", &hash)]);
        let mut next = super::plan(
            &[record("a", "1")],
            &no_files(),
            index("v2"),
            bare,
            &after,
            "n2",
        );
        plan_records(&mut next, BTreeMap::new(), &after);
        assert!(next.is_empty(), "{next:?}");
    }

    #[test]
    fn a_post_left_undeleted_by_a_sync_that_died_is_deleted_under_a_new_version() {
        let held = remote(&[
            ("post/a", "1"),
            ("post/gone", "1"),
            ("version", "v"),
            ("site", "="),
        ]);
        let mut plan = plan(
            &[record("a", "1")],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &held,
            "n",
        );
        plan_records(&mut plan, BTreeMap::new(), &held);
        assert_eq!(plan.delete_keys, ["post/gone"]);
        let version = plan.put_index.as_ref().map(|i| i.version.clone());
        assert!(
            version.is_some_and(|v| v != "v"),
            "isolates must drop what they kept"
        );
        let (site, _) = plan.put_site.expect("the new version's site record");
        assert_eq!(site.removed, ["post/gone"]);
    }

    #[test]
    fn a_missing_version_key_rewrites_the_index_and_version() {
        let plan = plan(
            &[record("a", "1")],
            &no_files(),
            index("v"),
            SiteRecord::default(),
            &remote(&[("post/a", "1"), ("index", "v")]),
            "n",
        );
        assert!(plan.put_index.is_some());
        assert!(plan.put_posts.is_empty());
    }

    #[test]
    fn edits_update_only_that_post_and_the_index() {
        let index = index("v2");
        let plan = plan(
            &[record("a", "1"), record("b", "new")],
            &no_files(),
            index,
            SiteRecord::default(),
            &remote(&[("post/a", "1"), ("post/b", "old"), ("index", "v1")]),
            "n",
        );
        assert_eq!(plan.put_posts.len(), 1);
        assert_eq!(
            (plan.put_posts[0].0, plan.put_posts[0].1.meta.slug.as_str()),
            (Change::Updated, "b")
        );
        assert!(plan.put_index.is_some());
    }

    #[test]
    fn notices_a_slug_renamed_in_the_same_file() {
        let mut remote = remote(&[("post/unrelated", "1")]);
        remote.insert(
            "post/old".into(),
            Some(KeyMeta {
                hash: "1".into(),
                file: Some("a.md".into()),
                content_type: None,
                card: None,
            }),
        );
        remote.insert(
            "post/kept".into(),
            Some(KeyMeta {
                hash: "1".into(),
                file: Some("b.md".into()),
                content_type: None,
                card: None,
            }),
        );
        let local = [
            ("a.md".to_string(), "new".to_string()),
            ("b.md".to_string(), "kept".to_string()),
        ];
        assert_eq!(
            renames(&local, &remote),
            [Rename {
                file: "a.md".into(),
                old_slug: "old".into(),
                new_slug: "new".into()
            }]
        );
        // A file whose old slug another post took over is not a rename.
        let local = [
            ("a.md".to_string(), "new".to_string()),
            ("c.md".to_string(), "old".to_string()),
        ];
        assert!(renames(&local, &remote).is_empty());
    }

    #[test]
    fn removed_posts_are_deleted_and_other_keys_left_alone() {
        let index = index("v2");
        let plan = plan(
            &[],
            &no_files(),
            index,
            SiteRecord::default(),
            &remote(&[("post/gone", "1"), ("other", "x")]),
            "n",
        );
        assert_eq!(plan.delete_keys, ["post/gone"]);
    }

    fn files(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn uploads_only_files_the_edge_does_not_have() {
        let remote = remote(&[
            ("post/a", "1"),
            ("version", "v"),
            ("site", "="),
            ("file/aa.png", "aa"),
        ]);
        let plan = plan(
            &[record("a", "1")],
            &files(&["file/aa.png", "file/bb.pdf"]),
            index("v"),
            SiteRecord::default(),
            &remote,
            "n",
        );
        assert_eq!(plan.put_files, ["file/bb.pdf"]);
        assert_eq!(plan.unchanged_files, 1);
        assert!(
            plan.put_posts.is_empty() && plan.put_index.is_none() && plan.delete_files.is_empty()
        );
        assert!(!plan.is_empty());
    }

    #[test]
    fn removes_files_no_published_post_uses() {
        let remote = remote(&[
            ("post/a", "1"),
            ("version", "v"),
            ("site", "="),
            ("file/old.png", "old"),
            ("file/kept.png", "kept"),
        ]);
        let plan = plan(
            &[record("a", "1")],
            &files(&["file/kept.png"]),
            index("v"),
            SiteRecord::default(),
            &remote,
            "n",
        );
        assert_eq!(plan.delete_files, ["file/old.png"]);
        assert!(plan.delete_keys.is_empty() && plan.put_files.is_empty());
        let plan = plan_of_nothing(&remote);
        assert_eq!(plan.delete_files, ["file/kept.png", "file/old.png"]);
        assert_eq!(plan.delete_keys, ["post/a"]);
    }

    #[test]
    fn variants_are_uploaded_kept_and_removed_apart_from_the_files() {
        let mut held = remote(&[
            ("post/a", "1"),
            ("version", "v"),
            ("site", "="),
            ("file/aa.png", "aa"),
        ]);
        let variant = |name: &str| {
            Some(KeyMeta {
                hash: name.into(),
                file: Some("aa.png".into()),
                content_type: Some("image/webp".into()),
                card: None,
            })
        };
        held.insert("file/v1.webp".into(), variant("v1"));
        held.insert("file/old.webp".into(), variant("old"));
        let variants = files(&["file/v1.webp", "file/v2.webp"]);
        let mut all = files(&["file/aa.png"]);
        all.extend(variants.iter().cloned());
        let planned = |held: &BTreeMap<String, Option<KeyMeta>>| {
            let mut plan = plan(
                &[record("a", "1")],
                &all,
                index("v"),
                SiteRecord::default(),
                held,
                "n",
            );
            split_variants(&mut plan, &variants, held);
            plan
        };
        let plan = planned(&held);
        assert_eq!(plan.put_variants, ["file/v2.webp"], "only the one KV lacks");
        assert_eq!(plan.delete_variants, ["file/old.webp"]);
        assert_eq!((plan.unchanged_files, plan.unchanged_variants), (1, 1));
        assert!(plan.put_files.is_empty() && plan.delete_files.is_empty());
        // Once both are done, nothing is left to write.
        held.remove("file/old.webp");
        held.insert("file/v2.webp".into(), variant("v2"));
        let again = planned(&held);
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(again.unchanged_variants, 2);
    }

    fn plan_of_nothing(remote: &BTreeMap<String, Option<KeyMeta>>) -> Plan {
        plan(
            &[],
            &no_files(),
            index("v2"),
            SiteRecord::default(),
            remote,
            "n",
        )
    }

    #[test]
    fn files_already_there_and_unchanged_posts_write_nothing() {
        let remote = remote(&[
            ("post/a", "1"),
            ("version", "v"),
            ("site", "="),
            ("file/aa.png", "aa"),
        ]);
        let plan = plan(
            &[record("a", "1")],
            &files(&["file/aa.png"]),
            index("v"),
            SiteRecord::default(),
            &remote,
            "n",
        );
        assert!(plan.is_empty(), "{plan:?}");
    }
}
