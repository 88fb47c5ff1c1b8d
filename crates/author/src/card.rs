//! Social cards: the picture a post without a `cover` is shared with, made at sync. A card
//! is a 1200x630 PNG of the post's title, the site's title, the date and the reading time, in
//! the site's colours, drawn from `templates/card.svg` with the fonts in `fonts/` (Inter, OFL)
//! by resvg, in pure Rust.
//!
//! A card is named by the hash of everything it shows and everything that draws it (the
//! title, the site's title, the date, the reading time, the colours, the template and the
//! fonts): it is a content-addressed file like any other (`/files/{hash}.png`), so a sync
//! renders only the cards KV does not hold yet, and never the same card twice.

use blog_core::content::{Asset, PostRecord};
use blog_core::kv::{self, KeyMeta};
use blog_core::routes::Route;
use blog_core::settings::Settings;
use resvg::{tiny_skia, usvg};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;

/// The drawing: placeholders `{{name}}` that [`Card::svg`] fills.
pub const TEMPLATE: &str = include_str!("../../../templates/card.svg");
const BOLD: &[u8] = include_bytes!("../fonts/Inter-Bold.otf");
const REGULAR: &[u8] = include_bytes!("../fonts/Inter-Regular.otf");
/// The site's stylesheet: the card takes its colours from the light scheme's variables.
const STYLESHEET: &str = include_str!("../../../templates/style.css");

/// Where the title goes: from x = 96 for 1,008 pixels, between y = 150 and y = 470.
const TITLE_X: f32 = 96.0;
const TITLE_WIDTH: f32 = 1008.0;
const TITLE_TOP: f32 = 150.0;
const TITLE_HEIGHT: f32 = 320.0;
/// The title's font sizes, largest first: the first at which it fits in at most
/// [`MAX_LINES`] lines is used; below the last, it shrinks by a sixth at a time.
const TITLE_SIZES: [f32; 6] = [80.0, 72.0, 64.0, 56.0, 48.0, 40.0];
const MAX_LINES: usize = 4;
const LINE_HEIGHT: f32 = 1.2;
/// The smallest title ever drawn: a title this small that still does not fit is drawn in
/// more lines than [`MAX_LINES`], never cut.
const SMALLEST: f32 = 8.0;
const SITE_TITLE_SIZE: f32 = 36.0;
/// Inter's cap height, as a share of the font size: lines are centred on their capitals.
const CAP_HEIGHT: f32 = 0.727;

/// The site's colours, as its stylesheet's light scheme names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Colours {
    pub bg: String,
    pub fg: String,
    pub muted: String,
    pub rule: String,
    pub accent: String,
}

impl Colours {
    /// The first value of `--bg`, `--fg`, `--muted`, `--rule` and `--link` in `css` (the
    /// light scheme comes first); a missing or odd one keeps the stylesheet's default.
    pub fn of_css(css: &str) -> Colours {
        let pick = |name: &str, default: &str| {
            let wanted = format!("--{name}:");
            css.find(&wanted)
                .map(|at| &css[at + wanted.len()..])
                .and_then(|rest| rest.split([';', '}']).next())
                .map(str::trim)
                .filter(|v| {
                    !v.is_empty()
                        && v.len() <= 32
                        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '#')
                })
                .unwrap_or(default)
                .to_string()
        };
        Colours {
            bg: pick("bg", "#fdfdfc"),
            fg: pick("fg", "#1d1d1f"),
            muted: pick("muted", "#5f6368"),
            rule: pick("rule", "#e4e4e2"),
            accent: pick("link", "#1a56b0"),
        }
    }

    /// The site's own: from `templates/style.css`.
    pub fn site() -> &'static Colours {
        static COLOURS: OnceLock<Colours> = OnceLock::new();
        COLOURS.get_or_init(|| Colours::of_css(STYLESHEET))
    }
}

/// Everything a card shows. Its name is the hash of these and of the drawing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    pub title: String,
    pub site_title: String,
    /// The date as the post's page shows it.
    pub date: String,
    pub minutes: usize,
    pub colours: Colours,
}

impl Card {
    /// The card of a rendered post (its word count known) on this site.
    pub fn of(record: &PostRecord, settings: &Settings) -> Card {
        Card {
            title: record.meta.title.clone(),
            site_title: settings.title.clone(),
            date: record.meta.display_date(),
            minutes: record.reading_minutes(),
            colours: Colours::site().clone(),
        }
    }

