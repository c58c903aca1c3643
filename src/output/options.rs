//! From options as the user wrote them (`--out KIND=TARGET;key=value` or an
//! entry of the scenario's `outputs:` list) to an [`OutputSpec`]: common
//! options parsed into [`CommonOptions`], everything else kept as text in
//! `extra` for the kind to judge, and credentials read from the environment.
//!
//! Secrets are never accepted as option values: the command line ends up in
//! shell history and `ps`, scenario files in git. Options name environment
//! variables instead (`password_env`, `bearer_token_env`, `headers_env`), and
//! each kind has default variables (`STAMPEDE_<KIND>_USERNAME`, `_PASSWORD`,
//! `_BEARER_TOKEN`). A target URL with user info (`http://user:pass@host`)
//! is refused for the same reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::env_fallbacks::{self, Unset, credential_fallbacks};
use super::spec::{BasicAuth, CommonOptions, OutputConfigError, OutputKind, OutputSpec, Secret};
use crate::protocol::http::proxy::{ProxyConfig, ProxyServer};
use crate::util::duration::parse_duration;
use crate::util::url_secrets::has_userinfo;

/// The option keys [`SpecBuilder::set`] understands itself; any other key is
/// the kind's business (`extra`).
pub const COMMON_KEYS: &[&str] = &[
    "push_interval",
    "timeout",
    "flush_timeout",
    "batch_size",
    "buffer_points",
    "required",
    "insecure_skip_tls_verify",
    "ca_file",
    "client_cert",
    "client_key",
    "username",
    "password_env",
    "bearer_token_env",
    "header",
    "header_env",
    "proxy",
    "proxy_env",
    "no_proxy",
];

/// The common keys whose value is a comma-separated list on the command
/// line (`no_proxy`, as `NO_PROXY`): a file may write a YAML list instead,
/// so a host list reads like the other lists of the file.
const LIST_KEYS: &[&str] = &["no_proxy"];

/// Keys that would put a secret on the command line or in the file.
const SECRET_KEYS: &[(&str, &str)] = &[
    ("password", "password_env=VAR, or STAMPEDE_<KIND>_PASSWORD"),
    (
        "bearer_token",
        "bearer_token_env=VAR, or STAMPEDE_<KIND>_BEARER_TOKEN",
    ),
];

/// A problem with one option, before it is given its origin.
#[derive(Debug, PartialEq, Eq)]
pub struct OptionProblem {
    /// The option as the user wrote it, relative to the output
    /// (`push_interval`, `basic_auth.password_env`); empty for the output as a whole.
    pub field: String,
    pub error: OutputConfigError,
}

/// Collects one output's options and resolves them into an [`OutputSpec`].
#[derive(Clone, Debug)]
pub struct SpecBuilder {
    kind: OutputKind,
    target: String,
    origin: String,
    common: CommonOptions,
    extra: BTreeMap<String, String>,
    username: Option<String>,
    /// `(field that named it, variable)`.
    password_env: Option<(String, String)>,
    bearer_token_env: Option<(String, String)>,
    headers: Vec<(String, String)>,
    /// `(field that named it, header name, variable)`.
    headers_env: Vec<(String, String, String)>,
    /// `proxy`: a proxy without credentials.
    proxy: Option<ProxyServer>,
    /// `(field that named it, variable)` holding the proxy URL.
    proxy_env: Option<(String, String)>,
    /// `no_proxy`: replaces `NO_PROXY`.
    no_proxy: Option<String>,
    /// Option keys given, which environment fallbacks never override.
    given: BTreeSet<String>,
}

impl SpecBuilder {
    /// `origin` names the output in messages (`--out #2`, `outputs[1]`).
    pub fn new(kind: OutputKind, target: impl Into<String>, origin: impl Into<String>) -> Self {
        SpecBuilder {
            kind,
            target: target.into(),
            origin: origin.into(),
            common: CommonOptions::default(),
            extra: BTreeMap::new(),
            username: None,
            password_env: None,
            bearer_token_env: None,
            headers: Vec::new(),
            headers_env: Vec::new(),
            proxy: None,
            proxy_env: None,
            no_proxy: None,
            given: BTreeSet::new(),
        }
    }

