//! A builder over `apparmor_parser`'s command line (the options a loader needs are
//! listed in docs/loader.md).
//!
//! [`Parser`] holds the program and the options; [`Parser::command`] turns it and a
//! list of files into a [`ParserCommand`]: the exact argv, run without a shell.
//! Options are always written in their long `--name=value` form and the files
//! follow `--`, so no file or value can be taken for an option.

use super::LoaderError;
use serde::Serialize;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// What the parser does with the policy it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `--add`: load; the kernel refuses profiles that already exist (EEXIST).
    Add,
    /// `--replace`: load or replace (what init scripts and upstream tools use).
    #[default]
    Replace,
    /// `--remove`: unload the profiles named in the files.
    Remove,
    /// `--names`: parse only and print the profile names (no kernel access).
    Names,
}

impl Action {
    /// The long option for this action.
    pub fn flag(self) -> &'static str {
        match self {
            Action::Add => "--add",
            Action::Replace => "--replace",
            Action::Remove => "--remove",
            Action::Names => "--names",
        }
    }
}

/// A warning class for `--warn` / `--Werror` (3.0.8 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Warning {
    RuleNotEnforced,
    RuleDowngraded,
    Abi,
    Deprecated,
    Config,
    Cache,
    DebugCache,
    Jobs,
    Dangerous,
    Unexpected,
    Format,
    Missing,
    Override,
    Dev,
    PoundInclude,
    All,
}

impl Warning {
    /// Every class, in upstream's order.
    pub const ALL: [Warning; 16] = [
        Warning::RuleNotEnforced,
        Warning::RuleDowngraded,
        Warning::Abi,
        Warning::Deprecated,
        Warning::Config,
        Warning::Cache,
        Warning::DebugCache,
        Warning::Jobs,
        Warning::Dangerous,
        Warning::Unexpected,
        Warning::Format,
        Warning::Missing,
        Warning::Override,
        Warning::Dev,
        Warning::PoundInclude,
        Warning::All,
    ];

    /// The name on the parser's command line (`rule-not-enforced`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Warning::RuleNotEnforced => "rule-not-enforced",
            Warning::RuleDowngraded => "rule-downgraded",
            Warning::Abi => "abi",
            Warning::Deprecated => "deprecated",
            Warning::Config => "config",
            Warning::Cache => "cache",
            Warning::DebugCache => "debug-cache",
            Warning::Jobs => "jobs",
            Warning::Dangerous => "dangerous",
            Warning::Unexpected => "unexpected",
            Warning::Format => "format",
            Warning::Missing => "missing",
            Warning::Override => "override",
            Warning::Dev => "dev",
            Warning::PoundInclude => "pound-include",
            Warning::All => "all",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(s: &str) -> Option<Self> {
        Warning::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

/// How many compile jobs the parser runs (`--jobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Jobs {
    /// A fixed number; 0 makes 3.0.8 compile in its own process (no worker fork).
    Count(u32),
    /// `auto`: one per CPU.
    Auto,
    /// `xN`: N per CPU.
    PerCpu(u32),
}

impl Jobs {
    fn arg(self) -> String {
        match self {
            Jobs::Count(n) => n.to_string(),
            Jobs::Auto => "auto".into(),
            Jobs::PerCpu(n) => format!("x{n}"),
        }
    }
}

/// Cache control (`--skip-cache`, `--skip-read-cache`, `--write-cache`, `--cache-loc`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheOptions {
    /// `--skip-cache`: neither read nor write the cache.
    pub skip: bool,
    /// `--skip-read-cache`: do not read the cache (still write with `write`).
    pub skip_read: bool,
    /// `--write-cache`: write compiled policy to the cache (as init scripts do).
    pub write: bool,
    /// `--cache-loc=DIR[,DIR…]`.
    pub locations: Vec<PathBuf>,
}

/// The options of an `apparmor_parser` run, minus the files (builder).
///
/// ```
/// use apparmor::loader::{Action, Parser};
/// let cmd = Parser::new("/usr/sbin/apparmor_parser")
///     .action(Action::Replace)
///     .base("/etc/apparmor.d")
///     .include("/etc/apparmor.d")
///     .skip_kernel_load(true)
///     .command(["/etc/apparmor.d/usr.bin.man"]);
/// assert_eq!(
///     cmd.display(),
///     "/usr/sbin/apparmor_parser --replace --skip-kernel-load --Include=/etc/apparmor.d \
///      --base=/etc/apparmor.d -- /etc/apparmor.d/usr.bin.man"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parser {
    program: PathBuf,
    action: Action,
    complain: bool,
    skip_kernel_load: bool,
    cache: CacheOptions,
    includes: Vec<PathBuf>,
    base: Option<PathBuf>,
    features_file: Option<PathBuf>,
    kernel_features: Option<PathBuf>,
    policy_features: Option<PathBuf>,
    config_file: Option<PathBuf>,
    namespace: Option<String>,
    apparmorfs: Option<PathBuf>,
    jobs: Option<Jobs>,
    warn: Vec<Warning>,
    werror: Vec<Warning>,
    quiet: bool,
    verbose: bool,
    abort_on_error: bool,
}

