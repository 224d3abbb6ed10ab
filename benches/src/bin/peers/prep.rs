//! The shared inputs of the peer engines: posts as TSV with their language, and the queries.

use indexer::lang::{ChannelPriors, LangDetector};
use indexer::post::{Op, parse_line};
use std::io::{BufRead, Write};
use std::path::Path;

/// Writes `out/posts.tsv` (`id`, language code, text in PostgreSQL's COPY text escaping) and
/// `out/queries.txt` (one query a line). The language is the post's own `lang` or the one
/// chansearch's detector gives it (with the same per-channel priors as `indexer ingest`), so
/// the peers get chansearch's language identification for free: their indexing time does not
/// include it.
pub fn run(corpus: &Path, out: &Path, queries: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let detector = LangDetector::new();
    let mut priors = ChannelPriors::default();
    let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(corpus)?);
    let tsv = out.join("posts.tsv");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tsv)?);
    let mut posts = 0u64;
    for line in input.split(b'\n') {
        let Ok(Op::Upsert(post)) = parse_line(&line?) else {
            continue;
        };
        let lang = match post.lang.as_deref() {
            Some(code) => code.to_string(),
            None => {
                let d = detector.detect(&post.text, priors.prior(post.channel_id));
                priors.observe(post.channel_id, d);
                d.code.to_string()
            }
        };
        posts += 1;
        write!(w, "{posts}\t{lang}\t")?;
        write_escaped(&mut w, &post.text)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    // One post in `one_in` of the first 200k gives about twice the queries asked for (some
    // posts have too few words); at 1M posts this is search_latency's query set.
    let sampled = posts.min(200_000);
    let one_in = (sampled / (2 * queries.max(1) as u64)).clamp(1, 200) as u32;
    let qs = benches::queries::from_corpus(corpus, queries, one_in)?;
    std::fs::write(out.join("queries.txt"), qs.join("\n") + "\n")?;
    eprintln!(
        "prep: {posts} posts to {}, {} queries",
        tsv.display(),
        qs.len()
    );
    Ok(())
}

/// PostgreSQL COPY text format: backslash, tab, newline and carriage return escaped; NUL
/// (which no PostgreSQL text may hold) dropped.
fn write_escaped(w: &mut impl Write, text: &str) -> std::io::Result<()> {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 => b"",
            _ => continue,
        };
        w.write_all(&text.as_bytes()[start..i])?;
        w.write_all(esc)?;
        start = i + 1;
    }
    w.write_all(&text.as_bytes()[start..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_for_copy() {
        let mut out = Vec::new();
        super::write_escaped(&mut out, "a\tb\nc\\d\r\0e").unwrap();
        assert_eq!(out, b"a\\tb\\nc\\\\d\\re");
    }
}
