//! Files beside the posts (images, PDFs, archives): where a relative link in a post leads,
//! and what `blog sync` needs to know about a file to publish it under its content hash.
//!
//! Host only: the edge serves the bytes by the name computed here and never looks inside.

use blog_core::kv;
use blog_core::routes::{percent_decode, Route};
use sha2::{Digest, Sha256};

/// Extensions shown with `<img>`; the rest are linked files.
pub const IMAGE_EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "webp", "avif", "gif", "svg"];

/// Everything `blog sync` needs to publish one file, computed from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// First 16 bytes of the SHA-256 of the bytes, in hex.
    pub hash: String,
    /// Lower-case extension as stored (`bin` when the file's own cannot be part of a name).
    pub ext: String,
    pub content_type: &'static str,
    pub size: usize,
    /// Width and height in CSS pixels, for images whose header says so.
    pub dimensions: Option<(u32, u32)>,
    /// A PNG, JPEG or WebP carries an ICC colour profile other than sRGB's (Display P3,
    /// Adobe RGB…): its variants are WebP only, which carries the profile (see `images`).
    pub non_srgb: bool,
}

impl FileInfo {
    /// `{hash}.{ext}`: the name in both the KV key and the URL.
    pub fn name(&self) -> String {
        format!("{}.{}", self.hash, self.ext)
    }

    pub fn key(&self) -> String {
        kv::file_key(&self.name())
    }

    pub fn url(&self) -> String {
        Route::File { name: self.name() }.href()
    }

    pub fn is_image(&self) -> bool {
        IMAGE_EXTENSIONS.contains(&self.ext.as_str())
    }
}

/// Hashes and measures a file. `path` is only used for its extension.
pub fn inspect(path: &str, bytes: &[u8]) -> FileInfo {
    let ext = extension(path);
    let digest = Sha256::digest(bytes);
    FileInfo {
        hash: blog_core::hex::encode(&digest[..16]),
        content_type: kv::content_type(&ext),
        size: bytes.len(),
        dimensions: dimensions(&ext, bytes),
        non_srgb: crate::images::SOURCES.contains(&ext.as_str())
            && crate::images::has_non_srgb_profile(bytes),
        ext,
    }
}

/// The lower-case extension of a path, or `bin` when it has none that fits a stored name
/// (1 to 5 letters or digits).
pub fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            ext.to_ascii_lowercase()
        }
        _ => "bin".into(),
    }
}

/// The size an image is drawn at: from the header for raster formats (upright, as its EXIF
/// orientation turns it), from the root
/// element's `width`/`height` (or `viewBox`) for SVG. `None` for anything else.
pub fn dimensions(ext: &str, bytes: &[u8]) -> Option<(u32, u32)> {
    match ext {
        "svg" => svg_dimensions(std::str::from_utf8(bytes).ok()?),
        "png" | "jpg" | "jpeg" | "webp" | "avif" | "gif" => {
            let size = imagesize::blob_size(bytes).ok()?;
            let (w, h) = (
                u32::try_from(size.width).ok()?,
                u32::try_from(size.height).ok()?,
            );
            let turned = ext != "gif" && ext != "avif" && crate::images::turned_a_quarter(bytes);
            (w > 0 && h > 0).then_some(if turned { (h, w) } else { (w, h) })
        }
        _ => None,
    }
}

/// Reads `width`, `height` and `viewBox` from the `<svg>` start tag. Lengths in pixels (or
/// unitless) are used as they are; a missing or relative one (`100%`, `10em`) is derived
/// from the `viewBox` and the other side.
pub fn svg_dimensions(text: &str) -> Option<(u32, u32)> {
    let start = find_svg_tag(text)?;
    let tag = &text[start..];
    let end = tag.find('>')?;
    let attrs = &tag[4..end];
    let (mut width, mut height, mut view_box) = (None, None, None);
    for (name, value) in attributes(attrs) {
        match name {
            "width" => width = svg_length(value),
            "height" => height = svg_length(value),
            "viewBox" => {
                let numbers: Vec<f64> = value
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .filter_map(|s| s.parse().ok())
                    .collect();
                if let [_, _, w, h] = numbers[..] {
                    if w > 0.0 && h > 0.0 {
                        view_box = Some((w, h));
                    }
                }
            }
            _ => {}
        }
    }
    let (w, h) = match (width, height, view_box) {
        (Some(w), Some(h), _) => (w, h),
        (Some(w), None, Some((vw, vh))) => (w, w * vh / vw),
        (None, Some(h), Some((vw, vh))) => (h * vw / vh, h),
        (None, None, Some(v)) => v,
        _ => return None,
    };
    let (w, h) = (w.round(), h.round());
    (w >= 1.0 && h >= 1.0 && w <= f64::from(u32::MAX) && h <= f64::from(u32::MAX))
        .then_some((w as u32, h as u32))
}