impl Parser {
    /// A parser at an explicit path, action [`Action::Replace`], no options.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Parser {
            program: program.into(),
            action: Action::Replace,
            complain: false,
            skip_kernel_load: false,
            cache: CacheOptions::default(),
            includes: Vec::new(),
            base: None,
            features_file: None,
            kernel_features: None,
            policy_features: None,
            config_file: None,
            namespace: None,
            apparmorfs: None,
            jobs: None,
            warn: Vec::new(),
            werror: Vec::new(),
            quiet: false,
            verbose: false,
            abort_on_error: false,
        }
    }

    /// A parser found on `PATH`, then `/sbin`, then `/usr/sbin`
    /// ([`crate::loader::find_parser_from_env`]).
    ///
    /// # Errors
    /// [`LoaderError::ParserNotFound`] naming every place searched.
    pub fn locate() -> Result<Self, LoaderError> {
        super::locate::find_parser_from_env().map(Parser::new)
    }

    /// The program that will run.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The action.
    pub fn get_action(&self) -> Action {
        self.action
    }

    /// The base directory, when set.
    pub fn get_base(&self) -> Option<&Path> {
        self.base.as_deref()
    }

    /// Sets the action.
    pub fn action(mut self, a: Action) -> Self {
        self.action = a;
        self
    }
    /// `--add`.
    pub fn add(self) -> Self {
        self.action(Action::Add)
    }
    /// `--replace`.
    pub fn replace(self) -> Self {
        self.action(Action::Replace)
    }
    /// `--remove`.
    pub fn remove(self) -> Self {
        self.action(Action::Remove)
    }
    /// `--names`.
    pub fn names(self) -> Self {
        self.action(Action::Names)
    }
    /// `--Complain`: load everything in complain mode (disables caching upstream).
    pub fn complain(mut self, on: bool) -> Self {
        self.complain = on;
        self
    }
    /// `--skip-kernel-load`: compile but do not load.
    pub fn skip_kernel_load(mut self, on: bool) -> Self {
        self.skip_kernel_load = on;
        self
    }
    /// Replaces the cache options.
    pub fn cache(mut self, c: CacheOptions) -> Self {
        self.cache = c;
        self
    }
    /// `--skip-cache`.
    pub fn skip_cache(mut self, on: bool) -> Self {
        self.cache.skip = on;
        self
    }
    /// `--write-cache`.
    pub fn write_cache(mut self, on: bool) -> Self {
        self.cache.write = on;
        self
    }
    /// Adds a `--cache-loc` directory.
    pub fn cache_loc(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache.locations.push(dir.into());
        self
    }
    /// Adds an include directory (`--Include=DIR`, repeatable, in order).
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.includes.push(dir.into());
        self
    }
    /// `--base=DIR`: where includes are resolved and `disable/`, `force-complain/` live.
    pub fn base(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base = Some(dir.into());
        self
    }
    /// `--features-file=FILE` (kernel and policy features from one file).
    pub fn features_file(mut self, f: impl Into<PathBuf>) -> Self {
        self.features_file = Some(f.into());
        self
    }
    /// `--kernel-features=FILE`.
    pub fn kernel_features(mut self, f: impl Into<PathBuf>) -> Self {
        self.kernel_features = Some(f.into());
        self
    }
    /// `--policy-features=FILE`.
    pub fn policy_features(mut self, f: impl Into<PathBuf>) -> Self {
        self.policy_features = Some(f.into());
        self
    }
    /// `--config-file=FILE` (default `/etc/apparmor/parser.conf`).
    pub fn config_file(mut self, f: impl Into<PathBuf>) -> Self {
        self.config_file = Some(f.into());
        self
    }
    /// `--namespace=NS`: load into policy namespace NS (overrides `:ns:` in the files).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }
    /// `--subdomainfs=DIR`: the apparmorfs directory (default: found via /proc/mounts).
    pub fn apparmorfs(mut self, dir: impl Into<PathBuf>) -> Self {
        self.apparmorfs = Some(dir.into());
        self
    }
    /// `--jobs=…`.
    pub fn jobs(mut self, j: Jobs) -> Self {
        self.jobs = Some(j);
        self
    }
    /// `--warn=W` (repeatable).
    pub fn warn(mut self, w: Warning) -> Self {
        if !self.warn.contains(&w) {
            self.warn.push(w);
        }
        self
    }
    /// `--Werror=W`. Also enables `--warn=W`: 3.0.8 fails silently with exit 1 when a
    /// warning it was told not to print is turned into an error.
    pub fn werror(mut self, w: Warning) -> Self {
        if !self.werror.contains(&w) {
            self.werror.push(w);
        }
        self.warn(w)
    }
    /// `--quiet`: no warnings (also hides the "Skipping profile in …/disable" notice).
    pub fn quiet(mut self, on: bool) -> Self {
        self.quiet = on;
        self
    }
    /// `--verbose`: one `… succeeded for "NAME".` line per profile on stdout.
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }
    /// `--abort-on-error`: stop at the first failing file.
    pub fn abort_on_error(mut self, on: bool) -> Self {
        self.abort_on_error = on;
        self
    }

    /// The options as argv (without the program and the files).
    pub fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec![self.action.flag().into()];
        let flag = |a: &mut Vec<OsString>, on: bool, f: &str| {
            if on {
                a.push(f.into());
            }
        };
        let val = |a: &mut Vec<OsString>, name: &str, v: &OsStr| {
            let mut s = OsString::from(format!("--{name}="));
            s.push(v);
            a.push(s);
        };
        flag(&mut a, self.complain, "--Complain");
        flag(&mut a, self.skip_kernel_load, "--skip-kernel-load");
        flag(&mut a, self.cache.skip, "--skip-cache");
        flag(&mut a, self.cache.skip_read, "--skip-read-cache");
        flag(&mut a, self.cache.write, "--write-cache");
        if !self.cache.locations.is_empty() {
            let mut joined = OsString::new();
            for (i, l) in self.cache.locations.iter().enumerate() {
                if i > 0 {
                    joined.push(",");
                }
                joined.push(l);
            }
            val(&mut a, "cache-loc", &joined);
        }
        for i in &self.includes {
            val(&mut a, "Include", i.as_os_str());
        }
        if let Some(b) = &self.base {
            val(&mut a, "base", b.as_os_str());
        }
        if let Some(c) = &self.config_file {
            val(&mut a, "config-file", c.as_os_str());
        }
        if let Some(f) = &self.features_file {
            val(&mut a, "features-file", f.as_os_str());
        }
        if let Some(f) = &self.kernel_features {
            val(&mut a, "kernel-features", f.as_os_str());
        }
        if let Some(f) = &self.policy_features {
            val(&mut a, "policy-features", f.as_os_str());
        }
        if let Some(ns) = &self.namespace {
            val(&mut a, "namespace", OsStr::new(ns));
        }
        if let Some(fs) = &self.apparmorfs {
            val(&mut a, "subdomainfs", fs.as_os_str());
        }
        if let Some(j) = self.jobs {
            val(&mut a, "jobs", OsStr::new(&j.arg()));
        }
        for w in &self.warn {
            val(&mut a, "warn", OsStr::new(w.as_str()));
        }
        for w in &self.werror {
            val(&mut a, "Werror", OsStr::new(w.as_str()));
        }
        flag(&mut a, self.quiet, "--quiet");
        flag(&mut a, self.verbose, "--verbose");
        flag(&mut a, self.abort_on_error, "--abort-on-error");
        a
    }

    /// The full command for `files` (each file or directory follows `--`).
    pub fn command<I, P>(&self, files: I) -> ParserCommand
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let files: Vec<PathBuf> = files.into_iter().map(|p| p.as_ref().to_owned()).collect();
        let mut args = self.args();
        args.push("--".into());
        args.extend(files.iter().map(|f| f.as_os_str().to_owned()));
        ParserCommand {
            program: self.program.clone(),
            action: self.action,
            args,
            files,
        }
    }
}