    /// 32 hex digits: the first 16 bytes of the SHA-256 of what the card shows and of the
    /// template and fonts that draw it, as a file's name is of its bytes.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("a card serialises");
        let mut hasher = Sha256::new();
        hasher.update(design());
        hasher.update(&json);
        blog_core::hex::encode(&hasher.finalize()[..16])
    }

    /// `{hash}.png`: the name in both the KV key and the URL.
    pub fn name(&self) -> String {
        format!("{}.png", self.hash())
    }

    pub fn key(&self) -> String {
        kv::file_key(&self.name())
    }

    /// The record's reference to it: `/files/{hash}.png`, 1200x630.
    pub fn asset(&self) -> Asset {
        Asset {
            url: Route::File { name: self.name() }.href(),
            width: Some(WIDTH),
            height: Some(HEIGHT),
            variants: Vec::new(),
        }
    }

    /// The template filled in: every text escaped, the title laid out in lines.
    pub fn svg(&self) -> String {
        let title = layout_title(&self.title);
        let site_size = fit_one_line(&self.site_title, SITE_TITLE_SIZE, TITLE_WIDTH);
        let meta = format!("{} · {} min read", self.date, self.minutes);
        let c = &self.colours;
        TEMPLATE
            .replace("{{bg}}", &escape(&c.bg))
            .replace("{{fg}}", &escape(&c.fg))
            .replace("{{muted}}", &escape(&c.muted))
            .replace("{{rule}}", &escape(&c.rule))
            .replace("{{accent}}", &escape(&c.accent))
            .replace("{{site_size}}", &format!("{site_size:.1}"))
            .replace("{{site_title}}", &escape(&self.site_title))
            .replace("{{meta}}", &escape(&meta))
            .replace("{{title}}", &title.svg())
    }

    /// The card as PNG bytes.
    pub fn render(&self) -> Result<Vec<u8>, String> {
        render_svg(&self.svg())
    }
}

/// The hash of what draws every card: the template and the fonts.
fn design() -> &'static [u8; 32] {
    static DESIGN: OnceLock<[u8; 32]> = OnceLock::new();
    DESIGN.get_or_init(|| {
        let mut hasher = Sha256::new();
        for part in [TEMPLATE.as_bytes(), BOLD, REGULAR] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    })
}

/// What every card of a site shares (its title, the colours, the template and the fonts),
/// as a hash: a post's content hash names it, so a change rewrites every post and its card.
pub fn style_hash(settings: &Settings) -> String {
    let mut hasher = Sha256::new();
    hasher.update(design());
    hasher.update(serde_json::to_vec(&(&settings.title, Colours::site())).expect("serialises"));
    blog_core::hex::encode(&hasher.finalize()[..16])
}

/// The KV key of a card a record names (`/files/{name}` to `file/{name}`).
pub fn key_of(asset: &Asset) -> Option<String> {
    asset
        .url
        .strip_prefix(kv::FILE_URL_PREFIX)
        .map(kv::file_key)
}

/// Text escaped for SVG's character data and attribute values; control characters, which
/// XML cannot carry, become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- measuring and wrapping

/// Glyph advances of the bold face, which titles are set in.
struct Measure {
    font: skrifa::FontRef<'static>,
    units_per_em: f32,
}

fn bold() -> &'static Measure {
    static BOLD_FACE: OnceLock<Measure> = OnceLock::new();
    BOLD_FACE.get_or_init(|| {
        use skrifa::MetadataProvider;
        let font = skrifa::FontRef::new(BOLD).expect("the shipped font parses");
        let units_per_em = f32::from(
            font.metrics(
                skrifa::instance::Size::unscaled(),
                skrifa::instance::LocationRef::default(),
            )
            .units_per_em,
        );
        Measure { font, units_per_em }
    })
}

/// The width of `text` in the bold face at `size` pixels: the sum of its glyphs' advances
/// (a glyph the font lacks counts as the font's missing-glyph box, which is what is drawn).
pub fn text_width(text: &str, size: f32) -> f32 {
    use skrifa::MetadataProvider;
    let m = bold();
    let charmap = m.font.charmap();
    let metrics = m.font.glyph_metrics(
        skrifa::instance::Size::unscaled(),
        skrifa::instance::LocationRef::default(),
    );
    let units: f32 = text
        .chars()
        .map(|c| {
            let glyph = charmap.map(c).unwrap_or_default();
            metrics.advance_width(glyph).unwrap_or(0.0)
        })
        .sum();
    units / m.units_per_em * size
}

