//! Slugs: what may name a post in its URL and KV key, and how tags and headings become URL
//! segments. The route table, the content model and the Markdown renderer all use these, so
//! they sit below all three.

/// Lower-case words joined by `-`: the id readers see in `#fragment` links.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("section");
    }
    slug
}

/// The URL segment of a tag: `Cloudflare Workers` -> `cloudflare-workers`.
pub fn tag_slug(tag: &str) -> String {
    slugify(tag)
}

/// The longest slug we accept: KV keys are at most 512 bytes and carry a prefix.
pub const MAX_SLUG_BYTES: usize = 200;

/// Checks that a slug can stand alone as one URL path segment and inside a KV key.
/// Letters and digits of any script are fine; separators are `-`, `_` and `.`.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("the slug is empty".into());
    }
    if slug.len() > MAX_SLUG_BYTES {
        return Err(format!(
            "the slug is {} bytes long; the limit is {MAX_SLUG_BYTES}",
            slug.len()
        ));
    }
    if slug.starts_with('.') || slug.contains("..") {
        return Err(format!(
            "the slug `{slug}` starts with a dot or contains `..`"
        ));
    }
    if let Some(c) = slug
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the slug `{}` contains {:?}, which cannot be part of a URL path segment; use letters, digits, `-`, `_` or `.`",
            slug.escape_debug(),
            c
        ));
    }
    Ok(())
}
