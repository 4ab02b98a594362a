//! Denial triage: grouping records and suggesting rules.
