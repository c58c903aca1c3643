//! Renderers of the end-of-test summary: console text and summary JSON.