/// One line of a laid-out title, and the size it is drawn at (smaller than the title's
/// when it is one word too wide for a line).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub size: f32,
}

/// A title laid out: its size and its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Title {
    pub size: f32,
    pub lines: Vec<Line>,
}

impl Title {
    /// The lines as `<text>` elements, centred as a block in the title's area.
    fn svg(&self) -> String {
        let line_height = self.size * LINE_HEIGHT;
        let block = line_height * self.lines.len() as f32;
        let top = TITLE_TOP + ((TITLE_HEIGHT - block) / 2.0).max(0.0);
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            // Each line's capitals centred in its slot.
            let baseline =
                top + line_height * i as f32 + (line_height + CAP_HEIGHT * line.size) / 2.0;
            out.push_str(&format!(
                "<text x=\"{TITLE_X}\" y=\"{baseline:.1}\" font-size=\"{:.1}\">{}</text>",
                line.size,
                escape(&line.text)
            ));
        }
        out
    }
}

/// Lays a title out to fit its area: words wrapped at the line's width as the font
/// measures them, never cut; at the largest size that needs at most [`MAX_LINES`] lines (and
/// as many as the area holds); a word wider than a line alone gets a line of its own, drawn
/// smaller to fit it.
pub fn layout_title(title: &str) -> Title {
    layout(title, TITLE_WIDTH, TITLE_HEIGHT)
}

fn layout(title: &str, width: f32, height: f32) -> Title {
    let words: Vec<&str> = title.split_whitespace().collect();
    let fits = |size: f32, max_lines: usize| {
        let lines = wrap(&words, size, width);
        (lines.len() <= max_lines.max(1)).then_some(Title { size, lines })
    };
    let holds = |size: f32| (height / (size * LINE_HEIGHT)).floor() as usize;
    for size in TITLE_SIZES {
        if let Some(title) = fits(size, MAX_LINES.min(holds(size))) {
            return title;
        }
    }
    let mut size = TITLE_SIZES[TITLE_SIZES.len() - 1];
    loop {
        size = (size * 5.0 / 6.0).max(SMALLEST);
        if let Some(title) = fits(size, holds(size)) {
            return title;
        }
        if size <= SMALLEST {
            // Longer than any title a card can hold: every word still drawn, in more lines.
            return Title {
                size,
                lines: wrap(&words, size, width),
            };
        }
    }
}

/// Greedy wrapping at `size`: each word goes on the line if it fits, else starts the next;
/// a word wider than `width` alone is a line of its own at the size that fits it.
fn wrap(words: &[&str], size: f32, width: f32) -> Vec<Line> {
    let space = text_width(" ", size);
    let mut lines: Vec<Line> = Vec::new();
    let mut current = String::new();
    let mut current_width = 0.0;
    for word in words {
        let w = text_width(word, size);
        if w > width {
            if !current.is_empty() {
                lines.push(Line {
                    text: std::mem::take(&mut current),
                    size,
                });
            }
            current_width = 0.0;
            lines.push(Line {
                text: word.to_string(),
                size: (size * width / w * 10.0).floor() / 10.0,
            });
            continue;
        }
        if current.is_empty() {
            current.push_str(word);
            current_width = w;
        } else if current_width + space + w <= width {
            current.push(' ');
            current.push_str(word);
            current_width += space + w;
        } else {
            lines.push(Line {
                text: std::mem::replace(&mut current, word.to_string()),
                size,
            });
            current_width = w;
        }
    }
    if !current.is_empty() {
        lines.push(Line {
            text: current,
            size,
        });
    }
    lines
}

/// The size at which `text` fits on one line of `width`, at most `size`.
fn fit_one_line(text: &str, size: f32, width: f32) -> f32 {
    let w = text_width(text, size);
    if w <= width {
        size
    } else {
        ((size * width / w * 10.0).floor() / 10.0).max(1.0)
    }
}

// ---------------------------------------------------------------- drawing

