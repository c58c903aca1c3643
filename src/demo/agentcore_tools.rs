//! The tools AgentCore's `tools.*` methods run, under AgentCore's names
//! and parameters (`tool_id`, `operation: subtract`), on top of the
//! platform's own tools (`super::tools`), plus `flaky_search`: a tool that
//! fails now and then, which the fallback chain exists for.

use serde_json::{Map, Value, json};

use super::timefmt::rfc3339;
use super::tools::Tool;

/// Why a tool gave no result; the route turns each into a JSON-RPC error.
#[derive(Debug, PartialEq)]
pub enum ToolFailure {
    /// The parameters cannot be used (-32602).
    InvalidParams(String),
    /// The tool ran and failed (-32002).
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreTool {
    Echo,
    Calculator,
    CurrentTime,
    FlakySearch,
}

impl CoreTool {
    pub const ALL: [CoreTool; 4] = [
        CoreTool::Echo,
        CoreTool::Calculator,
        CoreTool::CurrentTime,
        CoreTool::FlakySearch,
    ];

    pub fn by_id(id: &str) -> Option<CoreTool> {
        CoreTool::ALL.into_iter().find(|tool| tool.id() == id)
    }

    pub fn id(self) -> &'static str {
        match self {
            CoreTool::Echo => "echo",
            CoreTool::Calculator => "calculator",
            CoreTool::CurrentTime => "current_time",
            CoreTool::FlakySearch => "flaky_search",
        }
    }

    /// The `tools.list` entry.
    pub fn describe(self) -> Value {
        let (description, category, parameters) = match self {
            CoreTool::Echo => ("Returns its parameters unchanged.", "utility", json!({})),
            CoreTool::Calculator => (
                "Applies an operation to two numbers.",
                "math",
                json!({"operation": "add | subtract | multiply | divide", "a": "number", "b": "number"}),
            ),
            CoreTool::CurrentTime => (
                "The server's clock, in UTC.",
                "utility",
                json!({"timezone": "string (answered in UTC)"}),
            ),
            CoreTool::FlakySearch => (
                "A web search whose upstream fails now and then.",
                "search",
                json!({"query": "string"}),
            ),
        };
        json!({
            "tool_id": self.id(),
            "name": self.id(),
            "description": description,
            "category": category,
            "parameters": parameters,
        })
    }

    /// Runs the tool at `unix_secs`; `upstream_fails` decides the flaky
    /// tool's fate (drawn by the caller, so a seed fixes it).
    pub fn run(
        self,
        params: &Map<String, Value>,
        unix_secs: u64,
        upstream_fails: bool,
    ) -> Result<Value, ToolFailure> {
        match self {
            CoreTool::Echo => Ok(Value::Object(params.clone())),
            CoreTool::Calculator => calculate(params),
            CoreTool::CurrentTime => Ok(json!({
                "timezone": "UTC",
                "rfc3339": rfc3339(unix_secs),
                "unix": unix_secs,
            })),
            CoreTool::FlakySearch => {
                let query = params
                    .get("query")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if upstream_fails {
                    return Err(ToolFailure::Failed(
                        "search upstream unavailable".to_string(),
                    ));
                }
                Ok(json!({
                    "query": query,
                    "results": [
                        {"title": "Load testing basics", "url": "https://example.com/load-testing"},
                        {"title": "Percentiles, not averages", "url": "https://example.com/percentiles"},
                    ],
                }))
            }
        }
    }
}

/// AgentCore's calculator on the platform's: `operation` names map onto `op`.
fn calculate(params: &Map<String, Value>) -> Result<Value, ToolFailure> {
    let op = match params.get("operation").and_then(Value::as_str) {
        Some("add") => "add",
        Some("subtract") => "sub",
        Some("multiply") => "mul",
        Some("divide") => "div",
        _ => {
            return Err(ToolFailure::InvalidParams(
                "operation must be one of add, subtract, multiply, divide".into(),
            ));
        }
    };
    let mut args = params.clone();
    args.insert("op".into(), Value::from(op));
    let result = Tool::Calculator
        .run(&args, 0)
        .map_err(ToolFailure::InvalidParams)?;
    Ok(json!({ "result": result }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn tools_answer_exactly() {
        let run = |tool: CoreTool, p: Value, fails: bool| {
            tool.run(&params(p), 1_714_564_800, fails)
                .map(|v| v.to_string())
        };
        assert_eq!(
            run(CoreTool::Echo, json!({"message": "hi"}), false),
            Ok(r#"{"message":"hi"}"#.into())
        );
        assert_eq!(
            run(
                CoreTool::Calculator,
                json!({"operation": "subtract", "a": 10, "b": 2.5}),
                false
            ),
            Ok(r#"{"result":7.5}"#.into())
        );
        assert_eq!(
            run(
                CoreTool::Calculator,
                json!({"operation": "divide", "a": 1, "b": 0}),
                false
            ),
            Err(ToolFailure::InvalidParams("division by zero".into()))
        );
        assert_eq!(
            run(CoreTool::Calculator, json!({"operation": "pow"}), false),
            Err(ToolFailure::InvalidParams(
                "operation must be one of add, subtract, multiply, divide".into()
            ))
        );
        assert_eq!(
            run(
                CoreTool::CurrentTime,
                json!({"timezone": "Europe/London"}),
                false
            ),
            Ok(r#"{"timezone":"UTC","rfc3339":"2024-05-01T12:00:00Z","unix":1714564800}"#.into())
        );
        assert_eq!(
            run(CoreTool::FlakySearch, json!({"query": "k6"}), true),
            Err(ToolFailure::Failed("search upstream unavailable".into()))
        );
        assert!(
            run(CoreTool::FlakySearch, json!({"query": "k6"}), false)
                .unwrap()
                .starts_with(r#"{"query":"k6","results":[{"title":"#)
        );
    }

    #[test]
    fn ids_round_trip() {
        for tool in CoreTool::ALL {
            assert_eq!(CoreTool::by_id(tool.id()), Some(tool));
            assert_eq!(tool.describe()["tool_id"], tool.id());
        }
        assert_eq!(CoreTool::by_id("weather"), None);
    }
}
