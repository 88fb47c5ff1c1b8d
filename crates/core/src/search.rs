//! Full-text search, as rules both sides share: how text becomes terms (folded, stemmed),
//! how `blog sync` scores each term in each post (BM25F, fields weighted), how a reader's
//! query is read (words, quoted phrases, `tag:` filters, cut to a bounded size), how the
//! edge ranks posts from the stored scores, marks the matched words in a snippet, and
//! suggests a near term when nothing matched.
//!
//! Scores are computed at sync, where the whole collection is known: a stored posting is a
//! post's number and its precomputed score for the term, so a query only adds numbers.

use std::collections::{BTreeMap, HashMap};

/// The most terms a query is read for: the rest of it is ignored, so one query's work is
/// bounded whatever it sends.
pub const MAX_QUERY_TERMS: usize = 8;
/// The most bytes of a query that are read.
pub const MAX_QUERY_BYTES: usize = 256;
/// The longest term indexed or searched for, in bytes: longer runs are not words.
pub const MAX_TERM_BYTES: usize = 64;

/// Where a term occurs in a post, and how much an occurrence there weighs (BM25F).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Heading,
    Tag,
    Summary,
    Body,
}

impl Field {
    pub fn weight(self) -> f32 {
        match self {
            Field::Title => 5.0,
            Field::Heading | Field::Tag => 2.5,
            Field::Summary => 1.5,
            Field::Body => 1.0,
        }
    }
}

/// BM25's term frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Lower case, with the diacritics of Latin letters dropped (`é` → `e`, `ß` → `ss`), so a
/// reader finds `café` by typing `cafe`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out
}

fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å'
        | 'Ā' | 'Ă' | 'Ą' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'đ' | 'Ď' | 'Đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę'
        | 'Ě' => "e",
        'ğ' | 'Ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => {
            "i"
        }
        'ł' | 'Ł' => "l",
        'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō'
        | 'Ő' => "o",
        'œ' | 'Œ' => "oe",
        'ř' | 'Ř' => "r",
        'ś' | 'š' | 'ş' | 'Ś' | 'Š' | 'Ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'Ť' | 'Ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű'
        | 'Ų' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        'þ' | 'Þ' => "th",
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push_str(plain);
}

/// The words of a text, folded, in order, each with the byte range it covers in `text`.
/// A word is a run of letters and digits; `_` inside one joins it (`CGO_ENABLED` is one
/// word, as readers search for identifiers), and each of its parts counts as a word too.
pub fn words(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    scan_words(text, |word, range| out.push((word.to_string(), range)));
    out
}

/// [`words`] without a string per word: `found` gets each word folded into one buffer
/// (what indexing calls for every word of every post).
pub fn scan_words(text: &str, mut found: impl FnMut(&str, std::ops::Range<usize>)) {
    let mut buf = String::new();
    let mut flush = |range: std::ops::Range<usize>| {
        let run = &text[range.clone()];
        let raw = run.trim_matches('_');
        if raw.is_empty() || raw.len() > MAX_TERM_BYTES {
            return;
        }
        let offset = range.start + (run.len() - run.trim_start_matches('_').len());
        buf.clear();
        raw.chars().for_each(|c| fold_char(c, &mut buf));
        found(&buf, offset..offset + raw.len());
        if raw.contains('_') {
            let mut at = offset;
            for part in raw.split('_') {
                if !part.is_empty() {
                    buf.clear();
                    part.chars().for_each(|c| fold_char(c, &mut buf));
                    found(&buf, at..at + part.len());
                }
                at += part.len() + 1;
            }
        }
    };
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() || c == '_' {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            flush(s..i);
        }
    }
    if let Some(s) = start {
        flush(s..text.len());
    }
}

