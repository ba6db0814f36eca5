//! A small progress bar on stderr, drawn only when stderr is a terminal and the work has taken
//! more than a moment.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Don't draw anything for work that finishes sooner than this.
const DELAY: Duration = Duration::from_millis(400);
/// Redraw at most this often.
const EVERY: Duration = Duration::from_millis(100);
const WIDTH: usize = 28;

/// Progress over a known (or unknown) number of input bytes.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
    total: Option<u64>,
}

impl Progress {
    /// A bar for `total` bytes (`None` when unknown, e.g. stdin); `enabled = false` never draws.
    pub fn new(total: Option<u64>, enabled: bool) -> Self {
        let enabled = enabled && std::io::stderr().is_terminal();
        Progress { enabled, start: Instant::now(), last: None, total }
    }

    /// Reports `bytes` of input consumed and `lines` read so far.
    pub fn update(&mut self, bytes: u64, lines: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let elapsed = now - self.start;
        if elapsed < DELAY || self.last.is_some_and(|l| now - l < EVERY) {
            return;
        }
        self.last = Some(now);
        let secs = elapsed.as_secs_f64();
        let rate = format!("{}/s", human_count(lines as f64 / secs.max(1e-9)));
        let line = match self.total.filter(|&t| t > 0) {
            Some(total) => {
                let frac = (bytes as f64 / total as f64).clamp(0.0, 1.0);
                let full = (frac * WIDTH as f64).round() as usize;
                let eta = if frac > 0.0 { secs / frac - secs } else { 0.0 };
                format!(
                    "[{}{}] {:3.0}%  {} / {}  {} lines  {rate}  eta {:.0} s",
                    "#".repeat(full),
                    "-".repeat(WIDTH - full),
                    frac * 100.0,
                    human_bytes(bytes),
                    human_bytes(total),
                    human_count(lines as f64),
                    eta
                )
            }
            None => format!("{} read  {} lines  {rate}", human_bytes(bytes), human_count(lines as f64)),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Erases the bar (if it was drawn) so that later output starts on a clean line.
    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
        self.last = None;
    }
}

/// `1.2 MB`-style byte counts.
pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n < 1e3 => format!("{n} B"),
        n if n < 1e6 => format!("{:.1} kB", n / 1e3),
        n if n < 1e9 => format!("{:.1} MB", n / 1e6),
        n => format!("{:.2} GB", n / 1e9),
    }
}

/// `12.3k` / `4.5M`-style counts.
pub fn human_count(n: f64) -> String {
    match n {
        n if n < 1e4 => format!("{n:.0}"),
        n if n < 1e6 => format!("{:.1}k", n / 1e3),
        n => format!("{:.2}M", n / 1e6),
    }
}
