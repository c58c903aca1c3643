//! `stampede schema`: the JSON Schema of scenario files, generated from the
//! model (`scenario::schema`), printed or written where the repository
//! keeps it.

use super::args::SchemaArgs;
use crate::exit_code;
use crate::scenario::schema::{SCHEMA_PATH, scenario_schema_text};

pub fn schema(args: &SchemaArgs) -> i32 {
    let text = scenario_schema_text();
    if !args.write {
        print!("{text}");
        return exit_code::PASS;
    }
    match std::fs::write(SCHEMA_PATH, &text) {
        Ok(()) => {
            println!("wrote {SCHEMA_PATH}");
            exit_code::PASS
        }
        Err(e) => {
            eprintln!("error: cannot write {SCHEMA_PATH}: {e}");
            exit_code::RUNTIME_ERROR
        }
    }
}
