//! The cost of a social card, release build: `cargo run --release -p blog-author --example
//! card_bench [N] [OUT.png]`. Draws N cards of different titles on one core and prints the
//! time per card for laying out the SVG, drawing it and encoding the PNG, apart; with OUT,
//! writes the first card there to look at (its title from `CARD_TITLE`, when set).

use blog_author::card::{self, Card, Colours};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let out = args.next();
    let titles = [
        "Profiling the linker: where a two-minute build spends its time",
        "From 342MB to 37MB: the Go image I was shipping wrong",
        "Why \"AI will replace coders\" is the wrong conversation & what to ask instead",
        "Hello",
        "Pneumonoultramicroscopicsilicovolcanoconiosis, and other words that do not fit on a card at any size",
    ];
    let mut cards: Vec<Card> = (0..n.max(1))
        .map(|i| Card {
            title: format!("{} ({i})", titles[i % titles.len()]),
            site_title: "Writing".into(),
            date: "4 December 2026".into(),
            minutes: 3 + i % 7,
            colours: Colours::site().clone(),
        })
        .collect();
    if let Ok(title) = std::env::var("CARD_TITLE") {
        cards[0].title = title;
    }
    // The fonts and the design hash are loaded once, before the clock starts.
    let first = cards[0].render().expect("a card renders");
    if let Some(path) = out {
        std::fs::write(&path, &first).expect("the card is written");
        println!("card_bench: wrote {path} ({} bytes)", first.len());
    }
    let (mut layout, mut draw_encode, mut bytes) = (0.0, 0.0, 0usize);
    for c in &cards {
        let t = Instant::now();
        let svg = c.svg();
        let _ = c.hash();
        layout += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let png = card::render_svg(&svg).expect("a card renders");
        draw_encode += t.elapsed().as_secs_f64();
        bytes += png.len();
    }
    let per = |s: f64| s * 1000.0 / n as f64;
    println!(
        "card_bench: cards={n} layout_ms={:.2} draw_and_encode_ms={:.2} total_ms={:.2} png_kb={:.1}",
        per(layout),
        per(draw_encode),
        per(layout + draw_encode),
        bytes as f64 / n as f64 / 1024.0
    );
}
