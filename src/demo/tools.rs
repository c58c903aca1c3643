//! The tools behind `POST /api/tools/{name}/execute`: small pure functions
//! of their JSON arguments, the kind an agent platform calls between model
//! turns. The route (auth, rate limit, quota) is `routes::tools`.

use serde_json::{Map, Value, json};

use super::timefmt::rfc3339;

/// Every tool, in the order error messages list them.
pub const TOOL_NAMES: &str = "echo, calculator, current_time";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Returns its arguments unchanged.
    Echo,
    /// `op` (`add`, `sub`, `mul`, `div`) applied to the numbers `a` and `b`.
    Calculator,
    /// The server's clock: `{"rfc3339": "...Z", "unix": seconds}`.
    CurrentTime,
}

impl Tool {
    pub fn by_name(name: &str) -> Option<Tool> {
        match name {
            "echo" => Some(Tool::Echo),
            "calculator" => Some(Tool::Calculator),
            "current_time" => Some(Tool::CurrentTime),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Echo => "echo",
            Tool::Calculator => "calculator",
            Tool::CurrentTime => "current_time",
        }
    }

    /// The tool's result for `args` at `unix_secs`, or why the arguments
    /// cannot be used (a 400).
    pub fn run(self, args: &Map<String, Value>, unix_secs: u64) -> Result<Value, String> {
        match self {
            Tool::Echo => Ok(Value::Object(args.clone())),
            Tool::Calculator => calculate(args),
            Tool::CurrentTime => Ok(json!({ "rfc3339": rfc3339(unix_secs), "unix": unix_secs })),
        }
    }
}

fn calculate(args: &Map<String, Value>) -> Result<Value, String> {
    let number = |key: &str| {
        args.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{key} must be a number"))
    };
    let op = args
        .get("op")
        .and_then(Value::as_str)
        .ok_or("op must be one of add, sub, mul, div")?;
    let (a, b) = (number("a")?, number("b")?);
    let result = match op {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        "div" if b == 0.0 => return Err("division by zero".into()),
        "div" => a / b,
        other => return Err(format!("unknown op {other:?}; use add, sub, mul or div")),
    };
    number_json(result).ok_or_else(|| "the result is not a finite number".into())
}

/// Whole results are written as integers (`5`, not `5.0`) while exact in
/// an f64; others as decimals. `None` for infinities and NaN.
fn number_json(x: f64) -> Option<Value> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < EXACT {
        return Some(Value::from(x as i64));
    }
    serde_json::Number::from_f64(x).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn calc(op: &str, a: Value, b: Value) -> Result<String, String> {
        Tool::Calculator
            .run(&args(json!({ "op": op, "a": a, "b": b })), 0)
            .map(|v| v.to_string())
    }

    #[test]
    fn calculator_does_arithmetic_and_refuses_bad_input() {
        assert_eq!(calc("add", json!(2), json!(3)), Ok("5".into()));
        assert_eq!(calc("sub", json!(2), json!(3.5)), Ok("-1.5".into()));
        assert_eq!(calc("mul", json!(-4), json!(2.5)), Ok("-10".into()));
        assert_eq!(calc("div", json!(1), json!(4)), Ok("0.25".into()));
        assert_eq!(
            calc("div", json!(1), json!(0)),
            Err("division by zero".into())
        );
        assert_eq!(
            calc("pow", json!(1), json!(2)),
            Err("unknown op \"pow\"; use add, sub, mul or div".into())
        );
        assert_eq!(
            calc("add", json!("1"), json!(2)),
            Err("a must be a number".into())
        );
        assert_eq!(
            calc("mul", json!(1e308), json!(10)),
            Err("the result is not a finite number".into())
        );
        let no_op = Tool::Calculator.run(&args(json!({ "a": 1, "b": 2 })), 0);
        assert_eq!(no_op, Err("op must be one of add, sub, mul, div".into()));
    }

    #[test]
    fn echo_and_current_time() {
        let given = args(json!({ "message": "hi", "n": [1, 2] }));
        assert_eq!(
            Tool::Echo.run(&given, 0).unwrap().to_string(),
            r#"{"message":"hi","n":[1,2]}"#
        );
        assert_eq!(
            Tool::CurrentTime
                .run(&Map::new(), 1_714_564_800)
                .unwrap()
                .to_string(),
            r#"{"rfc3339":"2024-05-01T12:00:00Z","unix":1714564800}"#
        );
    }

    #[test]
    fn names_round_trip() {
        for tool in [Tool::Echo, Tool::Calculator, Tool::CurrentTime] {
            assert_eq!(Tool::by_name(tool.name()), Some(tool));
        }
        assert_eq!(Tool::by_name("Echo"), None);
    }
}
