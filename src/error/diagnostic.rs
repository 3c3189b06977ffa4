//! Errors a user sees: one `Diag` type for parse and runtime errors, rendered by miette.

use crate::error::source_files::SharedModules;
use crate::error::ErrorKind;
use crate::front::ast::Span;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The script being run: its name as shown in diagnostics, and its text.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
    /// The modules it imports, filled as it compiles (each at offsets of its
    /// own: see `error::source_files`).
    pub modules: SharedModules,
}

impl Source {
    /// A script's name (shown in errors: a path, `-e`, `<stdin>`) and its text.
    ///
    /// ```
    /// let source = procscript::Source::new("hello.proc", "print(\"hi\")\nprint(pid)");
    /// assert_eq!(source.line_col(12), (2, 1));
    /// ```
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
            modules: SharedModules::default(),
        }
    }

    /// The file an offset is in (this script or one of its modules), and
    /// where that file's offsets start.
    pub fn file_at(&self, offset: u32) -> (Source, u32) {
        match self.modules.at(offset) {
            Some(module) => (
                Source {
                    name: module.name,
                    text: module.text,
                    modules: self.modules.clone(),
                },
                module.base,
            ),
            None => (self.clone(), 0),
        }
    }

    /// The file, 1-based line and column of an offset of the run: the
    /// script's own, or a module's (`lib/text.proc`, 3, 5).
    pub fn locate(&self, offset: u32) -> (Arc<str>, usize, usize) {
        let (file, base) = self.file_at(offset);
        let (line, col) = file.line_col(offset - base);
        (file.name, line, col)
    }

    /// Reads a script file; the error says why in words fit for a user
    /// ("cannot read x.proc: no such file", "x.proc is not UTF-8 text ...").
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let path = std::env::temp_dir().join(format!("from-file-{}.proc", std::process::id()));
    /// std::fs::write(&path, "print(6 * 7)").unwrap();
    /// let source = Source::from_file(&path).unwrap();
    /// assert_eq!(&*source.name, path.to_str().unwrap());
    /// assert_eq!(Engine::new().run_captured(&source).1, "42\n");
    /// # std::fs::remove_file(&path).unwrap();
    /// let error = Source::from_file("no/such/script.proc").unwrap_err();
    /// assert_eq!(error, "cannot read no/such/script.proc: no such file");
    /// ```
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Source, String> {
        let path = path.as_ref();
        let shown = path.display();
        let max = crate::limits::MAX_SOURCE_BYTES;
        // At most one byte past the limit is read: `/dev/zero` or an endless
        // pipe would otherwise be read until memory ran out.
        let name = path
            .to_str()
            .ok_or_else(|| format!("{shown}: the path is not UTF-8"))?;
        let bytes = crate::os::read_file_at_most(name, max).map_err(|e| {
            let reason = match e {
                crate::os::OsError::File(nix::errno::Errno::ENOENT) => "no such file".to_string(),
                crate::os::OsError::File(nix::errno::Errno::EACCES) => {
                    "permission denied".to_string()
                }
                _ => e.to_string(),
            };
            format!("cannot read {shown}: {reason}")
        })?;
        if bytes.len() > max {
            return Err(format!(
                "cannot read {shown}: larger than a script may be ({max} bytes)"
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{shown} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        Ok(Source::new(shown.to_string(), text))
    }

    /// 1-based line and column (in characters) of a byte offset; see [`Source::new`].
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One call on the stack when a runtime error happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The called function's name (`fn(...)` for anonymous ones).
    pub function: String,
    /// Where it was called.
    pub call_site: Span,
}

/// A diagnostic: what went wrong, where, and what to do about it. One pointer
/// wide, so results that may carry one stay small; fields read through `Deref`.
/// Serializable: a child process sends its whole diagnostic to its parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diag(Box<DiagData>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiagData {
    /// What kind of error it is, and so its code.
    pub kind: ErrorKind,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    /// Further places worth pointing at (e.g. the unclosed `{`).
    pub notes: Vec<(Span, String)>,
    /// The call stack, innermost call first (runtime errors only).
    pub trace: Vec<Frame>,
    /// Calls left out of `trace` to keep a child's report small: (where in
    /// `trace` they were, how many).
    pub calls_elided: Option<(usize, usize)>,
    /// Failed processes left out between this diagnostic and its cause (a
    /// chain deeper than a report keeps).
    pub causes_elided: usize,
    /// Who failed, for errors in child processes ("process 4242 (Process-1)").
    pub context: Option<String>,
    /// A process ran into the tree's process limit (reported once per tree).
    pub process_limit: bool,
    /// Another process of the tree has already told this on stderr (the one
    /// report of a process limit): the command line prints it no more.
    #[serde(default)]
    pub told: bool,
    /// The child process's own diagnostic, when this error reports a failed
    /// child or pool task: shown under this one, in the same report. Not
    /// encoded with it: a report sends the chain as a flat list, so decoding
    /// one never recurses (see `process::wire`).
    #[serde(skip)]
    pub cause: Option<Diag>,
}

impl Diag {
    /// A diagnostic of no particular kind; [`ErrorKind::at`] makes one of a kind.
    pub fn new(message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Diag(Box::new(DiagData {
            kind: ErrorKind::Runtime,
            message: message.into(),
            span,
            label: label.into(),
            help: None,
            notes: Vec::new(),
            trace: Vec::new(),
            calls_elided: None,
            causes_elided: 0,
            context: None,
            process_limit: false,
            told: false,
            cause: None,
        }))
    }

    /// The last diagnostic of the cause chain: what failed in the deepest child.
    pub fn innermost(&self) -> &Diag {
        let mut diag = self;
        while let Some(cause) = &diag.cause {
            diag = cause;
        }
        diag
    }

    /// The diagnostic with its spans moved by `base`: a module's syntax
    /// error, found in its own text, placed at the module's offsets.
    pub fn moved_by(mut self, base: u32) -> Self {
        let by = |span: Span| Span {
            start: span.start.saturating_add(base),
            end: span.end.saturating_add(base),
        };
        self.span = by(self.span);
        for (span, _) in &mut self.notes {
            *span = by(*span);
        }
        self
    }

    /// The spans in one file's own offsets (the file starting at `base`,
    /// `len` long); notes pointing into other files are left out.
    fn in_file(&self, base: u32, len: usize) -> Diag {
        let end = base.saturating_add(len as u32);
        let inside = |span: Span| span.start >= base && span.start <= end;
        let local = |span: Span| Span {
            start: span.start - base,
            end: span.end.saturating_sub(base).max(span.start - base),
        };
        let mut shown = self.clone();
        shown.span = if inside(self.span) {
            local(self.span)
        } else {
            Span::default()
        };
        shown.notes = self
            .notes
            .iter()
            .filter(|(span, _)| inside(*span))
            .map(|(span, text)| (local(*span), text.clone()))
            .collect();
        shown
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, span: Span, text: impl Into<String>) -> Self {
        self.notes.push((span, text.into()));
        self
    }

    /// The diagnostic with its source, as a `miette::Diagnostic`: for hosts
    /// that report errors with miette's own handlers (`miette::Report::new`).
    ///
    /// ```
    /// use miette::Diagnostic;
    /// use procscript::{Engine, Source};
    ///
    /// let source = Source::new("x.proc", "print(nope)");
    /// let report = Engine::new().check(&source).unwrap_err().report(&source);
    /// assert_eq!(report.to_string(), "undefined variable `nope`");
    /// assert_eq!(report.labels().unwrap().count(), 1);
    /// ```
    pub fn report(&self, source: &Source) -> ScriptError {
        // Shown in the file its span is in: the script's, or a module's.
        let root = source;
        let (source, base) = &root.file_at(self.span.start);
        let local = self.in_file(*base, source.text.len());
        let window = Window::around(&local, source);
        let mut shown = local.clone();
        shown.span = window.map_span(local.span).unwrap_or(local.span);
        shown.notes = local
            .notes
            .iter()
            .filter_map(|(span, text)| Some((window.map_span(*span)?, text.clone())))
            .collect();
        ScriptError {
            help: self.help_text(root),
            cause: self
                .cause
                .as_ref()
                .map(|cause| Box::new(cause.report(root))),
            diag: shown,
            source: WindowedSource {
                inner: NamedSource::new(&*source.name, window.text.clone()),
                original: source.clone(),
                cuts: window.cuts.clone(),
            },
        }
    }

    /// Renders the diagnostic as text, with colour or without: the report the
    /// command line prints, with the file, line and column, the source line
    /// underlined, the label and the help.
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let source = Source::new("x.proc", "print(1 +)");
    /// let error = Engine::new().check(&source).unwrap_err();
    /// let text = error.render(&source, false);
    /// assert!(text.contains("x.proc:1:"));
    /// assert!(text.contains("print(1 +)"));
    /// ```
    pub fn render(&self, source: &Source, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        // On a terminal, its width; in a pipe or file (logs, tests), wide enough
        // that messages holding pids rarely wrap, so their layout stays stable.
        let width = if color {
            crate::os::stderr_terminal_width().unwrap_or(100)
        } else {
            120
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(width);
        let report = self.report(source);
        let mut out = String::new();
        if handler.render_report(&mut out, &report).is_err() {
            // Rendering into a String cannot fail in practice; keep the message anyway.
            out = format!("error: {}\n", self.message);
        }
        out
    }

    /// The help line followed by the call stack, if any.
    fn help_text(&self, source: &Source) -> Option<String> {
        let mut text = self.help.clone().unwrap_or_default();
        if !self.trace.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("call stack, innermost first:");
            // Runs of the same call (deep recursion) print once, with a count.
            // `None` stands for the calls a child's report left out.
            let mut runs: Vec<(Option<&Frame>, usize)> = Vec::new();
            for (i, frame) in self.trace.iter().enumerate() {
                if let Some((_, n)) = self.calls_elided.filter(|&(at, _)| at == i) {
                    runs.push((None, n));
                }
                match runs.last_mut() {
                    Some((Some(last), count)) if *last == frame => *count += 1,
                    _ => runs.push((Some(frame), 1)),
                }
            }
            const SHOWN_INNER: usize = 8;
            const SHOWN_OUTER: usize = 3;
            let total = runs.len();
            for (i, (frame, count)) in runs.iter().enumerate() {
                let hidden = i >= SHOWN_INNER && i < total.saturating_sub(SHOWN_OUTER);
                if hidden {
                    if i == SHOWN_INNER {
                        let n = total - SHOWN_INNER - SHOWN_OUTER;
                        text.push_str(&format!("\n  ... {n} more ..."));
                    }
                    continue;
                }
                let Some(frame) = frame else {
                    text.push_str(&format!("\n  ... {count} more calls"));
                    continue;
                };
                let (file, line, col) = source.locate(frame.call_site.start);
                text.push_str(&format!(
                    "\n  in {} called at {file}:{line}:{col}",
                    frame.function
                ));
                if *count > 1 {
                    text.push_str(&format!(" ({count} times)"));
                }
            }
        }
        if self.causes_elided > 0 {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!(
                "{} failed processes between this one and the first error are left out",
                self.causes_elided
            ));
        }
        (!text.is_empty()).then_some(text)
    }
}

