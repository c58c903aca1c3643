//! The `name` of a request (and of a WebSocket session): the `name` tag
//! that groups requests in the summary, thresholds and every output.
//!
//! Environment values are rendered once, here: `name: "{{ REGION }} login"`
//! is one name per run. A per-request value (a variable, a data column,
//! `__VU`, `__ITER`, `uuid()`, ...) is refused: rendered per request it would
//! make one series per value, unbounded in memory and in every output, and
//! left as written it would look like a rendering bug. k6 users give a
//! name precisely to group URLs that differ per request, so the error says
//! to keep the varying part in the URL and the name constant.

use super::Validator;
use super::request::default_name;
use crate::scenario::locate::FieldPath;
use crate::util::url_secrets::redact_url;

impl Validator<'_> {
    /// The name tag of a request to `url`: `name` rendered with the
    /// environment, or the URL template as written when `name` is absent.
    /// A problem is recorded (and an empty name returned) when `name` is
    /// empty, invalid or varies per request.
    pub(crate) fn request_name(
        &mut self,
        name: Option<&str>,
        url: &str,
        path: &FieldPath,
    ) -> String {
        let Some(text) = name else {
            return default_name(url);
        };
        if text.trim().is_empty() {
            self.problem(path, "must not be empty", None);
            return String::new();
        }
        let Some(template) = self.template(text, path) else {
            return String::new();
        };
        let Some(rendered) = template.as_static() else {
            self.problem(
                path,
                format!(
                    "{text:?} changes from request to request: a name groups requests under one \
                     `name` tag, and one per value would make a series per value"
                ),
                Some(
                    "keep the name constant (e.g. \"get item\") and the varying part in url; \
                     only environment values ({{ ENV_NAME }}) are rendered in a name"
                        .into(),
                ),
            );
            return String::new();
        };
        if rendered.trim().is_empty() {
            self.problem(path, format!("{text:?} renders to an empty name"), None);
            return String::new();
        }
        // An environment value may be a URL with credentials; a name reaches
        // every output.
        redact_url(rendered).into_owned()
    }
}
