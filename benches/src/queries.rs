//! Query sets drawn from a corpus's own posts, so that every engine is asked about words the
//! corpus really holds (in its languages' real proportions).

use rand::{RngExt, SeedableRng};
use std::io::BufRead;
use std::path::Path;

/// Up to `n` queries, alternately one word and two adjacent words of a post, taken from the
/// first 200,000 lines of `corpus`, one post in `one_in` (seed 7, so the same corpus always
/// gives the same queries). Words have at least 4 characters, all letters. When `n` is more
/// than those lines can give at `one_in` (about 200,000 / `one_in`), posts are drawn more
/// often, so that asking for 4,000 queries gives about 4,000, not 1,000.
pub fn from_corpus(corpus: &Path, n: usize, one_in: u32) -> anyhow::Result<Vec<String>> {
    const LINES: usize = 200_000;
    let enough = u32::try_from(LINES / n.max(1) / 2)
        .unwrap_or(u32::MAX)
        .max(1);
    let one_in = one_in.min(enough);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut out = Vec::new();
    let file = std::io::BufReader::new(std::fs::File::open(corpus)?);
    for line in file.lines().take(LINES) {
        if out.len() >= n {
            break;
        }
        let line = line?;
        if rng.random_range(0..one_in.max(1)) != 0 {
            continue;
        }
        let Ok(indexer::post::Op::Upsert(p)) = indexer::post::parse_line(line.as_bytes()) else {
            continue;
        };
        let words: Vec<&str> = p
            .text
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
            .collect();
        if words.len() < 2 {
            continue;
        }
        let i = rng.random_range(0..words.len() - 1);
        out.push(if out.len() % 2 == 0 {
            words[i].to_string()
        } else {
            format!("{} {}", words[i], words[i + 1])
        });
    }
    Ok(out)
}
