//! The names a script binds and where each is visible: what go-to-definition, hover and completion look up.

use crate::front::ast::{Block, Expr, ExprKind, FnDef, Ident, Program, Stmt, StmtKind};
use crate::front::parser::parse_program;
use crate::front::spec;
use crate::limits;
use crate::lsp::cursor::Receiver;
use std::rc::Rc;

/// What kind of name a binding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    Variable,
    Parameter,
    LoopVariable,
    CatchVariable,
    Function,
    /// `import "path" as name`: the name is the module.
    Import,
}

/// One name bound by the script.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: Rc<str>,
    pub kind: BindingKind,
    /// Where the name is written in its declaration.
    pub at: (u32, u32),
    /// From where on it may be used (a function: its whole block, as the
    /// resolver hoists it; a `let`: after its statement).
    pub visible_from: u32,
    /// The block it lives in (the whole text for top-level names).
    pub scope: (u32, u32),
    /// A function's parameter names.
    pub params: Vec<Rc<str>>,
    /// The type of value a variable holds, as `type()` and the method table
    /// name it, when the declaration shows it (`let q = queue()`).
    pub holds: Option<&'static str>,
    /// An import's path, as written.
    pub module: Option<Rc<str>>,
}

/// What a pipe() makes: not a type with methods itself, but its items are pipe ends.
const PIPE: &str = "pipe";

/// The names a script binds, and the function bodies (where a name declared
/// later in an enclosing block may be used: the call comes later too).
#[derive(Default)]
pub struct Names {
    pub bindings: Vec<Binding>,
    function_bodies: Vec<(u32, u32)>,
}

/// The names of a script, or None when it does not parse. A text that does
/// not parse because a line is unfinished (`q.`, typed at the cursor) is
/// parsed again with that line blanked (the cursor's first, then the line of
/// each syntax error, a few times), so the rest still gives names.
pub fn of_text(text: &str, line_of_cursor: Option<usize>) -> Option<Names> {
    if let Ok(program) = parse_program(text) {
        return Some(of_program(&program, text.len()));
    }
    let mut blanked = text.to_string();
    if let Some(line) = line_of_cursor {
        blank_line(&mut blanked, line_start(text, line));
    }
    for _ in 0..MAX_LINES_BLANKED {
        match parse_program(&blanked) {
            Ok(program) => return Some(of_program(&program, text.len())),
            Err(diag) => {
                let at = (diag.span.start as usize).min(blanked.len());
                // The error is on a blank line: blanking cannot help.
                let start = unfinished_line(&blanked, at);
                if !blank_line(&mut blanked, start) {
                    return None;
                }
            }
        }
    }
    None
}

/// How many unfinished lines a text may have and still give its names.
const MAX_LINES_BLANKED: usize = 4;

/// Where the unfinished line starts, for a syntax error at `at`: its own
/// line, or when the error is the first word of its line (`let` after
/// `let r = 1 +`), the last line before it with any text.
fn unfinished_line(text: &str, at: usize) -> usize {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    if start == 0 || !text[start..at].trim().is_empty() {
        return start;
    }
    let mut end = start - 1;
    loop {
        let line = text[..end].rfind('\n').map_or(0, |i| i + 1);
        if line == 0 || !text[line..end].trim().is_empty() {
            return line;
        }
        end = line - 1;
    }
}

/// Blanks the line starting at `start` with spaces (offsets stay); whether it had anything.
fn blank_line(text: &mut String, start: usize) -> bool {
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let had = text[start..end].bytes().any(|b| b != b' ');
    text.replace_range(start..end, &" ".repeat(end - start));
    had
}

fn line_start(text: &str, line: usize) -> usize {
    if line == 0 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 1)
        .map_or(text.len(), |(i, _)| i + 1)
}

/// The names of a parsed script whose text is `len` bytes long.
pub fn of_program(program: &Program, len: usize) -> Names {
    let mut walker = Walker::default();
    // The parser's limits bound the depth; give a deep walk the room the parser had.
    stacker::maybe_grow(
        limits::PARSE_STACK_BYTES / 64,
        limits::PARSE_STACK_BYTES,
        || walker.block(&program.body, (0, len as u32)),
    );
    walker.names
}

fn contains(outer: (u32, u32), inner: (u32, u32)) -> bool {
    outer.0 <= inner.0 && inner.1 <= outer.1
}

