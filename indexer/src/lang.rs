//! Language detection. (Interface skeleton: the implementation is being written.)

/// Languages with their own analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// Russian
    Ru,
    /// Ukrainian
    Uk,
    /// Kazakh
    Kk,
    /// English
    En,
    /// German
    De,
    /// French
    Fr,
    /// Spanish
    Es,
    /// Turkish
    Tr,
    /// Persian
    Fa,
    /// Arabic
    Ar,
    /// Chinese
    Zh,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 11] = [
        Lang::Ru,
        Lang::Uk,
        Lang::Kk,
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::Tr,
        Lang::Fa,
        Lang::Ar,
        Lang::Zh,
    ];

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Uk => "uk",
            Lang::Kk => "kk",
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Tr => "tr",
            Lang::Fa => "fa",
            Lang::Ar => "ar",
            Lang::Zh => "zh",
        }
    }

    /// From an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// Result of detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// ISO 639-1 code, or "und" when unknown.
    pub code: &'static str,
    /// The supported language, when it is one.
    pub lang: Option<Lang>,
}

/// Detects the language of post text.
#[derive(Debug, Default)]
pub struct LangDetector {}

impl LangDetector {
    /// A detector for the supported languages.
    pub fn new() -> LangDetector {
        LangDetector {}
    }

    /// Detects the language of `text`; `prior` is the channel's usual language, if known.
    pub fn detect(&self, _text: &str, prior: Option<Lang>) -> Detected {
        match prior {
            Some(l) => Detected {
                code: l.code(),
                lang: Some(l),
            },
            None => Detected {
                code: "und",
                lang: None,
            },
        }
    }
}

/// Per-channel language statistics, used as a prior for short or ambiguous posts.
#[derive(Debug, Default)]
pub struct ChannelPriors {}

impl ChannelPriors {
    /// Records one detection for a channel.
    pub fn observe(&mut self, _channel_id: u64, _detected: Detected) {}

    /// The channel's dominant language, once it is established.
    pub fn prior(&self, _channel_id: u64) -> Option<Lang> {
        None
    }
}
