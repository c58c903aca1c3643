//! Command-line arguments and subcommand dispatch.
