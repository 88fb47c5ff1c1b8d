//! Responsive images: the resized AVIF and WebP copies (variants) of every raster image a
//! post shows, made at sync on the author's machine and stored beside the originals under
//! content-addressed names, so pages offer them with `srcset` and a phone is not sent a
//! photo four times its screen.
//!
//! Which variants an image has follows from its header alone ([`widths`], [`formats`]), and
//! each one's name from the original's hash, its width, its format and that format's
//! encoder and settings ([`Spec::hash`]): the post's markup is known without encoding
//! anything, and a variant KV holds (or this machine's cache keeps) is never encoded again.
//!
//! Orientation and colour: the EXIF orientation is applied before resizing (the variants
//! carry no EXIF, so nothing turns them twice), and the original's ICC profile is embedded
//! in each WebP variant as it is (WebP's `ICCP` chunk), so a wide-gamut photo stays
//! wide-gamut where the screen can show it and looks as the original does everywhere else.
//! The AVIF encoder (ravif) cannot carry an ICC profile: its files say sRGB (`colr` nclx),
//! so only an image with no profile or an sRGB one gets AVIF variants; one with another
//! profile (Display P3, Adobe RGB…) gets WebP only ([`FileInfo::non_srgb`]).

use crate::assets::FileInfo;
use crate::diagnostic::Diagnostic;
use crate::source::{Content, RefKind, SourcePost};
use blog_core::content::Variant;
use blog_core::kv::{self, KeyMeta};
use blog_core::routes::Route;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The widths variants are made at, when the original is wider.
pub const STEPS: [u32; 3] = [480, 960, 1600];

/// Lossy WebP quality (libwebp's 0–100 scale): 80 is where photos stop showing artefacts at
/// their drawn size while staying a fraction of a PNG's bytes.
pub const QUALITY: f32 = 80.0;

/// What makes a WebP variant's bytes besides the original and the width: the encoder, its
/// version and its settings, and the resampling. Part of every variant's name, so changing
/// any of them makes new names: every variant is encoded again and the old ones removed.
pub const ENCODER: &str = "webp libwebp-sys 0.9.6 lossy q80 m4; lanczos3; exif applied; icc kept";

/// AVIF quality (ravif's 1–100 scale, which it maps to rav1e's quantizer).
pub const AVIF_QUALITY: f32 = 75.0;

/// rav1e's speed preset (1 slowest … 10 fastest).
pub const AVIF_SPEED: u8 = 9;

/// [`ENCODER`] for AVIF, the settings above included ([`avif_encoder`]).
const AVIF_ENCODER: &str = "avif ravif 0.12.0 rav1e 0.8.1 no-asm; 10-bit 4:4:4 bt601 full range, srgb; alpha unassociated clean; lanczos3; exif applied; srgb only";

/// What makes an AVIF variant's bytes besides the original and the width: [`AVIF_ENCODER`]
/// with the quality and speed, so changing either makes new names.
pub fn avif_encoder() -> String {
    format!("{AVIF_ENCODER}; q{AVIF_QUALITY} s{AVIF_SPEED}")
}

/// A variant's format. Pages offer them in this order (the first a browser knows wins):
/// AVIF, the smaller, then WebP, which every current browser shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Avif,
    Webp,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Avif, Format::Webp];

    /// The extension, in the variant's name and URL.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Avif => "avif",
            Format::Webp => "webp",
        }
    }

    /// How the summary names it.
    pub fn label(self) -> &'static str {
        match self {
            Format::Avif => "AVIF",
            Format::Webp => "WebP",
        }
    }

    /// The encoder and its settings: part of the variant's name.
    pub fn encoder(self) -> String {
        match self {
            Format::Avif => avif_encoder(),
            Format::Webp => ENCODER.to_string(),
        }
    }
}

/// The formats an image's variants are made in, in the order pages offer them: AVIF only
/// for an image without a colour profile or with an sRGB one (an AVIF variant says sRGB,
/// so one of a Display P3 photo would show its colours wrong), WebP always.
pub fn formats(info: &FileInfo) -> Vec<Format> {
    Format::ALL
        .into_iter()
        .filter(|f| *f != Format::Avif || !info.non_srgb)
        .collect()
}

/// The extensions whose images get variants (GIF, which may move, and SVG, which scales, and
/// AVIF, already small, are left as they are).
pub const SOURCES: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

/// Whether an image gets variants: a PNG, JPEG or WebP whose size its header gives.
pub fn has_variants(info: &FileInfo) -> bool {
    SOURCES.contains(&info.ext.as_str()) && info.dimensions.is_some()
}

/// The widths of an image's variants, narrowest first: each step narrower than the
/// original, and the original's own width when it is under the widest step and more than a
/// quarter wider than the widest variant below it (a WebP the size of the original, for
/// screens that want every pixel). Never wider than the original.
pub fn widths(original: u32) -> Vec<u32> {
    let mut widths: Vec<u32> = STEPS.iter().copied().filter(|&w| w < original).collect();
    let widest_step = STEPS[STEPS.len() - 1];
    let below = widths.last().copied().unwrap_or(0);
    if original < widest_step && u64::from(original) * 4 > u64::from(below) * 5 {
        widths.push(original);
    }
    widths
}

/// One variant of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The original's stored name, `{hash}.{ext}`.
    pub source: String,
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