/// Byte offset of the root `<svg` start tag, past any XML declaration, comments and doctype.
fn find_svg_tag(text: &str) -> Option<usize> {
    let mut at = 0;
    while let Some(lt) = text[at..].find('<') {
        let pos = at + lt;
        let rest = &text[pos..];
        if rest.starts_with("<!--") {
            at = pos + rest.find("-->")? + 3;
        } else if rest.starts_with("<svg")
            && rest[4..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/')
        {
            return Some(pos);
        } else {
            at = pos + 1;
        }
    }
    None
}

/// `name="value"` pairs of a start tag's attribute text (single or double quotes).
fn attributes(mut text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    loop {
        text = text.trim_start();
        let Some(eq) = text.find('=') else { break };
        let name = text[..eq].trim();
        let rest = text[eq + 1..].trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = rest[1..].find(quote) else {
            break;
        };
        // A name may follow other valueless attributes: keep only its last word.
        let name = name.rsplit(char::is_whitespace).next().unwrap_or(name);
        found.push((name, &rest[1..1 + close]));
        text = &rest[close + 2..];
    }
    found
}

/// A length in CSS pixels: `120`, `120px` or `120.5`; `None` for other units.
fn svg_length(value: &str) -> Option<f64> {
    let value = value.trim();
    let number = value.strip_suffix("px").unwrap_or(value).trim();
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n > 0.0)
}

