//! Tables for the terminal: psql-style columns fitted to a width, with optional colour.
//!
//! A [`Table`] is a header and rows of [`Cell`]s. Each column says whether it may be
//! narrowed ([`Fit::Wrap`]: free text such as a path, a profile name or a rule) or must keep
//! its width ([`Fit::Keep`]: a pid, a count, a mode word). [`Table::render`] takes a
//! [`Term`]: with a width, the widest wrappable column is narrowed, one column at a time,
//! until the table fits, and its cells are wrapped over several lines (at a space, `/`, `,`
//! or `-` when one is near, else anywhere); without one, every cell keeps its full text.
//! Cells keep their colour when wrapped, and widths are display widths (escape sequences
//! do not count). Lines carry no trailing spaces.

use super::output::{Term, paint};
use anstyle::Style;
use unicode_width::UnicodeWidthStr;

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
    /// Styles of the text's lines, when they differ (else `style` for every line).
    line_styles: Vec<Style>,
}

impl Cell {
    /// A cell shown in `style` when colouring.
    pub fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
            line_styles: Vec::new(),
        }
    }

    /// A cell of several lines, each shown in its own style when colouring.
    pub fn lines(lines: Vec<(String, Style)>) -> Cell {
        let text = lines
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        Cell {
            text,
            style: Style::new(),
            line_styles: lines.into_iter().map(|(_, s)| s).collect(),
        }
    }

    fn style_of(&self, line: usize) -> Style {
        self.line_styles.get(line).copied().unwrap_or(self.style)
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell {
            text,
            style: Style::new(),
            line_styles: Vec::new(),
        }
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

/// Display width of `s` (columns on a terminal).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
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
        2 + 3 * w.len().saturating_sub(1) + w.iter().sum::<usize>()
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
        let frame = 2 + 3 * w.len().saturating_sub(1);
        let mut total: usize = frame + w.iter().sum::<usize>();
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
        let w = self.widths(term.width);
        let mut out: Vec<String> = Vec::new();
        let head: Vec<Cell> = self
            .heads
            .iter()
            .map(|h| Cell::styled(h.clone(), Style::new().bold()))
            .collect();
        self.push_row(&mut out, &head, &w, term);
        out.push(
            w.iter()
                .map(|n| "-".repeat(n + 2))
                .collect::<Vec<_>>()
                .join("+"),
        );
        for r in &self.rows {
            self.push_row(&mut out, r, &w, term);
        }
        out.join("\n")
    }

    fn push_row(&self, out: &mut Vec<String>, cells: &[Cell], w: &[usize], term: &Term) {
        let wrapped: Vec<Vec<(String, Style)>> = cells
            .iter()
            .zip(w)
            .zip(&self.fits)
            .map(|((c, &n), fit)| {
                c.text
                    .split('\n')
                    .enumerate()
                    .flat_map(|(k, l)| {
                        let pieces = match fit {
                            Fit::Wrap => wrap(l, n),
                            Fit::Keep => vec![l.to_owned()],
                        };
                        pieces.into_iter().map(move |p| (p, c.style_of(k)))
                    })
                    .collect()
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let mut line = String::new();
            for (i, lines) in wrapped.iter().enumerate() {
                let (text, style) = lines
                    .get(k)
                    .map(|(t, s)| (t.as_str(), *s))
                    .unwrap_or(("", Style::new()));
                line.push_str(if i == 0 { " " } else { " | " });
                line.push_str(&paint(term.color, style, text));
                line.push_str(&" ".repeat(w[i].saturating_sub(width(text))));
            }
            out.push(line.trim_end().to_owned());
        }
    }
}

/// `s` cut into lines of at most `n` columns, at a space, `/`, `,` or `-` in the second
/// half of a line when there is one (a space there is dropped), else anywhere.
pub fn wrap(s: &str, n: usize) -> Vec<String> {
    let n = n.max(1);
    let mut lines = Vec::new();
    let mut rest = s;
    while width(rest) > n {
        // the longest prefix of at most n columns (at least one character)
        let mut end = 0;
        let mut cols = 0;
        for (i, ch) in rest.char_indices() {
            let cw = width(ch.encode_utf8(&mut [0; 4]));
            if cols + cw > n && end > 0 {
                break;
            }
            cols += cw;
            end = i + ch.len_utf8();
        }
        let head = &rest[..end];
        let cut = head
            .char_indices()
            .rev()
            .find(|&(i, c)| matches!(c, ' ' | '/' | ',' | '-') && width(&head[..i]) >= n / 2);
        match cut {
            Some((i, ' ')) => {
                lines.push(head[..i].to_owned());
                rest = &rest[i + 1..];
            }
            Some((i, c)) => {
                let j = i + c.len_utf8();
                lines.push(head[..j].to_owned());
                rest = rest[j..].strip_prefix(' ').unwrap_or(&rest[j..]);
            }
            _ => {
                lines.push(head.to_owned());
                rest = &rest[end..];
            }
        }
    }
    lines.push(rest.to_owned());
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
            .filter_map(|l| l.split(" | ").nth(1))
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
    fn wrap_prefers_separators() {
        assert_eq!(
            wrap("capability net_admin,", 12),
            ["capability", "net_admin,"]
        );
        assert_eq!(wrap("/etc/cups/a.conf", 10), ["/etc/cups/", "a.conf"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x×1 y×2", 20), ["x×1 y×2"]);
        assert_eq!(wrap("owner /tmp/work/ w,", 16), ["owner /tmp/work/", "w,"]);
    }
}