impl Spec {
    /// The first 16 bytes of the SHA-256 of the original's name, the width, the format and
    /// its encoder ([`Format::encoder`]), in hex.
    pub fn hash(&self) -> String {
        self.hash_with(&self.format.encoder())
    }

    fn hash_with(&self, encoder: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.source.as_str(),
            &self.width.to_string(),
            self.format.ext(),
            encoder,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        blog_core::hex::encode(&hasher.finalize()[..16])
    }

    /// `{hash}.{avif|webp}`: the name in both the KV key and the URL.
    pub fn name(&self) -> String {
        format!("{}.{}", self.hash(), self.format.ext())
    }

    pub fn key(&self) -> String {
        kv::file_key(&self.name())
    }

    pub fn url(&self) -> String {
        Route::File { name: self.name() }.href()
    }

    /// The metadata stored with it: its hash and type as any file's, and the original's name,
    /// which tells a variant from an original when sync lists KV.
    pub fn meta(&self) -> KeyMeta {
        KeyMeta {
            hash: self.hash(),
            file: Some(self.source.clone()),
            content_type: Some(kv::content_type(self.format.ext()).to_string()),
            card: None,
        }
    }
}

/// The variants of an image, by format in the order pages offer them, each format's
/// narrowest first (none for one that gets none).
pub fn specs(info: &FileInfo) -> Vec<Spec> {
    let Some((w, h)) = info.dimensions.filter(|_| has_variants(info)) else {
        return Vec::new();
    };
    let widths = widths(w);
    formats(info)
        .into_iter()
        .flat_map(|format| {
            widths.iter().map(move |&width| Spec {
                source: info.name(),
                format,
                width,
                height: ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1)
                    as u32,
            })
        })
        .collect()
}

/// What a post's record names for an image's variants.
pub fn variants(info: &FileInfo) -> Vec<Variant> {
    specs(info)
        .into_iter()
        .map(|s| Variant {
            url: s.url(),
            width: s.width,
        })
        .collect()
}

/// Whether a stored `file/…` key, by its metadata, is a variant rather than an original.
pub fn is_variant(meta: Option<&KeyMeta>) -> bool {
    meta.is_some_and(|m| m.file.is_some())
}

/// A variant the published posts use, with where its original is and who shows it first.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub spec: Spec,
    /// The original, inside the content folder.
    pub path: String,
    pub size: usize,
    /// The first post showing it, and the line: where a problem encoding it is reported.
    pub post: String,
    pub line: usize,
}

/// Every variant the `posts` show, by key.
pub fn wanted(posts: &[&SourcePost], content: &Content) -> BTreeMap<String, Wanted> {
    let mut out = BTreeMap::new();
    for post in posts {
        for r in &post.file_refs {
            if !matches!(r.kind, RefKind::Image { .. }) {
                continue;
            }
            let Some(asset) = post.record.assets.get(crate::assets::path_part(&r.url)) else {
                continue;
            };
            if asset.variants.is_empty() {
                continue;
            }
            let Some((path, info)) = post
                .files
                .iter()
                .filter_map(|p| Some((p, content.files.get(p)?)))
                .find(|(_, info)| info.url() == asset.url)
            else {
                continue;
            };
            for spec in specs(info) {
                out.entry(spec.key()).or_insert_with(|| Wanted {
                    spec,
                    path: path.clone(),
                    size: info.size,
                    post: post.file.clone(),
                    line: r.line,
                });
            }
        }
    }
    out
}

/// What a sync does for the variants it must upload (`put`: the keys KV lacks): the ones
/// this machine's cache keeps are uploaded from it, the rest encoded, each original decoded
/// once for all its missing widths.
#[derive(Debug, Default)]
pub struct Work<'a> {
    pub from_cache: Vec<&'a Wanted>,
    /// By original (path inside the content folder).
    pub encode: BTreeMap<&'a str, Vec<&'a Wanted>>,
}

pub fn work<'a>(
    wanted: &'a BTreeMap<String, Wanted>,
    put: &[String],
    cached: impl Fn(&str) -> bool,
) -> Work<'a> {
    let mut work = Work::default();
    for key in put {
        let Some(w) = wanted.get(key) else { continue };
        if cached(&w.spec.name()) {
            work.from_cache.push(w);
        } else {
            work.encode.entry(w.path.as_str()).or_default().push(w);
        }
    }
    for wanted in work.encode.values_mut() {
        wanted.sort_by_key(|w| (w.spec.width, w.spec.format));
    }
    work
}

