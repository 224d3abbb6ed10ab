//! The JSON results file (`--out`): configuration, summary, per-kind summaries, the
//! per-second series and, for a ramp, its steps. `--compare` reads two of these.

use super::record::{Second, Summary};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A run's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Format version of this file.
    pub format: u32,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// The run's settings (mode, rate or connections, duration, mix...).
    pub config: serde_json::Value,
    /// The contract summary over the whole run (for a ramp: over the highest step that held,
    /// or the first step when none held).
    pub summary: Summary,
    /// Summary per query kind.
    pub kinds: BTreeMap<String, Summary>,
    /// One entry per second (of the same run or step as `summary`).
    pub series: Vec<Second>,
    /// The ramp's steps, in a ramp run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<Ramp>,
}

/// A ramp run's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ramp {
    /// The p99 objective, ms.
    pub slo_p99_ms: f64,
    /// Highest share of errors a step may have.
    pub max_error_rate: f64,
    /// Highest offered rate whose step held, if any did.
    pub max_held_rps: Option<f64>,
    /// Each step, in order.
    pub steps: Vec<Step>,
}

/// One ramp step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// Offered rate.
    pub rate: f64,
    /// Whether p99 and errors stayed within bounds.
    pub held: bool,
    /// The step's summary.
    pub summary: Summary,
}

impl Report {
    /// Writes the report as pretty JSON.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json + "\n").with_context(|| format!("write {}", path.display()))
    }

    /// Reads a report.
    pub fn read(path: &Path) -> anyhow::Result<Report> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a loadbench results file", path.display()))
    }

    /// The summary line for stdout: the contract's fields in the contract's order, plus
    /// `max_held_rps` in a ramp.
    pub fn summary_line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            summary: &'a Summary,
            #[serde(skip_serializing_if = "Option::is_none")]
            max_held_rps: Option<Option<f64>>,
        }
        serde_json::to_string(&Line {
            summary: &self.summary,
            max_held_rps: self.ramp.as_ref().map(|r| r.max_held_rps),
        })
        .expect("summary serializes")
    }

    #[cfg(test)]
    pub(crate) fn for_test(summary: Summary, series: Vec<Second>) -> Report {
        Report {
            format: 1,
            started_at: String::new(),
            config: serde_json::Value::Null,
            summary,
            kinds: BTreeMap::new(),
            series,
            ramp: None,
        }
    }
}
