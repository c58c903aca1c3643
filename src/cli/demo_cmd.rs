//! `stampede demo`: the built-in target, standalone.

use super::args::DemoArgs;
use crate::demo::{DemoConfig, RateLimit, serve_forever};
use crate::exit_code;

pub fn config(args: &DemoArgs) -> DemoConfig {
    DemoConfig {
        execution_time: args.execution_time,
        default_delay: args.delay,
        fail_rate: args.fail_rate,
        rate_limit: args.rate_limit.map(|per_second| RateLimit {
            per_second,
            burst: args.burst,
        }),
        stall: args.stall,
        tools_rate_limit: args.tools_rate_limit.0.map(|per_second| RateLimit {
            per_second,
            burst: args.tools_burst,
        }),
        tools_quota: args.tools_quota.0,
        ..args.suites.knobs().apply(DemoConfig::default())
    }
}

pub async fn demo(args: DemoArgs) -> i32 {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        eprintln!(
            "error: --fail-rate must be between 0.0 and 1.0, got {}",
            args.fail_rate
        );
        return exit_code::BAD_ARGUMENTS;
    }
    let config = config(&args);
    if let Err(e) = config.validate() {
        eprintln!("error: demo settings: {e}");
        return exit_code::BAD_ARGUMENTS;
    }
    match serve_forever(args.listen, config).await {
        Ok(()) => exit_code::PASS,
        Err(e) => {
            eprintln!(
                "error: cannot serve the demo target on {}: {e}",
                args.listen
            );
            exit_code::RUNTIME_ERROR
        }
    }
}
