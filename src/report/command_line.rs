//! The command line as the report shows it: whatever could carry a secret
//! is masked, since reports are attached to tickets.

use crate::protocol::http::{REDACTED, SECRET_HEADER_WORDS};
use crate::util::url_secrets::redact_url;

/// Words in an `--env`/`--tag` key that mark its value as a credential:
/// the words that mark a header as one for `--http-debug`, so both judge alike.
const SECRET_KEY_WORDS: &[&str] = SECRET_HEADER_WORDS;

/// `args` (without the program name) joined with spaces, quoted where a
/// shell would need it, with `--env`/`--tag` values of secret-looking keys,
/// credential `--header`s, `--body` and URLs' user info and secret query
/// parameters redacted.
pub fn redacted_command_line(program: &str, args: &[String]) -> String {
    let mut shown = vec![program.to_string()];
    let mut pending: Option<String> = None;
    for arg in args {
        if let Some(flag) = pending.take() {
            shown.push(quote(&redact_value(&flag, arg)));
            continue;
        }
        if let Some((flag, value)) = arg.split_once('=').filter(|(f, _)| f.starts_with("--")) {
            shown.push(format!("{flag}={}", quote(&redact_value(flag, value))));
        } else if takes_value(arg) {
            pending = Some(arg.clone());
            shown.push(arg.clone());
        } else {
            shown.push(quote(&redact_value("", arg)));
        }
    }
    shown.join(" ")
}

fn takes_value(flag: &str) -> bool {
    matches!(
        flag,
        "-e" | "--env" | "--tag" | "-H" | "--header" | "--body" | "--url" | "-o" | "--out"
    )
}

fn redact_value(flag: &str, value: &str) -> String {
    match flag {
        "-e" | "--env" | "--tag" => match value.split_once('=') {
            Some((key, _)) if is_secret_key(key) => format!("{key}={REDACTED}"),
            _ => redact_url(value).into_owned(),
        },
        "-H" | "--header" => match value.split_once(':') {
            Some((name, _)) if is_secret_key(name.trim()) => format!("{name}: {REDACTED}"),
            _ => value.to_string(),
        },
        "--body" => REDACTED.to_string(),
        _ => redact_url(value).into_owned(),
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEY_WORDS.iter().any(|word| key.contains(word))
}

/// Single quotes around anything a shell would split or expand.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        redacted_command_line("stampede", &args)
    }

    #[test]
    fn secrets_are_masked_and_the_rest_kept() {
        assert_eq!(
            line(&[
                "run",
                "load.yaml",
                "--env",
                "API_TOKEN=abc123",
                "-e",
                "BASE_URL=http://u:pw@h/x",
                "--tag=team=payments",
                "--env=DB_PASSWORD=hunter2",
            ]),
            "stampede run load.yaml --env 'API_TOKEN=[REDACTED]' -e 'BASE_URL=http://[REDACTED]@h/x' \
             --tag=team=payments --env='DB_PASSWORD=[REDACTED]'"
        );
        assert_eq!(
            line(&[
                "run",
                "--url",
                "http://127.0.0.1:8080/x?token=t0k&page=2",
                "-H",
                "Authorization: Bearer T",
                "-H",
                "Accept: */*",
                "--body",
                "{\"password\":\"p\"}",
            ]),
            "stampede run --url 'http://127.0.0.1:8080/x?token=[REDACTED]&page=2' -H \
             'Authorization: [REDACTED]' -H 'Accept: */*' --body '[REDACTED]'"
        );
    }
}
