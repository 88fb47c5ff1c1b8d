//! The search index as Workers KV holds it: which keys a query reads, how each piece is
//! encoded and decoded, which posts a query may find at a given moment, and how a search
//! URL's query string is read.
//!
//! | key | value |
//! |---|---|
//! | `search/head` | JSON [`Head`]: how many posts are indexed, their average weighted length, each one's quantised length, when the scheduled ones come due |
//! | `search/t/{shard}` | the postings of every term beginning with `{shard}` (its first two characters), [`encode_shard`] |
//! | `search/e/{ending}` | every term ending with `{ending}` (its last character), with the first post holding it, [`encode_endings`]: where "did you mean" looks for a term misspelt in its first two characters |
//! | `search/g/{tag}` | the numbers of the posts carrying a tag, [`encode_docs`] |
//! | `search/d/{n}` | JSON [`DocTable`]: posts `256 n` to `256 n + 255`, each slug and instant |
//!
//! Posts are numbered in publication order, oldest first: a new post appends a number and
//! renumbers nothing, so an edit rewrites only the shards of the terms it adds or drops (and
//! the head). A deleted or backdated post renumbers those after it. Postings carry raw
//! frequencies, never scores, so no shard depends on the collection's size; each post's
//! length is in the head, once, so an edit that changes a post's length does not rewrite
//! every shard holding one of its terms.
//!
//! Binary pieces are stored as base64 text: `wrangler kv bulk put` carries text values, and
//! one bulk call writes every changed piece.

use crate::date::Timestamp;
use crate::search::{Posting, Query, Stats};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PREFIX: &str = "search/";
pub const HEAD_KEY: &str = "search/head";
const TERM_PREFIX: &str = "search/t/";
const TAG_PREFIX: &str = "search/g/";
const ENDING_PREFIX: &str = "search/e/";
const DOC_PREFIX: &str = "search/d/";
/// Posts per doc table.
pub const DOCS_PER_TABLE: u32 = 256;
/// Results on one page of search results.
pub const PER_PAGE: usize = 10;
/// A phrase is looked for in the text of this many best matches of its words at most: the
/// text is in the posts' records, and a query reads a bounded number of them.
pub const PHRASE_CANDIDATES: usize = 30;
/// The highest page number a search URL is read for.
pub const MAX_PAGE: usize = 10_000;
/// The most bytes of a `q` parameter decoded (the query reads fewer, see
/// [`crate::search::MAX_QUERY_BYTES`]; the form shows back at most this).
pub const MAX_Q_BYTES: usize = 1024;
/// The format byte every encoded tag list starts with.
const FORMAT: u8 = 1;
/// The format byte every encoded terms shard starts with: 2 since lengths moved to the head.
const SHARD_FORMAT: u8 = 2;
/// The format byte every encoded endings piece starts with.
const ENDINGS_FORMAT: u8 = 1;

/// The key of the shard holding `term` (a folded, stemmed term): its first two characters,
/// letters and digits as they are, anything else as `_` and its UTF-8 bytes in hex.
pub fn term_key(term: &str) -> String {
    key_of(TERM_PREFIX, term.chars().take(2))
}

/// The key of the endings piece listing `term`: its last character, spelt as in
/// [`term_key`]. One character, not two: a few dozen pieces for the whole vocabulary, so a
/// first sync writes few more keys, and one piece stays small (some 15 KB for 50,000 terms).
pub fn ending_key(term: &str) -> String {
    key_of(ENDING_PREFIX, term.chars().last().into_iter())
}

fn key_of(prefix: &str, chars: impl Iterator<Item = char>) -> String {
    let mut key = String::from(prefix);
    for c in chars {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            key.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                key.push('_');
                key.push_str(&crate::hex::encode(&[b]));
            }
        }
    }
    key
}

pub fn tag_key(slug: &str) -> String {
    format!("{TAG_PREFIX}{slug}")
}

pub fn doc_table_key(n: u32) -> String {
    format!("{DOC_PREFIX}{n}")
}

/// The doc table a post's number is in.
pub fn table_of(doc: u32) -> u32 {
    doc / DOCS_PER_TABLE
}

