//! The AppArmor profile language (spec/policy-language.md).