impl std::ops::Deref for Diag {
    type Target = DiagData;

    fn deref(&self) -> &DiagData {
        &self.0
    }
}

impl std::ops::DerefMut for Diag {
    fn deref_mut(&mut self) -> &mut DiagData {
        &mut self.0
    }
}

/// Lines longer than this are shown cut, around the error.
const LONG_LINE: usize = 240;
/// Characters shown on each side of an error in a long line.
const WINDOW_SIDE: usize = 80;

/// The source as a diagnostic shows it: long lines near the error are cut
/// (a 1 MB line would otherwise be printed whole), keeping the line count.
struct Window {
    text: String,
    /// Byte ranges of the original text replaced by "…", in order.
    cuts: Vec<(usize, usize)>,
}

impl Window {
    fn around(diag: &Diag, source: &Source) -> Window {
        let text: &str = &source.text;
        let at = floor_char_boundary(text, (diag.span.start as usize).min(text.len()));
        let primary_line = text[..at].matches('\n').count();
        let mut cuts = Vec::new();
        let mut line_start = 0;
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let line_end = line_start + line.trim_end_matches('\n').len();
            let near = n + 2 >= primary_line && n <= primary_line + 2;
            if near && line_end - line_start > LONG_LINE {
                if n == primary_line {
                    let from =
                        floor_char_boundary(text, at.saturating_sub(WINDOW_SIDE).max(line_start));
                    let end = (diag.span.end as usize).clamp(at, line_end);
                    let to = floor_char_boundary(text, (end + WINDOW_SIDE).min(line_end));
                    if from > line_start {
                        cuts.push((line_start, from));
                    }
                    if to < line_end {
                        cuts.push((to, line_end));
                    }
                } else {
                    let keep = floor_char_boundary(text, line_start + LONG_LINE / 2);
                    cuts.push((keep, line_end));
                }
            }
            line_start += line.len();
        }
        let mut shown = String::with_capacity(text.len().min(64 * 1024));
        let mut pos = 0;
        for &(from, to) in &cuts {
            shown.push_str(&text[pos..from]);
            shown.push('…');
            pos = to;
        }
        shown.push_str(&text[pos..]);
        Window { text: shown, cuts }
    }

    /// Where an original offset is in the shown text; None inside a cut.
    fn map(&self, offset: usize) -> Option<usize> {
        let mut shift: isize = 0;
        for &(from, to) in &self.cuts {
            if offset >= to {
                shift += (to - from) as isize - '…'.len_utf8() as isize;
            } else if offset > from {
                return None;
            }
        }
        Some((offset as isize - shift) as usize)
    }

    fn map_span(&self, span: Span) -> Option<Span> {
        let start = self.map(span.start as usize)?;
        let end = self.map(span.end as usize).unwrap_or(start);
        Some(Span::new(start, end.max(start)))
    }
}

