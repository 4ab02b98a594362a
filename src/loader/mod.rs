//! Driving `apparmor_parser` to load, replace and remove policy (spec/runtime-and-logs.md §4).
