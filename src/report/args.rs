//! The CI flags of `cargo x07 test`, flattened into its clap arguments.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{MessageFormat, ReportOptions, DEFAULT_SLOWEST};
use crate::partition::Partition;

/// Profile selection, sharding, results files, GitHub output, progress and timing
/// (see `docs/ci.md`).
#[derive(Debug, Clone, Default, Args)]
pub struct CiArgs {
    /// Only run cases of this profile (repeatable; smoke-suite cases use their world, e.g. run-os).
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Run one shard of the cases: `hash:K/N` (by test-name hash) or `slice:K/N` (sorted, even split).
    #[arg(long, value_name = "hash:K/N|slice:K/N")]
    pub partition: Option<Partition>,
    /// Write a JUnit XML report to PATH.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Output format on stdout: human (libtest lines) or json (one event per line).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// Print GitHub Actions annotations and write $GITHUB_STEP_SUMMARY (automatic when GITHUB_ACTIONS=true).
    #[arg(long)]
    pub github: bool,
    /// Exit 0 instead of 4 when no case is selected.
    #[arg(long)]
    pub allow_empty: bool,
    /// Draw a progress bar on stderr (default: only on a terminal outside CI).
    #[arg(long, overrides_with = "no_progress")]
    pub progress: bool,
    /// Never draw a progress bar.
    #[arg(long, overrides_with = "progress")]
    pub no_progress: bool,
    /// Show the N slowest cases at the end (0: none).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SLOWEST)]
    pub slowest: usize,
}

impl CiArgs {
    /// Whether `--profile` keeps cases of `profile` (all profiles when none is given).
    pub fn selects_profile(&self, profile: &str) -> bool {
        self.profiles.is_empty() || self.profiles.iter().any(|selected| selected == profile)
    }

    /// The reporters' options for a run rooted at `workspace_root`, with the environment
    /// (`GITHUB_ACTIONS`, `GITHUB_STEP_SUMMARY`, `CI`, terminals) taken into account.
    pub fn report_options(&self, workspace_root: &Path) -> ReportOptions {
        let mut options = ReportOptions::new(workspace_root);
        options.message_format = self.message_format;
        options.junit_path = self.junit.clone();
        options.slowest = self.slowest;
        options.partition = self.partition;
        options.detect_environment(self.github, self.progress_flag())
    }

    /// `--progress` / `--no-progress` (the last one given), or `None` for automatic.
    pub fn progress_flag(&self) -> Option<bool> {
        if self.no_progress {
            Some(false)
        } else if self.progress {
            Some(true)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        ci: CiArgs,
    }

    #[test]
    fn parses_every_flag() {
        let cli = Cli::try_parse_from([
            "t",
            "--profile",
            "os",
            "--profile",
            "run-os",
            "--partition",
            "slice:2/3",
            "--junit",
            "out/j.xml",
            "--message-format",
            "json",
            "--github",
            "--allow-empty",
            "--no-progress",
            "--slowest",
            "0",
        ])
        .unwrap();
        assert_eq!(cli.ci.partition.unwrap().to_string(), "slice:2/3");
        assert!(cli.ci.selects_profile("os") && cli.ci.selects_profile("run-os"));
        assert!(!cli.ci.selects_profile("sandbox") && !cli.ci.selects_profile("run-os-sandboxed"));
        assert_eq!(cli.ci.message_format, MessageFormat::Json);
        let options = cli.ci.report_options(Path::new("/ws"));
        assert!(options.github && cli.ci.allow_empty && !options.progress);
        assert_eq!(options.slowest, 0);
        assert_eq!(options.junit_path.as_deref(), Some(Path::new("out/j.xml")));

        let defaults = Cli::try_parse_from(["t"]).unwrap().ci;
        assert_eq!(defaults.message_format, MessageFormat::Human);
        assert_eq!(defaults.slowest, DEFAULT_SLOWEST);
        assert!(defaults.selects_profile("anything"));
        assert!(Cli::try_parse_from(["t", "--partition", "hash:3/2"]).is_err());
        let last_wins = Cli::try_parse_from(["t", "--no-progress", "--progress"])
            .unwrap()
            .ci;
        assert!(last_wins.progress && !last_wins.no_progress);
    }
}
