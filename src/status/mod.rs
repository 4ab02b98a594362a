//! The aa-status model: loaded profiles and confined processes (pure data, no I/O).
