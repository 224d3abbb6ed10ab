//! `loadbench`: see [`benches::loadbench`] for what it does and `--help` for its options.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = benches::loadbench::Args::parse();
    let line = benches::loadbench::main_with(args)?;
    println!("{line}");
    Ok(())
}
