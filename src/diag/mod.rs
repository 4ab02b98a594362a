//! Diagnostics with spans, shared by every parser (policy, logs, apparmor_parser output).
