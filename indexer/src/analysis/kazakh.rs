//! Kazakh light stemmer: strips the common inflectional suffixes of nouns so that a query in
//! one form finds the others (`кітап`, `кітаптар`, `кітаптардың`, `кітапқа` share a stem).
//!
//! Neither Tantivy, rust-stemmers nor Snowball has a Kazakh stemmer, so this one is ours. It
//! is deliberately light and conservative: a missed conflation costs some recall, a wrong one
//! (`бала` "child" with `бал` "honey") puts unrelated posts in the results.
//!
//! A Kazakh noun is a stem followed by at most a plural, a possessive and a case suffix, in
//! that order (`кітап-тар-ымыз-дың` "of our books"). [`stem`] strips them from the end, each
//! kind at most once: case, then possessive, then plural. What keeps it conservative:
//! - a suffix is stripped only after the sounds it follows: Kazakh picks a suffix's first
//!   consonant by the sound before it (`қала-ның` after a vowel, `жол-дың` after a sonorant,
//!   `кітап-тың` after a voiceless consonant), so a `-тың` after a vowel is not one;
//! - case forms that only follow a possessive (`-нда`, `-нан`, `-на`, `-н`, `-а`) are
//!   stripped only together with that possessive (`қала-сы-нда`, `кітаб-ым-а`);
//! - the bare possessives `-м`, `-ң` are never stripped (`адам`, `қалам` are roots), and the
//!   short vowel-initial ones (`-ы`, `-ым`, `-ың` ...) only from longer words (`қазы`,
//!   `қалың` are roots);
//! - a stem keeps at least [`MIN_STEM_CHARS`] letters and a vowel: `үйдің` stays whole
//!   rather than becoming `үй`, and `отан` does not lose `-тан`;
//! - `-стан` names (`Қазақстан`) keep their `-тан`, which is not an ablative there.
//!
//! Not handled: verb forms; the consonant alternation before vowel suffixes (`кітап`,
//! `кітабы`), which would need a stem that is not a prefix of the word; vowel harmony (both
//! variants of a suffix are accepted after any stem).

/// Shortest stem left, in letters.
pub const MIN_STEM_CHARS: usize = 3;

/// Shortest stem left by a short vowel-initial possessive (`-ы`, `-ым`, `-ың` ...): in short
/// words those letters are more often part of the root (`қазы`, `алты`, `қалың`).
pub const MIN_STEM_CHARS_SHORT_POSSESSIVE: usize = 4;

const VOWELS: &str = "аәеёиоөуұүыіэюя";

/// Voiceless consonants, and the voiced ones that end loanwords devoiced (`клуб-тың`).
const VOICELESS: &str = "пкқтсшфхцчщбвгд";

/// The sounds a suffix may follow: a vowel, and/or some consonants.
#[derive(Debug, Clone, Copy)]
struct After {
    vowel: bool,
    consonants: &'static str,
}

const VOWEL: After = After {
    vowel: true,
    consonants: "",
};
const VOWEL_OR_NASAL: After = After {
    vowel: true,
    consonants: "мнң",
};
const VOWEL_OR_VOICED: After = After {
    vowel: true,
    consonants: "лрйуимнңжз",
};
const VOWEL_OR_VOICED_ORAL: After = After {
    vowel: true,
    consonants: "лрйуижз",
};
const VOWEL_OR_SONORANT: After = After {
    vowel: true,
    consonants: "лрйуимнң",
};
const VOWEL_OR_GLIDE: After = After {
    vowel: true,
    consonants: "рйуи",
};
const VOICED: After = After {
    vowel: false,
    consonants: "лрйуимнңжз",
};
const VOICED_ORAL: After = After {
    vowel: false,
    consonants: "лрйуижз",
};
const LIQUID_NASAL_SIBILANT: After = After {
    vowel: false,
    consonants: "лмнңжз",
};
const NASAL: After = After {
    vowel: false,
    consonants: "мнң",
};
const SIBILANT: After = After {
    vowel: false,
    consonants: "жз",
};
const VOICELESS_ONLY: After = After {
    vowel: false,
    consonants: VOICELESS,
};
/// Voiceless but `с`: a `-тан` after `с` is the `-стан` of names (`Қазақстан`).
const VOICELESS_BUT_S: After = After {
    vowel: false,
    consonants: "пкқтшфхцчщбвгд",
};
const CONSONANT: After = After {
    vowel: false,
    consonants: "бвгғджзйклмнңпрстуфхһцчшщ",
};