/// A word's stem: common English endings dropped (`builds`, `building`, `built` stay
/// apart from `build` only for the last), so `build` finds `builds` and `building`. Light
/// on purpose: it never leaves a stem under three letters, and leaves words with digits
/// or `_` (identifiers, versions) alone.
pub fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_string();
    }
    for (suffix, replacement) in [
        ("ational", "ate"),
        ("ization", "ize"),
        ("iveness", "ive"),
        ("fulness", "ful"),
        ("ousness", "ous"),
        ("nesses", ""),
        ("ments", ""),
        ("ment", ""),
        ("ness", ""),
        ("ingly", ""),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ed", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
    ] {
        // Bytes, not a string pattern: this runs for every distinct word of every post.
        if !word.as_bytes().ends_with(suffix.as_bytes()) {
            continue;
        }
        if let Some(base) = word.get(..word.len() - suffix.len()) {
            if suffix == "s" && (base.ends_with('s') || base.ends_with('u') || base.ends_with('i'))
            {
                continue;
            }
            if suffix == "es" && !ends_with_sibilant(base) {
                continue;
            }
            if base.len() + replacement.len() < 3 || !base.bytes().any(is_vowel) {
                continue;
            }
            let mut stem = format!("{base}{replacement}");
            // `running` -> `run`, `stopped` -> `stop`: a doubled final consonant after a
            // dropped ending is one.
            if replacement.is_empty() && matches!(suffix, "ing" | "ed" | "ings") {
                let b = stem.as_bytes();
                let n = b.len();
                if n >= 3
                    && b[n - 1] == b[n - 2]
                    && !is_vowel(b[n - 1])
                    && !b"lsz".contains(&b[n - 1])
                {
                    stem.pop();
                }
            }
            return stem;
        }
    }
    word.to_string()
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

fn ends_with_sibilant(base: &str) -> bool {
    ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| base.ends_with(s))
}

/// The terms of a text, as indexed and searched: its words, stemmed.
pub fn terms(text: &str) -> Vec<String> {
    words(text).into_iter().map(|(w, _)| stem(&w)).collect()
}

/// A post as the index sees it: each field's text.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub title: String,
    pub headings: Vec<String>,
    pub tags: Vec<String>,
    pub summary: String,
    /// The body as plain text, code included.
    pub body: String,
}

/// Words too common to tell posts apart: neither indexed nor searched for, so the shards
/// of `th`, `an` and `to` stay small and "the go image" means "go image".
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "if", "in", "into",
    "is", "it", "its", "of", "on", "or", "so", "than", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "were", "which", "with",
];

/// Whether a folded word is a stopword (before stemming: `this` would stem to `thi`).
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// One post in a term's postings: its number, the term's weighted frequency there (in
/// half units of [`Field::weight`], so a whole number: a title occurrence counts 10, a
/// body one 2), and the post's weighted length, quantised to a byte ([`quantise_len`]).
///
/// Nothing here depends on the rest of the collection: a new post changes only the
/// postings of its own terms, and IDF and length normalisation are computed when a query
/// is answered, from the collection's size and average length ([`Stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub doc: u32,
    pub tf: u32,
    pub len: u8,
}

/// What BM25 needs of the whole collection besides a term's postings: how many posts it
/// holds (N) and their average weighted length (in the same half units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub docs: u32,
    pub avg_len: f32,
}

/// A weighted length as one byte: `round(ln(len) * 16)`, so a step is about 6% of the
/// length, from 1 to some 8 million half units; length normalisation needs no more.
pub fn quantise_len(len: u32) -> u8 {
    if len <= 1 {
        return 0;
    }
    ((len as f32).ln() * 16.0).round().min(255.0) as u8
}

/// The length a quantised byte stands for.
pub fn dequantise_len(q: u8) -> f32 {
    (f32::from(q) / 16.0).exp()
}

/// Every term of a collection with its postings (in document order), and the collection's
/// [`Stats`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    pub terms: BTreeMap<String, Vec<Posting>>,
    pub docs: u32,
    /// Every document's weighted length, in document order.
    pub lengths: Vec<u32>,
}

impl Index {
    pub fn stats(&self) -> Stats {
        let total: u64 = self.lengths.iter().map(|&l| u64::from(l)).sum();
        Stats {
            docs: self.docs,
            avg_len: (total as f32 / self.docs.max(1) as f32).max(1.0),
        }
    }
}

/// Names how [`weigh`] reads a document (its words, stopwords, stems and field weights):
/// raise it with any change to them, so weighted terms kept from before are never used.
pub const WEIGH_VERSION: u32 = 1;

