//! Streaming, bounded line reading with line numbers and byte offsets.
//!
//! A line is never held whole in memory beyond [`MAX_LINE_BYTES`]: the rest of an oversized
//! line is skipped as it streams by, and the line comes out as [`Line::Oversized`] with its
//! head, so that a 10 GB file without newlines cannot exhaust memory.

use crate::post::MAX_LINE_BYTES;
use std::io::{self, BufRead};

/// Bytes of an oversized line kept for the rejected-lines file.
pub const OVERSIZED_HEAD_BYTES: usize = 4096;

/// One input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line within the size limit, without its newline (and without a trailing `\r`).
    Data {
        /// 1-based line number.
        number: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A line over the limit: its length and first bytes.
    Oversized {
        /// 1-based line number.
        number: u64,
        /// Full length in bytes.
        len: u64,
        /// First [`OVERSIZED_HEAD_BYTES`] bytes.
        head: Vec<u8>,
    },
}

/// Reads lines from a `BufRead`, tracking line numbers and the byte offset after each line.
pub struct LineReader<R> {
    inner: R,
    number: u64,
    offset: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Starts reading at line `first_line` (1-based), `offset` bytes into the source (only
    /// used for reporting offsets; the caller has already positioned `inner`).
    pub fn new(inner: R, first_line: u64, offset: u64) -> LineReader<R> {
        LineReader {
            inner,
            number: first_line.saturating_sub(1),
            offset,
        }
    }

    /// Byte offset just past the last line returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of the last line returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.number
    }

    /// The next line, `None` at end of input. Blank lines are returned too (the caller skips
    /// them) so that line numbers stay true.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut bytes = Vec::new();
        let mut len: u64 = 0;
        let mut oversized = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if len == 0 {
                    return Ok(None);
                }
                break;
            }
            let (chunk, found) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..i], Some(i)),
                None => (buf, None),
            };
            if !oversized {
                let room = (MAX_LINE_BYTES + 1).saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            if !oversized && bytes.len() > MAX_LINE_BYTES {
                oversized = true;
                bytes.truncate(OVERSIZED_HEAD_BYTES);
                bytes.shrink_to_fit();
            }
            len += chunk.len() as u64;
            let consumed = found.map_or(buf.len(), |i| i + 1);
            self.inner.consume(consumed);
            self.offset += consumed as u64;
            if found.is_some() {
                break;
            }
        }
        self.number += 1;
        if oversized {
            return Ok(Some(Line::Oversized {
                number: self.number,
                len,
                head: bytes,
            }));
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Ok(Some(Line::Data {
            number: self.number,
            bytes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<Line> {
        let mut r = LineReader::new(io::BufReader::with_capacity(7, input), 1, 0);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l);
        }
        assert_eq!(r.offset(), input.len() as u64);
        out
    }

    fn data(number: u64, s: &str) -> Line {
        Line::Data {
            number,
            bytes: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn numbers_lines_and_strips_crlf() {
        assert_eq!(
            all(b"a\r\n\nbcdefghijk\nlast"),
            vec![
                data(1, "a"),
                data(2, ""),
                data(3, "bcdefghijk"),
                data(4, "last")
            ]
        );
        assert!(all(b"").is_empty());
    }

    #[test]
    fn oversized_line_is_cut_and_the_next_line_survives() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nok\n");
        let lines = all(&input);
        assert_eq!(lines.len(), 2);
        match &lines[0] {
            Line::Oversized { number, len, head } => {
                assert_eq!((*number, *len), (1, MAX_LINE_BYTES as u64 + 10));
                assert_eq!(head.len(), OVERSIZED_HEAD_BYTES);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(lines[1], data(2, "ok"));
    }

    #[test]
    fn resumes_numbering() {
        let mut r = LineReader::new(io::BufReader::new(&b"z\n"[..]), 41, 100);
        assert_eq!(r.next_line().unwrap(), Some(data(41, "z")));
        assert_eq!(r.offset(), 102);
    }
}
