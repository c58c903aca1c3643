//! Scenario files: the YAML model, validation into a TestPlan, templates, data feeds.
