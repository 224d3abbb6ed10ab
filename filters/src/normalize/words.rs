//! The word steps of full normalization: cut words, join spaced letters, read leetspeak, map
//! confusables, and write the words separated by one space.
//!
//! A word is a run of letters, digits and combining marks; `@` and `$` belong to a word when
//! they follow one of its characters (`gr@ss`, `a$$`) and are separators otherwise (`$TON`,
//! `@channel`). Everything else separates words and is not written out.

use super::confusables::skeleton;
use std::ops::Range;

/// Appends the words of `text` (diacritics already stripped), normalized, to `out`.
pub(super) fn rewrite(text: &str, out: &mut String) {
    // Separators are not looked at: the output keeps only one space between words, so a
    // join decided on separators would be decided differently on the output (not idempotent).
    let words: Vec<&str> = tokenize(text).into_iter().map(|r| &text[r]).collect();
    let mut i = 0;
    while i < words.len() {
        let run = single_run(&words[i..]);
        if run > 0 {
            let joined: String = words[i..i + run]
                .iter()
                .flat_map(|w| w.split(is_mask))
                .collect();
            write_plain(&joined, out);
            i += run;
        } else {
            write_word(words[i], out);
            i += 1;
        }
    }
}

/// `char::is_alphabetic` with the common cases first (the general one is a table search).
#[inline]
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        ('\u{410}'..='\u{44F}').contains(&c) || c.is_alphabetic()
    }
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    ('\u{410}'..='\u{44F}').contains(&c)
        || c.is_alphanumeric()
        || unicode_normalization::char::is_combining_mark(c)
}

/// Characters that stand for hidden letters inside a word: `по%уй`, `х*й`, `нае...ли`.
fn is_mask(c: char) -> bool {
    matches!(c, '*' | '%' | '…' | '.')
}

/// Length in bytes of the mask run at the start of `rest` when it hides letters: followed by a
/// word character, and made of `*`, `%` or `…`, or of two dots or more (one dot is a full stop,
/// an abbreviation or a domain: `т.е.`, `example.kz`).
fn mask_run(rest: &str) -> Option<usize> {
    let len: usize = rest
        .chars()
        .take_while(|&c| is_mask(c))
        .map(char::len_utf8)
        .sum();
    let run = &rest[..len];
    let hides = run.contains(['*', '%', '…']) || run.len() >= 2;
    let followed = rest[len..].chars().next().is_some_and(is_word_char);
    (len > 0 && hides && followed).then_some(len)
}

/// Byte ranges of the words of `text`. A mask run between a letter and a word character is
/// part of the word (`50%off` is a number and a word).
fn tokenize(text: &str) -> Vec<Range<usize>> {
    let mut tokens = Vec::new();
    let mut start = None;
    let mut skip_to = 0;
    let mut after_letter = false;
    for (i, c) in text.char_indices() {
        if i < skip_to {
            continue;
        }
        if after_letter
            && is_mask(c)
            && let Some(len) = mask_run(&text[i..])
        {
            skip_to = i + len;
            continue;
        }
        let inside = is_word_char(c) || (start.is_some() && matches!(c, '@' | '$'));
        after_letter = inside && is_letter(c);
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                tokens.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(s..text.len());
    }
    tokens
}

/// Digits read as letters when they stand alone among spaced letters.
fn is_leet_digit(c: char) -> bool {
    matches!(c, '0' | '1' | '3' | '4' | '5' | '7')
}

/// How many of the leading `words` form a run of spaced single letters worth joining: at
/// least three one-character pieces (a word like `u*g` gives two), at least two of them
/// letters, more letters than digits. Returns 0 when they do not.
fn single_run(words: &[&str]) -> usize {
    let (mut len, mut letters, mut digits) = (0, 0, 0);
    'words: for word in words {
        let (mut l, mut d) = (0, 0);
        for piece in word.split(is_mask).filter(|p| !p.is_empty()) {
            // A number is written without its `@ $` (see `write_plain`): `3$` is one digit.
            let number = !piece.chars().any(is_letter);
            let mut chars = piece
                .chars()
                .filter(|&c| !(number && matches!(c, '@' | '$')));
            match (chars.next(), chars.next()) {
                (Some(c), None) if is_letter(c) => l += 1,
                (Some(c), None) if is_leet_digit(c) => d += 1,
                _ => break 'words,
            }
        }
        letters += l;
        digits += d;
        len += 1;
    }
    if letters + digits >= 3 && letters >= 2 && letters > digits {
        len
    } else {
        0
    }
}

