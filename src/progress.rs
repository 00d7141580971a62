//! Progress on stderr, shown only on a terminal and never with `-q`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wiretrust::scan::{NoProgress, Progress};

/// Inputs smaller than this finish before a bar is worth drawing.
const MIN_BYTES_FOR_BAR: u64 = 64 << 20;

/// A progress bar when stderr is a terminal and `quiet` is off, else nothing.
pub fn for_stderr(quiet: bool) -> Box<dyn Progress> {
    if quiet || !std::io::stderr().is_terminal() {
        return Box::new(NoProgress);
    }
    Box::new(Bar { bar: None })
}

struct Bar {
    bar: Option<ProgressBar>,
}

impl Progress for Bar {
    fn start(&mut self, total_bytes: u64) {
        if total_bytes < MIN_BYTES_FOR_BAR {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    fn advance(&mut self, done_bytes: u64, current: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(done_bytes);
            bar.set_message(current.to_owned());
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