/// The fonts cards are drawn with, and nothing else: a card looks the same on every machine.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(BOLD.to_vec());
            db.load_font_data(REGULAR.to_vec());
            Arc::new(db)
        })
        .clone()
}

/// Draws an SVG of the card's size and encodes it as an opaque 8-bit RGB PNG.
pub fn render_svg(svg: &str) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: "Inter".into(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| format!("templates/card.svg: the card does not parse as SVG: {e}"))?;
    let mut pixmap =
        tiny_skia::Pixmap::new(WIDTH, HEIGHT).ok_or("a card's pixmap cannot be made")?;
    // The background is opaque: drawn on white, so a template without one is still opaque.
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    encode_png(pixmap.data())
}

/// An opaque RGBA image of the card's size as PNG: indexed (one byte a pixel, the palette
/// of the colours it has) when it has at most 256, which a card's few colours and their
/// anti-aliased edges always are; 8-bit RGB otherwise. Lossless either way.
fn encode_png(rgba: &[u8]) -> Result<Vec<u8>, String> {
    let mut palette: Vec<u8> = Vec::new();
    let mut index: std::collections::HashMap<[u8; 3], u8> = std::collections::HashMap::new();
    let mut indexed: Option<Vec<u8>> = Some(Vec::with_capacity(rgba.len() / 4));
    // Runs of one colour are long: the last pixel's index is kept at hand.
    let mut last: Option<([u8; 3], u8)> = None;
    for p in rgba.chunks_exact(4) {
        let Some(out) = indexed.as_mut() else { break };
        let colour = [p[0], p[1], p[2]];
        let i = match last {
            Some((c, i)) if c == colour => i,
            _ => match index.get(&colour) {
                Some(&i) => i,
                None if index.len() < 256 => {
                    let i = index.len() as u8;
                    index.insert(colour, i);
                    palette.extend_from_slice(&colour);
                    i
                }
                None => {
                    indexed = None;
                    break;
                }
            },
        };
        last = Some((colour, i));
        out.push(i);
    }
    let mut png_bytes = Vec::with_capacity(32 * 1024);
    let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let data = match indexed {
        Some(data) => {
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(palette);
            data
        }
        None => {
            encoder.set_color(png::ColorType::Rgb);
            rgba.chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect()
        }
    };
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&data))
        .map_err(|e| format!("a card cannot be encoded as PNG: {e}"))?;
    Ok(png_bytes)
}

// ---------------------------------------------------------------- at sync

/// At most this many cards go to KV in the posts' own bulk put, ahead of them; more are
/// drawn and written [`CHUNK`] at a time before the posts, so memory stays bounded (about
/// 25 KB a card) however many a first sync draws.
pub const INLINE: usize = 256;
pub const CHUNK: usize = 256;

/// The cards of one sync: what the written posts need, what the others keep.
#[derive(Debug, Default)]
pub struct Cards {
    /// Cards KV does not hold yet, by key: to render and write before the posts.
    pub missing: BTreeMap<String, Card>,
    /// Every card a published post uses: never deleted.
    pub used: BTreeSet<String>,
    /// How many cards [`Cards::draw`] drew, and how long drawing and encoding took.
    pub drawn: usize,
    pub render_time: std::time::Duration,
    threads: usize,
}