/// A document's weighted term frequencies (in no order) and its weighted length (half units).
pub fn weigh(doc: &Document) -> (Vec<(String, u32)>, u32) {
    // Counted by word first, then each distinct word stemmed once: a post repeats its words.
    let mut by_word: HashMap<String, u32> = HashMap::new();
    let mut len = 0;
    let mut add = |text: &str, field: Field| {
        let weight = (field.weight() * 2.0) as u32;
        scan_words(text, |word, _| {
            if is_stopword(word) {
                return;
            }
            match by_word.get_mut(word) {
                Some(f) => *f += weight,
                None => {
                    by_word.insert(word.to_string(), weight);
                }
            }
            len += weight;
        });
    };
    add(&doc.title, Field::Title);
    for h in &doc.headings {
        add(h, Field::Heading);
    }
    for t in &doc.tags {
        add(t, Field::Tag);
    }
    add(&doc.summary, Field::Summary);
    add(&doc.body, Field::Body);
    let mut tf: HashMap<String, u32> = HashMap::with_capacity(by_word.len());
    for (word, f) in by_word {
        *tf.entry(stem(&word)).or_default() += f;
    }
    (tf.into_iter().collect(), len)
}

/// Indexes `docs`, numbered by their place: each term's postings, in document order.
pub fn index(docs: &[Document]) -> Index {
    let weighed: Vec<_> = docs.iter().map(weigh).collect();
    index_weighed(&weighed)
}

/// A document's [`weigh`]ed terms and length.
pub type Weighed = (Vec<(String, u32)>, u32);

/// [`index`] from documents already [`weigh`]ed (which may run on several cores, or be kept
/// from an earlier run): terms are borrowed while postings gather, each copied once.
pub fn index_weighed<'a>(weighed: impl IntoIterator<Item = &'a Weighed>) -> Index {
    let mut terms: HashMap<&str, Vec<Posting>> = HashMap::new();
    let mut lengths = Vec::new();
    for (doc, (tf, len)) in weighed.into_iter().enumerate() {
        let q = quantise_len(*len);
        for (term, f) in tf {
            terms.entry(term.as_str()).or_default().push(Posting {
                doc: doc as u32,
                tf: *f,
                len: q,
            });
        }
        lengths.push(*len);
    }
    Index {
        docs: lengths.len() as u32,
        terms: terms
            .into_iter()
            .map(|(term, postings)| (term.to_string(), postings))
            .collect(),
        lengths,
    }
}

/// The scale of a score as [`answer`] adds them: BM25 times this, as an integer.
const SCORE_SCALE: f32 = 1000.0;

/// BM25 of one posting (`df`: how many documents hold the term), scaled to an integer.
pub fn score(posting: &Posting, df: usize, stats: Stats) -> u16 {
    let n = stats.docs.max(1) as f32;
    let d = (df as f32).min(n);
    let idf = (1.0 + (n - d + 0.5) / (d + 0.5)).ln();
    let f = posting.tf as f32 / 2.0;
    let len = dequantise_len(posting.len) / stats.avg_len.max(1.0);
    let s = idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len));
    ((s * SCORE_SCALE).round().clamp(1.0, f32::from(u16::MAX))) as u16
}

/// What BM25 needs per query, computed once: the length normalisation of each quantised
/// length (no logarithm or exponential per posting).
struct Norms {
    table: [f32; 256],
}

impl Norms {
    fn new(stats: Stats) -> Norms {
        let avg = stats.avg_len.max(1.0);
        let mut table = [0.0; 256];
        for (q, cell) in table.iter_mut().enumerate() {
            *cell = K1 * (1.0 - B + B * dequantise_len(q as u8) / avg);
        }
        Norms { table }
    }
}

/// The scored postings among the first `visible` documents, in document order, each
/// scaled by `weight` (1 for the term asked for, a half for a term it begins).
fn scored(
    postings: &[Posting],
    visible: u32,
    stats: Stats,
    norms: &Norms,
    weight: f32,
) -> Vec<(u32, u32)> {
    let n = stats.docs.max(1) as f32;
    let d = (postings.len() as f32).min(n);
    let idf = (1.0 + (n - d + 0.5) / (d + 0.5)).ln() * (K1 + 1.0) * weight * SCORE_SCALE;
    let end = postings.partition_point(|p| p.doc < visible);
    postings[..end]
        .iter()
        .map(|p| {
            let f = p.tf as f32 / 2.0;
            let s = idf * f / (f + norms.table[p.len as usize]);
            (p.doc, (s.round() as u32).max(1))
        })
        .collect()
}

