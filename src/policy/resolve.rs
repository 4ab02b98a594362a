//! Include, variable and condition resolution.