impl Names {
    /// The binding `name` refers to at `offset`: the innermost one declared
    /// before it, else, inside a function's body, one declared later in a
    /// block around the function (the resolver hoists those).
    pub fn resolve(&self, name: &str, offset: u32) -> Option<&Binding> {
        let here = (offset, offset);
        let named = || self.bindings.iter().filter(move |b| &*b.name == name);
        if let Some(own) = named().find(|b| contains(b.at, here)) {
            return Some(own);
        }
        let in_scope = || named().filter(|b| contains(b.scope, here));
        in_scope()
            .filter(|b| b.visible_from <= offset)
            .max_by_key(|b| (b.scope.0, b.visible_from))
            .or_else(|| {
                in_scope()
                    .filter(|b| {
                        let mut bodies = self.function_bodies.iter();
                        bodies.any(|&body| contains(body, here) && contains(b.scope, body))
                    })
                    .min_by_key(|b| b.visible_from)
            })
    }

    /// The names that may be used at `offset`, each once.
    pub fn in_scope(&self, offset: u32) -> Vec<&Binding> {
        let mut found: Vec<&Binding> = Vec::new();
        for binding in &self.bindings {
            if found.iter().any(|b| b.name == binding.name) {
                continue;
            }
            if let Some(chosen) = self.resolve(&binding.name, offset) {
                found.push(chosen);
            }
        }
        found
    }

    /// The type of what a method is called on, when the declarations show it
    /// (`q.` after `let q = queue()`; `ends[0].` after `let ends = pipe()`).
    pub fn receiver_type(&self, receiver: &Receiver) -> Option<&'static str> {
        match *receiver {
            Receiver::Name(name, at) => self.resolve(name, at as u32)?.holds,
            Receiver::ItemOf(name, at) => {
                let holds = self.resolve(name, at as u32)?.holds;
                (holds == Some(PIPE)).then_some("pipe end")
            }
            Receiver::Unknown => None,
        }
    }
}

#[derive(Default)]
struct Walker {
    names: Names,
}

impl Walker {
    fn bind(&mut self, name: &Ident, kind: BindingKind, visible_from: u32, scope: (u32, u32)) {
        self.names.bindings.push(Binding {
            name: name.name.clone(),
            kind,
            at: (name.span.start, name.span.end),
            visible_from,
            scope,
            params: Vec::new(),
            holds: None,
            module: None,
        });
    }

    fn block(&mut self, stmts: &[Stmt], scope: (u32, u32)) {
        for stmt in stmts {
            self.stmt(stmt, scope);
        }
    }

    fn inner(&mut self, block: &Block) {
        self.block(&block.stmts, (block.span.start, block.span.end));
    }

