//! Templates in load-time fields (`vus`, durations, sizes, thresholds...):
//! rendered once the environment is known, then typed, so `vus: "{{ VUS }}"`
//! works like `vus: 10`. A field the test is built from cannot read a value
//! that changes per VU or iteration.

use std::borrow::Cow;

use super::Validator;
use crate::scenario::locate::FieldPath;
use crate::scenario::model_types::{Templated, TemplatedType};

impl Validator<'_> {
    /// The text of a load-time field with its placeholders rendered; text
    /// without `{{` is returned as is.
    pub(crate) fn render_load_time<'t>(
        &mut self,
        text: &'t str,
        path: &FieldPath,
    ) -> Option<Cow<'t, str>> {
        if !text.contains("{{") {
            return Some(Cow::Borrowed(text));
        }
        let template = self.template(text, path)?;
        match template.as_static() {
            Some(rendered) => Some(Cow::Owned(rendered.to_string())),
            None => {
                self.problem(
                    path,
                    format!(
                        "{text:?} reads a value that changes per VU or iteration, but this field is set once when the test loads"
                    ),
                    Some("use environment values here (env:, --profile, --env)".into()),
                );
                None
            }
        }
    }

    /// A number or boolean, rendered and parsed when written as a template.
    pub(crate) fn value<T: TemplatedType>(
        &mut self,
        value: &Templated<T>,
        path: &FieldPath,
    ) -> Option<T> {
        let text = match value {
            Templated::Value(v) => return Some(*v),
            Templated::Template(text) => text,
        };
        let rendered = self.render_load_time(text, path)?;
        let parsed = T::parse(&rendered);
        if parsed.is_none() {
            self.problem(path, not_a(text, &rendered, T::EXPECTED), None);
        }
        parsed
    }

    /// An optional number or boolean: `default` when absent, `None` when
    /// reported.
    pub(crate) fn value_or<T: TemplatedType>(
        &mut self,
        value: Option<&Templated<T>>,
        path: &FieldPath,
        default: T,
    ) -> Option<T> {
        match value {
            Some(v) => self.value(v, path),
            None => Some(default),
        }
    }

    /// An optional number or boolean where absence matters (`http2` unset
    /// means "let ALPN decide"); a reported problem also gives `None`,
    /// and fails the whole validation anyway.
    pub(crate) fn optional_value<T: TemplatedType>(
        &mut self,
        value: Option<&Templated<T>>,
        path: &FieldPath,
    ) -> Option<T> {
        value.and_then(|v| self.value(v, path))
    }
}

/// `"{{ VUS }}" rendered to "ten", which is not a whole number`: the text as
/// written, so the user finds it, and what it became, so they see why.
pub(crate) fn not_a(written: &str, rendered: &str, expected: &str) -> String {
    format!("{written:?} rendered to {rendered:?}, which is not {expected}")
}