impl Cards {
    /// Gives each record a sync writes (rendered: its word count is known) the card it
    /// shows unless it has a cover, and finds the cards the posts left alone still use from
    /// their keys' metadata. `remote` is KV's listing.
    pub fn plan<'a>(
        written: impl IntoIterator<Item = &'a mut PostRecord>,
        unchanged: &[String],
        settings: &Settings,
        remote: &BTreeMap<String, Option<KeyMeta>>,
    ) -> Cards {
        let mut cards = Cards::default();
        for record in written {
            if record.cover.is_some() {
                record.card = None;
                continue;
            }
            let card = Card::of(record, settings);
            let key = card.key();
            record.card = Some(card.asset());
            if !remote.contains_key(&key) {
                cards.missing.insert(key.clone(), card);
            }
            cards.used.insert(key);
        }
        for slug in unchanged {
            if let Some(Some(meta)) = remote.get(&kv::post_key(slug)) {
                cards.used.extend(meta.card.clone());
            }
        }
        cards
    }

    /// Draws these missing cards (keys of [`Cards::missing`]) on every core the machine
    /// has: each key with its PNG.
    pub fn draw(&mut self, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
        let chunk = self.draw_chunk(keys);
        let drawn = chunk.result?;
        self.account(chunk.time, chunk.threads, drawn.len());
        Ok(drawn)
    }

    /// Draws these missing cards `chunk` at a time ([`CHUNK`] in a sync) and hands each
    /// chunk to `write`; the
    /// next chunk is drawn while `write` writes one, so a sync waits for the slower of the
    /// two, not for both. Stops at the first error.
    pub fn draw_and_write(
        &mut self,
        keys: &[String],
        chunk: usize,
        mut write: impl FnMut(&[(String, Vec<u8>)]) -> Result<(), String>,
    ) -> Result<(), String> {
        let chunks: Vec<&[String]> = keys.chunks(chunk.max(1)).collect();
        let this = &*self;
        let mut done = Vec::new();
        let outcome = std::thread::scope(|scope| {
            let mut next = chunks.first().map(|c| this.draw_chunk(c));
            for i in 0..chunks.len() {
                let chunk = next
                    .take()
                    .expect("each chunk is drawn before it is written");
                let ahead = chunks
                    .get(i + 1)
                    .map(|&c| scope.spawn(move || this.draw_chunk(c)));
                let written = chunk.result.and_then(|drawn| {
                    done.push((chunk.time, chunk.threads, drawn.len()));
                    write(&drawn)
                });
                next = ahead.map(|h| h.join().expect("drawing cards does not panic"));
                written?;
            }
            Ok(())
        });
        for (time, threads, n) in done {
            self.account(time, threads, n);
        }
        outcome
    }

    fn draw_chunk(&self, keys: &[String]) -> Chunk {
        let started = std::time::Instant::now();
        let mut jobs: Vec<Job> = keys
            .iter()
            .filter_map(|key| Some((key.clone(), self.missing.get(key)?, None)))
            .collect();
        crate::cores::each(&mut jobs, 2, |(_, card, out)| *out = Some(card.render()));
        let threads = if jobs.len() < 2 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(jobs.len()))
        };
        let result = jobs
            .into_iter()
            .map(|(key, _, out)| Ok((key, out.expect("every card is drawn")?)))
            .collect();
        Chunk {
            result,
            time: started.elapsed(),
            threads,
        }
    }

    fn account(&mut self, time: std::time::Duration, threads: usize, n: usize) {
        self.drawn += n;
        self.threads = self.threads.max(threads);
        self.render_time += time;
    }

    /// The summary line of `blog sync`: cards drawn, the time drawing and encoding took
    /// (apart from the rest of the sync), and that time per card on one core.
    pub fn report(&self) -> String {
        let n = self.drawn;
        let per = if n == 0 {
            String::new()
        } else {
            let threads = self.threads.max(1);
            format!(
                " on {threads} core{}, {:.1} ms a card on one",
                if threads == 1 { "" } else { "s" },
                self.render_time.as_secs_f64() * 1000.0 * threads as f64 / n as f64
            )
        };
        format!(
            "cards: {n} rendered in {:.2} s{per}; {} in use",
            self.render_time.as_secs_f64(),
            self.used.len()
        )
    }
}

/// Cards drawn together, and how long drawing them took on how many cores.
struct Chunk {
    result: Result<Vec<(String, Vec<u8>)>, String>,
    time: std::time::Duration,
    threads: usize,
}

/// One card to draw: its key, what it shows, and once drawn, its PNG.
type Job<'a> = (String, &'a Card, Option<Result<Vec<u8>, String>>);

