//! What server-side highlighting costs, measured on the posts in `content/`.
//!
//! `cargo run --release --example highlight_cost [content-dir]` prints the figures behind the
//! decision to highlight at `blog sync` time on the author's machine, not in the worker: the
//! grammar load time, the first-use cost of each language (what a fresh worker isolate would
//! pay), the warm per-block time, the grammar data a wasm build would embed, and how much the
//! highlighted HTML adds. Timings are medians, since a shared machine is noisy.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use blog_author::highlight::Highlighter;
use flate2::read::ZlibDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use pulldown_cmark::{html, CodeBlockKind, CowStr, Event, Parser, Tag, TagEnd};
use syntect::parsing::SyntaxSet;

/// Runs for the costly measurements (each loads the whole grammar set) and the cheap ones.
const COLD_RUNS: usize = 9;
const WARM_RUNS: usize = 51;

struct Block {
    lang: String,
    code: String,
}

struct Post {
    name: String,
    body: String,
    blocks: Vec<Block>,
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "content".to_string());
    let posts = load_posts(&dir);
    let blocks = posts.iter().map(|p| p.blocks.len()).sum::<usize>();
    let code_bytes = posts
        .iter()
        .flat_map(|p| &p.blocks)
        .map(|b| b.code.len())
        .sum::<usize>();
    println!(
        "{} posts in {dir}/, {blocks} fenced code blocks, {code_bytes} bytes of code\n",
        posts.len()
    );

    load_cost();
    first_use_cost(&posts);
    warm_cost(&posts);
    embedded_size(&posts);
    html_growth(&posts);
}

fn load_cost() {
    let load = median(COLD_RUNS, || {
        let start = Instant::now();
        std::hint::black_box(Highlighter::new());
        start.elapsed()
    });
    println!("## Loading the grammar set (two-face, fancy-regex flavour)");
    println!("Highlighter::new(): {} (median of {COLD_RUNS})", ms(load));
    let compressed = syntect::dumps::dump_binary(Highlighter::new().syntaxes());
    let from_compressed = median(COLD_RUNS, || {
        let start = Instant::now();
        std::hint::black_box(syntect::dumps::from_binary::<SyntaxSet>(&compressed));
        start.elapsed()
    });
    println!(
        "same set from a zlib dump, as syntect's own packdumps load: {}\n",
        ms(from_compressed)
    );
}

/// A fresh set per run: the time a language's first block takes on top of loading the set,
/// which is what a worker isolate pays on its first request for a post. Most of it is
/// fancy-regex compiling the grammar's patterns, which happens lazily on first match.
fn first_use_cost(posts: &[Post]) {
    println!("## First use, on a freshly loaded set (median of {COLD_RUNS})");
    let mut langs: Vec<&Block> = Vec::new();
    for block in posts.iter().flat_map(|p| &p.blocks) {
        if !block.lang.is_empty() && !langs.iter().any(|b| b.lang == block.lang) {
            langs.push(block);
        }
    }
    for block in langs {
        let first = median(COLD_RUNS, || {
            let highlighter = Highlighter::new();
            let start = Instant::now();
            std::hint::black_box(highlighter.highlight(&block.lang, &block.code));
            start.elapsed()
        });
        println!(
            "{:<12} first block ({:>4} B): {}",
            block.lang,
            block.code.len(),
            ms(first)
        );
    }
    println!("Whole post on a fresh set (load excluded):");
    let mut worst = Duration::ZERO;
    for post in posts.iter().filter(|p| !p.blocks.is_empty()) {
        let cold = median(COLD_RUNS, || {
            let highlighter = Highlighter::new();
            let start = Instant::now();
            for block in &post.blocks {
                std::hint::black_box(highlighter.highlight(&block.lang, &block.code));
            }
            start.elapsed()
        });
        worst = worst.max(cold);
        println!("  {:<56} {}", post.name, ms(cold));
    }
    println!("worst post, cold: {}\n", ms(worst));
}

