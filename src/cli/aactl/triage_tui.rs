//! The full-screen review of `aactl triage`: one proposal at a time, with
//! aa-logprof's keys. It only produces answers (the same ones an `--answers`
//! document holds); the caller shows their diff and writes them through the
//! `--answers` path.

use crate::escape::escape_str;
use crate::triage::apply::{Answer, named_rule};
use crate::triage::plan::{Action, Plan, Proposal, exec_letter_of};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, HighlightSpacing, List, ListItem, ListState, Paragraph, Wrap,
};
use std::io::Stdout;

/// What to do after the answers are written (asked at Save).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterSave {
    /// Nothing: the command to reload is printed.
    Nothing,
    /// Reload the changed profile files, their mode flags as written.
    Reload,
    /// Switch them to enforce mode (and reload).
    Enforce,
    /// Switch them to complain mode (and reload).
    Complain,
    /// The reload was not offered (it cannot be done from here): why, and
    /// the command to run.
    NotOffered,
}

/// How the review ended.
pub(super) enum Outcome {
    /// Save: the plan (with any rule typed with (N)ew added to its
    /// proposal's candidates), the answers, whether a top-level
    /// profile's rules go to its `local/` override, and what to do after.
    Save(Plan, Vec<Answer>, bool, AfterSave),
    /// Abort, or cancel at the diff: nothing is written.
    Abort,
}

/// Puts the terminal back (raw mode off, main screen, cursor shown) when
/// dropped, so every way out (return, error, panic) restores it.
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

fn restore() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

enum Mode {
    Review,
    /// Typing a new rule for the current proposal.
    Input(String),
    /// Typing the profile name of a (N)amed exec transition.
    Name(String),
    /// The diff of the answers, scrolled by this many lines.
    Finish(String, u16),
    /// Saved: reload the changed profiles now? (the diff stays shown)
    AskReload(String, u16),
    /// Reload accepted: which mode?
    AskAfter(String, u16),
}

/// One answer as held during the review.
#[derive(Debug, Clone)]
struct Given {
    action: Action,
    rule: Option<String>,
    target: Option<String>,
    audit: bool,
}

struct State {
    plan: Plan,
    answers: Vec<Option<Given>>,
    sel: Vec<usize>,
    /// Audi(t) on, per proposal.
    audit: Vec<bool>,
    cur: usize,
    mode: Mode,
    color: bool,
    /// Top-level rules to the `local/` override ((L) at Finish).
    local: bool,
    /// Whether to offer a reload at Save.
    can_reload: bool,
}

impl State {
    fn proposal(&self) -> &Proposal {
        &self.plan.proposals[self.cur]
    }

    fn is_exec(&self) -> bool {
        self.proposal().kind == "exec"
    }

    fn selected(&self) -> &str {
        &self.proposal().candidates[self.sel[self.cur]]
    }

    fn answer_list(&self) -> Vec<Answer> {
        self.plan
            .proposals
            .iter()
            .zip(&self.answers)
            .filter_map(|(p, a)| {
                a.as_ref().map(|g| Answer {
                    id: p.id.clone(),
                    action: Some(g.action),
                    rule: g.rule.clone(),
                    target: g.target.clone(),
                    audit: g.audit,
                })
            })
            .collect()
    }

    /// Records the answer for the current proposal and moves on (to the
    /// diff after the last one).
    fn answer(&mut self, action: Action, diff: &mut dyn FnMut(&Plan, &[Answer], bool) -> String) {
        let rule = match action.exec_letter() {
            // the selected candidate when it is of this transition (its
            // safe or unsafe form), else the first one that is
            None => Some(self.selected().to_owned()),
            Some(l) => {
                let s = self.selected();
                (exec_letter_of(s) == Some(l)).then(|| s.to_owned())
            }
        };
        let rule = if action == Action::Ignore { None } else { rule };
        self.record(action, rule, None, diff);
    }

    /// Stores an answer for the current proposal (with its Audi(t) setting
    /// unless it is ignored or the rule is an include line) and moves on.
    fn record(
        &mut self,
        action: Action,
        rule: Option<String>,
        target: Option<String>,
        diff: &mut dyn FnMut(&Plan, &[Answer], bool) -> String,
    ) {
        let include = rule
            .as_deref()
            .unwrap_or_else(|| self.proposal().candidates[0].as_str())
            .starts_with("include ");
        let audit = self.audit[self.cur] && action != Action::Ignore && !include;
        self.answers[self.cur] = Some(Given {
            action,
            rule,
            target,
            audit,
        });
        if self.cur + 1 < self.plan.proposals.len() {
            self.cur += 1;
        } else {
            self.finish(diff);
        }
    }

