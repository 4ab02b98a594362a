//! Audit records from every log source (spec/runtime-and-logs.md §3).
