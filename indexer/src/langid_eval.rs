//! `indexer langid-eval`: accuracy and cost of our language detection beside whatlang alone.
//!
//! The data is lingua's evaluation set (`<code>/{sentences,word-pairs,single-words}.txt`,
//! 1000 items each, from the Leipzig corpora). lingua's models were trained on other texts of
//! the same corpora, so these figures flatter every step that falls back to lingua; the
//! letter and word rules and whatlang get no such help. Each item is detected without a
//! channel prior, which is the hardest case: real posts of an established channel get one.
//!
//! Besides the accuracy table the report gives our mean time per item, how often the
//! expensive paths ran, how often texts in unsupported languages of our scripts were taken
//! for one of ours, and the cost on a few post-like texts.

use crate::lang::{self, Detected, Lang, LangDetector, Via};
use anyhow::Context;
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The kinds of items in the data set, file stem and column title.
const KINDS: [(&str, &str); 3] = [
    ("sentences", "sentences"),
    ("word-pairs", "word pairs"),
    ("single-words", "single words"),
];

/// Unsupported languages written in our scripts: the ones most likely to be mistaken for ours.
const UNSUPPORTED: [&str; 13] = [
    "be", "bg", "mk", "sr", "mn", "it", "pt", "nl", "pl", "az", "id", "ur", "ja",
];

/// Post-like texts for the cost figures: what channels actually send, with links and tags.
const POSTS: [(&str, &str); 4] = [
    (
        "ru",
        "⚡️Центробанк сохранил ключевую ставку на уровне 21% годовых, сообщила пресс-служба \
         регулятора. Аналитики ожидали такого решения: инфляция в ноябре замедлилась, но \
         по-прежнему остаётся выше целевого уровня в 4%. Следующее заседание совета директоров \
         по ставке запланировано на 14 февраля 2025 года. Подробнее о решении и прогнозах \
         экономистов читайте на нашем сайте https://example.ru/news/12345 \n\n@economika_now \
         #ставка #ЦБ #экономика",
    ),
    (
        "uk",
        "У Києві сьогодні вранці пролунали вибухи, повідомив міський голова. Сили \
         протиповітряної оборони працюють по цілях. Просимо мешканців залишатися в укриттях \
         до відбою тривоги. Деталі згодом https://t.me/kyiv_news/4567 #Київ",
    ),
    (
        "kk",
        "Алматыда жаңа метро станциясы ашылды. Қала әкімінің айтуынша, құрылыс жұмыстары \
         жоспар бойынша аяқталды және жолаушылар ертеңнен бастап жаңа станцияны пайдалана \
         алады. Толығырақ: https://example.kz/kk/news/987 @almaty_news",
    ),
    (
        "en",
        "Breaking: the central bank kept its key rate unchanged at 21% on Friday, saying \
         that inflation is slowing but remains well above its target. The next meeting is \
         scheduled for February 14. Read more at https://example.com/markets #rates @markets",
    ),
];

/// Per-kind tallies for one language.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    items: usize,
    whatlang_ok: usize,
    ours_ok: usize,
    ours_time: Duration,
    whatlang_path: usize,
    lingua_path: usize,
}

impl Tally {
    fn add(mut self, other: Tally) -> Tally {
        self.items += other.items;
        self.whatlang_ok += other.whatlang_ok;
        self.ours_ok += other.ours_ok;
        self.ours_time += other.ours_time;
        self.whatlang_path += other.whatlang_path;
        self.lingua_path += other.lingua_path;
        self
    }
}