    fn save(&self, after: AfterSave) -> Outcome {
        Outcome::Save(self.plan.clone(), self.answer_list(), self.local, after)
    }

    fn finish(&mut self, diff: &mut dyn FnMut(&Plan, &[Answer], bool) -> String) {
        let text = diff(&self.plan, &self.answer_list(), self.local);
        self.mode = Mode::Finish(text, 0);
    }

    /// The rule base of a (N)amed transition: the selected candidate when
    /// it is a profile or child transition (so its safe or unsafe form),
    /// else the first `Px` one.
    fn named_base(&self) -> Option<String> {
        let s = self.selected();
        if matches!(exec_letter_of(s), Some('p' | 'c')) {
            return Some(s.to_owned());
        }
        self.proposal()
            .candidates
            .iter()
            .find(|c| exec_letter_of(c) == Some('p'))
            .cloned()
    }

    /// The rule a (N)amed answer with profile name `name` writes.
    fn named_preview(&self, name: &str) -> Result<String, String> {
        let base = self
            .named_base()
            .ok_or_else(|| "no profile transition to name".to_owned())?;
        named_rule(&base, name)
    }

    /// (G)lob: the next candidate (they are ordered most specific first).
    fn glob(&mut self) {
        let n = self.proposal().candidates.len();
        let s = &mut self.sel[self.cur];
        if *s + 1 < n {
            *s += 1;
        }
    }

    /// Glob with (E)xtension: the next candidate whose path keeps the
    /// exact path's extension.
    fn glob_ext(&mut self) {
        let p = self.proposal();
        let path = |c: &str| c.split(' ').next().unwrap_or("").to_owned();
        let first = path(&p.candidates[0]);
        let name = first.rsplit('/').next().unwrap_or("");
        let Some(dot) = name.rfind('.').filter(|&d| d > 0) else {
            return;
        };
        let ext = name[dot..].to_owned();
        let from = self.sel[self.cur] + 1;
        if let Some(i) = (from..p.candidates.len()).find(|&i| {
            let c = path(&p.candidates[i]);
            c.ends_with(&ext) && c.rsplit('/').next().is_some_and(|l| l.contains('*'))
        }) {
            self.sel[self.cur] = i;
        }
    }

    /// (O)wner: the same rule with `owner` added or removed, if a candidate.
    fn owner(&mut self) {
        let s = self.selected();
        let other = match s.strip_prefix("owner ") {
            Some(rest) => rest.to_owned(),
            None => format!("owner {s}"),
        };
        if let Some(i) = self.proposal().candidates.iter().position(|c| *c == other) {
            self.sel[self.cur] = i;
        }
    }

    fn legend(&self) -> &'static str {
        if self.is_exec() {
            "(I)nherit (C)hild (N)amed (P)rofile (U)nconfined: the selected cx/px/ux form, else the scrubbing Cx/Px/Ux  (A)llow selected (D)eny (X) ignore Audi(t) (E)dit rule Abo(r)t (F)inish  ↑↓/1-9 pick  ←→ proposal"
        } else {
            "(A)llow (D)eny (I)gnore (G)lob Glob with (E)xtension (O)wner (N)ew Audi(t) Abo(r)t (F)inish  ↑↓/1-9 pick  ←→ proposal"
        }
    }
}

/// Runs the review of `plan` on the terminal. `diff` gives the text shown at
/// (F)inish for a plan and its answers (the `--dry-run` output); with
/// `can_reload` Save asks whether to reload the changed profiles and in
/// which mode.
pub(super) fn review(
    plan: &Plan,
    can_reload: bool,
    diff: &mut dyn FnMut(&Plan, &[Answer], bool) -> String,
) -> std::io::Result<Outcome> {
    let n = plan.proposals.len();
    let mut st = State {
        plan: plan.clone(),
        answers: vec![None; n],
        sel: vec![0; n],
        audit: vec![false; n],
        can_reload,
        cur: 0,
        mode: Mode::Review,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        local: false,
    };
    // a panic restores the terminal before its message is printed; the
    // previous hook is put back afterwards
    let prev: std::sync::Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        std::sync::Arc::from(std::panic::take_hook());
    let hook = prev.clone();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        hook(info);
    }));
    let r = run(&mut st, diff);
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| prev(info)));
    r
}

