//! Language-identification evaluation (being written).
use std::path::Path;
/// Writes the accuracy table.
pub fn run(_data_dir: &Path, _out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    anyhow::bail!("langid-eval is not built yet")
}
