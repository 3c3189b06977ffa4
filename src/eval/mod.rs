//! The tree-walking evaluator: runs `ir` on one value stack, in one thread, so a fork copies it as is.

mod call;
pub(crate) mod child_work;
mod expr;
mod index;
mod modules;
pub mod ops;
mod signal_handlers;
mod stmt;
mod vm;

use crate::error::diagnostic::Source;
use crate::error::{self, R};
use crate::front::ast::Span;
use crate::front::ir::{Capture, FnProto, Module, Place};
use crate::front::resolve::ARGS_SLOT;
use crate::limits;
use crate::os;
use crate::process::Procs;
use crate::values::host::Hosts;
use crate::values::{Closure, Upval, Value};
use crate::views::record::{MadeAt, Note};
use std::cell::RefCell;
use std::rc::Rc;

/// How a statement ended. A returned value waits in `Interp::returned`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
    Return,
}

/// The frame a piece of code runs in: where its slots start, and its closure's captures.
#[derive(Clone, Copy)]
struct Env<'a> {
    base: usize,
    upvals: &'a [Upval],
}

/// The script's own frame: slots from 0, nothing captured.
const TOP: Env<'static> = Env {
    base: 0,
    upvals: &[],
};

/// Interpreter state. Everything lives in this one struct and its heap, so a
/// forked child continues with an exact copy.
pub struct Interp {
    stack: Vec<Value>,
    depth: usize,
    /// The value of the `return` being carried out.
    returned: Value,
    /// Where the last `return` ran (a spawned child's result is checked there).
    pub(crate) returned_at: Span,
    pub source: Source,
    /// Whether diagnostics from child processes use colour.
    pub color: bool,
    pub(crate) procs: Procs,
    /// Every compiled function by index (how pool tasks name functions).
    pub(crate) protos: Rc<[Rc<FnProto>]>,
    /// Every module the script imports, by index.
    pub(crate) modules: Rc<[Rc<Module>]>,
    /// The cells of each module's fields, once it has run (a module runs
    /// once: on its first import, in the process that imports it).
    module_fields: Vec<Option<Rc<[Upval]>>>,
    /// Loop iterations and calls left before the script is stopped.
    pub(crate) steps_left: u64,
    /// Functions of the embedding program, by index.
    pub(crate) hosts: Hosts,
    /// The deepest call allowed.
    pub(crate) max_depth: usize,
    /// Calls whose frame is above this native stack address run without
    /// asking for more stack (`usize::MAX` until it is known).
    stack_floor: usize,
    /// The script's signal handlers (`on_signal`), copied into children by fork.
    signal_handlers: Vec<(os::Signal, Value)>,
    /// Set while a signal handler runs: its safe points run no other handler.
    in_handler: bool,
    /// The register VM's compiled functions and loops.
    vm: vm::Cache,
}

impl Interp {
    pub fn new(source: Source, procs: Procs, color: bool, protos: Rc<[Rc<FnProto>]>) -> Self {
        Interp {
            stack: Vec::with_capacity(1024),
            depth: 0,
            returned: Value::Nil,
            returned_at: Span::default(),
            source,
            color,
            procs,
            protos,
            modules: Rc::new([]),
            module_fields: Vec::new(),
            steps_left: u64::MAX,
            hosts: Rc::new([]),
            max_depth: limits::MAX_CALL_DEPTH,
            stack_floor: usize::MAX,
            signal_handlers: Vec::new(),
            in_handler: false,
            vm: vm::Cache::default(),
        }
    }

    /// Records (and, with --explain, narrates) what just happened.
    #[inline]
    pub(crate) fn note(&self, kind: impl FnOnce() -> Note) {
        self.procs.note(kind);
    }

    /// Marks the start and end of a wait around `f` for the timeline.
    pub(crate) fn waiting<T>(&mut self, what: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.note(|| Note::WaitBegan {
            what: what.to_string(),
        });
        let result = f(self);
        self.note(|| Note::WaitEnded);
        result
    }

    /// The source text of a span, shortened for one line.
    pub(crate) fn snippet(&self, span: Span) -> String {
        let (file, base) = self.source.file_at(span.start);
        let text = file
            .text
            .get((span.start - base) as usize..span.end.saturating_sub(base) as usize)
            .unwrap_or("");
        let line = text.lines().next().unwrap_or("");
        match line.char_indices().nth(48) {
            Some((cut, _)) => format!("{}...", &line[..cut]),
            None => line.to_string(),
        }
    }

    /// Where a span is, for the record: a module's file (none for the
    /// script's own) and the 1-based line.
    pub(crate) fn made_at(&self, span: Span) -> MadeAt {
        let (file, base) = self.source.file_at(span.start);
        MadeAt {
            file: match base {
                0 => String::new(),
                _ => file.name.to_string(),
            },
            line: file.line_col(span.start - base).0 as u32,
        }
    }

    /// "script.proc:3:5" (or a module's "lib/text.proc:2:1"), for messages
    /// that travel without their span.
    pub fn describe_span(&self, span: Span) -> String {
        let (file, line, col) = self.source.locate(span.start);
        format!("{file}:{line}:{col}")
    }

