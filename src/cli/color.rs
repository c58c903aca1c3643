//! Whether output is coloured: one decision per stream (the summary on
//! stdout, log lines on stderr), from the same rules, so `--no-color` or
//! `NO_COLOR` never leaves one of them coloured.

use std::io::IsTerminal;

/// Colour for each stream stampede writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colors {
    pub stdout: bool,
    pub stderr: bool,
}

impl Colors {
    /// The decision for this process: its flags, environment and streams.
    pub fn detect(no_color_flag: bool) -> Self {
        let env = |name: &str| std::env::var(name).ok();
        Colors {
            stdout: use_color(no_color_flag, env, std::io::stdout().is_terminal()),
            stderr: use_color(no_color_flag, env, std::io::stderr().is_terminal()),
        }
    }
}

/// In order: `--no-color` turns colour off; so does `NO_COLOR` set to
/// anything but the empty string (no-color.org); `CLICOLOR_FORCE` set to
/// anything but `0` or empty turns it on for a stream that is not a
/// terminal (CI logs that render ANSI codes); otherwise a stream is coloured
/// when it is a terminal, so files and pipes get plain text.
pub fn use_color(
    no_color_flag: bool,
    env: impl Fn(&str) -> Option<String>,
    terminal: bool,
) -> bool {
    let set = |name: &str, off: &[&str]| env(name).is_some_and(|v| !off.contains(&v.as_str()));
    if no_color_flag || set("NO_COLOR", &[""]) {
        return false;
    }
    set("CLICOLOR_FORCE", &["", "0"]) || terminal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn terminals_are_coloured_unless_told_otherwise() {
        assert!(use_color(false, with(&[]), true));
        assert!(!use_color(false, with(&[]), false));
        assert!(!use_color(true, with(&[]), true));
        assert!(!use_color(false, with(&[("NO_COLOR", "1")]), true));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(use_color(false, with(&[("NO_COLOR", "")]), true));
    }

    #[test]
    fn clicolor_force_colours_pipes_but_never_beats_no_color() {
        assert!(use_color(false, with(&[("CLICOLOR_FORCE", "1")]), false));
        assert!(!use_color(false, with(&[("CLICOLOR_FORCE", "0")]), false));
        assert!(!use_color(true, with(&[("CLICOLOR_FORCE", "1")]), false));
        let both = with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
        assert!(!use_color(false, both, true));
    }
}
