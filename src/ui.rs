//! What the user sees on stderr: progress, warnings and errors. Progress
//! bars appear only when stderr is a terminal and not in CI; `--quiet`
//! leaves errors only; `NO_COLOR` and `--color` are respected.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::cli::{ColorChoice, GlobalArgs};

#[derive(Clone)]
pub struct Ui {
    inner: Arc<UiInner>,
}

struct UiInner {
    quiet: bool,
    color: bool,
    bars: bool,
}

impl Ui {
    pub fn new(global: &GlobalArgs) -> Ui {
        let tty = std::io::stderr().is_terminal();
        let ci = std::env::var_os("CI").is_some();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Ui {
            inner: Arc::new(UiInner {
                quiet: global.quiet,
                color,
                bars: tty && !ci && !global.quiet,
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
            }),
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