    /// Frees what the script left, after its end. Values are reference counted,
    /// so a recursive function (which captures its own variable) is a cycle;
    /// emptying the top-level frame's captured cells breaks those cycles.
    /// (Cycles among functions local to a function that returned stay until
    /// the process exits.)
    pub fn release(&mut self) {
        for slot in &self.stack {
            if let Value::Cell(cell) = slot {
                let value = std::mem::take(&mut *cell.borrow_mut());
                drop(value);
            }
        }
        self.stack.clear();
        self.returned = Value::Nil;
    }

    /// A safe point: a SIGINT or SIGTERM that arrived stops the script here,
    /// and the script handlers of signals that arrived run here (at `span`).
    #[inline]
    pub(crate) fn safe_point(&mut self, span: Span) -> R<()> {
        if os::nothing_due() {
            return Ok(());
        }
        os::pending_stop()?;
        if os::handlers_due() {
            self.run_due_handlers(span)?;
        }
        Ok(())
    }

    /// A safe point of a loop or call: a signal that arrived, or the end of
    /// the step budget (set for fuzzing and embedding), stops the script here.
    #[inline]
    fn step(&mut self, span: Span) -> R<()> {
        self.safe_point(span)?;
        self.steps_left -= 1;
        if self.steps_left == 0 {
            self.steps_left = 1;
            return Err(error::step_budget_spent(span).into());
        }
        Ok(())
    }

    /// Runs a compiled script with its command-line arguments.
    pub fn run_script(&mut self, script: &Rc<FnProto>, args: Vec<String>) -> R<()> {
        self.stack.clear();
        self.script_frame(script, &args);
        self.run_imports(&script.body.imports, TOP)?;
        self.exec_block(&script.body, TOP).map(|_| ())
    }

    /// Runs one entry of an interactive session, in the frame the entries
    /// before it left: their variables stay. Returns the value of an entry
    /// that ends with an expression.
    pub fn run_entry(&mut self, entry: &Rc<FnProto>, args: &[String]) -> R<Option<Value>> {
        self.script_frame(entry, args);
        let flow = self
            .run_imports(&entry.body.imports, TOP)
            .and_then(|()| self.exec_block(&entry.body, TOP));
        // An error deep in a call leaves nothing above the frame; make sure.
        self.stack.truncate(entry.slots as usize);
        match flow? {
            Flow::Return => Ok(Some(std::mem::take(&mut self.returned))),
            _ => Ok(None),
        }
    }

    /// Grows the script's frame to the slots it needs, with `args` in slot 0.
    fn script_frame(&mut self, script: &FnProto, args: &[String]) {
        if self.stack.is_empty() {
            self.stack.resize(script.slots as usize, Value::Nil);
            let args = Value::list(args.iter().map(|a| Value::str(a)).collect());
            self.stack[ARGS_SLOT as usize] = if script_args_boxed(script) {
                Value::Cell(Rc::new(RefCell::new(args)))
            } else {
                args
            };
        } else if self.stack.len() < script.slots as usize {
            self.stack.resize(script.slots as usize, Value::Nil);
        }
    }

    // ------------------------------------------------------------ variables

    #[inline(always)]
    fn load_local(&self, env: Env, slot: u32, name: &str, span: Span) -> R<Value> {
        match &self.stack[env.base + slot as usize] {
            Value::Int(n) => Ok(Value::Int(*n)),
            other => load_slot(other, name, span),
        }
    }

    #[inline]
    fn store(&mut self, env: Env, place: Place, value: Value) {
        match place {
            Place::Local(slot) => {
                let target = &mut self.stack[env.base + slot as usize];
                match target {
                    Value::Cell(cell) => *cell.borrow_mut() = value,
                    _ => *target = value,
                }
            }
            Place::Upval(i) => *env.upvals[i as usize].borrow_mut() = value,
        }
    }

    fn load(&self, env: Env, place: Place, name: &str, span: Span) -> R<Value> {
        match place {
            Place::Local(slot) => self.load_local(env, slot, name, span),
            Place::Upval(i) => load_upval(&env.upvals[i as usize], name, span),
        }
    }

    fn make_closure(&mut self, proto: &Rc<FnProto>, env: Env) -> Value {
        let upvals = proto
            .captures
            .iter()
            .map(|capture| match *capture {
                Capture::Local(slot) => {
                    let target = &mut self.stack[env.base + slot as usize];
                    match target {
                        Value::Cell(cell) => cell.clone(),
                        other => {
                            // Boxed slots always hold cells; stay correct if one does not.
                            let cell = Rc::new(RefCell::new(std::mem::take(other)));
                            *other = Value::Cell(cell.clone());
                            cell
                        }
                    }
                }
                Capture::Upval(i) => env.upvals[i as usize].clone(),
            })
            .collect();
        Value::Func(Rc::new(Closure {
            proto: proto.clone(),
            upvals,
        }))
    }
}

/// Whether a closure captures `args` (then its slot holds a cell).
fn script_args_boxed(script: &FnProto) -> bool {
    script.params.first().is_some_and(|boxed| boxed.get())
}

/// A slot's value, looking through the cell of a captured variable.
#[inline]
fn load_slot(slot: &Value, name: &str, span: Span) -> R<Value> {
    match slot {
        Value::Cell(cell) => load_upval(cell, name, span),
        Value::Uninit => Err(error::used_before_let(name, span).into()),
        v => Ok(v.clone()),
    }
}

#[inline]
fn load_upval(cell: &Upval, name: &str, span: Span) -> R<Value> {
    match &*cell.borrow() {
        Value::Uninit => Err(error::used_before_let(name, span).into()),
        v => Ok(v.clone()),
    }
}