/// The command that prints the parser's version (`--version`); its `action`
/// field is [`Action::Names`] (no kernel access). See [`parse_version`].
pub fn version_command(program: impl Into<PathBuf>) -> ParserCommand {
    ParserCommand {
        program: program.into(),
        action: Action::Names,
        args: vec!["--version".into()],
        files: Vec::new(),
    }
}

/// The version from `--version` output (`AppArmor parser version 3.0.8` →
/// `3.0.8`): the characters of a package version (letters, digits and
/// `.+-~:_`, at most 64) that follow the words; anything after them (a
/// space, a control character) is not part of it. `None` when there is no
/// such line or the version is empty.
pub fn parse_version(stdout: &str) -> Option<String> {
    let rest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("AppArmor parser version "))?;
    let v: String = rest
        .trim_start_matches(' ')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || ".+-~:_".contains(*c))
        .take(64)
        .collect();
    (!v.is_empty()).then_some(v)
}

/// One exact `apparmor_parser` invocation: program, argv and the files in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParserCommand {
    /// The program.
    pub program: PathBuf,
    /// The action (also present in `args`).
    pub action: Action,
    /// The arguments after the program name (serialized as lossy UTF-8 strings).
    #[serde(serialize_with = "ser_lossy")]
    pub args: Vec<OsString>,
    /// The files and directories given (also at the end of `args`).
    pub files: Vec<PathBuf>,
}

