//! A faithful model of glibc's `getopt_long(argc, argv, "+vh::", long_opts)` as upstream
//! aa-status 6.0 calls it: unique prefixes of long options are accepted (an exact match wins),
//! `--opt=value` and `--opt value` for required arguments, `-h[topic]` / `--help[=topic]`
//! optional arguments only attached, short options clustered, `--` ends the options, and the
//! first non-option stops parsing (`+`). Error messages are glibc's, word for word.

/// Whether a long option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    /// `no_argument`.
    No,
    /// `required_argument`.
    Required,
    /// `optional_argument` (only as `--opt=value`).
    Optional,
}

/// One long option, in upstream's table order (which decides the order of the "possibilities"
/// in an ambiguity message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongOpt {
    /// Name without `--`.
    pub name: &'static str,
    /// Argument kind.
    pub has_arg: HasArg,
}

/// Upstream 6.0's `long_opts[]`, in its order.
pub const LONG_OPTS: &[LongOpt] = &[
    LongOpt {
        name: "enabled",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "profiled",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "enforced",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "complaining",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "prompt",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "kill",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "special-unconfined",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "process-mixed",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "json",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "pretty-json",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "verbose",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "quiet",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "help",
        has_arg: HasArg::Optional,
    },
    LongOpt {
        name: "count",
        has_arg: HasArg::No,
    },
    LongOpt {
        name: "show",
        has_arg: HasArg::Required,
    },
    LongOpt {
        name: "filter.profiles",
        has_arg: HasArg::Required,
    },
    LongOpt {
        name: "filter.pid",
        has_arg: HasArg::Required,
    },
    LongOpt {
        name: "filter.exe",
        has_arg: HasArg::Required,
    },
    LongOpt {
        name: "filter.mode",
        has_arg: HasArg::Required,
    },
];

/// One step of the parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A long option (its full name) with its argument, if any.
    Long(&'static str, Option<String>),
    /// `-v`.
    Verbose,
    /// `-h` with an attached topic, if any.
    Help(Option<String>),
    /// An invalid option: glibc's message (without the `prog: ` prefix and newline).
    Invalid(String),
}

/// Iterates over argv (without argv\[0\]) the way getopt_long does. After it returns `None`,
/// [`Getopt::optind`] is the index (into the given slice) of the first operand.
#[derive(Debug)]
pub struct Getopt<'a> {
    args: &'a [String],
    idx: usize,
    /// Position inside a short-option cluster (0 = not in one).
    short_pos: usize,
    done: bool,
}

impl<'a> Getopt<'a> {
    /// Starts parsing `args` (argv without the program name).
    pub fn new(args: &'a [String]) -> Self {
        Getopt {
            args,
            idx: 0,
            short_pos: 0,
            done: false,
        }
    }

    /// Index of the first argument not consumed as an option.
    pub fn optind(&self) -> usize {
        self.idx
    }

    fn long(&mut self, body: &str) -> Item {
        self.idx += 1;
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        let opt = match LONG_OPTS.iter().find(|o| o.name == name) {
            Some(o) => *o,
            None => {
                let matches: Vec<&LongOpt> = LONG_OPTS
                    .iter()
                    .filter(|o| o.name.starts_with(name))
                    .collect();
                match matches.as_slice() {
                    [] => return Item::Invalid(format!("unrecognized option '--{body}'")),
                    [one] => **one,
                    many => {
                        let mut msg = format!("option '--{body}' is ambiguous; possibilities:");
                        for o in many {
                            msg.push_str(&format!(" '--{}'", o.name));
                        }
                        return Item::Invalid(msg);
                    }
                }
            }
        };
        match opt.has_arg {
            HasArg::No => match value {
                Some(_) => {
                    Item::Invalid(format!("option '--{}' doesn't allow an argument", opt.name))
                }
                None => Item::Long(opt.name, None),
            },
            HasArg::Optional => Item::Long(opt.name, value),
            HasArg::Required => match value {
                Some(v) => Item::Long(opt.name, Some(v)),
                None => match self.args.get(self.idx) {
                    Some(v) => {
                        self.idx += 1;
                        Item::Long(opt.name, Some(v.clone()))
                    }
                    None => Item::Invalid(format!("option '--{}' requires an argument", opt.name)),
                },
            },
        }
    }
}