/// Every key a query's first read needs: the head, its terms' shards, its tags' lists.
/// Computed from the query alone, so they are read together.
pub fn keys_for(query: &Query) -> Vec<String> {
    let mut keys = vec![HEAD_KEY.to_string()];
    for term in &query.terms {
        let key = term_key(term);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.extend(query.tags.iter().map(|t| tag_key(t)));
    keys
}

/// The small record a query reads first: the collection's size and average length, each
/// post's quantised length, and the instants of the last posts, published after the sync
/// that wrote it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub docs: u32,
    pub avg_len: f32,
    /// Each post's weighted length as [`crate::search::quantise_len`]'s byte, in number
    /// order, base64 ([`Head::encode_lengths`]): a byte a post, 13 KB for 10,000.
    #[serde(default)]
    pub lengths: String,
    /// When each post scheduled at sync comes due, in order: they are the last numbers.
    #[serde(default)]
    pub scheduled: Vec<Timestamp>,
}

impl Head {
    pub fn encode_lengths(lengths: &[u8]) -> String {
        base64_encode(lengths)
    }

    /// Each post's quantised length, one a post the head counts.
    pub fn lengths(&self) -> Result<Vec<u8>, Corrupt> {
        let lengths = base64_decode(self.lengths.as_bytes())?;
        if lengths.len() != self.docs as usize {
            return Err(Corrupt(
                "lengths of another number of posts than the head's",
            ));
        }
        Ok(lengths)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            docs: self.docs,
            avg_len: self.avg_len,
        }
    }

    /// How many posts a query may find at `now`: the first ones, as numbers follow
    /// publication order and the scheduled posts are the last, each found from its minute.
    pub fn visible(&self, now: Timestamp) -> u32 {
        let pending = self.scheduled.iter().filter(|&&at| at > now).count() as u32;
        self.docs.saturating_sub(pending)
    }
}

/// One doc table: the slug and publication instant of each of its posts, in number order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocTable(pub Vec<(String, Timestamp)>);

impl DocTable {
    /// The post numbered `doc`, when this table (the one numbered `table_of(doc)`) has it.
    pub fn get(&self, doc: u32) -> Option<&(String, Timestamp)> {
        self.0.get((doc % DOCS_PER_TABLE) as usize)
    }
}

/// Why a stored piece could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt search piece: {}", self.0)
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A cursor over an encoded piece: every read checks its bounds.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Corrupt> {
        let b = *self.bytes.get(self.at).ok_or(Corrupt("cut short"))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(Corrupt("number too long"))
    }

    /// A term: its length in bytes, then its UTF-8.
    fn term(&mut self) -> Result<String, Corrupt> {
        let len = self.count(1)?;
        let term = std::str::from_utf8(&self.bytes[self.at..self.at + len])
            .map_err(|_| Corrupt("term not UTF-8"))?
            .to_string();
        self.at += len;
        Ok(term)
    }

    fn u32(&mut self) -> Result<u32, Corrupt> {
        u32::try_from(self.varint()?).map_err(|_| Corrupt("number too large"))
    }

    /// A count of items of at least `min_bytes` each: never more than the bytes left hold.
    fn count(&mut self, min_bytes: usize) -> Result<usize, Corrupt> {
        let n = self.varint()? as usize;
        if n.saturating_mul(min_bytes) > self.bytes.len() - self.at {
            return Err(Corrupt("count past the end"));
        }
        Ok(n)
    }

    fn start(&mut self, format: u8) -> Result<(), Corrupt> {
        if self.byte()? == format {
            Ok(())
        } else {
            Err(Corrupt("unknown format"))
        }
    }

    fn end(&self) -> Result<(), Corrupt> {
        (self.at == self.bytes.len())
            .then_some(())
            .ok_or(Corrupt("bytes after the end"))
    }
}

fn put_docs(out: &mut Vec<u8>, docs: impl ExactSizeIterator<Item = u32>) {
    put_varint(out, docs.len() as u64);
    let mut last = 0;
    for (i, doc) in docs.enumerate() {
        let delta = if i == 0 { doc } else { doc - last - 1 };
        put_varint(out, u64::from(delta));
        last = doc;
    }
}