    pub fn kind(&self) -> OutputKind {
        self.kind
    }

    fn bad(&self, key: &str, message: impl Into<String>) -> OutputConfigError {
        OutputConfigError::BadOption {
            origin: self.origin.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Applies one `key=value` option. Common keys are parsed (durations in
    /// the project's notation, booleans `true`/`false`, whole numbers);
    /// other keys go to `extra`, where the kind's constructor checks them.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), OutputConfigError> {
        let value = value.trim();
        self.given.insert(key.to_string());
        // A file output has no endpoint: TLS, credentials, proxies and the
        // push schedule would be silently without effect.
        if !self.kind.is_network() && key != "required" && COMMON_KEYS.contains(&key) {
            return Err(self.bad(
                key,
                format!(
                    "does not apply to a {} output, which writes a file",
                    self.kind
                ),
            ));
        }
        match key {
            "push_interval" => self.common.push_interval = self.positive_duration(key, value)?,
            "timeout" => self.common.timeout = self.positive_duration(key, value)?,
            "flush_timeout" => {
                self.common.flush_timeout = parse_duration(value).map_err(|m| self.bad(key, m))?;
            }
            "batch_size" => {
                let n = self.positive_number(key, value)?;
                self.common.batch_size =
                    usize::try_from(n).map_err(|_| self.bad(key, "too large"))?;
            }
            "buffer_points" => self.common.buffer_points = self.positive_number(key, value)?,
            "required" => self.common.required = self.boolean(key, value)?,
            "insecure_skip_tls_verify" => {
                self.common.insecure_skip_tls_verify = self.boolean(key, value)?;
            }
            "ca_file" => {
                if value.is_empty() {
                    return Err(self.bad(key, "expected the path of a PEM file"));
                }
                self.common.ca_file = Some(PathBuf::from(value));
            }
            "client_cert" | "client_key" => {
                if value.is_empty() {
                    return Err(self.bad(key, "expected the path of a PEM file"));
                }
                let slot = if key == "client_cert" {
                    &mut self.common.client_cert
                } else {
                    &mut self.common.client_key
                };
                *slot = Some(PathBuf::from(value));
            }
            "username" => self.username = Some(value.to_string()),
            "password_env" => self.password_env = Some((key.into(), self.env_name(key, value)?)),
            "bearer_token_env" => {
                self.bearer_token_env = Some((key.into(), self.env_name(key, value)?));
            }
            "header" => {
                let (name, v) = value.split_once(':').ok_or_else(|| {
                    self.bad(key, format!("expected 'Name: value', got {value:?}"))
                })?;
                self.header(key, name.trim(), v.trim())?;
            }
            "header_env" => {
                let (name, var) = value.split_once(':').ok_or_else(|| {
                    self.bad(key, format!("expected 'Name:VARIABLE', got {value:?}"))
                })?;
                self.header_env(key, name.trim(), var.trim())?;
            }
            "proxy" => {
                let server = ProxyServer::parse(value).map_err(|m| self.bad(key, m))?;
                // The command line and the file are not places for a password.
                if server.has_credentials() {
                    return Err(self.bad(
                        key,
                        "proxy credentials are not accepted here; give the whole URL from \
                         the environment (proxy_env=VAR, or HTTPS_PROXY / HTTP_PROXY)",
                    ));
                }
                self.proxy = Some(server);
            }
            "proxy_env" => self.proxy_env = Some((key.into(), self.env_name(key, value)?)),
            "no_proxy" => self.no_proxy = Some(value.to_string()),
            _ => {
                if let Some((_, instead)) = SECRET_KEYS.iter().find(|(k, _)| *k == key) {
                    return Err(
                        self.bad(key, format!("secrets are not accepted here; use {instead}"))
                    );
                }
                if self
                    .extra
                    .insert(key.to_string(), value.to_string())
                    .is_some()
                {
                    return Err(self.bad(key, "given twice"));
                }
            }
        }
        Ok(())
    }

    /// Adds a plain request header. `Authorization` is refused: it holds a
    /// credential, which must come from the environment (`header_env`).
    pub fn header(
        &mut self,
        field: &str,
        name: &str,
        value: &str,
    ) -> Result<(), OutputConfigError> {
        self.check_header_name(field, name)?;
        if name.eq_ignore_ascii_case("authorization") {
            return Err(self.bad(
                field,
                "the Authorization header holds a secret; give it from the environment \
                 (header_env=Authorization:VAR, headers_env in a file) or use bearer_token_env / basic auth",
            ));
        }
        if HeaderValue::from_str(value).is_err() {
            return Err(self.bad(field, format!("invalid header value {value:?}")));
        }
        self.headers.push((name.to_string(), value.to_string()));
        Ok(())
    }

    /// Adds a header whose value is read from the environment variable `var`.
    pub fn header_env(
        &mut self,
        field: &str,
        name: &str,
        var: &str,
    ) -> Result<(), OutputConfigError> {
        self.check_header_name(field, name)?;
        let var = self.env_name(field, var)?;
        self.headers_env
            .push((field.to_string(), name.to_string(), var));
        Ok(())
    }

    /// Sets the basic-auth user name (not a secret: Grafana Cloud's instance id).
    pub fn username(&mut self, username: &str) {
        self.given.insert("username".into());
        self.username = Some(username.to_string());
    }

    /// Names the variable holding the basic-auth password; `field` is where
    /// it was written, for messages.
    pub fn password_env(&mut self, field: &str, var: &str) -> Result<(), OutputConfigError> {
        self.password_env = Some((field.to_string(), self.env_name(field, var)?));
        Ok(())
    }

    /// Stores an option given as a list (a file's YAML list), joined with
    /// `,`: a kind option, or a common one that is a list in its one-line
    /// form (`LIST_KEYS`).
    pub fn set_list(&mut self, key: &str, items: &[String]) -> Result<(), OutputConfigError> {
        if COMMON_KEYS.contains(&key) && !LIST_KEYS.contains(&key) {
            return Err(self.bad(key, "expected a single value, not a list"));
        }
        self.set(key, &items.join(","))
    }

    fn check_header_name(&self, field: &str, name: &str) -> Result<(), OutputConfigError> {
        HeaderName::from_bytes(name.as_bytes())
            .map(|_| ())
            .map_err(|_| self.bad(field, format!("invalid header name {name:?}")))
    }

    fn env_name(&self, key: &str, value: &str) -> Result<String, OutputConfigError> {
        let ok = !value.is_empty()
            && !value.starts_with(|c: char| c.is_ascii_digit())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(value.to_string())
        } else {
            Err(self.bad(
                key,
                format!("expected the NAME of an environment variable, got {value:?}"),
            ))
        }
    }

    fn positive_duration(&self, key: &str, value: &str) -> Result<Duration, OutputConfigError> {
        match parse_duration(value).map_err(|m| self.bad(key, m))? {
            d if d.is_zero() => Err(self.bad(key, "must be longer than 0s")),
            d => Ok(d),
        }
    }

    fn positive_number(&self, key: &str, value: &str) -> Result<u64, OutputConfigError> {
        match value.replace('_', "").parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(self.bad(
                key,
                format!("expected a whole number above 0, got {value:?}"),
            )),
        }
    }