/// Leetspeak in a mostly Latin word.
fn leet_latin(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '@' => 'a',
        '$' => 's',
        _ => return None,
    })
}

/// Leetspeak in a mostly Cyrillic word (`3а` = `за`, `4то` = `что`, `6ыл` = `был`); digits
/// with no Cyrillic reading fall back to the Latin one, so that no leet digit survives in a
/// word (which keeps normalization idempotent once the skeleton makes the word Latin).
fn leet_cyrillic(c: char) -> Option<char> {
    match c {
        '0' => Some('о'),
        '3' => Some('з'),
        '4' => Some('ч'),
        '6' => Some('б'),
        '@' => Some('а'),
        '$' => Some('с'),
        _ => leet_latin(c),
    }
}

fn is_cyrillic(c: char) -> bool {
    ('\u{400}'..='\u{52F}').contains(&c)
}

/// Writes one word; a masked word keeps one `*` per mask run (`х*й`).
fn write_word(word: &str, out: &mut String) {
    if !word.contains(is_mask) {
        return write_plain(word, out);
    }
    let pieces: Vec<&str> = word.split(is_mask).filter(|p| !p.is_empty()).collect();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push('*');
        }
        let before = out.len();
        write_plain(piece, out);
        // Keep the pieces of one word together: no space after a mask.
        if i > 0 && out[before..].starts_with(' ') {
            out.remove(before);
        }
    }
}

/// Writes one unmasked word: a number as is, a word with letters with its leetspeak read and
/// its letters mapped to their skeleton; runs of 3+ digits inside a word stay digits.
fn write_plain(word: &str, out: &mut String) {
    let (mut cyrillic, mut other) = (0usize, 0usize);
    for c in word.chars().filter(|&c| is_letter(c)) {
        if is_cyrillic(c) {
            cyrillic += 1;
        } else {
            other += 1;
        }
    }
    if cyrillic + other == 0 {
        // A number (or digits in other scripts): keep its digits, drop `@` and `$`.
        let digits = word.chars().filter(|&c| !matches!(c, '@' | '$'));
        start_word(out);
        out.extend(digits);
        return;
    }
    let leet = if cyrillic > other {
        leet_cyrillic
    } else {
        leet_latin
    };
    start_word(out);
    let mut rest = word;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let run = rest.bytes().take_while(u8::is_ascii_digit).count();
            let digits = &rest[..run];
            if run >= 3 {
                // A number glued to letters (`1500тг`) stays a number, and glued: cutting it
                // off could leave one-letter words that the next pass would join.
                out.push_str(digits);
            } else {
                out.extend(digits.chars().map(|d| leet(d).map_or(d, skeleton)));
            }
            rest = &rest[run..];
            continue;
        }
        out.push(match leet(c) {
            Some(l) => skeleton(l),
            None => skeleton(c),
        });
        rest = &rest[c.len_utf8()..];
    }
}

/// Puts one space before a new word unless `out` is empty or already ends in one.
fn start_word(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> String {
        let mut out = String::new();
        rewrite(text, &mut out);
        out
    }

    #[test]
    fn words_are_separated_by_one_space() {
        assert_eq!(words("  hello,   world!! "), "hello world");
        assert_eq!(words(""), "");
        assert_eq!(words("¡!"), "");
    }

    #[test]
    fn at_and_dollar_are_leet_only_after_a_letter() {
        assert_eq!(words("gr@ss a$$"), "grass ass");
        assert_eq!(words("$ton @chan"), "ton chan");
        assert_eq!(words("5$"), "5");
    }

    #[test]
    fn masks_inside_words_stay_one_word() {
        assert_eq!(words("по%уй"), words("по*уй"));
        assert_eq!(words("х*й бл**ть нае...ли"), "x*й бл*tь hae*ли");
        assert_eq!(words("d*r*u*g*s"), "drugs");
        assert_eq!(
            words("т.е. example.kz 50%off конец."),
            "t e example kz 50 off koheц"
        );
        assert_eq!(words("*звезда* **"), "зbeздa");
    }

    #[test]
    fn long_digit_runs_in_words_stay_digits() {
        assert_eq!(words("1500тенге"), "1500tehre");
        assert_eq!(words("a1500b h4x"), "a1500b hax");
    }
}