/// A shard: terms in order, each with its postings in document order (doc numbers as
/// gaps, frequencies as varints; lengths are the head's, [`Head::lengths`]).
pub fn encode_shard<'a>(terms: impl IntoIterator<Item = (&'a str, &'a [Posting])>) -> String {
    let mut out = vec![SHARD_FORMAT];
    let terms: Vec<_> = terms.into_iter().collect();
    put_varint(&mut out, terms.len() as u64);
    for (term, postings) in terms {
        put_varint(&mut out, term.len() as u64);
        out.extend_from_slice(term.as_bytes());
        put_varint(&mut out, postings.len() as u64);
        let mut block = Vec::with_capacity(postings.len() * 2);
        let mut last = 0;
        for (i, p) in postings.iter().enumerate() {
            let delta = if i == 0 { p.doc } else { p.doc - last - 1 };
            put_varint(&mut block, u64::from(delta));
            put_varint(&mut block, u64::from(p.tf));
            last = p.doc;
        }
        // The block's size, so a query skips the terms it does not ask for unread.
        put_varint(&mut out, block.len() as u64);
        out.extend_from_slice(&block);
    }
    base64_encode(&out)
}

/// Reads a shard [`encode_shard`] wrote into `into`, each posting's length from `lengths`
/// (the head's); anything else, or a post `lengths` does not have, is [`Corrupt`].
pub fn decode_shard(
    text: &[u8],
    lengths: &[u8],
    into: &mut BTreeMap<String, Vec<Posting>>,
) -> Result<(), Corrupt> {
    decode_shard_where(text, |_| true, lengths, into)
}

/// [`decode_shard`] for the terms `wanted` keeps: the others' postings are skipped unread.
pub fn decode_shard_where(
    text: &[u8],
    wanted: impl Fn(&str) -> bool,
    lengths: &[u8],
    into: &mut BTreeMap<String, Vec<Posting>>,
) -> Result<(), Corrupt> {
    let bytes = base64_decode(text)?;
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    r.start(SHARD_FORMAT)?;
    let terms = r.count(2)?;
    for _ in 0..terms {
        let term = r.term()?;
        let n = r.count(2)?;
        let block = r.count(1)?;
        if block < n * 2 {
            return Err(Corrupt("postings shorter than their count"));
        }
        if !wanted(&term) {
            r.at += block;
            continue;
        }
        let block_end = r.at + block;
        let mut postings = Vec::with_capacity(n);
        let mut next = Some(0u32);
        for _ in 0..n {
            let doc = next
                .and_then(|next| next.checked_add(r.u32().ok()?))
                .ok_or(Corrupt("number too large"))?;
            let tf = r.u32()?;
            let len = *lengths
                .get(doc as usize)
                .ok_or(Corrupt("a post the head does not count"))?;
            postings.push(Posting { doc, tf, len });
            next = doc.checked_add(1);
        }
        if r.at != block_end {
            return Err(Corrupt("postings of another size than said"));
        }
        into.insert(term, postings);
    }
    r.end()
}

/// A list of post numbers, ascending.
pub fn encode_docs(docs: &[u32]) -> String {
    let mut out = vec![FORMAT];
    put_docs(&mut out, docs.iter().copied());
    base64_encode(&out)
}

/// Reads what [`encode_docs`] wrote.
pub fn decode_docs(text: &[u8]) -> Result<Vec<u32>, Corrupt> {
    let bytes = base64_decode(text)?;
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    r.start(FORMAT)?;
    let n = r.count(1)?;
    let mut docs = Vec::with_capacity(n);
    let mut next = Some(0u32);
    for _ in 0..n {
        let doc = next
            .and_then(|next| next.checked_add(r.u32().ok()?))
            .ok_or(Corrupt("number too large"))?;
        docs.push(doc);
        next = doc.checked_add(1);
    }
    r.end()?;
    Ok(docs)
}

/// One term of an endings piece: the term and the first post holding it, so a term only
/// scheduled posts hold is never suggested before they are out. Nothing else: an edit
/// rewrites a piece only when a term comes or goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub term: String,
    pub first_doc: u32,
}

/// An endings piece: its terms in order, each with its first post.
pub fn encode_endings<'a>(terms: impl IntoIterator<Item = &'a Ending>) -> String {
    let terms: Vec<&Ending> = terms.into_iter().collect();
    let mut out = vec![ENDINGS_FORMAT];
    put_varint(&mut out, terms.len() as u64);
    for e in terms {
        put_varint(&mut out, e.term.len() as u64);
        out.extend_from_slice(e.term.as_bytes());
        put_varint(&mut out, u64::from(e.first_doc));
    }
    base64_encode(&out)
}

