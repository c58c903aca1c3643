//! Fault injection: an added delay and a share of injected 500s, set server-wide
//! by [`DemoConfig`] and replaced per request by `?delay=` and `?fail=`.

use std::time::Duration;

use super::config::DemoConfig;
use super::query::query_param;
use super::response::ApiError;
use crate::util::duration::parse_duration;

/// What to inject into one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Injection {
    pub delay: Duration,
    /// Probability (0..=1) of answering 500 instead of the real response.
    pub fail_rate: f64,
}

impl Injection {
    /// The server defaults, overridden by the request's `delay` and `fail`
    /// query parameters (`delay=50ms`, `delay=0.05s`, `fail=0.05`).
    pub fn for_request(query: Option<&str>, config: &DemoConfig) -> Result<Self, ApiError> {
        let mut injection = Injection {
            delay: config.default_delay,
            fail_rate: config.fail_rate,
        };
        if query.is_none() {
            return Ok(injection);
        }
        if let Some(text) = query_param(query, "delay") {
            injection.delay = parse_duration(&text)
                .map_err(|msg| ApiError::BadRequest(format!("query parameter delay: {msg}")))?;
        }
        if let Some(text) = query_param(query, "fail") {
            injection.fail_rate = text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "query parameter fail: expected a probability between 0 and 1, got {text:?}"
                    ))
                })?;
        }
        Ok(injection)
    }

    /// Whether this request fails, given a uniform `roll` in `[0, 1)`:
    /// rate 0 never fails, rate 1 always does.
    pub fn fails(&self, roll: f64) -> bool {
        roll < self.fail_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_config() {
        let config = DemoConfig {
            default_delay: Duration::from_millis(7),
            fail_rate: 0.25,
            ..DemoConfig::default()
        };
        let expected = Injection {
            delay: Duration::from_millis(7),
            fail_rate: 0.25,
        };
        assert_eq!(Injection::for_request(None, &config), Ok(expected));
        assert_eq!(
            Injection::for_request(Some("limit=3"), &config),
            Ok(expected)
        );
    }

    #[test]
    fn query_overrides_the_defaults() {
        let config = DemoConfig::default();
        let got = Injection::for_request(Some("delay=0.05s&fail=1"), &config).unwrap();
        assert_eq!(got.delay, Duration::from_millis(50));
        assert_eq!(got.fail_rate, 1.0);
        let got = Injection::for_request(Some("delay=50ms"), &config).unwrap();
        assert_eq!(got.delay, Duration::from_millis(50));
    }

    #[test]
    fn bad_values_are_client_errors() {
        let config = DemoConfig::default();
        let err = Injection::for_request(Some("fail=2"), &config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "query parameter fail: expected a probability between 0 and 1, got \"2\""
        );
        let err = Injection::for_request(Some("delay=soon"), &config).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("query parameter delay: invalid duration \"soon\"")
        );
        assert!(Injection::for_request(Some("fail=NaN"), &config).is_err());
    }

    #[test]
    fn failure_roll_bounds() {
        let never = Injection {
            delay: Duration::ZERO,
            fail_rate: 0.0,
        };
        let always = Injection {
            delay: Duration::ZERO,
            fail_rate: 1.0,
        };
        assert!(!never.fails(0.0));
        assert!(always.fails(0.0) && always.fails(0.999_999));
    }
}
