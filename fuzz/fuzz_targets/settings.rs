//! Any text as `site.toml`: `parse_settings` never panics and accepts only usable settings.
#![no_main]

use blog_author::source::parse_settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let lines = 1 + text.matches('\n').count();
    match parse_settings("site.toml", text) {
        Ok(s) => {
            assert!(s.base_url.starts_with("https://") || s.base_url.starts_with("http://"), "{s:?}");
            assert!(!s.base_url.ends_with('/') && !s.base_url.contains(char::is_whitespace), "{s:?}");
            for n in [s.front_page_posts, s.posts_per_page, s.feed_posts, s.popular_count] {
                assert!((1..=100).contains(&n), "{s:?}");
            }
            assert!(s.popular_half_life_days > 0.0 && s.popular_half_life_days.is_finite(), "{s:?}");
            assert!(!s.title.trim().is_empty() && !s.language.trim().is_empty() && !s.author.trim().is_empty());
        }
        Err(d) => {
            assert!(d.is_error() && d.file == "site.toml" && !d.message.trim().is_empty(), "{d:?}");
            assert!(d.line <= lines, "line {} of a {lines}-line file: {d:?}", d.line);
        }
    }
});
