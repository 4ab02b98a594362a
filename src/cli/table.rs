//! Tables for the terminal: psql-style columns fitted to a width, with optional colour,
//! laid out by `tabled`.
//!
//! A [`Table`] is a header and rows of [`Cell`]s. Each column says whether it may be
//! narrowed ([`Fit::Wrap`]: free text such as a path, a profile name or a rule) or must keep
//! its width ([`Fit::Keep`]: a pid, a count, a mode word). [`Table::render`] takes a
//! [`Term`]. Without a width, every cell keeps its full text. With one, this module decides
//! how wide each column may be: the widest wrappable column is narrowed, one column at a
//! time, first not below its longest word, then not below its header, until the table
//! fits; a kept column is never narrowed. `tabled` does the rest: its word-keeping wrap
//! cuts the cells of a narrowed column to that width (at spaces when a word fits, else
//! inside the word), and its psql style draws the table. Cells keep their colour when
//! wrapped, and widths are display widths (escape sequences do not count). Lines carry no
//! trailing spaces.
//!
//! What is ours and why (see also docs/terminal-output.md): `tabled`'s table-wide
//! `Width::wrap(..).priority(..)` narrows columns by a priority but cannot be told that some
//! columns must never be narrowed, nor to stop at a column's longest word, so the widths
//! are decided here; and its wrap, given a whole cell, counts a line break as part of a
//! word, so each line of a cell is handed to it on its own.

use super::output::{Term, paint};
use anstyle::Style;
use tabled::builder::Builder;
use tabled::settings::Style as Border;
use tabled::settings::width::Wrap;

/// Whether a column may be narrowed to fit the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Never narrowed (pid, count, mode).
    Keep,
    /// Free text: wrapped when the table is too wide.
    Wrap,
}

/// One cell: its text (lines separated by `\n`) and its style when colouring.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    /// A cell shown in `style` when colouring.
    pub fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
        }
    }

    /// The text for a column `n` wide (`None`: as is), in its style when `on`.
    ///
    /// Each line of the cell is wrapped on its own by `tabled`'s word-keeping wrap (given a
    /// whole cell, that wrap counts a line break as part of a word and wraps the following
    /// lines short), and each piece is painted on its own.
    fn laid_out(&self, n: Option<usize>, on: bool) -> String {
        if !on && n.is_none() {
            return self.text.clone();
        }
        let mut out: Vec<String> = Vec::new();
        for line in self.text.split('\n') {
            let pieces = match n {
                Some(n) if width(line) > n => wrap(line, n),
                _ => vec![line.to_owned()],
            };
            out.extend(pieces.iter().map(|p| paint(on, self.style, p)));
        }
        out.join("\n")
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::styled(text, Style::new())
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_owned())
    }
}

/// A table: a header row, then rows of cells.
#[derive(Debug, Clone)]
pub struct Table {
    heads: Vec<String>,
    fits: Vec<Fit>,
    rows: Vec<Vec<Cell>>,
}

/// The narrowest a wrappable column gets (or its header's width when wider).
const MIN_COLUMN: usize = 6;

/// A word longer than this may be cut before narrower columns are cut further.
const MAX_WORD: usize = 16;

/// Display width of `s` (columns on a terminal; the widest line when there are several;
/// escape sequences do not count).
pub fn width(s: &str) -> usize {
    // printable ASCII (most cells) is one column a byte: no escape sequence to skip
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.len();
    }
    tabled::grid::util::string::get_text_width(s)
}

/// Columns of a line that are not cell text, for `n` columns: a space on each side of a
/// cell and a `|` between cells (the line under the header is that wide).
fn frame(n: usize) -> usize {
    (3 * n).saturating_sub(1)
}