/// Whether a URL in a post leaves the site's own files alone: it has a scheme (`https:`,
/// `mailto:`), is site-absolute (`/posts/x`), protocol-relative, or only a `#fragment` or
/// `?query`. Such URLs are never rewritten.
pub fn is_external(url: &str) -> bool {
    let url = url.trim();
    if url.is_empty() || url.starts_with(['/', '#', '?']) {
        return true;
    }
    let scheme_end = url.find(':');
    let path_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    match scheme_end {
        Some(colon) if colon < path_end => {
            let scheme = &url[..colon];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

/// The part of a URL that names a file, without its `?query` or `#fragment`: the key of
/// the post's [`AssetMap`](blog_core::content::AssetMap).
pub fn path_part(url: &str) -> &str {
    blog_core::content::split_url_suffix(url).0
}

/// Where a relative URL written in a post leads, as a `/`-separated path inside the content
/// folder. `post_dir` is the post's own folder within it (`""` for the folder itself).
/// `Ok(None)` for URLs that are not the post's files (see [`is_external`]); for one that is
/// malformed or leads outside the content folder, an error that completes "the image x …".
pub fn resolve(post_dir: &str, url: &str) -> Result<Option<String>, String> {
    if is_external(url) {
        return Ok(None);
    }
    let written = path_part(url.trim());
    let decoded = percent_decode(written).ok_or("has a malformed %-escape")?;
    let mut parts: Vec<&str> = post_dir
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("leads outside the content folder".into());
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() || decoded.ends_with('/') {
        return Err("names a folder, not a file".into());
    }
    Ok(Some(parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest headers each format needs to state its size.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    fn gif(w: u16, h: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend(w.to_le_bytes());
        b.extend(h.to_le_bytes());
        b.extend([0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        b.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend([0xFF, 0xC0, 0, 17, 8]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend([0xFF, 0xD9]);
        b
    }

    fn webp(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"RIFF\x1e\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        b.extend(&(w - 1).to_le_bytes()[..3]);
        b.extend(&(h - 1).to_le_bytes()[..3]);
        b
    }

    /// An AVIF (HEIF) skeleton: `ftyp`, then `meta` > `iprp` > `ipco` > `ispe` with the size.
    fn avif(w: u32, h: u32) -> Vec<u8> {
        let boxed = |tag: &[u8], body: &[u8]| {
            let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend(tag);
            b.extend(body);
            b
        };
        let mut ispe = vec![0, 0, 0, 0];
        ispe.extend(w.to_be_bytes());
        ispe.extend(h.to_be_bytes());
        let ipco = boxed(b"ipco", &boxed(b"ispe", &ispe));
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"iprp", &ipco));
        let mut b = boxed(b"ftyp", b"avif\0\0\0\0avifmif1");
        b.extend(boxed(b"meta", &meta));
        b
    }

    #[test]
    fn reads_the_size_of_each_raster_format() {
        assert_eq!(dimensions("png", &png(640, 360)), Some((640, 360)));
        assert_eq!(dimensions("gif", &gif(1, 1)), Some((1, 1)));
        assert_eq!(dimensions("jpg", &jpeg(1200, 630)), Some((1200, 630)));
        assert_eq!(dimensions("jpeg", &jpeg(3, 2)), Some((3, 2)));
        assert_eq!(dimensions("webp", &webp(300, 200)), Some((300, 200)));
        assert_eq!(dimensions("avif", &avif(1920, 1080)), Some((1920, 1080)));
    }

    #[test]
    fn files_that_are_not_images_or_are_broken_have_no_size() {
        assert_eq!(dimensions("pdf", b"%PDF-1.4"), None);
        assert_eq!(dimensions("png", b"not a png"), None);
        assert_eq!(dimensions("png", &png(0, 10)), None);
    }

    #[test]
    fn reads_svg_width_and_height() {
        let svg = r#"<?xml version="1.0"?><!-- <svg width="1"> --><svg xmlns="http://www.w3.org/2000/svg" width="120" height="80px"><rect/></svg>"#;
        assert_eq!(svg_dimensions(svg), Some((120, 80)));
        let single = "<svg viewBox='0 0 400 300' width='200' xmlns='http://www.w3.org/2000/svg'/>";
        assert_eq!(svg_dimensions(single), Some((200, 150)));
    }

    #[test]
    fn falls_back_to_the_svg_view_box() {
        assert_eq!(
            svg_dimensions(
                r#"<svg viewBox="0 0 24.4 12" xmlns="http://www.w3.org/2000/svg"></svg>"#
            ),
            Some((24, 12))
        );
        assert_eq!(
            svg_dimensions(r#"<svg width="100%" height="100%" viewBox="0,0,64,32"></svg>"#),
            Some((64, 32))
        );
        assert_eq!(svg_dimensions(r#"<svg width="100%"></svg>"#), None);
        assert_eq!(svg_dimensions("no svg here"), None);
        assert_eq!(svg_dimensions("<svgx width=\"1\" height=\"1\">"), None);
    }

    #[test]
    fn hashes_name_and_type_a_file() {
        let info = inspect("shots/Screen.PNG", &png(2, 1));
        assert_eq!(info.ext, "png");
        assert_eq!(info.hash.len(), 32);
        assert_eq!(info.content_type, "image/png");
        assert_eq!(info.dimensions, Some((2, 1)));
        assert_eq!(info.key(), format!("file/{}.png", info.hash));
        assert_eq!(info.url(), format!("/files/{}.png", info.hash));
        assert!(kv::is_file_name(&info.name()));
        assert!(info.is_image());
        assert_ne!(inspect("a.png", &png(2, 2)).hash, info.hash);
        let pdf = inspect("report.pdf", b"%PDF-1.4");
        assert_eq!(
            (pdf.content_type, pdf.dimensions, pdf.is_image()),
            ("application/pdf", None, false)
        );
        assert_eq!(inspect("notes", b"x").ext, "bin");
        assert_eq!(
            inspect("archive.verylong", b"x").content_type,
            "application/octet-stream"
        );
        assert_eq!(inspect(".hidden", b"x").ext, "bin");
    }

    #[test]
    fn leaves_absolute_urls_alone() {
        for url in [
            "https://x.example/a.png",
            "http://x",
            "mailto:me@x.example",
            "/posts/a",
            "//cdn.example/x.png",
            "#top",
            "?q",
            "",
            "data:image/png;base64,AA",
        ] {
            assert!(is_external(url), "{url}");
            assert_eq!(resolve("", url), Ok(None), "{url}");
        }
        for url in ["a.png", "./a.png", "../a.png", "files/a:b.png", "a.png#x"] {
            assert!(!is_external(url), "{url}");
        }
    }

    #[test]
    fn resolves_relative_urls_against_the_post_folder() {
        assert_eq!(resolve("", "photo.png"), Ok(Some("photo.png".into())));
        assert_eq!(
            resolve("", "./files/report.pdf#page=2"),
            Ok(Some("files/report.pdf".into()))
        );
        assert_eq!(
            resolve("2026/trip", "../../files/a%20b.png?v=1"),
            Ok(Some("files/a b.png".into()))
        );
        assert_eq!(
            resolve("2026", "./x/../y.png"),
            Ok(Some("2026/y.png".into()))
        );
        assert_eq!(resolve("", "caf%C3%A9.png"), Ok(Some("café.png".into())));
    }

    #[test]
    fn rejects_urls_that_leave_the_content_folder_or_name_no_file() {
        assert!(resolve("", "../secret.png")
            .unwrap_err()
            .contains("outside the content folder"));
        assert!(resolve("posts", "../../etc/passwd")
            .unwrap_err()
            .contains("outside"));
        assert!(resolve("", "files/%2e%2e/%2e%2e/x.png")
            .unwrap_err()
            .contains("outside"));
        assert!(resolve("", "files/").unwrap_err().contains("folder"));
        assert!(resolve("", "./").unwrap_err().contains("folder"));
        assert!(resolve("", "bad%zz.png").unwrap_err().contains("%-escape"));
    }
}
