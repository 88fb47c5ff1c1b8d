//! Any bytes as a post file: `parse_post` never panics, pins every problem to a real line of
//! the file, and accepts only posts that can be published (a draft may wait for its summary).
#![no_main]

use blog_core::content::{tag_slug, validate_slug};
use blog_author::diagnostic::Diagnostic;
use blog_author::source::parse_post;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fuzz_target!(|bytes: &[u8]| {
    let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count();
    let check = |d: &Diagnostic| {
        assert!(!d.file.is_empty(), "no file: {d:?}");
        assert!(!d.message.trim().is_empty(), "no message: {d:?}");
        assert!(d.line <= lines, "line {} of a {lines}-line file: {d:?}", d.line);
        let _ = d.to_string();
    };
    match parse_post("fuzz.md", "fuzz", bytes) {
        Ok((post, warnings)) => {
            warnings.iter().for_each(check);
            assert!(warnings.iter().all(|w| !w.is_error()), "an error among the warnings: {warnings:?}");
            let meta = &post.record.meta;
            if let Err(e) = validate_slug(&meta.slug) {
                panic!("accepted the invalid slug {:?}: {e}", meta.slug);
            }
            assert!(!meta.title.is_empty(), "{meta:?}");
            assert!(post.draft || !meta.summary.is_empty(), "published without a summary: {meta:?}");
            assert!(!meta.hash.is_empty());
            let mut tags = HashSet::new();
            for tag in &meta.tags {
                assert!(!tag.is_empty() && tag.trim() == tag, "tag {tag:?}");
                // Two tags with one URL would be one tag page counting the post twice.
                assert!(tags.insert(tag_slug(tag)), "tag {tag:?} twice in {:?}", meta.tags);
            }
            assert_eq!(meta.aliases.len(), post.alias_lines.len());
            for (alias, line) in meta.aliases.iter().zip(&post.alias_lines) {
                assert!(alias.starts_with('/') && !alias.contains(char::is_whitespace), "alias {alias:?}");
                assert!((1..=lines).contains(line), "alias line {line}");
            }
            assert!((1..=lines).contains(&post.slug_line));
            for (_, line) in &post.post_links {
                assert!((1..=lines).contains(line), "link line {line}");
            }
        }
        Err(errors) => {
            assert!(errors.iter().any(Diagnostic::is_error), "rejected without an error: {errors:?}");
            errors.iter().for_each(check);
        }
    }
});
