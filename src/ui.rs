//! What the user sees on stderr: progress, warnings and errors. Progress
//! bars appear only when stderr is a terminal and not in CI; `--quiet`
//! leaves errors only; `NO_COLOR` and `--color` are respected.

use std::io::IsTerminal;
use std::sync::Arc;

/// Whether stderr gets colour (`--color`): `auto` colours a terminal
/// unless `NO_COLOR` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone)]
pub struct Ui {
    inner: Arc<UiInner>,
}

#[derive(Clone, Copy)]
struct UiInner {
    quiet: bool,
    color: bool,
    bars: bool,
    /// Whether per-table result lines go to stderr (off for `check`, which
    /// prints its table once, on stdout).
    result_lines: bool,
}

impl Ui {
    /// The Ui for a run: `quiet` leaves errors only; progress bars only on
    /// a terminal outside CI.
    pub fn new(quiet: bool, color: ColorChoice) -> Ui {
        let tty = std::io::stderr().is_terminal();
        let ci = std::env::var_os("CI").is_some();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Ui {
            inner: Arc::new(UiInner {
                quiet,
                color,
                bars: tty && !ci && !quiet,
                result_lines: true,
            }),
        }
    }

    /// A silent Ui for tests and library callers.
    pub fn silent() -> Ui {
        Ui {
            inner: Arc::new(UiInner {
                quiet: true,
                color: false,
                bars: false,
                result_lines: true,
            }),
        }
    }

    /// The same Ui without per-table result lines: for a command that
    /// prints its results as one table on stdout.
    pub fn without_result_lines(&self) -> Ui {
        Ui {
            inner: Arc::new(UiInner {
                result_lines: false,
                ..*self.inner
            }),
        }
    }

    /// A per-table result line on stderr (not in quiet mode, nor when the
    /// command prints its table on stdout).
    pub fn result_line(&self, msg: impl AsRef<str>) {
        if self.inner.result_lines {
            self.info(msg);
        }
    }

    pub fn quiet(&self) -> bool {
        self.inner.quiet
    }

    /// Whether progress bars may be drawn.
    pub fn bars(&self) -> bool {
        self.inner.bars
    }

    /// A progress line on stderr (not in quiet mode).
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.inner.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.inner.quiet {
            if self.inner.color {
                eprintln!("\x1b[33mwarning:\x1b[0m {}", msg.as_ref());
            } else {
                eprintln!("warning: {}", msg.as_ref());
            }
        }
    }

    /// Prints the whole error chain on one line.
    pub fn error(&self, e: &anyhow::Error) {
        let line = error_line(e);
        if self.inner.color {
            eprintln!("\x1b[31mparity: error:\x1b[0m {line}");
        } else {
            eprintln!("parity: error: {line}");
        }
    }
}

/// An error chain as one line (issue 10): each cause once (a message that
/// already quotes its source does not repeat it), newlines folded.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || parts.last().is_some_and(|p| p.contains(text)) {
            continue;
        }
        parts.push(text.to_string());
    }
    let joined = parts.join(": ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// True when the error is a closed stdout (e.g. `parity … | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

// ---- progress display ------------------------------------------------------

/// A count as a person reads it: `950`, `12.3k`, `416k`, `1.2M`.
pub fn human_count(n: f64) -> String {
    let n = n.max(0.0);
    if n >= 1e9 {
        format!("{:.1}G", n / 1e9)
    } else if n >= 1e7 {
        format!("{:.0}M", n / 1e6)
    } else if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e4 {
        format!("{:.0}k", n / 1e3)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

/// A rate of rows: `416k rows/s`.
pub fn human_rate(per_sec: f64) -> String {
    format!("{} rows/s", human_count(per_sec))
}

/// Before the row count is known: a spinner, no bar (a bar of 0/0 would
/// show full).
pub fn counting_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template("{prefix:>20!} {spinner} counting rows…")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
}

/// Rows read out of a total; `~` marks a total that is the planner's
/// estimate. Fits 80 columns: `   transactions [=====>    ] 52k/~104k rows  416k rows/s  eta 3s`.
pub fn rows_style(estimated: bool) -> indicatif::ProgressStyle {
    let tilde = if estimated { "~" } else { "" };
    indicatif::ProgressStyle::with_template(&format!(
        "{{prefix:>20!}} [{{bar:20}}] {{count}}/{tilde}{{total}} rows  {{rate}}  eta {{eta}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .with_key(
        "count",
        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&human_count(s.pos() as f64));
        },
    )
    .with_key(
        "total",
        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&human_count(s.len().unwrap_or(0) as f64));
        },
    )
    .with_key(
        "rate",
        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&human_rate(s.per_sec()));
        },
    )
    .progress_chars("=> ")
}