/// Answers `query` from the postings of its terms' shards (`terms`: at least every term
/// the query asks for and the terms they begin) and its tags' lists (`tags`, one per
/// [`Query::tags`], in order): the documents among the first `visible` that match every
/// term (the term itself, or at half weight one of the first [`MAX_PREFIX_TERMS`] it
/// begins) and carry every tag, best first (ties: the older first), with their scores.
/// A query of tags alone lists them newest first. Work is linear in the postings read,
/// then one sort.
pub fn answer(
    query: &Query,
    terms: &BTreeMap<String, Vec<Posting>>,
    tags: &[Vec<u32>],
    stats: Stats,
    visible: u32,
) -> Vec<(u32, u32)> {
    answer_top(query, terms, tags, stats, visible, usize::MAX)
}

/// [`answer`], with only the first `top` in order: the rest follow unordered (a page
/// shows ten, and the others are only counted).
pub fn answer_top(
    query: &Query,
    terms: &BTreeMap<String, Vec<Posting>>,
    tags: &[Vec<u32>],
    stats: Stats,
    visible: u32,
    top: usize,
) -> Vec<(u32, u32)> {
    if tags.len() != query.tags.len() {
        // A tag no post has: nothing carries it.
        return Vec::new();
    }
    let norms = Norms::new(stats);
    // Documents and scores so far, in document order.
    let mut total: Option<Vec<(u32, u32)>> = None;
    for term in &query.terms {
        let mut this: Vec<(u32, u32)> = terms
            .get(term.as_str())
            .map(|p| scored(p, visible, stats, &norms, 1.0))
            .unwrap_or_default();
        if term.len() >= 3 {
            let longer = prefixed(terms, term);
            if !longer.is_empty() {
                let extra: Vec<Vec<(u32, u32)>> = longer
                    .iter()
                    .map(|t| scored(&terms[*t], visible, stats, &norms, 0.5))
                    .collect();
                this = best_per_doc(this, &extra, visible);
            }
        }
        total = Some(match total {
            None => this,
            Some(so_far) => intersect(&so_far, &this),
        });
    }
    let mut ranked = match total {
        Some(ranked) => ranked,
        None => {
            // Tags alone: every post that has them, newest first.
            let mut all: Vec<(u32, u32)> = tags
                .first()
                .map(|docs| {
                    docs.iter()
                        .filter(|&&d| d < visible)
                        .map(|&d| (d, 0))
                        .collect()
                })
                .unwrap_or_default();
            all.reverse();
            all
        }
    };
    if !tags.is_empty() {
        ranked.retain(|(doc, _)| tags.iter().all(|list| list.binary_search(doc).is_ok()));
    }
    if !query.terms.is_empty() {
        let order = |a: &(u32, u32), b: &(u32, u32)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if top < ranked.len() {
            ranked.select_nth_unstable_by(top, order);
            ranked[..top].sort_unstable_by(order);
        } else {
            ranked.sort_unstable_by(order);
        }
    }
    ranked
}

/// The best score of each document over `first` and `more` (each in document order, every
/// document below `visible`), in document order. Postings of a term and the terms it begins
/// cover most of a large collection at once, so scores go into a table a document wide
/// when they are many (linear), and are sorted when they are few.
fn best_per_doc(first: Vec<(u32, u32)>, more: &[Vec<(u32, u32)>], visible: u32) -> Vec<(u32, u32)> {
    let total = first.len() + more.iter().map(Vec::len).sum::<usize>();
    if total.saturating_mul(16) < visible as usize {
        let mut all = first;
        for m in more {
            all.extend_from_slice(m);
        }
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        all.dedup_by_key(|e| e.0);
        return all;
    }
    let mut best = vec![0u32; visible as usize];
    for &(doc, score) in first.iter().chain(more.iter().flatten()) {
        let cell = &mut best[doc as usize];
        *cell = (*cell).max(score);
    }
    best.into_iter()
        .enumerate()
        .filter(|&(_, score)| score > 0)
        .map(|(doc, score)| (doc as u32, score))
        .collect()
}

/// The documents in both lists (each in document order), their scores added.
fn intersect(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The indexed terms `term` begins, itself excluded, in order, at most
/// [`MAX_PREFIX_TERMS`]: what [`answer`] expands a query term to.
pub fn prefixed<'a, V>(terms: &'a BTreeMap<String, V>, term: &str) -> Vec<&'a str> {
    terms
        .range::<str, _>((std::ops::Bound::Excluded(term), std::ops::Bound::Unbounded))
        .map(|(k, _)| k.as_str())
        .take_while(|k| k.starts_with(term))
        .take(MAX_PREFIX_TERMS)
        .collect()
}