fn run(
    st: &mut State,
    diff: &mut dyn FnMut(&Plan, &[Answer], bool) -> String,
) -> std::io::Result<Outcome> {
    let n = st.plan.proposals.len();
    enable_raw_mode()?;
    let _guard = Guard;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen)?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    term.clear()?;
    loop {
        draw(&mut term, st)?;
        let Event::Key(k) = event::read()? else {
            continue;
        };
        if k.kind != KeyEventKind::Press {
            continue;
        }
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            return Ok(Outcome::Abort);
        }
        match &mut st.mode {
            Mode::Input(buf) => match k.code {
                KeyCode::Esc => st.mode = Mode::Review,
                KeyCode::Backspace => {
                    buf.pop();
                }
                KeyCode::Enter => {
                    let rule = buf.trim().to_owned();
                    st.mode = Mode::Review;
                    if !rule.is_empty() {
                        let cur = st.cur;
                        let c = &mut st.plan.proposals[cur].candidates;
                        let i = c.iter().position(|x| *x == rule).unwrap_or_else(|| {
                            c.push(rule);
                            c.len() - 1
                        });
                        st.sel[cur] = i;
                    }
                }
                KeyCode::Char(ch) => buf.push(ch),
                _ => {}
            },
            Mode::Name(buf) => match k.code {
                KeyCode::Esc => st.mode = Mode::Review,
                KeyCode::Backspace => {
                    buf.pop();
                }
                KeyCode::Enter => {
                    let name = buf.trim().to_owned();
                    if st.named_preview(&name).is_ok() {
                        st.mode = Mode::Review;
                        let base = st.named_base();
                        st.record(Action::Named, base, Some(name), diff);
                    }
                }
                KeyCode::Char(ch) => buf.push(ch),
                _ => {}
            },
            Mode::AskReload(text, scroll) => match k.code {
                KeyCode::Char('y' | 'Y') => {
                    st.mode = Mode::AskAfter(std::mem::take(text), *scroll);
                }
                KeyCode::Char('n' | 'N') | KeyCode::Enter | KeyCode::Esc => {
                    return Ok(st.save(AfterSave::Nothing));
                }
                _ => {}
            },
            Mode::AskAfter(_, _) => match k.code {
                KeyCode::Char('e' | 'E') => return Ok(st.save(AfterSave::Enforce)),
                KeyCode::Char('c' | 'C') => return Ok(st.save(AfterSave::Complain)),
                KeyCode::Char('k' | 'K') | KeyCode::Enter => {
                    return Ok(st.save(AfterSave::Reload));
                }
                _ => {}
            },
            Mode::Finish(text, scroll) => match k.code {
                KeyCode::Char('s' | 'S') => {
                    let changes = text.lines().any(|l| l.starts_with("+++ "));
                    if st.can_reload && changes {
                        st.mode = Mode::AskReload(std::mem::take(text), *scroll);
                    } else if !st.can_reload {
                        return Ok(st.save(AfterSave::NotOffered));
                    } else {
                        return Ok(st.save(AfterSave::Nothing));
                    }
                }
                KeyCode::Char('l' | 'L') => {
                    st.local = !st.local;
                    st.finish(diff);
                }
                KeyCode::Char('c' | 'C') | KeyCode::Esc => st.mode = Mode::Review,
                KeyCode::Char('r' | 'R') => return Ok(Outcome::Abort),
                KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => *scroll = scroll.saturating_add(20),
                KeyCode::PageUp => *scroll = scroll.saturating_sub(20),
                _ => {}
            },
            Mode::Review => {
                let exec = st.is_exec();
                let ncand = st.proposal().candidates.len();
                match k.code {
                    KeyCode::Char(c) => match (c.to_ascii_lowercase(), exec) {
                        ('a', _) => st.answer(Action::Allow, diff),
                        ('d', _) => st.answer(Action::Deny, diff),
                        ('i', false) | ('x', true) => st.answer(Action::Ignore, diff),
                        ('i', true) => st.answer(Action::Inherit, diff),
                        ('c', true) => st.answer(Action::Child, diff),
                        ('p', true) => st.answer(Action::Profile, diff),
                        ('u', true) => st.answer(Action::Unconfined, diff),
                        ('g', false) => st.glob(),
                        ('e', false) => st.glob_ext(),
                        ('o', false) => st.owner(),
                        ('t', _) => st.audit[st.cur] = !st.audit[st.cur],
                        ('n', false) | ('e', true) => {
                            st.mode = Mode::Input(st.selected().to_owned());
                        }
                        ('n', true) => st.mode = Mode::Name(String::new()),
                        ('r', _) => return Ok(Outcome::Abort),
                        ('f', _) => st.finish(diff),
                        (d @ '1'..='9', _) => {
                            let i = d as usize - '1' as usize;
                            if i < ncand {
                                st.sel[st.cur] = i;
                            }
                        }
                        _ => {}
                    },
                    KeyCode::Down => st.sel[st.cur] = (st.sel[st.cur] + 1).min(ncand - 1),
                    KeyCode::Up => st.sel[st.cur] = st.sel[st.cur].saturating_sub(1),
                    KeyCode::Right => st.cur = (st.cur + 1).min(n - 1),
                    KeyCode::Left => st.cur = st.cur.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Allow => "allow",
        Action::Deny => "deny",
        Action::Ignore => "ignore",
        Action::Inherit => "inherit",
        Action::Child => "child",
        Action::Profile => "profile",
        Action::Unconfined => "unconfined",
        Action::Named => "named",
    }
}

/// Rows `lines` take when wrapped at `width` columns.
fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let w = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(w)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn draw(term: &mut Terminal<CrosstermBackend<Stdout>>, st: &State) -> std::io::Result<()> {
    let hi = if st.color {
        Style::default()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    term.draw(|f| {
        let area = f.area();
        let finish = match &st.mode {
            Mode::Finish(t, s) => Some((
                t,
                s,
                "(S)ave (C)ancel: back to the review  (L)ocal override on/off  Abo(r)t  ↑↓ scroll",
            )),
            Mode::AskReload(t, s) => Some((t, s, "Saving. Reload the changed profiles now? [y/N]")),
            Mode::AskAfter(t, s) => Some((
                t,
                s,
                "Mode after the reload: (e)nforce (c)omplain (k)eep as written",
            )),
            _ => None,
        };
        if let Some((text, scroll, prompt)) = finish {
            let [body, keys] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
            let shown = if text.is_empty() {
                "nothing to write".to_owned()
            } else {
                text.clone()
            };
            f.render_widget(
                Paragraph::new(shown).scroll((*scroll, 0)).block(
                    Block::default().borders(Borders::ALL).title(if st.local {
                        " Changes (top-level rules to local/ overrides) "
                    } else {
                        " Changes (in the profile files) "
                    }),
                ),
                body,
            );
            f.render_widget(Paragraph::new(prompt), keys);
            return;
        }
        let p = st.proposal();
        let r = &p.records;
        let mut head = vec![Line::from(vec![
            Span::styled(
                format!("Proposal {}/{}", st.cur + 1, st.plan.proposals.len()),
                bold,
            ),
            Span::raw(match &st.answers[st.cur] {
                Some(g) => format!(
                    "  [answered: {}{}{}]",
                    if g.audit { "audit " } else { "" },
                    action_name(g.action),
                    g.target
                        .as_deref()
                        .map(|t| format!(" -> {}", escape_str(t)))
                        .unwrap_or_default()
                ),
                None => String::new(),
            }),
        ])];
        if st.audit[st.cur] {
            head.push(Line::from(
                "Audit:    on (the rule is written with the audit prefix)",
            ));
        }
        head.push(Line::from(format!("Profile:  {}", escape_str(&p.profile))));
        head.push(Line::from(format!("Kind:     {}", p.kind)));
        head.push(Line::from(format!(
            "Records:  {}{}  first {}  last {}",
            r.count,
            if r.trusted() {
                ""
            } else {
                " (unverified senders only)"
            },
            r.first.as_deref().unwrap_or("-"),
            r.last.as_deref().unwrap_or("-"),
        )));
        for s in &r.samples {
            head.push(Line::from(format!(
                "  {} operation={} target={} mask={}",
                s.event,
                escape_str(&s.operation),
                escape_str(&s.target),
                escape_str(&s.mask),
            )));
            head.push(Line::from(format!(
                "    comm={} pid={} provenance={} at {}",
                s.comm.as_deref().map(escape_str).unwrap_or_default(),
                s.pid.map(|p| p.to_string()).unwrap_or_default(),
                s.provenance,
                escape_str(&s.source)
            )));
        }
        let cands: Vec<ListItem<'_>> = p
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let audit = if st.audit[st.cur] && !c.starts_with("include ") {
                    "audit "
                } else {
                    ""
                };
                ListItem::new(format!("{:>2}. {audit}{}", i + 1, escape_str(c)))
            })
            .collect();
        // the list scrolls to keep the selected candidate in view
        let mut list_state = ListState::default().with_selected(Some(st.sel[st.cur]));
        let [top, mid, input, keys] = Layout::vertical([
            Constraint::Length(wrapped_height(&head, area.width.saturating_sub(2)) + 2),
            Constraint::Min(3),
            Constraint::Length(match st.mode {
                Mode::Input(_) => 3,
                Mode::Name(_) => 4,
                _ => 0,
            }),
            Constraint::Length(3),
        ])
        .areas(area);
        f.render_widget(
            Paragraph::new(head)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" Denial ")),
            top,
        );
        f.render_stateful_widget(
            List::new(cands)
                .highlight_style(hi)
                .highlight_symbol("> ")
                .highlight_spacing(HighlightSpacing::Always)
                .block(Block::default().borders(Borders::ALL).title(" Candidates ")),
            mid,
            &mut list_state,
        );
        if let Mode::Input(buf) = &st.mode {
            f.render_widget(
                Paragraph::new(buf.as_str()).block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" New rule (Enter: add as candidate, Esc: cancel) "),
                ),
                input,
            );
        }
        if let Mode::Name(buf) = &st.mode {
            let preview = match st.named_preview(buf) {
                Ok(r) => format!("rule: {}", escape_str(&r)),
                Err(e) => escape_str(&e).into_owned(),
            };
            f.render_widget(
                Paragraph::new(vec![Line::from(buf.as_str()), Line::from(preview)]).block(
                    Block::default().borders(Borders::ALL).title(
                        " Named: profile to run the program under (Enter: answer, Esc: cancel) ",
                    ),
                ),
                input,
            );
        }
        f.render_widget(Paragraph::new(st.legend()).wrap(Wrap { trim: false }), keys);
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::plan::Records;

    fn state(candidates: &[&str]) -> State {
        let p = Proposal {
            id: "0".into(),
            profile: "p".into(),
            kind: "file".into(),
            records: Records::default(),
            candidates: candidates.iter().map(|c| c.to_string()).collect(),
            child: None,
            action: None,
            rule: None,
            target: None,
            audit: false,
        };
        State {
            plan: Plan {
                schema: 1,
                kind: "triage-plan".into(),
                proposals: vec![p],
            },
            answers: vec![None],
            sel: vec![0],
            audit: vec![false],
            can_reload: false,
            cur: 0,
            mode: Mode::Review,
            color: false,
            local: false,
        }
    }

    #[test]
    fn owner_toggles_between_the_two_forms() {
        let mut st = state(&["owner /a/b.txt r,", "/a/b.txt r,", "owner /a/*.txt r,"]);
        st.owner();
        assert_eq!(st.selected(), "/a/b.txt r,");
        st.owner();
        assert_eq!(st.selected(), "owner /a/b.txt r,");
        // no non-owner form of the glob: stays
        st.sel[0] = 2;
        st.owner();
        assert_eq!(st.selected(), "owner /a/*.txt r,");
    }

    #[test]
    fn glob_with_extension_skips_forms_without_it() {
        let mut st = state(&[
            "/a/b/c.txt r,",
            "/a/b/*.txt r,",
            "/a/b/* r,",
            "/a/**.txt r,",
            "/a/** r,",
        ]);
        st.glob_ext();
        assert_eq!(st.selected(), "/a/b/*.txt r,");
        st.glob_ext();
        assert_eq!(st.selected(), "/a/**.txt r,");
        st.glob_ext();
        assert_eq!(st.selected(), "/a/**.txt r,");
        st.glob();
        assert_eq!(st.selected(), "/a/** r,");
        st.glob();
        assert_eq!(st.selected(), "/a/** r,");
        // no extension: (E) does nothing
        let mut st = state(&["/a/b r,", "/a/* r,"]);
        st.glob_ext();
        assert_eq!(st.selected(), "/a/b r,");
    }
}