/// Case suffixes with the sounds they follow, longest first.
const CASES: &[(&str, After)] = &[
    // Genitive.
    ("ның", VOWEL_OR_NASAL),
    ("нің", VOWEL_OR_NASAL),
    ("дың", VOICED_ORAL),
    ("дің", VOICED_ORAL),
    ("тың", VOICELESS_ONLY),
    ("тің", VOICELESS_ONLY),
    // Ablative.
    ("дан", VOWEL_OR_VOICED_ORAL),
    ("ден", VOWEL_OR_VOICED_ORAL),
    ("нан", NASAL),
    ("нен", NASAL),
    ("тан", VOICELESS_BUT_S),
    ("тен", VOICELESS_ONLY),
    // Instrumental.
    ("мен", VOWEL_OR_SONORANT),
    ("бен", SIBILANT),
    ("пен", VOICELESS_ONLY),
    // Locative.
    ("да", VOWEL_OR_VOICED),
    ("де", VOWEL_OR_VOICED),
    ("та", VOICELESS_ONLY),
    ("те", VOICELESS_ONLY),
    // Dative.
    ("ға", VOWEL_OR_VOICED),
    ("ге", VOWEL_OR_VOICED),
    ("қа", VOICELESS_ONLY),
    ("ке", VOICELESS_ONLY),
    // Accusative.
    ("ны", VOWEL),
    ("ні", VOWEL),
    ("ды", VOICED),
    ("ді", VOICED),
    ("ты", VOICELESS_ONLY),
    ("ті", VOICELESS_ONLY),
];

/// Third person possessives.
const POSSESSIVE_3: &[(&str, After)] = &[
    ("сы", VOWEL),
    ("сі", VOWEL),
    ("ы", CONSONANT),
    ("і", CONSONANT),
];

/// Third person possessives after a vowel only: the accusative `-н` also ends roots in
/// `-ын` (`тұрғын`, `ақын`), so it is taken only in `-сын`.
const POSSESSIVE_3_AFTER_VOWEL: &[(&str, After)] = &[("сы", VOWEL), ("сі", VOWEL)];

/// First and second person singular possessives before a dative `-а`, `-е`. Not the bare
/// `-м`, `-ң`: `-ма`, `-ме` end too many loanwords (`система`, `схема`).
const POSSESSIVE_1_2: &[(&str, After)] = &[
    ("ым", CONSONANT),
    ("ім", CONSONANT),
    ("ың", CONSONANT),
    ("ің", CONSONANT),
];

/// Case forms that only follow a possessive, with the possessives they follow.
const CASES_AFTER_POSSESSIVE: &[(&str, &[(&str, After)])] = &[
    ("нда", POSSESSIVE_3),
    ("нде", POSSESSIVE_3),
    ("нан", POSSESSIVE_3),
    ("нен", POSSESSIVE_3),
    ("на", POSSESSIVE_3),
    ("не", POSSESSIVE_3),
    ("н", POSSESSIVE_3_AFTER_VOWEL),
    ("а", POSSESSIVE_1_2),
    ("е", POSSESSIVE_1_2),
];

/// Possessive suffixes on their own, longest first. The bare `-м`, `-ң` are not here: too
/// many roots end in them (`адам`, `қалам`).
const POSSESSIVES: &[(&str, After)] = &[
    ("ымыз", CONSONANT),
    ("іміз", CONSONANT),
    ("ыңыз", CONSONANT),
    ("іңіз", CONSONANT),
    ("мыз", VOWEL),
    ("міз", VOWEL),
    ("ңыз", VOWEL),
    ("ңіз", VOWEL),
    ("ым", CONSONANT),
    ("ім", CONSONANT),
    ("ың", CONSONANT),
    ("ің", CONSONANT),
    ("сы", VOWEL),
    ("сі", VOWEL),
    ("ы", CONSONANT),
    ("і", CONSONANT),
];

const PLURALS: &[(&str, After)] = &[
    ("лар", VOWEL_OR_GLIDE),
    ("лер", VOWEL_OR_GLIDE),
    ("дар", LIQUID_NASAL_SIBILANT),
    ("дер", LIQUID_NASAL_SIBILANT),
    ("тар", VOICELESS_ONLY),
    ("тер", VOICELESS_ONLY),
];

/// Stems a lowercased Kazakh word.
pub fn stem(word: &str) -> &str {
    let mut stem = word;
    let mut possessive_left = true;
    if let Some(rest) = strip_case_after_possessive(stem) {
        stem = rest;
        possessive_left = false;
    } else if let Some(rest) = strip(stem, CASES) {
        stem = rest;
    }
    if possessive_left && let Some(rest) = strip(stem, POSSESSIVES) {
        stem = rest;
    }
    if let Some(rest) = strip(stem, PLURALS) {
        stem = rest;
    }
    stem
}

/// Strips a case form that follows a possessive together with that possessive.
fn strip_case_after_possessive(word: &str) -> Option<&str> {
    CASES_AFTER_POSSESSIVE
        .iter()
        .find_map(|(case, possessives)| {
            let rest = word.strip_suffix(case)?;
            strip(rest, possessives)
        })
}