fn warm_cost(posts: &[Post]) {
    let highlighter = Highlighter::new();
    for block in posts.iter().flat_map(|p| &p.blocks) {
        highlighter.highlight(&block.lang, &block.code);
    }
    println!("## Warm: grammars already decoded (median of {WARM_RUNS} per block)");
    let mut total = Duration::ZERO;
    let mut bytes = 0;
    for post in posts {
        let mut post_total = Duration::ZERO;
        let mut each = Vec::new();
        for block in &post.blocks {
            let time = median(WARM_RUNS, || {
                let start = Instant::now();
                std::hint::black_box(highlighter.highlight(&block.lang, &block.code));
                start.elapsed()
            });
            post_total += time;
            bytes += block.code.len();
            let lang = if block.lang.is_empty() {
                "-"
            } else {
                &block.lang
            };
            each.push(format!("{lang} {}B {}", block.code.len(), us(time)));
        }
        total += post_total;
        println!(
            "{:<56} {:>2} blocks {:>9}  [{}]",
            post.name,
            post.blocks.len(),
            us(post_total),
            each.join(", ")
        );
    }
    let per_kb = total.as_secs_f64() * 1e6 / (bytes as f64 / 1024.0);
    println!(
        "total: {} for {bytes} B of code, {per_kb:.0} µs/KiB\n",
        us(total)
    );
}

/// The grammar data a wasm build would have to carry, whole and cut down to this blog's
/// languages (plus the grammars they embed).
fn embedded_size(posts: &[Post]) {
    println!("## Grammar data a wasm build would embed");
    let highlighter = Highlighter::new();
    let set = highlighter.syntaxes();
    report_set("whole two-face set", set);

    let mut names: Vec<String> = posts
        .iter()
        .flat_map(|p| &p.blocks)
        .filter_map(|b| highlighter.syntax_for(&b.lang).map(|s| s.name.clone()))
        .collect();
    // Dockerfile RUN lines are bash and its exec form is JSON.
    names.extend(["Bourne Again Shell (bash)".to_string(), "JSON".to_string()]);
    names.sort();
    names.dedup();
    // A subset cannot be rebuilt from a linked set (contexts point into the whole set), so
    // count what each grammar adds to the dump: a lower bound for a cut-down embed.
    let mut sum = 0;
    let mut each = Vec::new();
    for syntax in set.syntaxes().iter().filter(|s| names.contains(&s.name)) {
        let size = inflated(&syntect::dumps::dump_binary(syntax)).len();
        sum += size;
        each.push(format!("{} {size}", syntax.name));
    }
    println!("only this blog's grammars: {sum} B ({})", each.join(", "));
    println!();
}

fn report_set(label: &str, set: &SyntaxSet) {
    let compressed = syntect::dumps::dump_binary(set);
    let raw = inflated(&compressed);
    println!(
        "{label}: {} grammars, {} B uncompressed (what two-face embeds), {} B zlib (gzip of the raw: {} B)",
        set.syntaxes().len(),
        raw.len(),
        compressed.len(),
        gzip(&raw)
    );
}

fn inflated(zlib: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    ZlibDecoder::new(zlib)
        .read_to_end(&mut raw)
        .expect("syntect's own dump inflates");
    raw
}