    fn boolean(&self, key: &str, value: &str) -> Result<bool, OutputConfigError> {
        match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.bad(key, format!("expected true or false, got {value:?}"))),
        }
    }

    /// Fills what was left unset from k6's and OpenTelemetry's variables
    /// ([`env_fallbacks`]), reads the credentials from the environment
    /// (`env` looks a variable up; the CLI passes the process environment,
    /// tests their own) and returns the finished spec.
    pub fn finish(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<OutputSpec, OptionProblem> {
        // Checked before the environment fills the target: a URL from a
        // variable may carry credentials, one written here may not.
        if self.kind.is_network() && has_userinfo(&self.target) {
            let prefix = env_prefix(self.kind);
            return Err(OptionProblem {
                field: "url".to_string(),
                error: OutputConfigError::BadTarget {
                    origin: self.origin.clone(),
                    message: format!(
                        "the URL holds credentials (user info before '@'), which are not accepted here; \
                         give the user name with `username` and the password from the environment \
                         (password_env, or {prefix}_PASSWORD)"
                    ),
                },
            });
        }
        env_fallbacks::apply(
            Unset {
                kind: self.kind,
                origin: &self.origin,
                target: &mut self.target,
                common: &mut self.common,
                extra: &mut self.extra,
                given: &self.given,
            },
            &env,
        )
        .map_err(|error| OptionProblem {
            field: String::new(),
            error,
        })?;
        let prefix = env_prefix(self.kind);
        let name = display_name(self.kind, &self.target);
        let missing = |field: &str, var: &str, what: String| OptionProblem {
            field: field.to_string(),
            error: OutputConfigError::MissingEnv {
                origin: self.origin.clone(),
                var: var.to_string(),
                what,
            },
        };
        let lookup = |var: &str| env(var).filter(|v| !v.is_empty());

        let bearer =
            match &self.bearer_token_env {
                Some((field, var)) => Some(Secret::new(lookup(var).ok_or_else(|| {
                    missing(field, var, format!("bearer token of output {name}"))
                })?)),
                None => lookup(&format!("{prefix}_BEARER_TOKEN")).map(Secret::new),
            };
        let mut username = self
            .username
            .clone()
            .or_else(|| lookup(&format!("{prefix}_USERNAME")));
        let default_password = format!("{prefix}_PASSWORD");
        let (password_field, mut password_var) = match &self.password_env {
            Some((field, var)) => (field.clone(), var.clone()),
            None => ("username".to_string(), default_password.clone()),
        };
        let mut password = lookup(&password_var);
        // k6's variables, when neither stampede's options nor its variables
        // give credentials; both come from k6's pair then, so a missing
        // half is reported under k6's name.
        if let Some((k6_user, k6_password)) = credential_fallbacks(self.kind)
            && self.password_env.is_none()
            && username.is_none()
            && password.is_none()
        {
            username = lookup(k6_user);
            password = lookup(k6_password);
            password_var = k6_password.to_string();
        }
        let basic_auth = match (username, password) {
            (Some(username), Some(password)) => Some(BasicAuth {
                username,
                password: Secret::new(password),
            }),
            (Some(_), None) => {
                return Err(missing(
                    &password_field,
                    &password_var,
                    format!("basic-auth password of output {name}"),
                ));
            }
            (None, Some(_)) => {
                return Err(OptionProblem {
                    field: password_field,
                    error: self.bad(
                        "username",
                        format!(
                            "{password_var} holds a basic-auth password but no user name is given; \
                             set username (or {prefix}_USERNAME)"
                        ),
                    ),
                });
            }
            (None, None) if self.password_env.is_some() => {
                return Err(missing(
                    &password_field,
                    &password_var,
                    format!("basic-auth password of output {name}"),
                ));
            }
            (None, None) => None,
        };
        if basic_auth.is_some() && bearer.is_some() {
            return Err(OptionProblem {
                field: String::new(),
                error: self.bad(
                    "bearer_token_env",
                    "basic auth and a bearer token both apply; give only one",
                ),
            });
        }
        let mut headers: Vec<(String, Secret)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), Secret::new(v.clone())))
            .collect();
        for (field, header, var) in &self.headers_env {
            let value = lookup(var)
                .ok_or_else(|| missing(field, var, format!("header {header} of output {name}")))?;
            if HeaderValue::from_str(&value).is_err() {
                return Err(OptionProblem {
                    field: field.clone(),
                    error: self.bad(
                        field,
                        format!("{var} is not a valid value for header {header}"),
                    ),
                });
            }
            headers.push((header.clone(), Secret::new(value)));
        }
        let proxy = self.proxy_config(&lookup)?;
        let mut common = self.common;
        common.proxy = proxy;
        common.headers = headers;
        common.basic_auth = basic_auth;
        common.bearer_token = bearer;
        Ok(OutputSpec {
            kind: self.kind,
            target: self.target,
            common,
            extra: self.extra,
            origin: self.origin,
        })
    }
}