/// The metadata a card is stored with: its name's hash and its type.
pub fn key_meta(key: &str) -> KeyMeta {
    let hash = key
        .trim_start_matches(kv::FILE_PREFIX)
        .trim_end_matches(".png")
        .to_string();
    KeyMeta {
        hash,
        file: None,
        content_type: Some("image/png".into()),
        card: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blog_core::content::PostMeta;

    fn record(title: &str, words: usize) -> PostRecord {
        let mut record = PostRecord::of_meta(
            PostMeta {
                slug: "a".into(),
                title: title.into(),
                published: 1_777_593_600,
                hash: "h".into(),
                ..PostMeta::default()
            },
            String::new(),
        );
        record.words = words;
        record
    }

    fn card(title: &str) -> Card {
        Card::of(&record(title, 1000), &Settings::default())
    }

    #[test]
    fn colours_come_from_the_stylesheets_light_scheme() {
        let c = Colours::of_css(
            ":root { --bg: #fff; --fg: #111; --muted: #666; --rule: #eee; --link: #00f; }\n\
             @media (prefers-color-scheme: dark) { :root { --bg: #000; --link: #0ff; } }",
        );
        assert_eq!((c.bg.as_str(), c.accent.as_str()), ("#fff", "#00f"));
        // A value that is not a plain colour keeps the default.
        let odd = Colours::of_css(":root { --bg: url(\"x\"); }");
        assert_eq!(odd.bg, "#fdfdfc");
        assert_eq!(Colours::site().bg, "#fdfdfc");
    }

    #[test]
    fn wrapping_never_cuts_a_word_and_keeps_every_word_in_order() {
        let titles = [
            "Short",
            "Profiling the linker: where a two-minute build spends its time, and what to do",
            "A title with a very longwordthatisfartoowidetofitonanylineofthecardatanysizewhatsoever in it",
            &"word ".repeat(200),
            "Antidisestablishmentarianism",
        ];
        for title in titles {
            let laid = layout_title(title);
            let words: Vec<&str> = title.split_whitespace().collect();
            let back: Vec<&str> = laid.lines.iter().flat_map(|l| l.text.split(' ')).collect();
            assert_eq!(back, words, "{title}");
            for line in &laid.lines {
                assert!(
                    text_width(&line.text, line.size) <= TITLE_WIDTH + 0.5,
                    "{title}: {line:?} is too wide"
                );
            }
        }
    }

    #[test]
    fn a_long_title_steps_the_size_down_and_stays_within_the_lines() {
        let short = layout_title("Hello");
        assert_eq!((short.size, short.lines.len()), (80.0, 1));
        let long = layout_title(
            "Everything I learnt about building a blog engine as a Cloudflare Worker in Rust, \
             from the first request to the ten-thousandth post, with numbers",
        );
        assert!(long.size < 80.0, "{long:?}");
        assert!(long.lines.len() <= MAX_LINES, "{long:?}");
        assert!(long.size * LINE_HEIGHT * long.lines.len() as f32 <= TITLE_HEIGHT);
        // A word too wide for any line at the first size is shrunk on a line of its own.
        let word = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-more";
        let laid = layout_title(&format!("On {word}"));
        let line = laid
            .lines
            .iter()
            .find(|l| l.text == word)
            .expect("the word whole");
        assert!(line.size < laid.size);
        assert!(text_width(word, line.size) <= TITLE_WIDTH + 0.5);
    }

    #[test]
    fn text_is_escaped_in_the_svg() {
        let mut c = card("Tom & Jerry <script>\"x\"</script> 'q'");
        c.site_title = "A & B <c>".into();
        let svg = c.svg();
        // A word is never split across lines: each escaped whole.
        assert!(svg.contains("Tom &amp; Jerry"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;&quot;x&quot;&lt;/script&gt;"),
            "{svg}"
        );
        assert!(svg.contains("&apos;q&apos;"), "{svg}");
        assert!(!svg.contains("<script>") && !svg.contains("\"x\""), "{svg}");
        assert!(svg.contains(">A &amp; B &lt;c&gt;</text>"), "{svg}");
        assert!(!svg.contains("{{"), "every placeholder is filled: {svg}");
        // It parses and draws.
        let png = render_svg(&svg).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(escape("a\u{0}b"), "a b");
    }

    /// A PNG's pixels as RGB, and its colour type.
    fn decode(bytes: &[u8]) -> (png::ColorType, Vec<u8>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let colour = reader.info().color_type;
        assert_eq!((reader.info().width, reader.info().height), (1200, 630));
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        (colour, pixels)
    }

    #[test]
    fn a_card_is_a_1200_by_630_png_indexed_without_loss() {
        let png = card("Hello, cards").render().unwrap();
        let (colour, pixels) = decode(&png);
        assert_eq!(colour, png::ColorType::Indexed);
        assert_eq!(pixels.len(), 1200 * 630 * 3);
        // The drawing's own pixels, exactly.
        let svg = card("Hello, cards").svg();
        let tree = usvg::Tree::from_str(
            &svg,
            &usvg::Options {
                fontdb: fonts(),
                ..usvg::Options::default()
            },
        )
        .unwrap();
        let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).unwrap();
        pixmap.fill(tiny_skia::Color::WHITE);
        resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
        let drawn: Vec<u8> = pixmap
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(drawn == pixels, "the PNG holds the pixels drawn");
        // More than 256 colours: RGB, still lossless.
        let rgba: Vec<u8> = (0..1200 * 630u32)
            .flat_map(|i| [(i % 251) as u8, (i / 251 % 241) as u8, 7, 255])
            .collect();
        let (colour, pixels) = decode(&encode_png(&rgba).unwrap());
        assert_eq!(colour, png::ColorType::Rgb);
        let want: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(want == pixels);
    }

    #[test]
    fn the_name_changes_with_what_the_card_shows_and_not_otherwise() {
        let a = card("One title");
        assert_eq!(a.key(), card("One title").key());
        assert!(a.key().starts_with("file/") && a.key().ends_with(".png"));
        assert_eq!(a.asset().url, format!("/files/{}", a.name()));
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.key(), card("Another title").key());
        // The body's other words do not show: the same reading time, the same card.
        let same_minutes = Card::of(&record("One title", 1001), &Settings::default());
        assert_eq!(a.key(), same_minutes.key());
        let longer = Card::of(&record("One title", 5000), &Settings::default());
        assert_ne!(a.key(), longer.key());
        let renamed_site = Card::of(
            &record("One title", 1000),
            &Settings {
                title: "Other".into(),
                ..Settings::default()
            },
        );
        assert_ne!(a.key(), renamed_site.key());
        let mut later = record("One title", 1000);
        later.meta.published += 86_400;
        assert_ne!(a.key(), Card::of(&later, &Settings::default()).key());
        let mut recoloured = a.clone();
        recoloured.colours.bg = "#000".into();
        assert_ne!(a.key(), recoloured.key());
        // Other settings do not show on the card.
        let other = Card::of(
            &record("One title", 1000),
            &Settings {
                posts_per_page: 7,
                ..Settings::default()
            },
        );
        assert_eq!(a.key(), other.key());
    }

    #[test]
    fn a_sync_renders_only_the_cards_kv_lacks_and_keeps_those_unchanged_posts_use() {
        let settings = Settings::default();
        let mut written = [record("New", 10), record("Covered", 10)];
        written[1].cover = Some(Asset {
            url: "/files/c.png".into(),
            width: None,
            height: None,
            variants: Vec::new(),
        });
        let held = Card::of(&record("Held", 10), &settings);
        let mut remote: BTreeMap<String, Option<KeyMeta>> = BTreeMap::new();
        remote.insert(
            "post/old".into(),
            Some(KeyMeta {
                card: Some(held.key()),
                ..key_meta("x")
            }),
        );
        let cards = Cards::plan(written.iter_mut(), &["old".into()], &settings, &remote);
        let new_key = Card::of(&record("New", 10), &settings).key();
        assert_eq!(cards.missing.keys().collect::<Vec<_>>(), [&new_key]);
        assert!(cards.used.contains(&new_key) && cards.used.contains(&held.key()));
        assert_eq!(
            written[0].card.as_ref().map(key_of),
            Some(Some(new_key.clone()))
        );
        assert!(written[1].card.is_none(), "a cover wins");
        // Drawn and handed over chunk by chunk, each once.
        let mut many = Cards::default();
        for i in 0..5 {
            let card = Card::of(&record(&format!("Post {i}"), 10), &settings);
            many.missing.insert(card.key(), card);
        }
        let keys: Vec<String> = many.missing.keys().cloned().collect();
        let mut seen = Vec::new();
        many.draw_and_write(&keys, 2, |chunk| {
            seen.push(chunk.len());
            assert!(chunk.iter().all(|(_, png)| png.starts_with(b"\x89PNG")));
            Ok(())
        })
        .unwrap();
        assert_eq!((seen, many.drawn), (vec![2, 2, 1], 5));
        let failed = many.draw_and_write(&keys, 2, |_| Err("the session died".into()));
        assert_eq!(failed, Err("the session died".into()));
        // Once KV holds it, nothing is rendered.
        remote.insert(new_key.clone(), Some(key_meta(&new_key)));
        let again = Cards::plan(written.iter_mut(), &[], &settings, &remote);
        assert!(again.missing.is_empty());
    }
}