/// "Did you mean": for the first query term nothing visible matches (neither itself nor a
/// term it begins), the nearest term among `terms` that a visible document holds.
/// Returns the term asked for and the one suggested.
pub fn did_you_mean<'a>(
    query: &Query,
    terms: &'a BTreeMap<String, Vec<Posting>>,
    visible: u32,
) -> Option<(String, &'a str)> {
    let term = first_unmatched(query, terms, visible)?;
    let seen = |postings: &Vec<Posting>| postings.iter().filter(|p| p.doc < visible).count();
    let candidates = terms
        .iter()
        .map(|(t, p)| (t.as_str(), seen(p)))
        .filter(|(_, n)| *n > 0);
    suggest(term, candidates).map(|s| (term.clone(), s))
}

/// The first query term no visible document holds, neither itself nor a term it begins
/// (`terms`: the postings of its shard, at least).
pub fn first_unmatched<'q>(
    query: &'q Query,
    terms: &BTreeMap<String, Vec<Posting>>,
    visible: u32,
) -> Option<&'q String> {
    let seen = |postings: &Vec<Posting>| postings.iter().any(|p| p.doc < visible);
    query.terms.iter().find(|term| {
        let matched = terms.get(term.as_str()).is_some_and(seen)
            || (term.len() >= 3 && prefixed(terms, term).iter().any(|t| seen(&terms[*t])));
        !matched
    })
}

/// What a reader asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Every term, stemmed (a phrase's too), at most [`MAX_QUERY_TERMS`].
    pub terms: Vec<String>,
    /// Quoted phrases, as words (folded, not stemmed): a result contains each one.
    pub phrases: Vec<Vec<String>>,
    /// `tag:` filters, as tag slugs: a result has every one.
    pub tags: Vec<String>,
}

impl Query {
    /// Reads a query: words, `"quoted phrases"`, `tag:name`. Whatever the input, at most
    /// [`MAX_QUERY_BYTES`] are read and [`MAX_QUERY_TERMS`] terms kept.
    pub fn parse(input: &str) -> Query {
        let mut cut = input.len().min(MAX_QUERY_BYTES);
        while !input.is_char_boundary(cut) {
            cut -= 1;
        }
        let input = &input[..cut];
        let mut query = Query::default();
        let mut rest = input;
        while !rest.is_empty() && query.terms.len() < MAX_QUERY_TERMS {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('"') {
                let (phrase, next) = after.split_once('"').unwrap_or((after, ""));
                let words: Vec<String> = words(phrase).into_iter().map(|(w, _)| w).collect();
                if words.len() > 1 {
                    query.phrases.push(words.clone());
                }
                for w in words {
                    query.push_term(&w);
                }
                rest = next;
                continue;
            }
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let (token, next) = rest.split_at(end);
            rest = next;
            if let Some(tag) = token
                .strip_prefix("tag:")
                .or_else(|| token.strip_prefix("TAG:"))
            {
                let slug = crate::content::tag_slug(tag);
                if !slug.is_empty()
                    && query.tags.len() < MAX_QUERY_TERMS
                    && !query.tags.contains(&slug)
                {
                    query.tags.push(slug);
                }
                continue;
            }
            for (w, _) in words(token) {
                query.push_term(&w);
            }
        }
        query.terms.truncate(MAX_QUERY_TERMS);
        query
    }

    fn push_term(&mut self, word: &str) {
        if is_stopword(word) {
            return;
        }
        let term = stem(word);
        if self.terms.len() < MAX_QUERY_TERMS && !self.terms.contains(&term) {
            self.terms.push(term);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.tags.is_empty()
    }
}

/// The most indexed terms one query term expands to by prefix.
pub const MAX_PREFIX_TERMS: usize = 16;

/// Whether `text` holds `phrase` (folded words) as consecutive words.
pub fn contains_phrase(text: &str, phrase: &[String]) -> bool {
    if phrase.is_empty() {
        return true;
    }
    let words: Vec<String> = words(text).into_iter().map(|(w, _)| w).collect();
    words.windows(phrase.len()).any(|w| w == phrase)
}

/// A piece of a snippet: text as written, and whether it is a matched word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub marked: bool,
}