impl Iterator for Getopt<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        if self.short_pos > 0 {
            let arg = &self.args[self.idx];
            let rest = &arg[self.short_pos..];
            let Some(c) = rest.chars().next() else {
                self.short_pos = 0;
                self.idx += 1;
                return self.next();
            };
            self.short_pos += c.len_utf8();
            let at_end = self.short_pos >= arg.len();
            let item = match c {
                'v' => Item::Verbose,
                'h' => {
                    let topic = (!at_end).then(|| arg[self.short_pos..].to_owned());
                    self.short_pos = arg.len();
                    Item::Help(topic)
                }
                other => Item::Invalid(format!("invalid option -- '{other}'")),
            };
            if self.short_pos >= arg.len() {
                self.short_pos = 0;
                self.idx += 1;
            }
            return Some(item);
        }
        let Some(arg) = self.args.get(self.idx) else {
            self.done = true;
            return None;
        };
        if arg == "--" {
            self.idx += 1;
            self.done = true;
            return None;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let body = body.to_owned();
            return Some(self.long(&body));
        }
        if arg.len() > 1 && arg.starts_with('-') {
            self.short_pos = 1;
            return self.next();
        }
        // '+': stop at the first non-option.
        self.done = true;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> (Vec<Item>, usize) {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut g = Getopt::new(&v);
        let items: Vec<Item> = g.by_ref().collect();
        (items, g.optind())
    }

    #[test]
    fn long_options_and_prefixes() {
        assert_eq!(parse(&["--json"]).0, [Item::Long("json", None)]);
        assert_eq!(parse(&["--enab"]).0, [Item::Long("enabled", None)]);
        assert_eq!(
            parse(&["--show", "all"]),
            (vec![Item::Long("show", Some("all".into()))], 2)
        );
        assert_eq!(
            parse(&["--sh=processes"]).0,
            [Item::Long("show", Some("processes".into()))]
        );
        assert_eq!(
            parse(&["--p"]).0,
            [Item::Invalid(
                "option '--p' is ambiguous; possibilities: '--profiled' '--prompt' '--process-mixed' '--pretty-json'"
                    .into()
            )]
        );
        assert_eq!(
            parse(&["--bogus"]).0,
            [Item::Invalid("unrecognized option '--bogus'".into())]
        );
        assert_eq!(
            parse(&["--json=1"]).0,
            [Item::Invalid(
                "option '--json' doesn't allow an argument".into()
            )]
        );
        assert_eq!(
            parse(&["--show"]).0,
            [Item::Invalid("option '--show' requires an argument".into())]
        );
        assert_eq!(parse(&["--help"]).0, [Item::Long("help", None)]);
        assert_eq!(
            parse(&["--help=legacy"]).0,
            [Item::Long("help", Some("legacy".into()))]
        );
    }

    #[test]
    fn short_options_and_operands() {
        assert_eq!(parse(&["-hlegacy"]).0, [Item::Help(Some("legacy".into()))]);
        assert_eq!(parse(&["-vh"]).0, [Item::Verbose, Item::Help(None)]);
        assert_eq!(
            parse(&["-q"]).0,
            [Item::Invalid("invalid option -- 'q'".into())]
        );
        assert_eq!(parse(&["foo", "--json"]), (vec![], 0));
        assert_eq!(
            parse(&["--json", "foo"]),
            (vec![Item::Long("json", None)], 1)
        );
        assert_eq!(parse(&["--", "--json"]), (vec![], 1));
        assert_eq!(parse(&["-"]), (vec![], 0));
    }
}
