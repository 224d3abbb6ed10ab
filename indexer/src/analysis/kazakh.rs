//! Kazakh light stemmer. (Skeleton: the implementation is being written.)

/// Stems a lowercased Kazakh word.
pub fn stem(word: &str) -> &str {
    word
}
