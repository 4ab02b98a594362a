//! AppArmor labels and modes (spec/runtime-and-logs.md §1.5).