/// Bytes of HTML: the code blocks alone and whole post bodies, plain and highlighted.
fn html_growth(posts: &[Post]) {
    println!("## HTML growth (code blocks, then whole rendered bodies; raw / gzip -6)");
    let highlighter = Highlighter::new();
    let (mut plain_code, mut hl_code, mut plain_body, mut hl_body) = (0, 0, 0, 0);
    let (mut plain_code_gz, mut hl_code_gz, mut plain_body_gz, mut hl_body_gz) = (0, 0, 0, 0);
    for post in posts {
        let plain = render(&post.body, None);
        let highlighted = render(&post.body, Some(&highlighter));
        let blocks = |html: &str| code_blocks(html).concat();
        let (pc, hc) = (blocks(&plain), blocks(&highlighted));
        plain_code += pc.len();
        hl_code += hc.len();
        plain_code_gz += gzip(pc.as_bytes());
        hl_code_gz += gzip(hc.as_bytes());
        plain_body += plain.len();
        hl_body += highlighted.len();
        plain_body_gz += gzip(plain.as_bytes());
        hl_body_gz += gzip(highlighted.as_bytes());
        if !post.blocks.is_empty() {
            println!(
                "{:<56} code {:>5} -> {:>5} B, body gzip {:>5} -> {:>5} B ({})",
                post.name,
                pc.len(),
                hc.len(),
                gzip(plain.as_bytes()),
                gzip(highlighted.as_bytes()),
                growth(gzip(plain.as_bytes()), gzip(highlighted.as_bytes()))
            );
        }
    }
    println!(
        "code blocks: {plain_code} -> {hl_code} B raw ({}), {plain_code_gz} -> {hl_code_gz} B gzip ({})",
        growth(plain_code, hl_code),
        growth(plain_code_gz, hl_code_gz)
    );
    println!(
        "post bodies: {plain_body} -> {hl_body} B raw ({}), {plain_body_gz} -> {hl_body_gz} B gzip ({})",
        growth(plain_body, hl_body),
        growth(plain_body_gz, hl_body_gz)
    );
}

fn load_posts(dir: &str) -> Vec<Post> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).expect("post is UTF-8");
            let body = match blog_author::frontmatter::parse(&name, &text) {
                Ok(split) => split.body.to_string(),
                Err(_) => text.clone(),
            };
            let blocks = fenced_blocks(&body);
            Post { name, body, blocks }
        })
        .collect()
}

fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for event in Parser::new_ext(markdown, blog_core::markdown::options()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                current = Some(Block {
                    lang: info.to_string(),
                    code: String::new(),
                });
            }
            Event::Text(text) => {
                if let Some(block) = &mut current {
                    block.code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// The post body as pulldown-cmark renders it, with fenced blocks highlighted when given a
/// highlighter: the splice the worker will do with the stored HTML.
fn render(markdown: &str, highlighter: Option<&Highlighter>) -> String {
    let mut events = Vec::new();
    let mut fence: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, blog_core::markdown::options()) {
        match (&mut fence, event) {
            (None, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))))
                if highlighter.is_some() =>
            {
                fence = Some((info.to_string(), String::new()));
            }
            (Some((_, code)), Event::Text(text)) => code.push_str(&text),
            (Some((lang, code)), Event::End(TagEnd::CodeBlock)) => {
                let highlighter = highlighter.expect("fences are only collected with one");
                let inner = highlighter
                    .highlight(lang, code)
                    .unwrap_or_else(|| escape(code));
                let lang = lang.split([',', ' ']).next().unwrap_or("");
                let class = if lang.is_empty() {
                    String::new()
                } else {
                    format!(" class=\"language-{}\"", escape(lang))
                };
                events.push(Event::Html(CowStr::from(format!(
                    "<pre><code{class}>{inner}</code></pre>\n"
                ))));
                fence = None;
            }
            (_, event) => events.push(event),
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out
}

/// The `<pre>...</pre>` elements of rendered HTML.
fn code_blocks(html: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<pre>") {
        let end = start + rest[start..].find("</pre>").expect("pre is closed") + "</pre>".len();
        blocks.push(&rest[start..end]);
        rest = &rest[end..];
    }
    blocks
}

/// Code as pulldown-cmark escapes it today (`escape_html_body_text` is not re-exported).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec");
    encoder.finish().expect("writing to a Vec").len()
}

fn median(runs: usize, mut measure: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| measure()).collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn growth(before: usize, after: usize) -> String {
    format!("{:+.0}%", (after as f64 / before as f64 - 1.0) * 100.0)
}
