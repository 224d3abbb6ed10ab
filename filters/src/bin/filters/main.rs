//! `filters`: check posts against rules and classifiers, train and evaluate the classifiers.
//!
//! * `filters check --rules RULES.json [FILE|-]`: one verdict line per post;
//! * `filters train [--data DIR] [--generated FILE] [--out DIR]`: rebuild the default models;
//! * `filters eval [--data DIR] [--generated FILE] [--held-out FILE]`: 5-fold cross-validated
//!   precision, recall and F1; false positives and recall on held-out posts.
//!
//! Exit codes: 0 done, 1 failure (unreadable file...), 2 invalid rules or configuration.

mod check;
mod datasets;
mod heldout;
mod learn;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "filters", version, about = "Safety filters for channel posts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the verdict on each post of an NDJSON file (contract section 1).
    Check(check::Args),
    /// Train the default models from the labelled data sets.
    Train(learn::TrainArgs),
    /// Cross-validate the classifiers and measure normalization on distorted text.
    Eval(learn::EvalArgs),
}

/// Where the shared data sets are by default: `shared/` beside the repository.
fn default_data() -> PathBuf {
    PathBuf::from("../shared/data")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Train(args) => learn::train(args),
        Command::Eval(args) => learn::eval(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("filters: {e:#}");
            let invalid = e.downcast_ref::<filters::Error>().is_some_and(|e| {
                matches!(
                    e,
                    filters::Error::InvalidRules(_)
                        | filters::Error::RulesJson(_)
                        | filters::Error::BadConfig(_)
                )
            });
            ExitCode::from(if invalid { 2 } else { 1 })
        }
    }
}
