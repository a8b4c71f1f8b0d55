//! Progress of a run: bars on a terminal (records, rate and ETA per object while extracting;
//! the current step per batch while loading), log lines every few pages elsewhere. It knows
//! nothing of the work's types: callers hand it plain counts.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::loader::{BatchLoadReport, LoadObserver};

/// Log a progress line every this many pages when not drawing bars.
const LOG_EVERY_PAGES: u64 = 25;

/// The terminal's one set of bars: the extract's and the loads' draw into it, and log lines
/// are written through it ([`write_above_bars`]), so a warning never lands inside a bar.
fn terminal_bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(MultiProgress::new)
}

/// Whether a bar was ever drawn on the terminal.
static DRAWN: AtomicBool = AtomicBool::new(false);

/// A bar added to the terminal's bars.
fn add_bar(multi: &MultiProgress, bar: ProgressBar) -> ProgressBar {
    DRAWN.store(true, Ordering::Relaxed);
    multi.add(bar)
}

/// Ends the bars' last line, so what the command prints next (its summary) starts on a line
/// of its own: the bars leave the cursor at the end of their last line.
pub(crate) fn end_bars() {
    if DRAWN.swap(false, Ordering::Relaxed) {
        // Not through the bars: they would clear, and draw again after the newline.
        let _ = std::io::stderr().write_all(b"\n");
    }
}

/// Writes a log line to stderr above the bars (the bars are cleared, the line written, the
/// bars drawn again below it).
pub(crate) fn write_above_bars(line: &[u8]) -> std::io::Result<()> {
    terminal_bars().suspend(|| {
        let mut stderr = std::io::stderr().lock();
        stderr.write_all(line)?;
        stderr.flush()
    })
}

/// Progress of a whole run.
#[derive(Debug)]
pub(crate) struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Bars when `draw` is set and stderr is a terminal; log lines otherwise.
    pub(crate) fn new(draw: bool) -> Progress {
        use std::io::IsTerminal;
        let bars = (draw && std::io::stderr().is_terminal()).then(|| terminal_bars().clone());
        Progress { bars }
    }

    /// Progress of one object.
    pub(crate) fn object(&self, object: &str) -> ObjectProgress {
        let bar = self.bars.as_ref().map(|multi| {
            let style = ProgressStyle::with_template(
                "{prefix:>14} {bar:30} {pos:>9}/{len:9} records {per_sec:>14} eta {eta:>4} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = add_bar(multi, ProgressBar::new(0).with_style(style));
            bar.set_prefix(object.to_owned());
            bar
        });
        ObjectProgress {
            object: object.to_owned(),
            bar,
        }
    }
}

/// Progress of one object.
#[derive(Debug)]
pub(crate) struct ObjectProgress {
    object: String,
    bar: Option<ProgressBar>,
}

impl ObjectProgress {
    /// After each page: pages and records so far, and the total the gateway announced.
    pub(crate) fn page(&self, pages: u64, records: u64, total: Option<u64>) {
        match &self.bar {
            Some(bar) => {
                if let Some(total) = total {
                    bar.set_length(bar.length().unwrap_or(0).max(total));
                }
                bar.set_position(records);
            }
            None if pages.is_multiple_of(LOG_EVERY_PAGES) => {
                tracing::info!(object = %self.object, pages, records, "extracting");
            }
            None => {}
        }
    }

    /// When the object is staged.
    pub(crate) fn finish(&self, records: u64, parts: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(records);
            bar.finish_with_message(format!("staged: {parts} parts, {} KiB", bytes / 1024));
        }
    }

    /// When the object failed.
    pub(crate) fn fail(&self, error: &crate::Error) {
        if let Some(bar) = &self.bar {
            bar.abandon_with_message(format!("failed: {error}"));
        }
    }
}

/// Load progress: one line per batch on a terminal, naming the step it is at.
#[derive(Debug, Default)]
pub(super) struct LoadProgress {
    bars: Option<MultiProgress>,
    batches: std::sync::Mutex<std::collections::HashMap<String, ProgressBar>>,
}

impl LoadProgress {
    /// Lines when `draw` is set and stderr is a terminal; nothing otherwise (the loader logs
    /// every step).
    pub(super) fn new(draw: bool) -> Arc<LoadProgress> {
        use std::io::IsTerminal;
        Arc::new(LoadProgress {
            bars: (draw && std::io::stderr().is_terminal()).then(|| terminal_bars().clone()),
            batches: Default::default(),
        })
    }
}

impl LoadObserver for LoadProgress {
    fn step(&self, object: &str, batch_id: &str, step: &str) {
        let Some(multi) = &self.bars else {
            return;
        };
        let mut batches = self.batches.lock().expect("progress lock");
        let bar = batches.entry(batch_id.to_owned()).or_insert_with(|| {
            let style =
                ProgressStyle::with_template("{prefix:>14} load {spinner} {msg} {elapsed:>4}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = add_bar(multi, ProgressBar::new_spinner().with_style(style));
            bar.set_prefix(object.to_owned());
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        bar.set_message(format!("{} {step}", &batch_id[..batch_id.len().min(8)]));
    }

    fn finished(&self, report: &BatchLoadReport) {
        let Some(bar) = self
            .batches
            .lock()
            .expect("progress lock")
            .remove(&report.batch_id)
        else {
            return;
        };
        match &report.error {
            None => bar.finish_with_message(format!(
                "{} loaded: {} rows, {} inserted, {} updated",
                &report.batch_id[..report.batch_id.len().min(8)],
                report.copy_rows,
                report.merge_inserted,
                report.merge_updated
            )),
            Some(error) => bar.abandon_with_message(format!("failed: {error}")),
        }
    }
}