/// Advances a rows bar; an estimated total grows when the reads pass it.
pub fn advance(pb: &indicatif::ProgressBar, rows: u64) {
    pb.inc(rows);
    if pb.length().is_some_and(|len| pb.position() > len) {
        pb.set_length(pb.position());
    }
}

/// Ends a rows bar at the real count (the estimate is replaced by what was read).
pub fn finish_at_count(pb: &indicatif::ProgressBar) {
    pb.set_style(rows_style(false));
    pb.set_length(pb.position());
    pb.finish_and_clear();
}

/// Cuts `s` to at most `width` characters, ending in `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_like_a_person_writes_them() {
        assert_eq!(human_rate(416_159.916_3), "416k rows/s");
        assert_eq!(human_rate(950.4), "950 rows/s");
        assert_eq!(human_rate(12_345.0), "12k rows/s");
        assert_eq!(human_rate(1_234.0), "1.2k rows/s");
        assert_eq!(human_rate(2_500_000.0), "2.5M rows/s");
        assert_eq!(human_count(1_200_000.0), "1.2M");
        assert_eq!(human_count(45_000.0), "45k");
        assert_eq!(human_count(999.0), "999");
    }

    #[test]
    fn estimates_carry_a_tilde_and_the_bar_ends_at_the_real_count() {
        let pb = indicatif::ProgressBar::hidden();
        pb.set_style(rows_style(true));
        pb.set_length(103_519);
        advance(&pb, 100_000);
        assert_eq!(pb.length(), Some(103_519));
        advance(&pb, 5_000);
        assert_eq!(
            pb.length(),
            Some(105_000),
            "an estimate grows with the reads"
        );
        finish_at_count(&pb);
        assert_eq!(pb.length(), Some(pb.position()));
    }

    /// A terminal that records what indicatif draws.
    #[derive(Debug, Default, Clone)]
    struct Screen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.trim().is_empty() {
                self.0.lock().unwrap().push(s.to_string());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Screen {
        fn last(&self) -> String {
            self.0.lock().unwrap().last().cloned().unwrap_or_default()
        }
    }

    #[test]
    fn the_display_counts_first_then_reads_against_a_marked_estimate() {
        let screen = Screen::default();
        let pb = indicatif::ProgressBar::with_draw_target(
            None,
            indicatif::ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        pb.set_style(counting_style());
        pb.set_prefix("transactions");
        pb.tick();
        let counting = screen.last();
        assert!(counting.contains("transactions"), "{counting:?}");
        assert!(counting.contains("counting rows"), "{counting:?}");
        assert!(
            !counting.contains('['),
            "no bar before the count: {counting:?}"
        );

        pb.set_style(rows_style(true));
        pb.set_length(103_519);
        std::thread::sleep(std::time::Duration::from_millis(20));
        advance(&pb, 52_000);
        pb.tick();
        let reading = screen.last();
        assert!(reading.contains("52k/~104k rows"), "{reading:?}");
        assert!(reading.contains(" rows/s"), "{reading:?}");
        assert!(reading.chars().count() <= 80, "{reading:?}");

        advance(&pb, 53_000);
        pb.set_style(rows_style(false));
        pb.set_length(pb.position());
        pb.tick();
        let done = screen.last();
        assert!(
            done.contains("105k/105k rows"),
            "ends at the real count: {done:?}"
        );
        assert!(!done.contains('~'), "{done:?}");
        finish_at_count(&pb);
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