    fn stmt(&mut self, stmt: &Stmt, scope: (u32, u32)) {
        match &stmt.kind {
            StmtKind::Import { path, alias, .. } => {
                self.bind(alias, BindingKind::Import, stmt.span.end, scope);
                self.names.bindings.last_mut().expect("just bound").module = Some(path.clone());
            }
            StmtKind::Let { name, value } => {
                self.expr(value);
                let holds = self.holds(value, stmt.span.start);
                self.bind(name, BindingKind::Variable, stmt.span.end, scope);
                self.names.bindings.last_mut().expect("just bound").holds = holds;
            }
            StmtKind::Assign { indexes, value, .. } => {
                indexes.iter().for_each(|e| self.expr(e));
                self.expr(value);
            }
            StmtKind::FnDecl(def) => {
                if let Some(name) = &def.name {
                    self.bind(name, BindingKind::Function, scope.0, scope);
                    let params = def.params.iter().map(|p| p.name.clone()).collect();
                    self.names.bindings.last_mut().expect("just bound").params = params;
                }
                self.function(def);
            }
            StmtKind::Return(value) => value.iter().for_each(|e| self.expr(e)),
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for (cond, block) in branches {
                    self.expr(cond);
                    self.inner(block);
                }
                otherwise.iter().for_each(|b| self.inner(b));
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.inner(body);
            }
            StmtKind::For { var, iter, body } => {
                self.expr(iter);
                let body_scope = (body.span.start, body.span.end);
                self.bind(var, BindingKind::LoopVariable, body.span.start, body_scope);
                self.inner(body);
            }
            StmtKind::Try { body, err, handler } => {
                self.inner(body);
                if let Some(err) = err {
                    let handler_scope = (handler.span.start, handler.span.end);
                    let kind = BindingKind::CatchVariable;
                    self.bind(err, kind, handler.span.start, handler_scope);
                }
                self.inner(handler);
            }
            StmtKind::Expr(e) => self.expr(e),
            // Statements that bind and hold nothing (`break`, `continue`).
            _ => {}
        }
    }

    fn function(&mut self, def: &FnDef) {
        let body = (def.body.span.start, def.body.span.end);
        self.names.function_bodies.push(body);
        for param in &def.params {
            self.bind(param, BindingKind::Parameter, body.0, body);
        }
        self.inner(&def.body);
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Fn(def) => self.function(def),
            kind => kind.each_child(&mut |e| self.expr(e)),
        }
    }

    /// The type a declaration's value shows: a built-in that makes an object
    /// with methods (`queue()`, `lock()`, `pool(4)`...), `p.submit(...)`
    /// (a task), or an item of a `pipe()` (a pipe end).
    fn holds(&self, value: &Expr, at: u32) -> Option<&'static str> {
        let held_by = |e: &Expr| match &e.kind {
            ExprKind::Var(name) => self.names.resolve(&name.name, at)?.holds,
            _ => None,
        };
        match &value.kind {
            ExprKind::Call { callee, .. } => match &callee.kind {
                ExprKind::Var(name) if self.names.resolve(&name.name, at).is_none() => {
                    let builtin = spec::name(spec::lookup(&name.name)?);
                    let has_methods = spec::methods().iter().any(|m| m.on == builtin);
                    (has_methods || builtin == PIPE).then_some(builtin)
                }
                _ => None,
            },
            ExprKind::Method { name, .. } if &*name.name == "submit" => Some("task"),
            ExprKind::Index { target, .. } if held_by(target) == Some(PIPE) => Some("pipe end"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_at(text: &str, marker: &str) -> Vec<String> {
        let names = of_text(text, None).unwrap();
        let at = text.find(marker).unwrap() as u32;
        let mut names: Vec<_> = names
            .in_scope(at)
            .iter()
            .map(|b| b.name.to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn scopes_follow_blocks_and_declarations() {
        let text = "let a = 1\nfn f(x) {\n  let y = x\n  print(y) # in f\n}\n# after f\nlet b = 2\nfor i in [1] { print(i) }";
        assert_eq!(names_at(text, "# in f"), ["a", "b", "f", "x", "y"]);
        assert_eq!(names_at(text, "# after f"), ["a", "f"]);
        assert_eq!(names_at(text, "print(i)"), ["a", "b", "f", "i"]);
    }

    #[test]
    fn the_innermost_and_latest_declaration_wins() {
        let text = "let x = 1\nfn f(x) { return x }\nlet x = 2\nprint(x)";
        let names = of_text(text, None).unwrap();
        let in_f = text.find("return x").unwrap() as u32 + 7;
        assert_eq!(
            names.resolve("x", in_f).unwrap().kind,
            BindingKind::Parameter
        );
        let last = text.rfind('x').unwrap() as u32;
        let found = names.resolve("x", last).unwrap();
        assert_eq!(found.at.0 as usize, text.find("x = 2").unwrap());
    }

    #[test]
    fn declarations_show_what_a_variable_holds() {
        let text = "let q = queue()\nlet p = pool(2)\nlet t = p.submit(f, [1])\nlet ends = pipe()\nlet e = ends[0]\nlet n = len([])\nfn f(x) { return x }";
        let names = of_text(text, None).unwrap();
        let holds = |name: &str| names.resolve(name, text.len() as u32).unwrap().holds;
        assert_eq!(holds("q"), Some("queue"));
        assert_eq!(holds("p"), Some("pool"));
        assert_eq!(holds("t"), Some("task"));
        assert_eq!(holds("e"), Some("pipe end"));
        assert_eq!(holds("n"), None);
    }

    #[test]
    fn an_unfinished_line_is_left_out_so_the_rest_still_binds() {
        let text = "let q = queue()\nq.\nprint(1)\nlet r = 1 +\n\nlet s = 1";
        for cursor in [None, Some(1)] {
            let names = of_text(text, cursor).unwrap();
            let bound: Vec<_> = names.bindings.iter().map(|b| b.name.to_string()).collect();
            assert_eq!(bound, ["q", "s"]);
        }
    }
}
