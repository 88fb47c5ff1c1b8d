//! What it costs natively to turn a post file into its finished page, by post size.
//!
//! `cargo run --release --example render_bench [content-dir]` times, for generated Markdown of
//! about 1 KB, 10 KB and 100 KB (paragraphs, headings, lists, code, tables, as in content/)
//! and for the largest real post:
//!
//! - `request`: what the worker runs for an uncached post, the stored record read
//!   (`PostRecord::from_stored`: its JSON, then the HTML as it is) and `pages::post` (the body's HTML, rendered at sync, in the template
//!   with the contents and head metadata);
//! - `parse`: `source::parse_post`, front matter to record (`blog check`/`blog sync`);
//! - `front matter to HTML`: `parse_post`, the body rendered with the stored code HTML, then
//!   `pages::post`: the whole path from the file to the page except highlighting;
//! - `highlight`: highlighting the post's code (`Highlighter`, already warm: each language's
//!   first use costs far more), done once per `blog sync` and stored, so apart.
//!
//! Each run times every stage in turn; medians of many runs, since the machine is shared.
//! µs/KB per stage shows how cost grows with size. The last lines (`render_bench: ...`) are
//! for bench/run.mjs to read.

use std::hint::black_box;
use std::time::{Duration, Instant};

use blog_author::highlight::Highlighter;
use blog_author::source;
use blog_core::content::{Neighbours, PostRecord, SiteIndex};
use blog_core::pages;
use blog_core::settings::Settings;

/// Each input is timed for at least this long and this many runs, at most `MAX_RUNS`.
const MIN_TIME: Duration = Duration::from_millis(400);
const MIN_RUNS: usize = 31;
const MAX_RUNS: usize = 5001;

struct Input {
    label: String,
    file: String,
    stem: String,
    text: String,
}

struct Timing {
    runs: usize,
    /// Record deserialised and `pages::post`: an uncached request.
    request: Duration,
    deserialise: Duration,
    page: Duration,
    parse: Duration,
    /// `parse_post` + `pages::post`.
    full: Duration,
    highlight: Duration,
    highlight_runs: usize,
    html_bytes: usize,
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "content".to_string());
    let mut inputs: Vec<Input> = [1, 10, 100]
        .iter()
        .map(|kb| Input {
            label: format!("generated {kb} KB"),
            file: format!("generated-{kb}kb.md"),
            stem: format!("generated-{kb}kb"),
            text: generated_post(kb * 1024, *kb as u64),
        })
        .collect();
    if let Some((file, text)) = largest_post(&dir) {
        let stem = std::path::Path::new(&file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        inputs.push(Input {
            label: "largest real post".into(),
            file,
            stem,
            text,
        });
    }

    let highlighter = Highlighter::new();
    let settings = Settings {
        base_url: "https://blog.example".into(),
        ..Settings::default()
    };
    println!("Post file to finished page, median per run (µs/KB: per KB of post file; growth: front matter to HTML, time factor/size factor):");
    println!(
        "{:<18} {:>7} {:>5} {:>10} {:>6} {:>10} {:>6} {:>12} {:>6} {:>10} {:>12}",
        "input",
        "bytes",
        "runs",
        "request",
        "µs/KB",
        "parse",
        "µs/KB",
        "front→HTML",
        "µs/KB",
        "growth",
        "highlight"
    );
    let mut previous: Option<(usize, Duration)> = None;
    let mut lines = Vec::new();
    for input in &inputs {
        let t = time_input(input, &highlighter, &settings);
        let bytes = input.text.len();
        let per_kb = |d: Duration| micros(d) / (bytes as f64 / 1024.0);
        // Time grows by this factor for this factor of size (1.0x/1.0x would be linear).
        let growth = match previous {
            Some((b, d)) if input.label.starts_with("generated") => {
                format!(
                    "{:.1}x/{:.1}x",
                    t.full.as_secs_f64() / d.as_secs_f64(),
                    bytes as f64 / b as f64
                )
            }
            _ => "-".into(),
        };
        if input.label.starts_with("generated") {
            previous = Some((bytes, t.full));
        }
        println!(
            "{:<18} {:>7} {:>5} {:>10} {:>6.1} {:>10} {:>6.1} {:>12} {:>6.1} {:>10} {:>12}",
            input.label,
            bytes,
            t.runs,
            us(t.request),
            per_kb(t.request),
            us(t.parse),
            per_kb(t.parse),
            us(t.full),
            per_kb(t.full),
            growth,
            us(t.highlight),
        );
        lines.push(format!(
            "render_bench: label=\"{}\" file={} bytes={bytes} html_bytes={} runs={} request_us={:.1} deserialise_us={:.1} page_us={:.1} parse_us={:.1} full_us={:.1} highlight_us={:.1} highlight_runs={}",
            input.label,
            input.file,
            t.html_bytes,
            t.runs,
            micros(t.request),
            micros(t.deserialise),
            micros(t.page),
            micros(t.parse),
            micros(t.full),
            micros(t.highlight),
            t.highlight_runs,
        ));
    }
    println!();
    for line in lines {
        println!("{line}");
    }
}

