//! `stampede run`: load the plan (file or ad-hoc), run it, print the summary,
//! and turn the outcome into an exit code.

use std::io::Write;
use std::sync::Arc;

use super::args::RunArgs;
use super::color::Colors;
use super::load::{default_instance, load_file, load_options, print_errors};
use super::outputs::{check_output_flags, start_outputs};
use super::run_identity::run_identity;
use super::signals;
use crate::demo::{DemoConfig, DemoServer};
use crate::engine::{self, EngineError, Progress, RunOptions};
use crate::exit_code;
use crate::metrics::{RunEnd, Summary};
use crate::report::{
    ConsoleOptions, RunExport, RunMeta, redacted_command_line, render_console_with_outputs,
    write_export_json, write_html_report,
};
use crate::scenario::{AdhocRequest, adhoc_plan};
use crate::util::url_secrets::has_literal_credentials;

pub async fn run(args: RunArgs, colors: Colors) -> i32 {
    // The command line ends up in shell history and `ps`: credentials come
    // from the environment. The message never repeats the URL.
    if args.url.as_deref().is_some_and(has_literal_credentials) {
        eprintln!(
            "error: --url: the URL holds credentials (user info before '@'), which the command line \
             must not carry; take them from the environment, e.g. \
             --url 'http://{{{{ API_USER }}}}:{{{{ API_PASSWORD }}}}@host/'"
        );
        return exit_code::BAD_ARGUMENTS;
    }
    let cli_outputs =
        match check_output_flags(&args.outs, &args.tags, args.testid.as_deref(), |var| {
            std::env::var(var).ok()
        }) {
            Ok(specs) => specs,
            Err(problems) => {
                for problem in problems {
                    eprintln!("error: {problem}");
                }
                return exit_code::BAD_ARGUMENTS;
            }
        };
    let demo = if args.demo {
        let config = args.demo_settings.knobs().apply(DemoConfig::default());
        if let Err(e) = config.validate() {
            eprintln!("error: demo settings: {e}");
            return exit_code::BAD_ARGUMENTS;
        }
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        match DemoServer::start(addr, config).await {
            Ok(server) => Some(server),
            Err(e) => {
                eprintln!("error: cannot start the demo target: {e}");
                return exit_code::RUNTIME_ERROR;
            }
        }
    } else {
        None
    };
    let extra_env = demo
        .as_ref()
        .map(|d| vec![("BASE_URL".to_string(), d.base_url())])
        .unwrap_or_default();
    let mut options = load_options(&args.plan, extra_env);
    let instance = args
        .instance
        .clone()
        .unwrap_or_else(|| default_instance(args.plan.segment));
    options.instance = Some(instance.clone());
    options.tags = args.tags.clone();
    let loaded = match (&args.file, &args.url) {
        (Some(file), _) => load_file(file, &options),
        (None, Some(url)) => adhoc_plan(
            &AdhocRequest {
                url: url.clone(),
                method: Some(args.method.clone()),
                headers: args.headers.clone(),
                body: args.body.clone(),
            },
            &options,
        ),
        (None, None) => unreachable!("clap requires FILE or --url"),
    };
    let plan = match loaded {
        Ok(mut plan) => {
            for entry in &args.resolve {
                plan.http.network.hosts.add(entry.clone());
            }
            Arc::new(plan)
        }
        Err(errors) => {
            print_errors(&errors);
            return exit_code::INVALID_SCENARIO;
        }
    };

    let outputs = match start_outputs(&plan, cli_outputs, &args).await {
        Ok(outputs) => outputs,
        Err(code) => return code,
    };
    warn_when_vus_exceed_open_files(&plan, args.demo);
    let interrupt = signals::install();
    let testid = outputs.testid;
    let options = RunOptions {
        sinks: outputs.sinks,
        sink_finish_timeout: outputs.finish_timeout,
        http_debug: args.http_debug.unwrap_or_default(),
        progress: (!args.quiet).then(|| Progress::stderr(args.progress_interval)),
        start_at: args.start_at.as_ref().map(|s| s.at),
        timeline: !args.no_timeline,
        ..RunOptions::default()
    };
    let interrupted = async move {
        if interrupt.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let result = match engine::run(plan, options, interrupted).await {
        Ok(result) => result,
        Err(EngineError::SetupFailed(message)) => {
            eprintln!("error: setup failed, no load was started: {message}");
            return exit_code::SETUP_FAILED;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::RUNTIME_ERROR;
        }
    };
    if let Some(server) = demo {
        server.shutdown().await;
    }

    let mut stdout = std::io::stdout().lock();
    let console = ConsoleOptions {
        color: colors.stdout,
    };
    if let Err(e) =
        render_console_with_outputs(&result.summary, &result.sink_reports, &mut stdout, &console)
    {
        eprintln!("error: cannot print the summary: {e}");
    }
    if !result.errors.is_empty() {
        let _ = writeln!(stdout, "\n  █ ITERATION ERRORS\n");
        for (message, count) in &result.errors {
            let _ = writeln!(stdout, "    {count:>8} × {message}");
        }
    }
    let code = exit_code_for(&result.summary);
    if code == exit_code::NO_REQUEST_SUCCEEDED
        && let Some((failed, made)) = result.summary.no_request_succeeded()
    {
        let _ = writeln!(
            stdout,
            "\n  ✗ NO REQUEST SUCCEEDED: {failed} of {made} failed (see ERRORS); the run fails with exit code {}",
            exit_code::NO_REQUEST_SUCCEEDED
        );
    }
    let _ = stdout.flush();
    if args.summary_export.is_none() && args.report.is_none() {
        return code;
    }
    let meta = RunMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        testid,
        scenario_file: args.file.as_ref().map(|f| f.display().to_string()),
        command_line: command_line(),
    };
    let mut doc = RunExport {
        summary: &result.summary,
        outputs: &result.sink_reports,
        timeline: result.timeline.as_ref(),
        meta: Some(&meta),
    }
    .to_json();
    // The `run` section lets `stampede merge` combine instances of one test.
    let identity = run_identity(&args, &instance, result.start_lag);
    doc["run"] = serde_json::to_value(identity).unwrap_or(serde_json::Value::Null);
    if !write_export_and_report(&doc, args.summary_export.as_deref(), args.report.as_deref()) {
        return exit_code::RUNTIME_ERROR;
    }
    code
}