/// Reads what [`encode_endings`] wrote; anything else is [`Corrupt`].
pub fn decode_endings(text: &[u8]) -> Result<Vec<Ending>, Corrupt> {
    let bytes = base64_decode(text)?;
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    r.start(ENDINGS_FORMAT)?;
    let n = r.count(2)?;
    let mut terms = Vec::with_capacity(n);
    for _ in 0..n {
        let term = r.term()?;
        let first_doc = r.u32()?;
        terms.push(Ending { term, first_doc });
    }
    r.end()?;
    Ok(terms)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64, without padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Each byte's value in [`BASE64`], or 255 for a byte that is not one of its letters.
const BASE64_VALUES: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut i = 0;
    while i < 64 {
        table[BASE64[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Reads [`base64_encode`]'s text (padding, if any, ignored).
pub fn base64_decode(text: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let text = text
        .strip_suffix(b"==")
        .or(text.strip_suffix(b"="))
        .unwrap_or(text);
    if text.len() % 4 == 1 {
        return Err(Corrupt("base64 length"));
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = BASE64_VALUES[c as usize];
            if v == 255 {
                return Err(Corrupt("not base64"));
            }
            n |= u32::from(v) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Ok(out)
}

/// What a search URL asks for: the query text (percent escapes decoded, `+` a space,
/// bytes that are not UTF-8 replaced, at most [`MAX_Q_BYTES`]) and the page (1 when the
/// parameter is missing or not a positive number; at most [`MAX_PAGE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub q: String,
    pub page: usize,
}

impl Params {
    /// From a query string, without its `?`.
    pub fn from_query(query: &str) -> Params {
        let mut params = Params {
            q: String::new(),
            page: 1,
        };
        let mut seen_q = false;
        let mut seen_page = false;
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "q" if !seen_q => {
                    seen_q = true;
                    params.q = decode_component(value, MAX_Q_BYTES);
                }
                "page" if !seen_page => {
                    seen_page = true;
                    params.page = page_number(&decode_component(value, 16));
                }
                _ => {}
            }
        }
        params
    }
}

fn page_number(text: &str) -> usize {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return 1;
    }
    let digits = text.trim_start_matches('0');
    if digits.len() > 6 {
        return MAX_PAGE;
    }
    digits.parse::<usize>().unwrap_or(0).clamp(1, MAX_PAGE)
}

/// A form-encoded value decoded: `+` a space, `%XX` its byte (a bad escape kept as
/// written), at most `max` bytes, then made UTF-8 (bytes that are not become U+FFFD).
fn decode_component(value: &str, max: usize) -> String {
    let raw = value.as_bytes();
    let mut out = Vec::with_capacity(raw.len().min(max));
    let mut i = 0;
    while i < raw.len() && out.len() < max {
        let b = raw[i];
        match b {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() && hex(raw[i + 1]).is_some() && hex(raw[i + 2]).is_some() => {
                out.push(hex(raw[i + 1]).unwrap_or(0) << 4 | hex(raw[i + 2]).unwrap_or(0));
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    // Cut within bounds at a character boundary (a replacement character is three bytes).
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A value for a URL's query string: letters, digits and `-._~` as they are, a space as
/// `+`, every other byte escaped.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The text of a post's HTML body, for snippets and phrases: tags dropped (a block's end
/// becomes a space), the entities the renderer writes decoded.
pub fn text_of_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut out, &rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        if tag.starts_with('/') || tag.starts_with("br") {
            let name = tag.trim_start_matches('/');
            const INLINE: [&str; 9] = [
                "a", "code", "em", "strong", "span", "mark", "del", "sup", "sub",
            ];
            if !INLINE.contains(&name) && !out.ends_with(' ') {
                out.push(' ');
            }
        }
        rest = &rest[lt + gt + 1..];
    }
    push_decoded(&mut out, rest);
    out
}

fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let entity = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&#39;", '\''),
            ("&apos;", '\''),
            ("&nbsp;", ' '),
        ]
        .into_iter()
        .find(|(name, _)| after.starts_with(name));
        match entity {
            Some((name, c)) => {
                out.push(c);
                rest = &after[name.len()..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{self, Document};

    fn posting(doc: u32, tf: u32, len: u8) -> Posting {
        Posting { doc, tf, len }
    }

    #[test]
    fn a_shard_reads_back_what_was_written_with_the_heads_lengths() {
        let lengths: Vec<u8> = (0..400u32).map(|d| (d * 7 % 256) as u8).collect();
        let at = |doc: u32, tf: u32| posting(doc, tf, lengths[doc as usize]);
        let a = vec![at(0, 10), at(7, 2), at(399, 70_000)];
        let b = vec![at(255, 1)];
        let text = encode_shard([("build", a.as_slice()), ("buildkit", b.as_slice())]);
        assert!(text.bytes().all(|c| BASE64.contains(&c)), "{text}");
        let mut read = BTreeMap::new();
        decode_shard(text.as_bytes(), &lengths, &mut read).unwrap();
        assert_eq!(read["build"], a);
        assert_eq!(read["buildkit"], b);
        let mut some = BTreeMap::new();
        decode_shard_where(text.as_bytes(), |t| t == "buildkit", &lengths, &mut some).unwrap();
        assert_eq!(
            some.keys().collect::<Vec<_>>(),
            ["buildkit"],
            "the other term skipped"
        );
        let mut empty = BTreeMap::new();
        decode_shard(encode_shard([]).as_bytes(), &[], &mut empty).unwrap();
        assert!(empty.is_empty());
        // The length is not in the shard: the same postings with other lengths encode alike.
        let other = vec![posting(0, 10, 1), posting(7, 2, 1), posting(399, 70_000, 1)];
        assert_eq!(
            encode_shard([("build", other.as_slice()), ("buildkit", b.as_slice())]),
            text
        );
        // A post past the head's lengths is refused, not read with a made-up length.
        let mut into = BTreeMap::new();
        assert!(decode_shard(text.as_bytes(), &lengths[..399], &mut into).is_err());
    }

    #[test]
    fn the_heads_lengths_are_one_byte_a_post() {
        let mut head = Head {
            docs: 3,
            lengths: Head::encode_lengths(&[1, 200, 255]),
            ..Head::default()
        };
        assert_eq!(head.lengths().unwrap(), [1, 200, 255]);
        head.docs = 4;
        assert!(head.lengths().is_err(), "a post without a length");
        head.lengths = "!!".to_string();
        assert!(head.lengths().is_err());
    }

    #[test]
    fn doc_lists_read_back_and_base64_round_trips_every_length() {
        for docs in [vec![], vec![0], vec![0, 1, 2, 900, 901, u32::MAX]] {
            assert_eq!(decode_docs(encode_docs(&docs).as_bytes()).unwrap(), docs);
        }
        for n in 0..10u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(97)).collect();
            assert_eq!(
                base64_decode(base64_encode(&bytes).as_bytes()).unwrap(),
                bytes
            );
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_decode(b"TWE=").unwrap(), b"Ma");
    }

    #[test]
    fn a_damaged_piece_is_refused_not_misread() {
        let good = encode_shard([("go", [posting(1, 2, 3)].as_slice())]);
        let lengths = [3u8; 4];
        for bad in [
            String::new(),
            "!!!!".to_string(),
            "A".to_string(),
            good[..good.len() - 2].to_string(),
            format!("{good}AAAA"),
            base64_encode(&[3, 0]),
            base64_encode(&[2, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            base64_encode(&[2, 1, 2, 0xff, 0xfe, 1, 0, 0, 0]),
            // u32::MAX, then one more post: there is no number after it.
            base64_encode(&[2, 1, 1, b'x', 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0, 1]),
            // A post the head has no length for.
            base64_encode(&[2, 1, 2, b'g', b'o', 1, 2, 9, 2]),
        ] {
            let mut into = BTreeMap::new();
            assert!(
                decode_shard(bad.as_bytes(), &lengths, &mut into).is_err(),
                "{bad:?}"
            );
            assert!(
                decode_docs(bad.as_bytes()).is_err() || bad == good,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn endings_read_back_and_are_named_by_their_last_character() {
        let terms = [
            Ending {
                term: "distroless".into(),
                first_doc: 3,
            },
            Ending {
                term: "ça".into(),
                first_doc: u32::MAX,
            },
        ];
        let text = encode_endings(&terms);
        assert_eq!(decode_endings(text.as_bytes()).unwrap(), terms);
        assert!(decode_endings(encode_endings(&[]).as_bytes())
            .unwrap()
            .is_empty());
        for bad in [&text[..text.len() - 2], "!!", ""] {
            assert!(decode_endings(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(ending_key("distroless"), "search/e/s");
        assert_eq!(ending_key("ça"), "search/e/a");
        assert_eq!(ending_key("café"), "search/e/_c3_a9");
        assert_eq!(ending_key("x"), "search/e/x");
    }

    #[test]
    fn a_terms_shard_is_named_by_its_first_two_characters() {
        assert_eq!(term_key("buildkit"), "search/t/bu");
        assert_eq!(term_key("b"), "search/t/b");
        assert_eq!(term_key("0x"), "search/t/0x");
        assert_eq!(term_key("ça"), "search/t/_c3_a7a");
        assert_eq!(term_key("cgo_enabled"), "search/t/cg");
        let q = Query::parse("build builds buildkit tag:rust");
        assert_eq!(
            keys_for(&q),
            ["search/head", "search/t/bu", "search/g/rust"]
        );
        // A term and every term it begins live in one shard.
        for (a, b) in [("bui", "buildkit"), ("go", "golang")] {
            assert_eq!(term_key(a), term_key(b));
        }
    }

    #[test]
    fn scheduled_posts_are_found_from_their_minute_only() {
        let head = Head {
            docs: 5,
            avg_len: 10.0,
            scheduled: vec![1_000, 2_000],
            ..Head::default()
        };
        assert_eq!(head.visible(999), 3);
        assert_eq!(head.visible(1_000), 4);
        assert_eq!(head.visible(2_000), 5);
        // The last two documents are the scheduled ones: a query finds them only then.
        let docs: Vec<Document> = [
            "rust one",
            "rust two",
            "rust three",
            "rust four",
            "rust five",
        ]
        .iter()
        .map(|t| Document {
            title: t.to_string(),
            ..Document::default()
        })
        .collect();
        let index = search::index(&docs);
        let found = |now| {
            let mut docs: Vec<u32> = search::answer(
                &Query::parse("rust"),
                &index.terms,
                &[],
                index.stats(),
                head.visible(now),
            )
            .into_iter()
            .map(|(d, _)| d)
            .collect();
            docs.sort();
            docs
        };
        assert_eq!(found(500), [0, 1, 2]);
        assert_eq!(found(1_500), [0, 1, 2, 3]);
        let q = Query::parse("four");
        assert!(search::answer(&q, &index.terms, &[], index.stats(), head.visible(500)).is_empty());
        assert_eq!(
            search::did_you_mean(&Query::parse("fours"), &index.terms, head.visible(500)),
            None,
            "a scheduled post's words are never suggested before its time"
        );
        assert!(
            search::did_you_mean(&Query::parse("fourr"), &index.terms, head.visible(1_000))
                .is_some()
        );
    }

    #[test]
    fn the_url_gives_a_bounded_query_and_a_sane_page() {
        let p = Params::from_query("q=BuildKit+%22unix+socket%22&page=2");
        assert_eq!((p.q.as_str(), p.page), ("BuildKit \"unix socket\"", 2));
        for (query, page) in [
            ("q=x&page=-1", 1),
            ("q=x&page=0", 1),
            ("q=x&page=abc", 1),
            ("q=x&page=", 1),
            ("q=x&page=99999999999999999999", MAX_PAGE),
            ("q=x&page=%32", 2),
            ("page=3&page=4", 3),
        ] {
            assert_eq!(Params::from_query(query).page, page, "{query}");
        }
        let bad = Params::from_query("q=%ff%fe%zz%4");
        assert_eq!(bad.q, "\u{fffd}\u{fffd}%zz%4");
        let huge = Params::from_query(&format!("q={}", "%41".repeat(16 * 1024)));
        assert_eq!(huge.q.len(), MAX_Q_BYTES);
        let split = Params::from_query(&format!("q={}%C3%A9", "a".repeat(MAX_Q_BYTES - 1)));
        assert!(split.q.len() <= MAX_Q_BYTES);
        assert_eq!(Params::from_query("").q, "");
        assert_eq!(encode_component("a b&c/é"), "a+b%26c%2F%C3%A9");
        assert_eq!(
            Params::from_query(&format!("q={}", encode_component("a b&c/é"))).q,
            "a b&c/é"
        );
    }

    #[test]
    fn a_body_as_text_drops_tags_and_decodes_entities() {
        let text = text_of_html(
            "<h2 id=\"x\">Set <code>CGO_ENABLED</code></h2><p>Run &amp; see &lt;b&gt;.</p><pre><code><span class=\"k\">go</span> build</code></pre>",
        );
        assert_eq!(text, "Set CGO_ENABLED Run & see <b>. go build ");
    }
}
