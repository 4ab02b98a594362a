//! Upstream 6.0's usage and help texts, byte for byte (they go to standard output; the
//! program name is argv\[0\] as given).

/// The main usage text (`-h`, `--help`, and after every usage error).
pub fn usage(prog: &str) -> String {
    format!(
        "Usage: {prog} [OPTIONS]\n\
Displays various information about the currently loaded AppArmor policy.\n\
Default if no options given\n  --show=all\n\n\
OPTIONS (one only):\n  \
--enabled       returns error code if AppArmor not enabled\n  \
--show=X        What information to show. {{profiles,processes,all}}\n  \
--count         print the number of entries. Implies --quiet\n  \
--filter.mode=filter      see filters\n  \
--filter.profiles=filter  see filters\n  \
--filter.pid=filter       see filters\n  \
--filter.exe=filter       see filters\n  \
--json          displays multiple data points in machine-readable JSON format\n  \
--pretty-json   same data as --json, formatted for human consumption as well\n  \
--verbose       (default) displays data points about loaded policy set\n  \
--quiet         don't output error messages\n  \
-h[(legacy|filters)]      this message, or info on the specified option\n  \
--help[=(legacy|filters)] this message, or info on the specified option\n"
    )
}

/// `--help=legacy`: the legacy options and their (nominal) equivalents.
pub fn legacy(prog: &str) -> String {
    format!(
        "Usage: {prog} [OPTIONS]\n\
Legacy options and their equivalent command\n  \
--profiled             --count --profiles\n  \
--enforced             --count --profiles --mode=enforced\n  \
--complaining          --count --profiles --mode=complain\n  \
--kill                 --count --profiles --mode=kill\n  \
--prompt               --count --profiles --mode=prompt\n  \
--special-unconfined   --count --profiles --mode=unconfined\n  \
--process-mixed        --count --ps --mode=mixed\n"
    )
}

/// `--help=filters`, including upstream's missing newline after the mode line and the
/// list of modes printed at the end.
pub fn filters() -> String {
    let modes: Vec<&str> = crate::label::Mode::SECTIONS
        .iter()
        .map(|m| m.as_str())
        .collect();
    format!(
        "Usage of filters\n\
Filters are used to reduce the output of information to only\n\
those entries that will match the filter. Filters use posix\n\
regular expression syntax. The possible values for exes that\n\
support filters are below\n\n  \
--filter.mode: regular expression to match the profile mode                 \
modes: enforce, complain, kill, unconfined, mixed\n  \
--filter.profiles: regular expression to match displayed profile names\n  \
--filter.pid:  regular expression to match displayed processes pids\n  \
--filter.exe:  regular expression to match executable\n{}\n",
        modes.join(", ")
    )
}