/// Writes `doc` as the summary export and as the HTML report, where asked;
/// false (the reason on stderr) when either cannot be written. `run` and
/// `merge` end the same way.
pub(super) fn write_export_and_report(
    doc: &serde_json::Value,
    export: Option<&std::path::Path>,
    report: Option<&std::path::Path>,
) -> bool {
    if let Some(path) = export
        && let Err(e) = write_export_json(doc, path)
    {
        eprintln!("error: cannot write the summary to {}: {e}", path.display());
        return false;
    }
    if let Some(path) = report
        && let Err(e) = write_html_report(doc, path)
    {
        eprintln!("error: cannot write the report to {}: {e}", path.display());
        return false;
    }
    true
}

/// This process's command line, secrets redacted, for the report.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    redacted_command_line("stampede", &args)
}

pub fn exit_code_for(summary: &Summary) -> i32 {
    match summary.end {
        RunEnd::Interrupted => exit_code::INTERRUPTED,
        RunEnd::AbortedByThreshold(_) => exit_code::ABORTED_BY_THRESHOLD,
        RunEnd::Completed if summary.no_request_succeeded().is_some() => {
            exit_code::NO_REQUEST_SUCCEEDED
        }
        RunEnd::Completed if summary.thresholds_passed() => exit_code::PASS,
        RunEnd::Completed => exit_code::THRESHOLDS_FAILED,
    }
}

/// Each VU holds its own keep-alive connection: raise the soft open-file
/// limit, and say so up front when the plan still needs more sockets than the
/// process may open (those requests would fail with `error_code=file_limit`).
fn warn_when_vus_exceed_open_files(plan: &crate::scenario::TestPlan, demo: bool) {
    use crate::util::open_files::{RESERVED_FILES, raise_to_hard_limit};
    let Some(limit) = raise_to_hard_limit() else {
        return;
    };
    let vus: u64 = plan.scenarios.iter().map(|s| s.executor.max_vus()).sum();
    // With --demo the target is this process too: both ends of every
    // connection are its descriptors.
    let needed = if demo { 2 * vus } else { vus };
    if needed + RESERVED_FILES > limit {
        let ends = if demo {
            " (with --demo, both ends of it)"
        } else {
            ""
        };
        eprintln!(
            "warning: up to {vus} VUs may each hold a connection{ends}, but this process may open only {limit} files; \
             raise the limit (ulimit -n) or expect requests to fail with error_code=file_limit"
        );
    }
}
