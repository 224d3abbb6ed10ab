//! Runs one fuzz target (or all) for a time budget: `fuzz TARGET|all [--seconds N]`.
//! See `benches::fuzz` for the targets and the property each checks.

use clap::Parser;
use std::time::Duration;

/// Fuzz chansearch's parsers, rule validation and normalization on stable Rust.
#[derive(Debug, Parser)]
struct Args {
    /// A target (`post`, `query`, `rule`, `normalize`) or `all` (one after the other).
    target: String,
    /// Time budget per target, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let targets: Vec<&str> = match args.target.as_str() {
        "all" => benches::fuzz::TARGETS.to_vec(),
        one => vec![one],
    };
    for target in targets {
        eprintln!("fuzzing {target} for {} s", args.seconds);
        match benches::fuzz::run(target, Duration::from_secs(args.seconds)) {
            Ok(report) => println!(
                "{}: {} inputs in {:.0} s, no failure",
                report.target,
                report.cases,
                report.elapsed.as_secs_f64()
            ),
            Err(failure) => {
                eprintln!("FAILED {failure}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