impl SpecBuilder {
    /// The proxy model of the load's requests ([`ProxyConfig::from_env`],
    /// then [`ProxyConfig::overridden`]) with this output's options: the
    /// variables, unless `proxy` / `proxy_env` names another proxy or
    /// `no_proxy` another list (`no_proxy=*`: always direct). No message
    /// repeats a proxy URL: it may hold a password.
    fn proxy_config(
        &self,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<ProxyConfig, OptionProblem> {
        if !self.kind.is_network() {
            return Ok(ProxyConfig::default());
        }
        let problem = |field: &str, error| OptionProblem {
            field: field.to_string(),
            error,
        };
        let env = ProxyConfig::from_env(lookup).map_err(|message| {
            let (var, why) = message.split_once(": ").unwrap_or(("HTTP_PROXY", &message));
            problem(
                "",
                OutputConfigError::BadEnv {
                    origin: self.origin.clone(),
                    var: var.to_string(),
                    message: why.to_string(),
                },
            )
        })?;
        let server = match (&self.proxy, &self.proxy_env) {
            (Some(_), Some((field, _))) => {
                return Err(problem(
                    field,
                    self.bad(
                        field,
                        "proxy and proxy_env both name a proxy; give only one",
                    ),
                ));
            }
            (Some(server), None) => Some(server.clone()),
            (None, Some((field, var))) => {
                let url = lookup(var).ok_or_else(|| {
                    problem(
                        field,
                        OutputConfigError::MissingEnv {
                            origin: self.origin.clone(),
                            var: var.clone(),
                            what: format!(
                                "proxy of output {}",
                                display_name(self.kind, &self.target)
                            ),
                        },
                    )
                })?;
                let server = ProxyServer::parse(&url).map_err(|message| {
                    problem(
                        field,
                        OutputConfigError::BadEnv {
                            origin: self.origin.clone(),
                            var: var.clone(),
                            message,
                        },
                    )
                })?;
                Some(server)
            }
            (None, None) => None,
        };
        Ok(env.overridden(server, self.no_proxy.as_deref()))
    }
}

/// `STAMPEDE_PROMETHEUS_RW` for prometheus-rw: the prefix of the kind's
/// default credential variables.
pub fn env_prefix(kind: OutputKind) -> String {
    format!(
        "STAMPEDE_{}",
        kind.as_str().to_ascii_uppercase().replace('-', "_")
    )
}

fn display_name(kind: OutputKind, target: &str) -> String {
    if target.is_empty() {
        kind.to_string()
    } else {
        OutputSpec::new(kind, target).display_name()
    }
}

/// The message of an error without its `origin: ` prefix, for callers that
/// show the origin their own way (scenario errors carry file:line:col).
pub fn message_without_origin(error: &OutputConfigError) -> String {
    let origin = match error {
        OutputConfigError::UnknownKind { origin, .. }
        | OutputConfigError::UnknownOption { origin, .. }
        | OutputConfigError::BadOption { origin, .. }
        | OutputConfigError::BadTarget { origin, .. }
        | OutputConfigError::BadEnv { origin, .. }
        | OutputConfigError::MissingEnv { origin, .. } => origin,
    };
    let text = error.to_string();
    text.strip_prefix(&format!("{origin}: "))
        .map(str::to_string)
        .unwrap_or(text)
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