/// What a sync makes of one original, for its log: `480, 960 px AVIF and WebP`, or each
/// format's widths when they differ (`960 px WebP` when only that one was lost).
pub fn describe(wanted: &[&Wanted]) -> String {
    let mut by_format: BTreeMap<Format, Vec<String>> = BTreeMap::new();
    for w in wanted {
        by_format
            .entry(w.spec.format)
            .or_default()
            .push(w.spec.width.to_string());
    }
    let mut groups: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
    for (format, widths) in by_format {
        match groups.iter_mut().find(|(w, _)| *w == widths) {
            Some((_, formats)) => formats.push(format.label()),
            None => groups.push((widths, vec![format.label()])),
        }
    }
    groups
        .into_iter()
        .map(|(widths, formats)| format!("{} px {}", widths.join(", "), formats.join(" and ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where encoded variants are kept between syncs, by name: deleting it costs only the time
/// to encode them again.
#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
}

impl Cache {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.path(name).is_file()
    }

    /// Deletes what the cache keeps besides the variants named `keep` (those the posts show
    /// now), so it holds no more than the site does. Returns how many it deleted.
    pub fn keep_only(&self, keep: &std::collections::BTreeSet<String>) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| !keep.contains(&*e.file_name().to_string_lossy()))
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// Keeps `bytes` under `name`, whole or not at all (written aside, then renamed).
    pub fn put(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let path = self.path(name);
        let aside = self.dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&aside, bytes)
            .and_then(|()| std::fs::rename(&aside, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }
}

/// A variant ready to upload: its key, metadata and the file holding its bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub key: String,
    pub meta: KeyMeta,
    pub path: PathBuf,
}

/// What making the variants took, for the sync's summary.
#[derive(Debug, Default, Clone)]
pub struct Encoding {
    pub uploads: Vec<Upload>,
    pub encoded: usize,
    pub from_cache: usize,
    pub images: usize,
    pub time: Duration,
    /// Time spent in each format's encoder (summed over the cores, resizing not included).
    pub encoder_time: BTreeMap<Format, Duration>,
    /// The bytes of the originals encoded, and of their widest variants in each format.
    pub original_bytes: usize,
    pub widest_bytes: BTreeMap<Format, usize>,
    /// The bytes of each original's widest variant in the first format pages offer for it
    /// (AVIF when it has one): what a reader on a wide screen is sent instead.
    pub sent_bytes: usize,
}

impl Encoding {
    /// One line for the sync's summary.
    pub fn summary(&self, added: usize, removed: usize, unchanged: usize) -> String {
        let mut line = format!(
            "image variants: {added} added, {removed} removed, {unchanged} unchanged; {} encoded from {} images in {:.2} s",
            self.encoded,
            self.images,
            self.time.as_secs_f64()
        );
        if !self.encoder_time.is_empty() {
            let each: Vec<String> = self
                .encoder_time
                .iter()
                .map(|(f, t)| format!("{} {:.2} s", f.label(), t.as_secs_f64()))
                .collect();
            line.push_str(&format!(" ({})", each.join(", ")));
        }
        if self.from_cache > 0 {
            line.push_str(&format!(", {} from the local cache", self.from_cache));
        }
        if self.original_bytes > 0 {
            let saved = self.original_bytes.saturating_sub(self.sent_bytes);
            let widest: Vec<String> = self
                .widest_bytes
                .iter()
                .map(|(f, n)| format!("{} {}", f.label(), bytes(*n)))
                .collect();
            line.push_str(&format!(
                "; widest {} against {} of originals ({} saved, {:.0} %)",
                widest.join(", "),
                bytes(self.original_bytes),
                bytes(saved),
                saved as f64 * 100.0 / self.original_bytes as f64
            ));
        }
        line
    }
}

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
        n if n >= 1024 => format!("{:.0} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// One original to encode: its path, its variants, and once done, what came of it (with the
/// time each format's encoder took).
type Job<'a> = (
    &'a str,
    &'a Vec<&'a Wanted>,
    Option<Result<(Vec<Upload>, Vec<Duration>), Diagnostic>>,
);

/// Makes what `work` asks for: encodes on every core, keeps each result in `cache`, and
/// returns every upload. An original that cannot be decoded is an error at the line of the
/// first post that shows it.
pub fn make(
    work: &Work<'_>,
    content_dir: &Path,
    cache: &Cache,
) -> Result<Encoding, Vec<Diagnostic>> {
    let started = Instant::now();
    let mut jobs: Vec<Job<'_>> = work.encode.iter().map(|(p, w)| (*p, w, None)).collect();
    crate::cores::each(&mut jobs, 2, |(path, wanted, out)| {
        *out = Some(encode_one(content_dir, path, wanted, cache));
    });
    let mut encoding = Encoding {
        from_cache: work.from_cache.len(),
        images: jobs.len(),
        ..Encoding::default()
    };
    let mut problems = Vec::new();
    for (_, wanted, out) in jobs {
        match out.expect("every job ran") {
            Ok((uploads, times)) => {
                encoding.encoded += uploads.len();
                encoding.original_bytes += wanted[0].size;
                for (w, time) in wanted.iter().zip(&times) {
                    *encoding.encoder_time.entry(w.spec.format).or_default() += *time;
                }
                let mut sent = None;
                for format in Format::ALL {
                    let widest = wanted
                        .iter()
                        .zip(&uploads)
                        .filter(|(w, _)| w.spec.format == format)
                        .max_by_key(|(w, _)| w.spec.width)
                        .map(|(_, u)| std::fs::metadata(&u.path).map_or(0, |m| m.len() as usize));
                    if let Some(n) = widest {
                        *encoding.widest_bytes.entry(format).or_default() += n;
                        sent.get_or_insert(n);
                    }
                }
                encoding.sent_bytes += sent.unwrap_or(0);
                encoding.uploads.extend(uploads);
            }
            Err(d) => problems.push(d),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    encoding
        .uploads
        .extend(work.from_cache.iter().map(|w| Upload {
            key: w.spec.key(),
            meta: w.spec.meta(),
            path: cache.path(&w.spec.name()),
        }));
    encoding.time = started.elapsed();
    Ok(encoding)
}

fn encode_one(
    content_dir: &Path,
    path: &str,
    wanted: &[&Wanted],
    cache: &Cache,
) -> Result<(Vec<Upload>, Vec<Duration>), Diagnostic> {
    let first = wanted[0];
    let fail = |e: String| {
        Diagnostic::error(
            &first.post,
            first.line,
            format!("the image {path} cannot be resized: {e}"),
        )
    };
    let full = content_dir.join(path);
    let bytes = std::fs::read(&full).map_err(|e| fail(format!("{}: {e}", full.display())))?;
    if crate::assets::inspect(path, &bytes).name() != first.spec.source {
        return Err(fail(
            "it changed during the sync: run `blog sync` again".into(),
        ));
    }
    let sizes: Vec<(Format, u32, u32)> = wanted
        .iter()
        .map(|w| (w.spec.format, w.spec.width, w.spec.height))
        .collect();
    let encoded = encode_timed(&bytes, &sizes).map_err(fail)?;
    let mut times = Vec::new();
    let uploads = wanted
        .iter()
        .zip(encoded)
        .map(|(w, (file, time))| {
            times.push(time);
            let path = cache.put(&w.spec.name(), &file).map_err(fail)?;
            Ok(Upload {
                key: w.spec.key(),
                meta: w.spec.meta(),
                path,
            })
        })
        .collect::<Result<Vec<_>, Diagnostic>>()?;
    Ok((uploads, times))
}

/// A decoded image, turned upright, with its colour profile.
pub struct Decoded {
    pub image: image::DynamicImage,
    pub icc: Option<Vec<u8>>,
}

/// The decoder of the image in `bytes`, its format guessed from them and its header read:
/// where decoding, the orientation and the colour profile all start.
fn open(bytes: &[u8]) -> Result<impl image::ImageDecoder + '_, String> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .into_decoder()
        .map_err(|e| e.to_string())
}

/// Decodes a PNG, JPEG or WebP and applies its EXIF orientation.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    use image::ImageDecoder;
    let mut decoder = open(bytes)?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let icc = decoder.icc_profile().map_err(|e| e.to_string())?;
    let mut image = image::DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    image.apply_orientation(orientation);
    Ok(Decoded { image, icc })
}

/// Whether an image's EXIF orientation turns it a quarter, so it is shown with its width
/// and height swapped (browsers apply the orientation to the original too).
pub fn turned_a_quarter(bytes: &[u8]) -> bool {
    use image::metadata::Orientation::*;
    use image::ImageDecoder;
    let Ok(mut decoder) = open(bytes) else {
        return false;
    };
    matches!(
        decoder.orientation(),
        Ok(Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
    )
}

/// Decodes an image once and encodes it at each `(format, width, height)`: lossy WebP with
/// the original's ICC profile, AVIF as sRGB. Each size is resized once for all its formats.
pub fn encode(bytes: &[u8], sizes: &[(Format, u32, u32)]) -> Result<Vec<Vec<u8>>, String> {
    Ok(encode_timed(bytes, sizes)?
        .into_iter()
        .map(|(file, _)| file)
        .collect())
}

/// [`encode`], with the time each file's encoder took.
fn encode_timed(
    bytes: &[u8],
    sizes: &[(Format, u32, u32)],
) -> Result<Vec<(Vec<u8>, Duration)>, String> {
    let Decoded { image, icc } = decode(bytes)?;
    let alpha = image.color().has_alpha();
    let mut resized: Option<((u32, u32), image::DynamicImage)> = None;
    sizes
        .iter()
        .map(|&(format, w, h)| {
            if resized.as_ref().is_none_or(|(size, _)| *size != (w, h)) {
                let image = if (w, h) == (image.width(), image.height()) {
                    image.clone()
                } else {
                    image.resize_exact(w, h, image::imageops::FilterType::Lanczos3)
                };
                resized = Some(((w, h), image));
            }
            let (_, picture) = resized.as_ref().expect("resized above");
            let started = Instant::now();
            let file = match format {
                Format::Webp => webp_of(picture, alpha, icc.as_deref())?,
                Format::Avif => avif_of(picture, alpha)?,
            };
            Ok((file, started.elapsed()))
        })
        .collect()
}

fn webp_of(
    image: &image::DynamicImage,
    alpha: bool,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let (w, h) = (image.width(), image.height());
    let memory = if alpha {
        let pixels = image.to_rgba8();
        webp::Encoder::from_rgba(&pixels, w, h).encode_simple(false, QUALITY)
    } else {
        let pixels = image.to_rgb8();
        webp::Encoder::from_rgb(&pixels, w, h).encode_simple(false, QUALITY)
    }
    .map_err(|e| format!("the WebP encoder refused it ({e:?})"))?;
    match icc {
        Some(profile) => with_icc(&memory, profile, w, h),
        None => Ok(memory.to_vec()),
    }
}

/// An AVIF of `image` at [`AVIF_QUALITY`] and [`AVIF_SPEED`]: 10-bit 4:4:4, its `colr` box
/// saying sRGB; with an alpha plane when any pixel is not opaque.
fn avif_of(image: &image::DynamicImage, alpha: bool) -> Result<Vec<u8>, String> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let encoder = ravif::Encoder::new()
        .with_quality(AVIF_QUALITY)
        .with_speed(AVIF_SPEED)
        .with_bit_depth(ravif::BitDepth::Ten);
    let encoded = if alpha {
        let pixels: Vec<ravif::RGBA8> = image
            .to_rgba8()
            .pixels()
            .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
            .collect();
        encoder.encode_rgba(ravif::Img::new(&pixels[..], w, h))
    } else {
        let pixels: Vec<ravif::RGB8> = image
            .to_rgb8()
            .pixels()
            .map(|p| ravif::RGB8::new(p[0], p[1], p[2]))
            .collect();
        encoder.encode_rgb(ravif::Img::new(&pixels[..], w, h))
    }
    .map_err(|e| format!("the AVIF encoder refused it ({e})"))?;
    Ok(encoded.avif_file)
}

/// Whether an ICC profile is sRGB's, or one that draws the same colours: each of a grid of
/// colours, taken from the profile to sRGB, lands within two levels of itself. A profile
/// that does not parse, or is not RGB, is not sRGB.
pub fn is_srgb_profile(icc: &[u8]) -> bool {
    let Ok(profile) = moxcms::ColorProfile::new_from_slice(icc) else {
        return false;
    };
    let Ok(transform) = profile.create_transform_8bit(
        moxcms::Layout::Rgb,
        &moxcms::ColorProfile::new_srgb(),
        moxcms::Layout::Rgb,
        moxcms::TransformOptions::default(),
    ) else {
        return false;
    };
    let levels = [0u8, 32, 64, 96, 128, 160, 192, 224, 255];
    let mut grid = Vec::with_capacity(levels.len().pow(3) * 3);
    for r in levels {
        for g in levels {
            for b in levels {
                grid.extend([r, g, b]);
            }
        }
    }
    let mut out = vec![0u8; grid.len()];
    transform.transform(&grid, &mut out).is_ok()
        && grid.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 2)
}

