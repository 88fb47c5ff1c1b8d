//! What Workers KV accepts: a sync refuses, before writing anything, a record KV would
//! reject, and says which file (and line) to change.

use crate::diagnostic::Diagnostic;
use crate::diagram::MAX_FIGURE_BYTES;
use crate::highlight::MAX_GROWTH;
use crate::publish::file_key;
use crate::source::{self, SourcePost};
use blog_core::content::{Aliases, SiteIndex};
use blog_core::kv::{self, KeyMeta};
use std::path::Path;

/// Every record of `posts` and of their `index` that Workers KV would refuse, each reported at
/// the post file the author should change. `content_dir` is the folder the posts' files are
/// in: what a post's key metadata remembers is its path inside it.
pub fn check(posts: &[SourcePost], index: &SiteIndex, content_dir: &Path) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    // The one record that grows with every post's front matter: the aliases. (The lists
    // hold a page each, the sitemap's parts 45,000 slugs, and the tags one line a tag.)
    let aliases_bytes = json_len(&Aliases::of(index));
    if aliases_bytes > kv::MAX_VALUE_BYTES {
        // Point at the post with the most alias bytes, at its `aliases` line.
        let alias_bytes =
            |p: &SourcePost| -> usize { p.record.meta.aliases.iter().map(String::len).sum() };
        if let Some(largest) = posts.iter().max_by_key(|p| alias_bytes(p)) {
            let line = std::fs::read_to_string(&largest.file)
                .map_or(1, |text| source::field_line(&text, "aliases"));
            problems.push(Diagnostic::error(
                &largest.file,
                line,
                format!(
                    "the aliases of {} posts take {:.1} MiB; Workers KV holds at most 25 MiB per value: drop old aliases (this post's are the longest, {} KB)",
                    posts.len(),
                    mib(aliases_bytes),
                    alias_bytes(largest) / 1024
                ),
            ));
        }
    }
    for post in posts {
        let meta = KeyMeta {
            hash: post.record.meta.hash.clone(),
            file: Some(file_key(content_dir, &post.file)),
            content_type: None,
            card: None,
        };
        let meta_bytes = json_len(&meta);
        if meta_bytes > kv::MAX_METADATA_BYTES {
            problems.push(Diagnostic::error(
                &post.file,
                1,
                format!(
                    "its key metadata is {meta_bytes} bytes; Workers KV allows {}: use a shorter file name",
                    kv::MAX_METADATA_BYTES
                ),
            ));
        }
        let record_bytes = json_len(&post.record);
        if record_bytes > kv::MAX_VALUE_BYTES {
            problems.push(Diagnostic::error(
                &post.file,
                1,
                format!(
                    "the post is {:.1} MiB once highlighted; Workers KV holds at most 25 MiB per value: split it",
                    mib(record_bytes)
                ),
            ));
        }
    }
    problems
}

/// Whether highlighting could push a post's record past KV's value limit: the highlighter
/// grows code at most [`MAX_GROWTH`]-fold, and JSON at most doubles that HTML. `blog check`
/// highlights only these, to know what `sync` would meet without spending seconds on the rest.
pub fn may_outgrow_kv(post: &SourcePost) -> bool {
    // Code is part of the body: a body this small cannot, whatever it holds.
    // A diagram's figure is at most `MAX_FIGURE_BYTES` whatever its source.
    let body = post.record.body.len();
    let diagrams = post
        .record
        .body
        .matches(blog_core::markdown::DIAGRAM_LANG)
        .count()
        .saturating_mul(2 * MAX_FIGURE_BYTES);
    if body
        .saturating_mul(2 * MAX_GROWTH + 8)
        .saturating_add(diagrams)
        < kv::MAX_VALUE_BYTES / 2
    {
        return false;
    }
    let code: usize = blog_core::markdown::code_blocks(&post.record.body)
        .iter()
        .map(|b| b.code.len())
        .sum();
    json_len(&post.record)
        .saturating_add(code.saturating_mul(2 * MAX_GROWTH))
        .saturating_add(diagrams)
        > kv::MAX_VALUE_BYTES
}