/// The part of `text` around its best match for `query`, about `width` bytes, cut at word
/// boundaries, with every matched word marked. The best window is the one with the most
/// distinct query terms (then the most matches); without a match, the text's start.
pub fn snippet<'a>(text: &'a str, query: &Query, width: usize) -> (Vec<Piece<'a>>, bool, bool) {
    let found = words(text);
    // A stem keeps its word's first two characters (it only ever changes the end of a word
    // of four letters or more), so a word that does not begin like a query term is no match:
    // most words are never stemmed.
    let heads: Vec<&str> = query
        .terms
        .iter()
        .map(|t| &t[..t.char_indices().nth(2).map_or(t.len(), |(i, _)| i)])
        .collect();
    let matches: Vec<(usize, std::ops::Range<usize>)> = found
        .iter()
        .filter(|(w, _)| heads.iter().any(|h| w.starts_with(h)))
        .filter_map(|(w, r)| {
            let s = stem(w);
            query
                .terms
                .iter()
                .position(|t| *t == s || (t.len() >= 3 && s.starts_with(t.as_str())))
                .map(|i| (i, r.clone()))
        })
        .collect();
    let mut best = (0usize, 0usize, 0usize); // distinct, count, start byte
    for (i, (_, r)) in matches.iter().enumerate() {
        let start = r.start;
        let mut distinct = Vec::new();
        let mut count = 0;
        for (t, r2) in &matches[i..] {
            if r2.end > start + width {
                break;
            }
            count += 1;
            if !distinct.contains(t) {
                distinct.push(*t);
            }
        }
        if (distinct.len(), count) > (best.0, best.1) {
            best = (distinct.len(), count, start);
        }
    }
    // Start a little before the first match, at a word's start.
    let lead = width / 5;
    let mut from = best.2.saturating_sub(lead);
    if best.1 == 0 {
        from = 0;
    }
    if let Some(w) = found.iter().find(|(_, r)| r.end > from) {
        if from > 0 {
            from = w.1.start.min(best.2);
        }
    }
    let mut to = (from + width).min(text.len());
    if to < text.len() {
        to = found
            .iter()
            .rev()
            .find(|(_, r)| r.end <= to)
            .map_or(to, |(_, r)| r.end);
    }
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let mut pieces = Vec::new();
    let mut at = from;
    for (_, r) in matches
        .iter()
        .filter(|(_, r)| r.start >= from && r.end <= to)
    {
        if r.start < at {
            continue;
        }
        if r.start > at {
            pieces.push(Piece {
                text: &text[at..r.start],
                marked: false,
            });
        }
        pieces.push(Piece {
            text: &text[r.clone()],
            marked: true,
        });
        at = r.end;
    }
    if at < to {
        pieces.push(Piece {
            text: &text[at..to],
            marked: false,
        });
    }
    (pieces, from > 0, to < text.len())
}

/// The indexed term nearest to `term` within a small edit distance (one edit for terms of
/// up to five letters, two beyond), the most frequent among equals; for "did you mean".
pub fn suggest<'a>(
    term: &str,
    indexed: impl IntoIterator<Item = (&'a str, usize)>,
) -> Option<&'a str> {
    let limit = if term.chars().count() <= 5 { 1 } else { 2 };
    let mut best: Option<(usize, usize, &str)> = None;
    for (candidate, frequency) in indexed {
        if candidate == term {
            return None;
        }
        let gap = candidate.len().abs_diff(term.len());
        if gap > limit {
            continue;
        }
        if let Some(d) = distance(term, candidate, limit) {
            let better = match best {
                None => true,
                Some((bd, bf, _)) => d < bd || (d == bd && frequency > bf),
            };
            if better {
                best = Some((d, frequency, candidate));
            }
        }
    }
    best.map(|(_, _, c)| c)
}