impl ParserCommand {
    /// A [`std::process::Command`] for this invocation (no shell; stdin
    /// closed), in the C locale: the parser's messages are decoded into typed
    /// errors, so gettext must not translate them (`LC_ALL=C`, and no
    /// `LANGUAGE`, which GNU gettext honours in any locale but C).
    pub fn to_command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.program);
        c.args(&self.args)
            .stdin(std::process::Stdio::null())
            .env("LC_ALL", "C")
            .env_remove("LANGUAGE");
        c
    }

    /// The command as one line a person can paste into a POSIX shell: every word
    /// that needs it is single-quoted; control characters are escaped.
    pub fn display(&self) -> String {
        let mut words = vec![quote(self.program.as_os_str())];
        words.extend(self.args.iter().map(|a| quote(a)));
        words.join(" ")
    }

    /// The argv as UTF-8 strings (lossy), program first; for JSON.
    pub fn argv_lossy(&self) -> Vec<String> {
        std::iter::once(self.program.to_string_lossy().into_owned())
            .chain(self.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect()
    }
}

fn ser_lossy<S: serde::Serializer>(v: &[OsString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|a| a.to_string_lossy()))
}

/// Quotes one word for display so that pasting it into a shell gives back
/// exactly the same bytes: plain words as they are, printable text in single
/// quotes, and words with control characters (C0, DEL, C1) or bytes that are
/// not UTF-8 in `$'…'` quoting (POSIX.1-2024, bash, zsh, ksh) with `\xNN`
/// escapes, so nothing reaches the terminal raw and nothing is lost.
pub fn quote(w: &OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let b = w.as_bytes();
    let plain = !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"-_./=,:+@%".contains(&c));
    if plain {
        return w.to_string_lossy().into_owned();
    }
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => format!("'{}'", s.replace('\'', "'\\''")),
        _ => {
            let mut out = String::from("$'");
            for &c in b {
                match c {
                    b'\'' => out.push_str("\\'"),
                    b'\\' => out.push_str("\\\\"),
                    0x20..=0x7e => out.push(char::from(c)),
                    _ => out.push_str(&format!("\\x{c:02x}")),
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_in_long_form_and_files_after_double_dash() {
        let c = Parser::new("/sbin/apparmor_parser")
            .add()
            .complain(true)
            .skip_kernel_load(true)
            .skip_cache(true)
            .write_cache(true)
            .cache_loc("/c1")
            .cache_loc("/c2")
            .include("/i1")
            .include("/i 2")
            .base("/b")
            .features_file("/f")
            .namespace("lxd-x")
            .apparmorfs("/fs")
            .jobs(Jobs::Count(0))
            .werror(Warning::RuleNotEnforced)
            .quiet(true)
            .verbose(true)
            .command(["-weird", "b c"]);
        let args: Vec<_> = c.args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "--add",
                "--Complain",
                "--skip-kernel-load",
                "--skip-cache",
                "--write-cache",
                "--cache-loc=/c1,/c2",
                "--Include=/i1",
                "--Include=/i 2",
                "--base=/b",
                "--features-file=/f",
                "--namespace=lxd-x",
                "--subdomainfs=/fs",
                "--jobs=0",
                "--warn=rule-not-enforced",
                "--Werror=rule-not-enforced",
                "--quiet",
                "--verbose",
                "--",
                "-weird",
                "b c"
            ]
        );
        assert!(c.display().ends_with(" -- -weird 'b c'"));
        assert!(c.display().contains("'--Include=/i 2'"));
    }

    #[test]
    fn quoting_is_safe() {
        assert_eq!(quote(OsStr::new("it's")), "'it'\\''s'");
        assert_eq!(quote(OsStr::new("a\nb")), "$'a\\x0ab'");
        assert_eq!(quote(OsStr::new("a\\nb")), "'a\\nb'");
        assert_eq!(quote(OsStr::new("\u{9b}'\\")), "$'\\xc2\\x9b\\'\\\\'");
        assert_eq!(quote(OsStr::new("")), "''");
    }
}