impl Table {
    /// A table with these columns (header text and fit).
    pub fn new(columns: &[(&str, Fit)]) -> Table {
        Table {
            heads: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            fits: columns.iter().map(|(_, f)| *f).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row: one cell per column (missing cells are empty, extra ones dropped).
    pub fn row(&mut self, cells: Vec<Cell>) {
        let mut cells = cells;
        cells.resize(self.heads.len(), Cell::default());
        self.rows.push(cells);
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The width of the table's longest line when nothing is wrapped.
    pub fn natural_width(&self) -> usize {
        let w = self.widths(None);
        frame(w.len()) + w.iter().sum::<usize>()
    }

    /// The column widths fitted to `limit`.
    fn widths(&self, limit: Option<usize>) -> Vec<usize> {
        let mut w: Vec<usize> = self.heads.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                for l in c.text.split('\n') {
                    w[i] = w[i].max(width(l));
                }
            }
        }
        let Some(limit) = limit else { return w };
        let mut total: usize = frame(w.len()) + w.iter().sum::<usize>();
        // First narrow down to the longest word of each column (words are not cut while
        // that is enough), then down to the header or MIN_COLUMN.
        let words = self.longest_words();
        for pass in 0..2 {
            let floor: Vec<usize> = (0..w.len())
                .map(|i| {
                    let f = width(&self.heads[i]).max(MIN_COLUMN);
                    let f = if pass == 0 { f.max(words[i]) } else { f };
                    w[i].min(f)
                })
                .collect();
            while total > limit {
                let widest = (0..w.len())
                    .filter(|&i| self.fits[i] == Fit::Wrap && w[i] > floor[i])
                    .max_by_key(|&i| (w[i], std::cmp::Reverse(i)));
                let Some(i) = widest else { break };
                w[i] -= 1;
                total -= 1;
            }
        }
        w
    }

    /// The column widths for `limit` once wrapped: a narrowed column is as wide as its
    /// widest wrapped line (often less than [`Table::widths`] allows, as lines break at
    /// spaces), and the columns left are given back to the narrowed columns, the most cut
    /// first, as far as that widens their wrapped lines.
    fn fitted(&self, limit: Option<usize>) -> Vec<usize> {
        let natural = self.widths(None);
        let Some(limit) = limit else { return natural };
        let mut w = self.widths(Some(limit));
        for (i, n) in w.iter_mut().enumerate() {
            if *n < natural[i] {
                *n = self.wrapped_width(i, *n);
            }
        }
        let total = frame(w.len()) + w.iter().sum::<usize>();
        let mut slack = limit.saturating_sub(total);
        let mut cut: Vec<usize> = (0..w.len()).filter(|&i| w[i] < natural[i]).collect();
        cut.sort_by_key(|&i| (std::cmp::Reverse(natural[i] - w[i]), i));
        for i in cut {
            if slack == 0 {
                break;
            }
            let wider = natural[i].min(w[i] + slack);
            let got = if wider == natural[i] {
                wider
            } else {
                self.wrapped_width(i, wider)
            };
            if got > w[i] {
                slack -= got - w[i];
                w[i] = got;
            }
        }
        w
    }

    /// The width column `i` takes when its cells are wrapped to `n` columns (its header is
    /// not wrapped).
    fn wrapped_width(&self, i: usize, n: usize) -> usize {
        let mut got = width(&self.heads[i]);
        for r in &self.rows {
            for l in r[i].text.split('\n') {
                let lw = width(l);
                if lw <= n {
                    got = got.max(lw);
                } else {
                    got = got.max(wrap(l, n).iter().map(|p| width(p)).max().unwrap_or(0));
                }
            }
        }
        got
    }

    /// For each column, the widest space-separated word of its cells, at most
    /// [`MAX_WORD`] columns.
    fn longest_words(&self) -> Vec<usize> {
        let mut w = vec![0; self.heads.len()];
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                for word in c.text.split([' ', '\n']) {
                    w[i] = w[i].max(width(word).min(MAX_WORD));
                }
            }
        }
        w
    }

    /// The table as text for `term` (no trailing newline).
    pub fn render(&self, term: &Term) -> String {
        let natural = self.widths(None);
        if term.width.is_none() && !term.color && !self.multiline() {
            return self.render_lines(natural);
        }
        self.render_full(term, natural)
    }

    /// [`Table::render`] by `tabled`'s full table (`natural`: the widths of
    /// [`Table::widths`] with no limit).
    fn render_full(&self, term: &Term, natural: Vec<usize>) -> String {
        let fitted = self.fitted(term.width);
        let mut b = Builder::with_capacity(self.rows.len() + 1, self.heads.len());
        b.push_record(
            self.heads
                .iter()
                .map(|h| paint(term.color, Style::new().bold(), h)),
        );
        let limits: Vec<Option<usize>> = fitted
            .iter()
            .zip(&natural)
            .map(|(&n, &full)| (n < full).then_some(n))
            .collect();
        for r in &self.rows {
            b.push_record(
                r.iter()
                    .zip(&limits)
                    .map(|(c, &n)| c.laid_out(n, term.color)),
            );
        }
        let mut t = b.build();
        t.with(Border::psql());
        trim_lines(&t.to_string())
    }
}