/// Levenshtein distance (adjacent swaps count one), when at most `limit`.
fn distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let mut row_min = usize::MAX;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
    }
    let d = rows[a.len()][b.len()];
    (d <= limit).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_score_per_document_is_the_same_by_table_or_by_sort() {
        // Pseudo-random lists, each in document order, some documents in several.
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        let list = |next: &mut dyn FnMut() -> u32| {
            let mut docs: Vec<u32> = (0..40).map(|_| next() % 500).collect();
            docs.sort_unstable();
            docs.dedup();
            docs.into_iter()
                .map(|d| (d, 1 + next() % 900))
                .collect::<Vec<_>>()
        };
        let first = list(&mut next);
        let more: Vec<Vec<(u32, u32)>> = (0..3).map(|_| list(&mut next)).collect();
        // 160 postings: a table for 500 documents, a sort for 100,000.
        let by_table = best_per_doc(first.clone(), &more, 500);
        let by_sort = best_per_doc(first.clone(), &more, 100_000);
        assert_eq!(by_table, by_sort);
        assert!(by_table.windows(2).all(|w| w[0].0 < w[1].0));
        for &(doc, score) in &by_table {
            let best = first
                .iter()
                .chain(more.iter().flatten())
                .filter(|e| e.0 == doc)
                .map(|e| e.1)
                .max();
            assert_eq!(Some(score), best);
        }
    }

    fn doc(title: &str, body: &str) -> Document {
        Document {
            title: title.into(),
            body: body.into(),
            ..Document::default()
        }
    }

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("Café Déjà Vu"), "cafe deja vu");
        assert_eq!(fold("Straße ŁÓDŹ Æther"), "strasse lodz aether");
        assert_eq!(fold("ΑΒΓ"), "αβγ", "other scripts are lower-cased");
    }

    #[test]
    fn identifiers_are_words_and_so_are_their_parts() {
        let w: Vec<String> = words("Set CGO_ENABLED=0, then run `buildctl`.")
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(
            w,
            [
                "set",
                "cgo_enabled",
                "cgo",
                "enabled",
                "0",
                "then",
                "run",
                "buildctl"
            ]
        );
        let text = "x CGO_ENABLED y";
        let (_, range) = &words(text)[1];
        assert_eq!(&text[range.clone()], "CGO_ENABLED");
        assert!(
            words(&"a".repeat(MAX_TERM_BYTES + 1)).is_empty(),
            "not a word"
        );
    }

    #[test]
    fn stems_english_endings_so_a_word_finds_its_forms() {
        for (word, want) in [
            ("builds", "build"),
            ("building", "build"),
            ("builder", "builder"),
            ("running", "run"),
            ("stopped", "stop"),
            ("queries", "query"),
            ("classes", "class"),
            ("pass", "pass"),
            ("status", "status"),
            ("rust", "rust"),
            ("go", "go"),
            ("k8s", "k8s"),
            ("cgo_enabled", "cgo_enabled"),
            ("containers", "container"),
        ] {
            assert_eq!(stem(word), want, "{word}");
        }
        assert_eq!(terms("Building builds"), ["build", "build"]);
    }

    fn found(index: &Index, query: &str) -> Vec<u32> {
        answer(
            &Query::parse(query),
            &index.terms,
            &[],
            index.stats(),
            index.docs,
        )
        .into_iter()
        .map(|(d, _)| d)
        .collect()
    }

    #[test]
    fn titles_outrank_bodies_and_rare_terms_outrank_common_ones() {
        let docs = [
            doc("Distroless images for Go", "We ship a small image."),
            doc(
                "Something else",
                "A passing mention of distroless, and images, images.",
            ),
            doc("Images", "Nothing about it."),
        ];
        let index = index(&docs);
        assert_eq!(found(&index, "distroless"), [0, 1]);
        assert_eq!(
            found(&index, "distroless image"),
            [0, 1],
            "every term must match"
        );
        assert_eq!(
            found(&index, "the distroless"),
            [0, 1],
            "stopwords are dropped"
        );
    }

    #[test]
    fn scores_come_from_the_collection_at_query_time() {
        // A term in every post weighs less than a term in one, and a longer post's
        // occurrence less than a shorter one's: IDF and length from Stats, not the shard.
        let p = Posting {
            doc: 0,
            tf: 2,
            len: quantise_len(20),
        };
        let stats = Stats {
            docs: 100,
            avg_len: 20.0,
        };
        assert!(score(&p, 1, stats) > score(&p, 100, stats));
        let long = Posting {
            len: quantise_len(2000),
            ..p
        };
        assert!(score(&p, 1, stats) > score(&long, 1, stats));
        for len in [2, 10, 100, 1000, 100_000] {
            let back = dequantise_len(quantise_len(len));
            assert!((back / len as f32 - 1.0).abs() < 0.04, "{len} -> {back}");
        }
    }

    #[test]
    fn a_term_also_finds_the_longer_terms_it_begins_at_a_discount() {
        let docs = [doc("Builder pattern", ""), doc("Build once", "")];
        let index = index(&docs);
        assert_eq!(found(&index, "build"), [1, 0]);
    }

    #[test]
    fn the_first_results_are_the_same_whether_or_not_the_rest_are_ordered() {
        let docs: Vec<Document> = (0..50)
            .map(|i| {
                doc(
                    &format!("rust {}", "go ".repeat(i % 7)),
                    &"rust ".repeat(i % 5),
                )
            })
            .collect();
        let index = index(&docs);
        let q = Query::parse("rust");
        let all = answer(&q, &index.terms, &[], index.stats(), 50);
        let top = answer_top(&q, &index.terms, &[], index.stats(), 50, 10);
        assert_eq!(all.len(), top.len());
        assert_eq!(all[..10], top[..10]);
    }

    #[test]
    fn tags_filter_and_alone_list_newest_first() {
        let docs = [doc("Go one", ""), doc("Go two", ""), doc("Go three", "")];
        let index = index(&docs);
        let tagged = vec![0, 2];
        let q = Query::parse("go tag:rust");
        let got: Vec<u32> = answer(
            &q,
            &index.terms,
            std::slice::from_ref(&tagged),
            index.stats(),
            3,
        )
        .into_iter()
        .map(|(d, _)| d)
        .collect();
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 2]);
        let alone: Vec<u32> = answer(
            &Query::parse("tag:rust"),
            &index.terms,
            &[tagged],
            index.stats(),
            3,
        )
        .into_iter()
        .map(|(d, _)| d)
        .collect();
        assert_eq!(alone, [2, 0]);
        assert!(
            answer(&q, &index.terms, &[], index.stats(), 3).is_empty(),
            "a tag no post has finds nothing"
        );
    }

    #[test]
    fn reads_words_phrases_and_tags_and_stops_at_its_bounds() {
        let q = Query::parse(r#"BuildKit "unix socket" tag:Rust tag:go"#);
        assert_eq!(q.terms, ["buildkit", "unix", "socket"]);
        assert_eq!(q.phrases, [vec!["unix".to_string(), "socket".to_string()]]);
        assert_eq!(q.tags, ["rust", "go"]);
        let many = (0..1000)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(Query::parse(&many).terms.len(), MAX_QUERY_TERMS);
        assert!(Query::parse(&"é".repeat(10_000)).terms.len() <= MAX_QUERY_TERMS);
        for hostile in [
            "",
            "   ",
            "!!!?.,;",
            "\"",
            "tag:",
            ".*+?[a-z]{3}",
            "<script>alert(1)</script>",
        ] {
            let q = Query::parse(hostile);
            assert!(
                q.terms
                    .iter()
                    .all(|t| t.chars().all(|c| c.is_alphanumeric() || c == '_')),
                "{hostile}: {q:?}"
            );
        }
        assert!(Query::parse("!!!").is_empty());
    }

    #[test]
    fn phrases_match_consecutive_words_only() {
        let phrase = vec!["unix".to_string(), "socket".to_string()];
        assert!(contains_phrase("Mount the Unix socket here.", &phrase));
        assert!(!contains_phrase("A socket, not unix.", &phrase));
    }

    #[test]
    fn a_snippet_centres_on_the_best_match_and_marks_each_matched_word() {
        let text = format!(
            "{} The BuildKit daemon listens on a socket. {}",
            "Intro words. ".repeat(30),
            "Outro. ".repeat(30)
        );
        let (pieces, cut_before, cut_after) = snippet(&text, &Query::parse("buildkit sockets"), 80);
        let marked: Vec<&str> = pieces.iter().filter(|p| p.marked).map(|p| p.text).collect();
        assert_eq!(marked, ["BuildKit", "socket"]);
        assert!(cut_before && cut_after);
        let shown: String = pieces.iter().map(|p| p.text).collect();
        assert!(shown.len() <= 80 && text.contains(&shown), "{shown:?}");
        let (none, before, _) = snippet("Short text.", &Query::parse("absent"), 80);
        assert_eq!((none.len(), before), (1, false));
    }

    #[test]
    fn suggests_the_nearest_indexed_term_for_a_typo() {
        let indexed = [
            ("distroless", 3),
            ("distribute", 9),
            ("docker", 5),
            ("rust", 4),
        ];
        assert_eq!(suggest("distroles", indexed), Some("distroless"));
        assert_eq!(
            suggest("dokcer", indexed),
            Some("docker"),
            "a swap is one edit"
        );
        assert_eq!(suggest("rusty", indexed), Some("rust"));
        assert_eq!(suggest("kubernetes", indexed), None);
        assert_eq!(suggest("rust", indexed), None, "it is indexed");
    }
}