/// Whether an image's header carries an ICC profile that is not sRGB's.
pub fn has_non_srgb_profile(bytes: &[u8]) -> bool {
    use image::ImageDecoder;
    let Ok(mut decoder) = open(bytes) else {
        return false;
    };
    matches!(decoder.icc_profile(), Ok(Some(icc)) if !is_srgb_profile(&icc))
}

/// A WebP file with an ICC profile: its chunks in the extended format (`VP8X` with the ICC
/// flag, then `ICCP`, then the image's own chunks), as the WebP container specifies.
pub fn with_icc(webp: &[u8], icc: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    if webp.len() < 12 || &webp[..4] != b"RIFF" || &webp[8..12] != b"WEBP" {
        return Err("the encoder wrote no WebP".into());
    }
    let mut chunks: Vec<([u8; 4], &[u8])> = Vec::new();
    let mut at = 12;
    while at + 8 <= webp.len() {
        let tag: [u8; 4] = webp[at..at + 4].try_into().expect("four bytes");
        let len = u32::from_le_bytes(webp[at + 4..at + 8].try_into().expect("four bytes")) as usize;
        let body = webp
            .get(at + 8..at + 8 + len)
            .ok_or("the encoder wrote a truncated WebP")?;
        chunks.push((tag, body));
        at += 8 + len + (len & 1);
    }
    let mut vp8x = match chunks.iter().find(|(tag, _)| tag == b"VP8X") {
        Some((_, body)) => body.to_vec(),
        None => {
            let mut body = vec![0u8; 4];
            body.extend(&(width - 1).to_le_bytes()[..3]);
            body.extend(&(height - 1).to_le_bytes()[..3]);
            body
        }
    };
    vp8x[0] |= 0x20;
    let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
    let mut push = |tag: &[u8], body: &[u8]| {
        out.extend(tag);
        out.extend((body.len() as u32).to_le_bytes());
        out.extend(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
    };
    push(b"VP8X", &vp8x);
    push(b"ICCP", icc);
    for (tag, body) in chunks
        .iter()
        .filter(|(tag, _)| tag != b"VP8X" && tag != b"ICCP")
    {
        push(tag, body);
    }
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageDecoder, Rgb, RgbImage, Rgba, RgbaImage};

    fn png_of(image: &image::DynamicImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// A gradient, so resizing and encoding have something to do.
    fn photo(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
        })
    }

    #[test]
    fn variant_widths_are_never_wider_than_the_original() {
        assert_eq!(widths(2400), [480, 960, 1600]);
        assert_eq!(widths(1600), [480, 960]);
        assert_eq!(widths(1601), [480, 960, 1600]);
        assert_eq!(widths(1300), [480, 960, 1300]);
        assert_eq!(widths(1000), [480, 960], "960 is close enough to 1000");
        assert_eq!(widths(640), [480, 640]);
        assert_eq!(widths(48), [48]);
        assert_eq!(widths(1), [1]);
        for original in (1..4000).step_by(7) {
            let w = widths(original);
            assert!(w.iter().all(|&w| w <= original), "{original}: {w:?}");
            assert!(w.windows(2).all(|p| p[0] < p[1]), "{original}: {w:?}");
            assert!(!w.is_empty());
        }
    }

    #[test]
    fn only_png_jpeg_and_webp_get_variants_named_by_what_makes_them() {
        let info = crate::assets::inspect("a.png", &png_of(&photo(2400, 1600).into()));
        assert_eq!(info.dimensions, Some((2400, 1600)));
        let specs = specs(&info);
        assert_eq!(
            specs
                .iter()
                .map(|s| (s.format, s.width, s.height))
                .collect::<Vec<_>>(),
            [
                (Format::Avif, 480, 320),
                (Format::Avif, 960, 640),
                (Format::Avif, 1600, 1067),
                (Format::Webp, 480, 320),
                (Format::Webp, 960, 640),
                (Format::Webp, 1600, 1067)
            ]
        );
        assert_eq!(
            variants(&info)
                .iter()
                .map(|v| v.url.rsplit_once('.').unwrap().1)
                .collect::<Vec<_>>(),
            ["avif", "avif", "avif", "webp", "webp", "webp"],
            "AVIF first: a browser takes the first source it knows"
        );
        for s in &specs {
            assert!(s.name().ends_with(&format!(".{}", s.format.ext())));
            assert_eq!(
                s.meta().content_type.as_deref(),
                Some(kv::content_type(s.format.ext()))
            );
            assert!(kv::is_file_name(&s.name()), "{}", s.name());
            assert_eq!(s.url(), format!("/files/{}", s.name()));
            assert!(is_variant(Some(&s.meta())));
            assert_eq!(s.meta().hash, s.hash());
        }
        let other = Spec {
            width: 481,
            ..specs[0].clone()
        };
        assert_ne!(other.hash(), specs[0].hash());
        assert_ne!(specs[0].hash(), specs[3].hash(), "same width, other format");
        // The encoder's settings are part of the name: changing one re-encodes.
        let encoder = avif_encoder();
        assert!(encoder.contains(&format!("q{AVIF_QUALITY}")), "{encoder}");
        assert!(encoder.contains(&format!("s{AVIF_SPEED}")), "{encoder}");
        assert_eq!(specs[0].hash_with(&encoder), specs[0].hash());
        for other in [
            encoder.replace(&format!("q{AVIF_QUALITY}"), "q61"),
            encoder.replace(&format!("s{AVIF_SPEED}"), "s6"),
        ] {
            assert_ne!(specs[0].hash_with(&other), specs[0].hash(), "{other}");
        }
        assert_ne!(
            specs[3].hash_with(&ENCODER.replace("q80", "q81")),
            specs[3].hash()
        );
        let other = Spec {
            source: "0".repeat(32) + ".png",
            ..specs[0].clone()
        };
        assert_ne!(other.hash(), specs[0].hash());
        for (name, bytes) in [
            ("a.gif", b"GIF89a\x10\0\x10\0\0\0\0".to_vec()),
            ("a.svg", b"<svg width='900' height='10'/>".to_vec()),
        ] {
            let info = crate::assets::inspect(name, &bytes);
            assert!(
                info.dimensions.is_some() && specs_of(&info).is_empty(),
                "{name}"
            );
        }
        assert!(!is_variant(Some(&KeyMeta {
            hash: info.hash.clone(),
            file: None,
            content_type: Some("image/png".into()),
            card: None,
        })));
    }

    fn specs_of(info: &FileInfo) -> Vec<Spec> {
        specs(info)
    }

    #[test]
    fn encodes_webp_at_each_width_and_keeps_the_colour_profile() {
        let png = png_of(&photo(300, 200).into());
        let out = encode(&png, &[(Format::Webp, 120, 80), (Format::Webp, 300, 200)]).unwrap();
        for (webp, (w, h)) in out.iter().zip([(120, 80), (300, 200)]) {
            assert_eq!(&webp[..4], b"RIFF");
            let mut d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(webp)).unwrap();
            assert_eq!(d.dimensions(), (w, h));
            assert_eq!(d.icc_profile().unwrap(), None);
        }
        assert!(out[0].len() < out[1].len());
        // An ICC profile travels into the variant, with or without alpha.
        let profile = b"not a real profile, but bytes to carry".to_vec();
        for has_alpha in [false, true] {
            let image: image::DynamicImage = if has_alpha {
                RgbaImage::from_fn(64, 32, |x, _| Rgba([x as u8 * 4, 9, 9, x as u8 * 3])).into()
            } else {
                photo(64, 32).into()
            };
            let mut bytes = Vec::new();
            let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
            use image::ImageEncoder;
            encoder.set_icc_profile(profile.clone()).unwrap();
            encoder
                .write_image(image.as_bytes(), 64, 32, image.color().into())
                .unwrap();
            let webp = &encode(&bytes, &[(Format::Webp, 32, 16)]).unwrap()[0];
            let mut d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(webp)).unwrap();
            assert_eq!(
                d.icc_profile().unwrap().as_deref(),
                Some(&profile[..]),
                "alpha {has_alpha}"
            );
            assert_eq!(d.dimensions(), (32, 16));
            assert_eq!(d.color_type().has_alpha(), has_alpha);
            let decoded = image::DynamicImage::from_decoder(d).unwrap();
            assert_eq!(decoded.width(), 32);
        }
    }

    /// A JPEG of `image` whose EXIF says to turn it by `orientation` (1–8).
    fn jpeg_with_orientation(image: &RgbImage, orientation: u8) -> Vec<u8> {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(image)
            .unwrap();
        // APP1 "Exif\0\0", a little-endian TIFF header and one IFD entry: Orientation.
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0]);
        tiff.extend([0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(((app1.len() + 2) as u16).to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn the_exif_orientation_is_applied_before_resizing() {
        // 200 wide, 100 high, red on the left half; EXIF 6 says: turn it a quarter clockwise.
        let image = RgbImage::from_fn(200, 100, |x, _| {
            if x < 100 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let jpeg = jpeg_with_orientation(&image, 6);
        assert!(turned_a_quarter(&jpeg));
        let info = crate::assets::inspect("turned.jpg", &jpeg);
        assert_eq!(info.dimensions, Some((100, 200)), "pages draw it upright");
        let [avif, webp] =
            &encode(&jpeg, &[(Format::Avif, 50, 100), (Format::Webp, 50, 100)]).unwrap()[..]
        else {
            panic!("two files")
        };
        assert_eq!(crate::assets::dimensions("avif", avif), Some((50, 100)));
        let turned = image::load_from_memory(webp).unwrap().to_rgb8();
        assert_eq!(turned.dimensions(), (50, 100));
        // Turned clockwise, the left (red) half is now on top.
        let top = turned.get_pixel(25, 10);
        let bottom = turned.get_pixel(25, 90);
        assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
        assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
        // Without the tag, the same picture stays as it is.
        let plain = jpeg_with_orientation(&image, 1);
        assert!(!turned_a_quarter(&plain));
        assert_eq!(
            crate::assets::inspect("plain.jpg", &plain).dimensions,
            Some((200, 100))
        );
    }

    fn wanted_of(specs: &[Spec]) -> BTreeMap<String, Wanted> {
        specs
            .iter()
            .map(|s| {
                (
                    s.key(),
                    Wanted {
                        spec: s.clone(),
                        path: "photo.png".into(),
                        size: 1000,
                        post: "content/a.md".into(),
                        line: 9,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn nothing_stored_or_cached_is_encoded_again() {
        let info = crate::assets::inspect("photo.png", &png_of(&photo(2400, 1600).into()));
        let specs = specs(&info);
        let wanted = wanted_of(&specs);
        // What KV already holds never reaches `work` (the plan leaves it out of `put`).
        let held = BTreeMap::from([(specs[0].key(), Some(specs[0].meta()))]);
        let put: Vec<String> = wanted
            .keys()
            .filter(|k| !held.contains_key(*k))
            .cloned()
            .collect();
        let cached = specs[1].name();
        let work = work(&wanted, &put, |name| name == cached);
        assert_eq!(
            work.from_cache
                .iter()
                .map(|w| (w.spec.format, w.spec.width))
                .collect::<Vec<_>>(),
            [(Format::Avif, 960)]
        );
        let encode: Vec<_> = work.encode["photo.png"]
            .iter()
            .map(|w| (w.spec.format, w.spec.width))
            .collect();
        assert_eq!(
            encode,
            [
                (Format::Webp, 480),
                (Format::Webp, 960),
                (Format::Avif, 1600),
                (Format::Webp, 1600)
            ],
            "one decode for what is left, each width resized once for both formats"
        );
        assert_eq!(
            describe(&work.encode["photo.png"]),
            "1600 px AVIF; 480, 960, 1600 px WebP"
        );
        let every: Vec<&Wanted> = wanted.values().collect();
        let mut every = every;
        every.sort_by_key(|w| (w.spec.width, w.spec.format));
        assert_eq!(describe(&every), "480, 960, 1600 px AVIF and WebP");
        let all = super::work(&wanted, &[], |_| false);
        assert!(all.encode.is_empty() && all.from_cache.is_empty());
    }

    #[test]
    fn makes_the_variants_once_then_takes_them_from_the_cache() {
        let dir = std::env::temp_dir().join(format!("blog-images-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let png = png_of(&photo(700, 350).into());
        std::fs::write(dir.join("photo.png"), &png).unwrap();
        let info = crate::assets::inspect("photo.png", &png);
        let wanted = wanted_of(&specs(&info));
        let put: Vec<String> = wanted.keys().cloned().collect();
        let cache = Cache {
            dir: dir.join("cache"),
        };
        let first = make(&work(&wanted, &put, |n| cache.has(n)), &dir, &cache).unwrap();
        assert_eq!((first.encoded, first.from_cache, first.images), (4, 0, 1));
        assert_eq!(first.uploads.len(), 4);
        assert_eq!(first.original_bytes, 1000);
        assert_eq!(
            first.widest_bytes.keys().copied().collect::<Vec<_>>(),
            Format::ALL
        );
        assert!(first.widest_bytes.values().all(|&n| n > 0));
        assert_eq!(first.sent_bytes, first.widest_bytes[&Format::Avif]);
        assert_eq!(first.encoder_time.len(), 2);
        let line = first.summary(4, 0, 0);
        assert!(
            line.contains("4 encoded from 1 images in ")
                && line.contains(" s (AVIF ")
                && line.contains("; widest AVIF "),
            "{line}"
        );
        for u in &first.uploads {
            let bytes = std::fs::read(&u.path).unwrap();
            let ext = u.key.rsplit_once('.').unwrap().1;
            let (width, _) = crate::assets::dimensions(ext, &bytes).unwrap();
            assert!([480, 700].contains(&width), "{width}");
            assert_eq!(u.meta.content_type.as_deref(), Some(kv::content_type(ext)));
        }
        let again = make(&work(&wanted, &put, |n| cache.has(n)), &dir, &cache).unwrap();
        assert_eq!((again.encoded, again.from_cache), (0, 4));
        // What no post shows any more leaves the cache; what they show stays.
        std::fs::write(cache.path("0123.webp"), b"old").unwrap();
        let shown: std::collections::BTreeSet<String> =
            wanted.values().map(|w| w.spec.name()).collect();
        assert_eq!(cache.keep_only(&shown), 1);
        assert!(shown.iter().all(|n| cache.has(n)) && !cache.has("0123.webp"));
        assert!(
            again
                .summary(4, 0, 0)
                .ends_with("0 encoded from 0 images in 0.00 s, 4 from the local cache"),
            "{}",
            again.summary(4, 0, 0)
        );
        // An original that is not what the post was checked with is an error at its line.
        std::fs::write(dir.join("photo.png"), b"\x89PNG broken").unwrap();
        let _ = std::fs::remove_dir_all(dir.join("cache"));
        let err = make(&work(&wanted, &put, |n| cache.has(n)), &dir, &cache).unwrap_err();
        assert_eq!(
            err[0].to_string().split(": error: ").next(),
            Some("content/a.md:9")
        );
        assert!(
            err[0].message.contains("changed during the sync"),
            "{}",
            err[0].message
        );
        // One whose header reads but whose pixels do not decode is an error at its line too.
        let mut broken = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        broken.extend(900u32.to_be_bytes());
        broken.extend(600u32.to_be_bytes());
        broken.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(dir.join("photo.png"), &broken).unwrap();
        let info = crate::assets::inspect("photo.png", &broken);
        assert_eq!(info.dimensions, Some((900, 600)));
        let wanted = wanted_of(&specs(&info));
        let put: Vec<String> = wanted.keys().cloned().collect();
        let err = make(&work(&wanted, &put, |_| false), &dir, &cache).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0]
                .to_string()
                .starts_with("content/a.md:9: error: the image photo.png cannot be resized: "),
            "{}",
            err[0]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The boxes at the top level of an ISO BMFF file (AVIF), and the bytes of the file.
    fn boxes(file: &[u8]) -> Vec<String> {
        let mut at = 0;
        let mut out = Vec::new();
        while at + 8 <= file.len() {
            let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
            out.push(String::from_utf8_lossy(&file[at + 4..at + 8]).into_owned());
            assert!(len >= 8, "box length {len}");
            at += len;
        }
        assert_eq!(at, file.len(), "the boxes fill the file");
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn encodes_avif_at_each_width_with_its_alpha() {
        let png = png_of(&photo(300, 200).into());
        let out = encode(&png, &[(Format::Avif, 120, 80), (Format::Avif, 300, 200)]).unwrap();
        for (avif, size) in out.iter().zip([(120, 80), (300, 200)]) {
            // `ftyp` first, its major brand `avif`; then the metadata and the AV1 data.
            assert_eq!(&avif[4..12], b"ftypavif");
            assert_eq!(boxes(avif), ["ftyp", "meta", "mdat"]);
            assert_eq!(crate::assets::dimensions("avif", avif), Some(size));
            // No ICC profile: its colours are sRGB, as its AV1 header says (ravif writes
            // no `colr` box for sRGB, what readers assume without one).
            assert!(!contains(avif, b"colrprof") && !contains(avif, b"colrrICC"));
            assert!(
                !contains(avif, b"auxC"),
                "an opaque image has no alpha plane"
            );
        }
        assert!(out[0].len() < out[1].len());
        // Transparency: an alpha plane as an auxiliary image, and its pixels kept (an image
        // half transparent codes more than a flat alpha would).
        let image: image::DynamicImage = RgbaImage::from_fn(64, 32, |x, y| {
            Rgba([x as u8 * 4, y as u8 * 8, 99, if x < 32 { 0 } else { 255 }])
        })
        .into();
        let avif = &encode(&png_of(&image), &[(Format::Avif, 64, 32)]).unwrap()[0];
        assert_eq!(&avif[4..12], b"ftypavif");
        assert!(contains(avif, b"auxC"), "an alpha plane");
        assert!(contains(
            avif,
            b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
        ));
        assert_eq!(crate::assets::dimensions("avif", avif), Some((64, 32)));
    }

    /// A PNG of a gradient carrying `icc` as its colour profile.
    fn png_with_icc(icc: &[u8]) -> Vec<u8> {
        use image::ImageEncoder;
        let image = photo(640, 400);
        let mut bytes = Vec::new();
        let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
        encoder.set_icc_profile(icc.to_vec()).unwrap();
        encoder
            .write_image(image.as_raw(), 640, 400, image::ExtendedColorType::Rgb8)
            .unwrap();
        bytes
    }

    #[test]
    fn an_image_with_a_profile_other_than_srgb_gets_webp_only() {
        let srgb = moxcms::ColorProfile::new_srgb().encode().unwrap();
        let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        let adobe = moxcms::ColorProfile::new_adobe_rgb().encode().unwrap();
        assert!(is_srgb_profile(&srgb));
        assert!(!is_srgb_profile(&p3) && !is_srgb_profile(&adobe));
        assert!(!is_srgb_profile(b"not a real profile"));
        let formats_of = |png: &[u8]| {
            let info = crate::assets::inspect("p.png", png);
            let mut formats: Vec<Format> = specs(&info).iter().map(|s| s.format).collect();
            formats.dedup();
            (info.non_srgb, formats)
        };
        assert_eq!(
            formats_of(&png_of(&photo(640, 400).into())),
            (false, vec![Format::Avif, Format::Webp]),
            "no profile: sRGB"
        );
        assert_eq!(
            formats_of(&png_with_icc(&srgb)),
            (false, vec![Format::Avif, Format::Webp])
        );
        for icc in [&p3[..], &adobe, b"not a real profile"] {
            assert_eq!(formats_of(&png_with_icc(icc)), (true, vec![Format::Webp]));
        }
        // The WebP keeps the P3 profile, so its colours stay right.
        let webp = &encode(&png_with_icc(&p3), &[(Format::Webp, 480, 300)]).unwrap()[0];
        let mut d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(webp)).unwrap();
        assert_eq!(d.icc_profile().unwrap().as_deref(), Some(&p3[..]));
    }
}