/// `text` with the spaces at the end of each line dropped (and no final newline).
fn trim_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (k, l) in text.lines().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        out.push_str(l.trim_end());
    }
    out
}

impl Table {
    /// Whether a cell holds more than one line.
    fn multiline(&self) -> bool {
        self.rows.iter().flatten().any(|c| c.text.contains('\n'))
    }

    /// [`Table::render`] of a table of one-line cells, neither fitted nor coloured (a
    /// pipe's): the same lines, drawn by `tabled`'s compact table from the widths measured
    /// here (its full table measures every cell again, a third of the time of a long table).
    fn render_lines(&self, widths: Vec<usize>) -> String {
        use tabled::grid::dimension::{DimensionValue, StaticDimension};
        use tabled::grid::records::IterRecords;
        use tabled::tables::CompactTable;
        let n = self.heads.len();
        let widths: Vec<usize> = widths.iter().map(|w| w + 2).collect();
        let dims = || {
            StaticDimension::new(
                DimensionValue::List(widths.clone()),
                DimensionValue::Exact(1),
            )
        };
        // the compact table draws a line under every row or none: the header is a table of
        // its own, with psql's line as its bottom border
        let head = CompactTable::with_dimension(IterRecords::new([&self.heads], n, None), dims())
            .columns(n)
            .with(Border::psql().bottom('-').intersection_bottom('+'))
            .to_string();
        let body = CompactTable::with_dimension(
            IterRecords::new(
                self.rows
                    .iter()
                    .map(|r| r.iter().map(|c| c.text.as_str()).collect::<Vec<_>>()),
                n,
                None,
            ),
            dims(),
        )
        .columns(n)
        .with(Border::psql())
        .to_string();
        if self.rows.is_empty() {
            trim_lines(&head)
        } else {
            trim_lines(&format!("{head}\n{body}"))
        }
    }
}