/// Strips the first suffix of `table` that `word` ends with, when the sound before it fits
/// and enough of a stem is left.
fn strip<'a>(word: &'a str, table: &[(&str, After)]) -> Option<&'a str> {
    table.iter().find_map(|(suffix, after)| {
        let rest = word.strip_suffix(suffix)?;
        let before = rest.chars().next_back()?;
        let fits = if VOWELS.contains(before) {
            after.vowel
        } else {
            after.consonants.contains(before)
        };
        let short_possessive = suffix.starts_with(['ы', 'і']) && suffix.chars().count() <= 2;
        let min_chars = if short_possessive {
            MIN_STEM_CHARS_SHORT_POSSESSIVE
        } else {
            MIN_STEM_CHARS
        };
        let long_enough =
            rest.chars().count() >= min_chars && rest.contains(|c| VOWELS.contains(c));
        (fits && long_enough).then_some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::stem;

    /// (word, expected stem).
    const STEMS: &[(&str, &str)] = &[
        ("кітап", "кітап"),
        ("кітаптар", "кітап"),
        ("кітаптардың", "кітап"),
        ("кітапқа", "кітап"),
        ("кітаптарымыздың", "кітап"),
        ("қала", "қала"),
        ("қаласында", "қала"),
        ("қаласынан", "қала"),
        ("қаласын", "қала"),
        ("кітабыма", "кітаб"),
        ("адамнан", "адам"),
        ("адамдар", "адам"),
        ("жолдар", "жол"),
        ("мектепке", "мектеп"),
        ("лондонда", "лондон"),
        ("балаларымыз", "бала"),
        ("кітабы", "кітаб"),
        ("кітабында", "кітаб"),
        // Left whole: the stem would be too short, or the ending is part of the root.
        ("үйдің", "үйдің"),
        ("отан", "отан"),
        ("нан", "нан"),
        ("адам", "адам"),
        ("қалам", "қалам"),
        ("қалама", "қалама"),
        ("система", "система"),
        ("бала", "бала"),
        ("астана", "астана"),
        ("қазақстан", "қазақстан"),
        ("тұрғын", "тұрғын"),
        ("қалың", "қалың"),
        ("қазы", "қазы"),
        ("мен", "мен"),
        ("", ""),
    ];

    /// Forms that must share one stem.
    const GROUPS: &[&[&str]] = &[
        &[
            "кітап",
            "кітаптар",
            "кітаптардың",
            "кітапқа",
            "кітапты",
            "кітапта",
            "кітаптан",
            "кітаппен",
            "кітаптың",
            "кітаптарым",
            "кітаптарымыздың",
        ],
        &[
            "қала",
            "қалада",
            "қаладан",
            "қаланың",
            "қалаға",
            "қаланы",
            "қаламен",
            "қалалар",
            "қалалардың",
            "қаласы",
            "қаласында",
            "қаласынан",
            "қаласына",
        ],
        &[
            "адам",
            "адамдар",
            "адамның",
            "адамға",
            "адамды",
            "адамда",
            "адамнан",
            "адаммен",
        ],
        &["жол", "жолдар", "жолда", "жолдан", "жолға", "жолдың"],
        &[
            "мектеп",
            "мектептер",
            "мектепке",
            "мектепте",
            "мектептен",
            "мектептің",
        ],
        &[
            "қазақстан",
            "қазақстанда",
            "қазақстанның",
            "қазақстанға",
            "қазақстаннан",
        ],
        &["қыз", "қыздар", "қыздың", "қызбен", "қызға"],
        &[
            "система",
            "системаның",
            "системада",
            "системалар",
            "системасы",
        ],
    ];

    /// Words that must keep different stems.
    const APART: &[(&str, &str)] = &[
        ("бала", "бал"),
        ("қала", "қалам"),
        ("адам", "ада"),
        ("қазақ", "қазақстан"),
        ("қазы", "қаз"),
        ("тұрғын", "тұрғы"),
        ("қалың", "қал"),
    ];

    #[test]
    fn stems() {
        for (word, expected) in STEMS {
            assert_eq!(stem(word), *expected, "stem of {word}");
        }
    }

    #[test]
    fn forms_share_a_stem() {
        for group in GROUPS {
            let first = stem(group[0]);
            for word in *group {
                assert_eq!(stem(word), first, "{word} vs {}", group[0]);
            }
        }
    }

    #[test]
    fn different_words_stay_apart() {
        for (a, b) in APART {
            assert_ne!(stem(a), stem(b), "{a} vs {b}");
        }
    }

    #[test]
    fn stems_are_prefixes_and_never_too_short() {
        for (word, _) in STEMS {
            let s = stem(word);
            assert!(word.starts_with(s));
            assert!(
                s == *word || s.chars().count() >= super::MIN_STEM_CHARS,
                "{word}"
            );
        }
    }
}
