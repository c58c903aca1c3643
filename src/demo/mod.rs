//! The built-in demo target: an imitation agent-platform API.
