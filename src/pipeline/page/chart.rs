//! The chart of the last runs: rows loaded per run as bars (coloured by the run's outcome) and
//! its duration as a line with dots, in inline SVG (no script). Pure.

use super::html::esc;
use crate::pipeline::{Outcome, RunReport};

const WIDTH: f64 = 1120.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;

/// One run's figures.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunPoint {
    /// The run id (shown in the tooltip).
    pub run_id: String,
    /// The command.
    pub command: String,
    /// Rows in the batches it loaded.
    pub rows: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
    /// How it ended.
    pub outcome: Outcome,
}

impl RunPoint {
    /// The figures of one report.
    pub(crate) fn of(report: &RunReport) -> RunPoint {
        RunPoint {
            run_id: report.run_id.clone(),
            command: serde_json::to_value(report.command)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            rows: report
                .leftover_loads
                .iter()
                .chain(&report.loads)
                .filter(|l| l.error.is_none())
                .map(|l| l.rows)
                .sum(),
            seconds: (report.finished_at - report.started_at)
                .num_milliseconds()
                .max(0) as f64
                / 1000.0,
            outcome: report.outcome,
        }
    }
}

/// The CSS class of an outcome's bar.
fn outcome_class(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "bar-green",
        Outcome::Partial | Outcome::VerifyDiffers => "bar-amber",
        Outcome::Failed => "bar-red",
    }
}

/// The SVG of `points` (oldest first).
pub(crate) fn svg(points: &[RunPoint]) -> String {
    if points.is_empty() {
        return "<p class=\"muted\">No run report on the stage yet.</p>\n".into();
    }
    let max_rows = points.iter().map(|p| p.rows).max().unwrap_or(0).max(1) as f64;
    let max_secs = points
        .iter()
        .map(|p| p.seconds)
        .fold(0.0, f64::max)
        .max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / points.len() as f64;
    let mut out = format!(
        "<svg class=\"chart\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"rows and duration of the last {} runs\">\n",
        points.len()
    );
    out.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n",
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    ));
    out.push_str(&format!(
        "<text class=\"rows-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{} rows</text>\n<text class=\"rows-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\n",
        LEFT - 6.0,
        TOP + 10.0,
        max_rows as u64,
        LEFT - 6.0,
        TOP + plot_h
    ));
    out.push_str(&format!(
        "<text class=\"secs-label\" x=\"{}\" y=\"{}\">{:.1} s</text>\n",
        LEFT + plot_w + 6.0,
        TOP + 10.0,
        max_secs
    ));
    let mut line = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let h = plot_h * p.rows as f64 / max_rows;
        let bar_w = (slot * 0.6).max(1.0);
        out.push_str(&format!(
            "<rect class=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {} {} rows in {:.1} s</title></rect>\n",
            outcome_class(p.outcome),
            x + slot * 0.2,
            TOP + plot_h - h,
            bar_w,
            h.max(1.0),
            esc(&p.run_id),
            esc(&p.command),
            p.rows,
            p.seconds
        ));
        let cy = TOP + plot_h - plot_h * p.seconds / max_secs;
        let cx = x + slot * 0.5;
        line.push(format!("{cx:.1},{cy:.1}"));
        out.push_str(&format!(
            "<circle class=\"dot\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\"/>\n"
        ));
    }
    out.push_str(&format!(
        "<polyline class=\"duration\" points=\"{}\"/>\n",
        line.join(" ")
    ));
    out.push_str(&format!(
        "<text class=\"rows-label\" x=\"{LEFT}\" y=\"{}\">oldest</text><text class=\"rows-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">newest</text>\n",
        HEIGHT - 10.0,
        LEFT + plot_w,
        HEIGHT - 10.0
    ));
    out.push_str("</svg>\n");
    out
}
