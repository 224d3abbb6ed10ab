//! `--chart FILE.svg`: latency percentiles over time (top) and the latency distribution
//! (bottom), drawn with plotters' SVG backend.
//!
//! plotters is built without its `ttf`/`ab_glyph` features, so it never looks for system
//! fonts (no fontconfig): text goes into the SVG as `<text>` elements that the viewer renders,
//! and plotters only estimates label sizes for layout.

use super::record::{Second, Tally};
use anyhow::Context;
use plotters::prelude::*;
use std::path::Path;

/// Quantile axis of the distribution: x = -log10(1 - q), so 90%, 99%, 99.9% are equally
/// spaced, as HdrHistogram's own plots do.
const NINES: f64 = 4.0;

/// Draws the chart of a run.
pub fn draw(path: &Path, title: &str, series: &[Second], all: &Tally) -> anyhow::Result<()> {
    draw_inner(path, title, series, all)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("draw chart {}", path.display()))
}

fn draw_inner(
    path: &Path,
    title: &str,
    series: &[Second],
    all: &Tally,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (top, bottom) = root.split_vertically(380);

    // Both panels share a log latency axis covering everything recorded.
    let lo = series
        .iter()
        .filter(|s| s.requests > 0)
        .map(|s| s.p50_ms)
        .fold(f64::INFINITY, f64::min)
        .min(all.ms_at(0.0))
        .max(0.001);
    let hi = series
        .iter()
        .map(|s| s.max_ms)
        .fold(all.ms_at(1.0), f64::max)
        .max(lo * 10.0);
    let y_range = (lo / 1.5..hi * 1.5).log_scale();

    let secs = series.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&top)
        .caption("latency per second (ms, log)", ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..secs, y_range.clone())?;
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("ms")
        .draw()?;
    type Pick = fn(&Second) -> f64;
    let lines: [(&str, RGBColor, Pick); 4] = [
        ("p50", BLUE, |s| s.p50_ms),
        ("p90", GREEN, |s| s.p90_ms),
        ("p99", RGBColor(230, 120, 0), |s| s.p99_ms),
        ("max", RED, |s| s.max_ms),
    ];
    for (name, color, pick) in lines {
        let points = series
            .iter()
            .filter(|s| s.requests > 0)
            .map(|s| (s.t as f64 + 0.5, pick(s).max(lo / 1.5)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;

    let mut dist = ChartBuilder::on(&bottom)
        .caption(
            "latency distribution, whole run (ms, log)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..NINES, y_range)?;
    dist.configure_mesh()
        .x_desc("percentile")
        .y_desc("ms")
        .x_labels(9)
        .x_label_formatter(&|x| format!("{}%", percentile_label(*x)))
        .draw()?;
    if !all.hist.is_empty() {
        let points = (0..=400).map(|i| {
            let x = f64::from(i) / 100.0;
            let q = 1.0 - 10f64.powf(-x);
            (x, all.ms_at(q).max(lo / 1.5))
        });
        dist.draw_series(LineSeries::new(points, BLUE.stroke_width(2)))?;
    }
    root.present()?;
    Ok(())
}

/// `x = -log10(1 - q)` back to a percentile for the axis: 0 -> 0, 1 -> 90, 2 -> 99.
fn percentile_label(x: f64) -> String {
    let p = (1.0 - 10f64.powf(-x)) * 100.0;
    let s = format!("{p:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(0.0), "0");
        assert_eq!(percentile_label(1.0), "90");
        assert_eq!(percentile_label(2.0), "99");
        assert_eq!(percentile_label(3.0), "99.9");
        assert_eq!(percentile_label(0.5), "68.377");
    }
}
