//! Source-preserving edits of policy text (placeholder, filled below).