/// The shown text of a [`Window`], reporting the line and column of the
/// original file in the header: miette counts columns in bytes of the text
/// it is given, while every other place (call stacks, `--check`, the
/// language server's) counts characters of the file.
struct WindowedSource {
    inner: NamedSource<String>,
    original: Source,
    cuts: Vec<(usize, usize)>,
}

impl WindowedSource {
    /// The original offset of an offset in the shown text (outside the "…"s).
    fn unmap(&self, shown: usize) -> usize {
        let mut shift = 0;
        for &(from, to) in &self.cuts {
            if shown < from - shift + '…'.len_utf8() {
                break;
            }
            shift += (to - from) - '…'.len_utf8();
        }
        shown + shift
    }
}

impl miette::SourceCode for WindowedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self.inner.read_span(span, before, after)?;
        // The header's read is of the span alone; the others draw lines,
        // where miette's own counting is what it needs.
        if before != 0 || after != 0 {
            return Ok(contents);
        }
        let (_, column) = self.original.line_col(self.unmap(span.offset()) as u32);
        Ok(Box::new(miette::MietteSpanContents::new_named(
            contents.name().unwrap_or_default().to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column - 1,
            contents.line_count(),
        )))
    }
}

/// A script's error together with its source text: what miette renders.
///
/// ```
/// use procscript::{Engine, Outcome, Source};
///
/// let source = Source::new("x.proc", "let xs = []\npop(xs)");
/// let Outcome::Failed(error) = Engine::new().run(&source) else { panic!() };
/// let report = miette::Report::new(error.report(&source));
/// let mut text = String::new();
/// miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
///     .render_report(&mut text, report.as_ref())
///     .unwrap();
/// assert!(text.contains("x.proc:2:"));
/// ```
pub struct ScriptError {
    diag: Diag,
    source: WindowedSource,
    help: Option<String>,
    /// The failed child's own report (its processes share this source).
    cause: Option<Box<ScriptError>>,
}

impl fmt::Debug for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diag.fmt(f)
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.diag.context {
            Some(who) => write!(f, "{who}: {}", self.diag.message),
            None => f.write_str(&self.diag.message),
        }
    }
}

impl std::error::Error for ScriptError {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl Diagnostic for ScriptError {
    /// The kind's stable code: miette prints it above the message.
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.kind.code()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.cause.as_deref().map(|cause| cause as &dyn Diagnostic)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(
            Some(self.diag.label.clone()),
            source_span(self.diag.span),
        );
        let notes =
            self.diag.notes.iter().map(|(span, text)| {
                LabeledSpan::new_with_span(Some(text.clone()), source_span(*span))
            });
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

/// Whether diagnostics on stderr get colour: only on a terminal, never with
/// `NO_COLOR` (what the command line passes to [`Diag::render`] and
/// [`Engine::color`](crate::Engine::color)).
///
/// ```
/// let color = procscript::stderr_wants_color();
/// # let _ = color;
/// ```
pub fn stderr_wants_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}