/// The bytes of a value's JSON; past every limit when it does not serialise.
fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |v| v.len())
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blog_core::settings::Settings;

    fn post(file: &str, body: &str) -> SourcePost {
        let text =
            format!("+++\ntitle = \"A\"\ndate = 2026-06-14\nsummary = \"S.\"\n+++\n\n{body}\n");
        let stem = Path::new(file).file_stem().unwrap().to_str().unwrap();
        source::parse_post(file, stem, text.as_bytes())
            .expect("the post parses")
            .0
    }

    fn index(posts: &[SourcePost]) -> SiteIndex {
        source::build_index(&posts.iter().collect::<Vec<_>>(), Settings::default())
    }

    fn messages(problems: &[Diagnostic]) -> Vec<String> {
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn posts_well_inside_the_limits_pass() {
        let posts = [post("content/a.md", "Body."), post("content/b.md", "Body.")];
        assert_eq!(
            messages(&check(&posts, &index(&posts), Path::new("content"))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_post_over_the_kv_value_limit_is_an_error_naming_its_file() {
        let mut big = post("content/big.md", "Body.");
        // As if highlighting had grown it: the record itself (its HTML) is what KV stores.
        big.record.html = "x".repeat(kv::MAX_VALUE_BYTES);
        let posts = [post("content/a.md", "Body."), big];
        let problems = check(&posts, &index(&posts[..1]), Path::new("content"));
        assert_eq!(
            messages(&problems),
            ["content/big.md:1: error: the post is 25.0 MiB once highlighted; Workers KV holds at most 25 MiB per value: split it"]
        );
    }

    #[test]
    fn a_file_name_too_long_for_key_metadata_is_an_error_that_says_to_shorten_it() {
        let mut long = post("content/long.md", "Body.");
        long.file = format!("content/{}.md", "n".repeat(kv::MAX_METADATA_BYTES));
        let posts = [long];
        let problems = check(&posts, &index(&posts), Path::new("content"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].is_error());
        assert_eq!(
            (problems[0].file.as_str(), problems[0].line),
            (posts[0].file.as_str(), 1)
        );
        assert!(
            problems[0]
                .message
                .ends_with("bytes; Workers KV allows 1024: use a shorter file name"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn key_metadata_remembers_the_path_inside_the_content_folder_not_the_folder() {
        // The same long name fits once the content folder is not counted.
        let name = "n".repeat(kv::MAX_METADATA_BYTES - 100);
        let mut post = post("a.md", "Body.");
        post.file = format!("{}/{name}.md", "d".repeat(200));
        let posts = [post];
        let dir = "d".repeat(200);
        assert!(check(&posts, &index(&posts), Path::new(&dir)).is_empty());
    }

    #[test]
    fn aliases_over_the_kv_value_limit_name_the_post_with_the_longest_at_its_aliases_line() {
        let dir = std::env::temp_dir().join(format!("blog-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("moved.md");
        let text = "+++\ntitle = \"Moved\"\ndate = 2026-06-14\nsummary = \"S.\"\naliases = [\"/old\"]\n+++\n\nBody.\n";
        std::fs::write(&file, text).unwrap();
        let file = file.to_str().unwrap();
        let mut moved = source::parse_post(file, "moved", text.as_bytes())
            .unwrap()
            .0;
        moved.record.meta.aliases = vec![format!("/old/{}", "a".repeat(4000))];
        let posts = [post("content/a.md", "Body."), moved];
        let mut index = index(&posts);
        // As many posts with aliases as it takes to pass 25 MiB, each its own.
        let many = kv::MAX_VALUE_BYTES / 2048 + 1;
        index.posts = (0..many)
            .map(|i| {
                let mut meta = posts[0].record.meta.clone();
                meta.aliases = vec![format!("/{i}/{}", "b".repeat(2040))];
                meta
            })
            .collect();
        let problems = check(&posts, &index, &dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].file.as_str(), problems[0].line), (file, 5));
        let message = &problems[0].message;
        assert!(
            message.starts_with("the aliases of 2 posts take ")
                && message.contains(" MiB; Workers KV holds at most 25 MiB per value: drop old aliases (this post's are the longest, "),
            "{message}"
        );
    }

    #[test]
    fn summaries_of_any_length_pass_now_that_no_record_holds_them_all() {
        let mut wordy = post("content/wordy.md", "Body.");
        wordy.record.meta.summary = "w".repeat(2048);
        let posts = [post("content/a.md", "Body."), wordy];
        let mut index = index(&posts);
        let many = kv::MAX_VALUE_BYTES / 2048 + 1;
        index.posts = std::iter::repeat_n(posts[1].record.meta.clone(), many).collect();
        assert!(check(&posts, &index, Path::new("content")).is_empty());
    }

    #[test]
    fn a_small_post_cannot_outgrow_kv_whatever_its_code() {
        assert!(!may_outgrow_kv(&post(
            "content/a.md",
            "```rust\nfn main() {}\n```"
        )));
    }

    #[test]
    fn a_long_post_of_prose_cannot_outgrow_kv_but_one_of_code_may() {
        let prose = "Words and more words.\n\n".repeat(20_000);
        assert!(!may_outgrow_kv(&post("content/prose.md", &prose)));
        let code = format!("```rust\n{}```", "let x = 1;\n".repeat(60_000));
        assert!(may_outgrow_kv(&post("content/code.md", &code)));
    }
}