/// `s` cut into lines of at most `n` columns (by `tabled`): at spaces, keeping words whole
/// when they fit, else inside a word. The space at a break is dropped.
pub fn wrap(s: &str, n: usize) -> Vec<String> {
    let wrapped = Wrap::wrap(s, n.max(1), true);
    let mut lines: Vec<String> = wrapped
        .split('\n')
        .enumerate()
        .map(|(k, l)| {
            let l = if k > 0 {
                l.strip_prefix(' ').unwrap_or(l)
            } else {
                l
            };
            l.trim_end_matches(' ').to_owned()
        })
        .collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// The style of a mode word (profile or label mode) when colouring.
pub fn mode_style(mode: &str) -> Style {
    use anstyle::AnsiColor::*;
    let c = match mode {
        "enforce" => Green,
        "complain" => Yellow,
        "kill" | "unconfined" => Red,
        "prompt" | "audit" => Cyan,
        "mixed" => Magenta,
        _ => return Style::new(),
    };
    Style::new().fg_color(Some(c.into()))
}

/// The style of an event word (`DENIED`, `ALLOWED`, `AUDIT`, …) when colouring.
pub fn event_style(event: &str) -> Style {
    use anstyle::AnsiColor::*;
    match event {
        "DENIED" => Style::new().fg_color(Some(Red.into())).bold(),
        "ALLOWED" => Style::new().fg_color(Some(Green.into())),
        "AUDIT" => Style::new().fg_color(Some(Cyan.into())),
        "ERROR" | "AA_RECORD_INVALID" => Style::new().fg_color(Some(Yellow.into())),
        _ => Style::new(),
    }
}

/// A unified diff with its lines coloured when `on`: `+` green, `-` red, `@@` cyan, the
/// `---`/`+++` heads bold.
pub fn paint_diff(on: bool, diff: &str) -> String {
    use anstyle::AnsiColor::*;
    if !on {
        return diff.to_owned();
    }
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for l in diff.split_inclusive('\n') {
        let (body, nl) = match l.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (l, ""),
        };
        let style = if body.starts_with("+++") || body.starts_with("---") {
            Style::new().bold()
        } else if body.starts_with('+') {
            Style::new().fg_color(Some(Green.into()))
        } else if body.starts_with('-') {
            Style::new().fg_color(Some(Red.into()))
        } else if body.starts_with("@@") {
            Style::new().fg_color(Some(Cyan.into()))
        } else {
            Style::new()
        };
        out.push_str(&paint(true, style, body));
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact table of a pipe gives the full table's bytes: random tables of plain,
    /// wide, combining, empty and space-edged text.
    #[test]
    fn compact_lines_are_the_full_tables() {
        let words = [
            "",
            "a",
            "pid",
            "/usr/bin/app12",
            "x y",
            " lead",
            "trail ",
            "ünï",
            "日本語",
            "😺",
            "e\u{301}",
            "cat×3",
            "-",
            "two  spaces",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let term = Term::plain();
        for round in 0..2000 {
            let cols = 1 + next(6);
            let mut t = Table::new(&vec![("HEAD", Fit::Wrap); cols]);
            for _ in 0..next(5) {
                t.row(
                    (0..cols)
                        .map(|_| {
                            Cell::from(
                                words[next(words.len())].to_owned() + words[next(words.len())],
                            )
                        })
                        .collect(),
                );
            }
            let natural = t.widths(None);
            assert_eq!(
                t.render_lines(natural.clone()),
                t.render_full(&term, natural),
                "round {round}"
            );
        }
    }

    fn sample() -> Table {
        let mut t = Table::new(&[("PID", Fit::Keep), ("EXE", Fit::Wrap), ("MODE", Fit::Keep)]);
        t.row(vec![
            "1".into(),
            "/usr/lib/very/long/path/to/a/program/binary".into(),
            Cell::styled("enforce", mode_style("enforce")),
        ]);
        t.row(vec!["22".into(), "-".into(), "unconfined".into()]);
        t
    }

    #[test]
    fn full_width_is_psql() {
        let text = sample().render(&Term::plain());
        assert_eq!(
            text,
            " PID | EXE                                         | MODE\n\
             -----+---------------------------------------------+------------\n \
             1   | /usr/lib/very/long/path/to/a/program/binary | enforce\n \
             22  | -                                           | unconfined"
        );
    }

    #[test]
    fn fits_by_wrapping_free_text() {
        let term = Term {
            width: Some(40),
            ..Term::default()
        };
        let text = sample().render(&term);
        for l in text.lines() {
            assert!(width(l) <= 40, "{l:?} in\n{text}");
        }
        assert!(text.contains("| enforce"), "{text}");
        let joined: String = text
            .lines()
            .skip(2)
            .filter_map(|l| l.split('|').nth(1))
            .map(str::trim)
            .collect();
        assert!(
            joined.starts_with("/usr/lib/very/long/path/to/a/program/binary"),
            "{joined}"
        );
    }

    #[test]
    fn colour_does_not_count() {
        let term = Term {
            width: Some(40),
            color: true,
            ..Term::default()
        };
        let text = sample().render(&term);
        assert!(text.contains("\u{1b}[32menforce\u{1b}[0m"), "{text:?}");
        let plain = sample().render(&Term {
            width: Some(40),
            ..Term::default()
        });
        let stripped: String = anstream_strip(&text);
        assert_eq!(stripped, plain);
    }

    fn anstream_strip(s: &str) -> String {
        let mut out = String::new();
        let mut esc = false;
        for c in s.chars() {
            match (esc, c) {
                (false, '\u{1b}') => esc = true,
                (true, 'm') => esc = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    }

    #[test]
    fn wrap_keeps_words_and_drops_the_space_at_a_break() {
        assert_eq!(
            wrap("capability net_admin,", 12),
            ["capability", "net_admin,"]
        );
        assert_eq!(wrap("abcdefghij klm", 10), ["abcdefghij", "klm"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x×1 y×2", 20), ["x×1 y×2"]);
        assert_eq!(wrap("owner /tmp/work/ w,", 16), ["owner /tmp/work/", "w,"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn stays_within_the_width_at_every_width() {
        let t = sample();
        let natural = t.natural_width();
        assert_eq!(natural, 64);
        for w in 20..=natural {
            let term = Term {
                width: Some(w),
                ..Term::default()
            };
            let text = t.render(&term);
            let widest = text.lines().map(width).max().unwrap();
            // PID (3) and MODE (10) are kept, EXE stops at MIN_COLUMN: 8 + 3 + 6 + 10
            assert!(widest <= w.max(27), "at {w}: {widest}\n{text}");
            assert!(text.contains("| enforce"), "{text}");
        }
    }
}
