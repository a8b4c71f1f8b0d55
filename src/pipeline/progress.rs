//! Progress of a run: bars on a terminal, log lines every few pages elsewhere.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::extract::ObjectReport;

/// Log a progress line every this many pages when not drawing bars.
const LOG_EVERY_PAGES: u64 = 25;

/// Progress of a whole run.
#[derive(Debug)]
pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Bars when `draw` is set and stderr is a terminal; log lines otherwise.
    pub fn new(draw: bool) -> Progress {
        use std::io::IsTerminal;
        let bars = (draw && std::io::stderr().is_terminal()).then(MultiProgress::new);
        Progress { bars }
    }

    /// Progress of one object.
    pub fn object(&self, object: &str) -> ObjectProgress {
        let bar = self.bars.as_ref().map(|multi| {
            let style = ProgressStyle::with_template(
                "{prefix:>14} {bar:30} {pos:>9}/{len:9} records {elapsed:>4} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = multi.add(ProgressBar::new(0).with_style(style));
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
pub struct ObjectProgress {
    object: String,
    bar: Option<ProgressBar>,
}

impl ObjectProgress {
    /// After each page.
    pub fn page(&self, report: &ObjectReport, total: Option<u64>) {
        match &self.bar {
            Some(bar) => {
                if let Some(total) = total {
                    bar.set_length(bar.length().unwrap_or(0).max(total));
                }
                bar.set_position(report.records);
            }
            None if report.pages.is_multiple_of(LOG_EVERY_PAGES) => {
                tracing::info!(object = %self.object, pages = report.pages, records = report.records, "extracting");
            }
            None => {}
        }
    }

    /// When the object is staged.
    pub fn finish(&self, report: &ObjectReport) {
        if let Some(bar) = &self.bar {
            bar.set_length(report.records);
            bar.finish_with_message(format!("{} parts", report.parts));
        }
    }

    /// When the object failed.
    pub fn fail(&self, error: &crate::Error) {
        if let Some(bar) = &self.bar {
            bar.abandon_with_message(format!("failed: {error}"));
        }
    }
}
