//! Command-line arguments and subcommand dispatch. `main.rs` calls [`main`]
//! and exits with the code it returns.

mod args;
mod color;
mod compare_cmd;
mod demo_cmd;
mod demo_knobs;
mod load;
mod merge_cmd;
mod outputs;
mod report_cmd;
mod run_cmd;
mod run_identity;
mod schema_cmd;
mod signals;
mod validate_cmd;

use clap::Parser;

use color::Colors;

pub use args::{
    Cli, Command, CompareArgs, DemoArgs, MergeArgs, ReportArgs, RunArgs, SchemaArgs, ValidateArgs,
};

use crate::exit_code;

/// Parses the command line, runs the subcommand, returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit_code::PASS
                }
                _ => exit_code::BAD_ARGUMENTS,
            };
        }
    };
    let colors = Colors::detect(cli.no_color);
    init_logging(colors.stderr);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_code::RUNTIME_ERROR;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => run_cmd::run(*args, colors).await,
            Command::Validate(args) => validate_cmd::validate(args),
            Command::Demo(args) => demo_cmd::demo(args).await,
            Command::Merge(args) => merge_cmd::merge(args, colors),
            Command::Schema(args) => schema_cmd::schema(&args),
            Command::Report(args) => report_cmd::report(&args),
            Command::Compare(args) => compare_cmd::compare(&args),
        }
    })
}

/// Logs go to stderr, coloured by the same rules as the summary;
/// `STAMPEDE_LOG=debug` (tracing's env-filter syntax) for more.
fn init_logging(color: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STAMPEDE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(color)
        .try_init();
}