/// Times every stage in each run until the time and run minimums are met, then highlighting
/// on its own; medians of each (a sum's median is not the sum of the medians).
fn time_input(input: &Input, highlighter: &Highlighter, settings: &Settings) -> Timing {
    let bytes = input.text.as_bytes();
    // Warm up: every language's grammar decoded and compiled, caches and allocator warm.
    let (mut post, _) =
        source::parse_post(&input.file, &input.stem, bytes).expect("bench post parses");
    post.highlight(|lang, code| highlighter.highlight(lang, code));
    post.record.render(!settings.raw_html);
    // What `blog sync` stores: the post, its body as HTML, with its two neighbours.
    let code_html = post.record.code_html.clone();
    let mut metas = vec![post.record.meta.clone()];
    for (i, day) in ["2020-01-01", "2030-01-01"].iter().enumerate() {
        let mut m = post.record.meta.clone();
        m.slug = format!("neighbour-{i}");
        m.published = blog_core::date::parse_rfc3339(day)
            .expect("date")
            .timestamp();
        metas.push(m);
    }
    let index = SiteIndex::new(metas, settings.clone(), "bench".into());
    let at = index
        .posts
        .iter()
        .position(|p| p.slug == post.record.meta.slug);
    post.record.neighbours = Neighbours::of_list(&index.posts).swap_remove(at.expect("listed"));
    let stored = post.record.to_stored();
    let now = i64::MAX;
    let html = pages::post(settings, &post.record, now);
    for _ in 0..5 {
        let record = PostRecord::from_stored(stored.as_bytes()).expect("stored record reads");
        assert_eq!(
            pages::post(settings, &record, now),
            html,
            "the stored record renders the same page"
        );
    }

    let (mut request, mut deserialise, mut page, mut parse, mut full) =
        (vec![], vec![], vec![], vec![], vec![]);
    let started = Instant::now();
    while request.len() < MAX_RUNS && (request.len() < MIN_RUNS || started.elapsed() < MIN_TIME) {
        // An uncached request: the stored record, then the page.
        let t0 = Instant::now();
        let record =
            PostRecord::from_stored(black_box(stored.as_bytes())).expect("stored record reads");
        let t1 = Instant::now();
        let html = pages::post(settings, &record, now);
        let t2 = Instant::now();
        black_box(html);
        // Front matter to HTML: the file parsed, the stored code HTML attached (in place of
        // highlighting), the page.
        let t3 = Instant::now();
        let (mut post, _) =
            source::parse_post(&input.file, &input.stem, black_box(bytes)).expect("parses");
        let t4 = Instant::now();
        post.record.code_html = code_html.clone();
        post.record.neighbours = record.neighbours.clone();
        let t5 = Instant::now();
        post.record.render(!settings.raw_html);
        let html = pages::post(settings, &post.record, now);
        let t6 = Instant::now();
        black_box(html);
        request.push(t2 - t0);
        deserialise.push(t1 - t0);
        page.push(t2 - t1);
        parse.push(t4 - t3);
        full.push((t4 - t3) + (t6 - t5));
    }

    let mut highlight = Vec::new();
    let started = Instant::now();
    while highlight.len() < MAX_RUNS && (highlight.len() < MIN_RUNS || started.elapsed() < MIN_TIME)
    {
        let t0 = Instant::now();
        post.highlight(|lang, code| highlighter.highlight(lang, code));
        highlight.push(t0.elapsed());
    }
    Timing {
        runs: request.len(),
        request: median(request),
        deserialise: median(deserialise),
        page: median(page),
        parse: median(parse),
        full: median(full),
        highlight_runs: highlight.len(),
        highlight: median(highlight),
        html_bytes: html.len(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn us(d: Duration) -> String {
    let m = micros(d);
    if m >= 10_000.0 {
        format!("{:.1} ms", m / 1000.0)
    } else {
        format!("{m:.1} µs")
    }
}

/// The largest `*.md` file in `dir`, by bytes.
fn largest_post(dir: &str) -> Option<(String, String)> {
    let mut best: Option<(String, String)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        if best.as_ref().is_none_or(|(_, b)| text.len() > b.len()) {
            best = Some((path.display().to_string(), text));
        }
    }
    best
}

/// A deterministic stand-in for the real posts' mix: per section an h2, paragraphs with inline
/// code, emphasis and links, and one of a list, a fenced code block, a table or a quote.
fn generated_post(target: usize, seed: u64) -> String {
    let mut r = Lcg(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut body = String::with_capacity(target + 2048);
    body.push_str(&paragraph(&mut r));
    body.push_str("\n\n");
    let mut section = 0;
    while body.len() < target {
        section += 1;
        body.push_str(&format!(
            "## {} {section}\n\n{}\n\n",
            title(&mut r),
            paragraph(&mut r)
        ));
        match section % 4 {
            1 => {
                for _ in 0..4 {
                    body.push_str(&format!("- {}\n", sentence(&mut r)));
                }
            }
            2 => {
                let (lang, code) = CODE[r.below(CODE.len())];
                body.push_str(&format!("```{lang}\n{code}```\n"));
            }
            3 => {
                body.push_str("| Part | What it does | Cost |\n|---|---|---|\n");
                for _ in 0..4 {
                    body.push_str(&format!(
                        "| `{}` | {} {} | {} ms |\n",
                        r.word(),
                        r.word(),
                        r.word(),
                        r.below(1000)
                    ));
                }
            }
            _ => body.push_str(&format!("> {} {}\n", sentence(&mut r), sentence(&mut r))),
        }
        body.push('\n');
        body.push_str(&paragraph(&mut r));
        body.push_str("\n\n");
    }
    format!(
        "+++\ntitle = \"Generated post of {} KB\"\ndate = 2026-03-01\nsummary = \"{}\"\ntags = [\"rust\", \"performance\"]\n+++\n\n{body}",
        target / 1024,
        sentence(&mut r).replace(['`', '*', '"', '[', ']'], "")
    )
}

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }
}

fn sentence(r: &mut Lcg) -> String {
    let n = 8 + r.below(14);
    let mut words: Vec<String> = Vec::with_capacity(n);
    for _ in 0..n {
        let w = r.word();
        words.push(match r.below(100) {
            0..=3 => format!("`{w}_{}`", r.word()),
            4..=5 => format!("**{w}**"),
            6..=7 => format!("*{w}*"),
            8 => format!(
                "[{w} {}](https://developers.cloudflare.com/workers/)",
                r.word()
            ),
            _ => w.to_string(),
        });
    }
    let mut s = words.join(" ");
    if let Some(first) = s.get(0..1) {
        let upper = first.to_uppercase();
        s.replace_range(0..1, &upper);
    }
    s.push('.');
    s
}

fn paragraph(r: &mut Lcg) -> String {
    let n = 3 + r.below(4);
    (0..n).map(|_| sentence(r)).collect::<Vec<_>>().join(" ")
}

fn title(r: &mut Lcg) -> String {
    (0..4 + r.below(5))
        .map(|_| {
            let w = r.word();
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const WORDS: &[&str] = &[
    "the",
    "a",
    "build",
    "cache",
    "worker",
    "request",
    "response",
    "edge",
    "latency",
    "queue",
    "container",
    "image",
    "layer",
    "runtime",
    "isolate",
    "binding",
    "namespace",
    "deploy",
    "release",
    "pipeline",
    "commit",
    "branch",
    "server",
    "client",
    "socket",
    "stream",
    "buffer",
    "batch",
    "flush",
    "retry",
    "timeout",
    "error",
    "handler",
    "route",
    "page",
    "index",
    "post",
    "render",
    "template",
    "markdown",
    "parser",
    "token",
    "event",
    "memory",
    "throughput",
    "benchmark",
    "counter",
    "durable",
    "object",
    "storage",
    "sqlite",
    "schema",
    "key",
    "value",
    "store",
    "hash",
    "version",
    "content",
    "sync",
    "because",
    "when",
    "every",
    "only",
    "first",
    "small",
    "large",
    "fast",
    "slow",
    "is",
    "was",
    "it",
    "this",
    "that",
    "with",
    "from",
    "into",
    "over",
];

const CODE: &[(&str, &str)] = &[
    (
        "rust",
        "pub async fn handle(req: Request, env: Env) -> Result<Response> {\n    let route = routes::resolve(req.method().as_ref(), req.path().as_str());\n    let index = store::current_index(&env).await?;\n    match route {\n        Route::Post { slug } => render_post(&index, &slug, &env).await,\n        _ => Response::error(\"not found\", 404),\n    }\n}\n",
    ),
    (
        "go",
        "func (s *Server) handleBuild(w http.ResponseWriter, r *http.Request) {\n\tvar job BuildJob\n\tif err := json.NewDecoder(r.Body).Decode(&job); err != nil {\n\t\thttp.Error(w, \"bad request\", http.StatusBadRequest)\n\t\treturn\n\t}\n\tw.WriteHeader(http.StatusAccepted)\n}\n",
    ),
    (
        "typescript",
        "export default {\n  async fetch(request: Request, env: Env): Promise<Response> {\n    const id = env.ROOMS.idFromName(new URL(request.url).searchParams.get(\"code\") ?? \"lobby\");\n    return env.ROOMS.get(id).fetch(request);\n  },\n} satisfies ExportedHandler<Env>;\n",
    ),
    (
        "bash",
        "set -euo pipefail\ndocker buildx build --platform linux/amd64,linux/arm64 \\\n  --cache-from type=registry,ref=$REGISTRY/app:cache \\\n  -t \"$REGISTRY/app:$(git rev-parse --short HEAD)\" --push .\n",
    ),
    ("toml", "[package]\nname = \"edge-blog\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n[profile.release]\nopt-level = \"s\"\nlto = true\n"),
    (
        "dockerfile",
        "FROM golang:1.22-alpine AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/server ./cmd/server\n\nFROM gcr.io/distroless/static\nCOPY --from=build /out/server /server\nENTRYPOINT [\"/server\"]\n",
    ),
];