/// Runs the evaluation on `data_dir` (the lingua test data layout) and writes a Markdown
/// report to `out`.
pub fn run(data_dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let detector = LangDetector::new();

    let mut rows = Vec::new();
    for lang in Lang::ALL {
        let mut tallies = [Tally::default(); KINDS.len()];
        for (tally, (file, _)) in tallies.iter_mut().zip(KINDS) {
            let items = read_items(data_dir, lang.code(), file)?;
            *tally = evaluate(&detector, lang.code(), &items);
            tally.ours_time = time_sequentially(&detector, &items);
        }
        rows.push((lang, tallies));
    }

    writeln!(
        out,
        "## Language identification: whatlang 0.18 alone vs ours (no channel prior)\n"
    )?;
    writeln!(
        out,
        "Data: `{}`, up to 1000 items per language and kind. whatlang: `whatlang::detect`, \
         unrestricted, mapped to ISO 639-1.\n",
        data_dir.display()
    )?;
    write!(out, "| language |")?;
    for (_, title) in KINDS {
        write!(out, " whatlang {title} | ours {title} |")?;
    }
    writeln!(out, "\n|---|{}", "---:|".repeat(2 * KINDS.len()))?;
    let mut totals = [Tally::default(); KINDS.len()];
    let mut means = [(0.0, 0.0); KINDS.len()];
    for (lang, tallies) in &rows {
        write!(out, "| {} |", lang.code())?;
        for (i, t) in tallies.iter().enumerate() {
            let (w, o) = (percent(t.whatlang_ok, t.items), percent(t.ours_ok, t.items));
            write!(out, " {w:.1}% | {o:.1}% |")?;
            means[i].0 += w / rows.len() as f64;
            means[i].1 += o / rows.len() as f64;
            totals[i] = totals[i].add(*t);
        }
        writeln!(out)?;
    }
    write!(out, "| **mean** |")?;
    for (w, o) in means {
        write!(out, " **{w:.1}%** | **{o:.1}%** |")?;
    }
    writeln!(out, "\n")?;

    writeln!(
        out,
        "Ours, mean detection time per item ({}, one thread):",
        if thread_cpu_time().is_some() {
            "CPU time"
        } else {
            "wall time"
        },
    )?;
    for ((_, title), t) in KINDS.iter().zip(totals) {
        writeln!(
            out,
            "- {title}: {:.1} us; whatlang ran on {:.1}% of items, lingua on {:.1}%",
            micros(t.ours_time, t.items),
            percent(t.whatlang_path, t.items),
            percent(t.lingua_path, t.items),
        )?;
    }

    writeln!(
        out,
        "\n### Unsupported languages of our scripts (sentences)\n"
    )?;
    writeln!(
        out,
        "| language | taken for one of ours | own code | und | other code |\n|---|---:|---:|---:|---:|"
    )?;
    for code in UNSUPPORTED {
        let Ok(items) = read_items(data_dir, code, "sentences") else {
            continue;
        };
        let found: Vec<Detected> = items.par_iter().map(|t| detector.detect(t, None)).collect();
        let ours = found.iter().filter(|d| d.lang.is_some()).count();
        let own = found.iter().filter(|d| d.code == code).count();
        let und = found.iter().filter(|d| d.code == Detected::UND).count();
        let n = found.len();
        writeln!(
            out,
            "| {code} | {:.1}% | {:.1}% | {:.1}% | {:.1}% |",
            percent(ours, n),
            percent(own, n),
            percent(und, n),
            percent(n - ours - own - und, n)
        )?;
    }

    writeln!(out, "\n### Post-like texts (one thread)\n")?;
    writeln!(
        out,
        "| text | chars | detected | ours us/post | whatlang whole text us/post |\n|---|---:|---|---:|---:|"
    )?;
    for (code, text) in POSTS {
        let (found, ours) = time_per_call(|| detector.detect(text, None));
        let (_, whatlang) = time_per_call(|| whatlang::detect(text));
        writeln!(
            out,
            "| {code} post | {} | {} ({:?}) | {ours:.1} | {whatlang:.1} |",
            text.chars().count(),
            found.code,
            found.via
        )?;
    }
    Ok(())
}

fn read_items(data_dir: &Path, code: &str, file: &str) -> anyhow::Result<Vec<String>> {
    let path = data_dir.join(code).join(format!("{file}.txt"));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

fn evaluate(detector: &LangDetector, code: &str, items: &[String]) -> Tally {
    items
        .par_iter()
        .map(|text| {
            let whatlang = whatlang::detect(text).map(|i| lang::iso639_1(i.lang()));
            let ours = detector.detect(text, None);
            Tally {
                items: 1,
                whatlang_ok: usize::from(whatlang == Some(code)),
                ours_ok: usize::from(ours.code == code),
                ours_time: Duration::ZERO,
                whatlang_path: usize::from(ours.via == Via::Whatlang),
                lingua_path: usize::from(ours.via == Via::Lingua),
            }
        })
        .reduce(Tally::default, Tally::add)
}

/// Time to detect every item, one after the other on this thread. Timed apart from the
/// parallel accuracy pass: on a shared machine, per-call wall times of two busy threads
/// measure the other processes as much as us.
fn time_sequentially(detector: &LangDetector, items: &[String]) -> Duration {
    let clock = Clock::start();
    for text in items {
        std::hint::black_box(detector.detect(text, None));
    }
    clock.elapsed()
}

/// Mean microseconds per call of `f` over enough calls to take about 50 ms, and its result.
fn time_per_call<T>(mut f: impl FnMut() -> T) -> (T, f64) {
    let first = f();
    let mut calls = 0u32;
    let clock = Clock::start();
    while clock.wall.elapsed() < Duration::from_millis(50) {
        for _ in 0..64 {
            std::hint::black_box(f());
        }
        calls += 64;
    }
    (first, micros(clock.elapsed(), calls as usize))
}

/// This thread's CPU time where the OS tells it (Linux), else wall time.
struct Clock {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: thread_cpu_time(),
        }
    }

    fn elapsed(&self) -> Duration {
        match (self.cpu, thread_cpu_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall.elapsed(),
        }
    }
}

/// CPU time of the calling thread: the first field of Linux's `/proc/thread-self/schedstat`,
/// in nanoseconds. Time spent waiting for a core, which other builds cause here, is not in it.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn micros(total: Duration, items: usize) -> f64 {
    if items == 0 {
        0.0
    } else {
        total.as_secs_f64() * 1e6 / items as f64
    }
}
