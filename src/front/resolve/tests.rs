//! Tests of the resolver: which variables closures box, and how prompt entries continue.

use super::*;
use crate::front::ir::{Block, FnProto, Stmt};

fn parse(text: &str) -> ast::Program {
    crate::front::parser::parse_program(text).unwrap_or_else(|d| panic!("{}", d.message))
}

fn compile(text: &str) -> Compiled {
    compile_program(&parse(text), &crate::front::spec::NoHosts)
        .unwrap_or_else(|d| panic!("{}", d.message))
}

fn function<'a>(compiled: &'a Compiled, name: &str) -> &'a FnProto {
    compiled
        .protos
        .iter()
        .find(|p| &*p.name == name)
        .unwrap_or_else(|| panic!("no function `{name}`"))
}

/// Whether the variable in `slot`, declared directly in `block`, lives in a cell.
fn boxed(block: &Block, slot: u32) -> bool {
    block
        .decls
        .iter()
        .find(|d| d.slot == slot)
        .unwrap_or_else(|| panic!("slot {slot} is not declared in this block"))
        .boxed
        .get()
}

/// The slot a `let` statement fills.
fn let_slot(stmt: &Stmt) -> u32 {
    match stmt {
        Stmt::Let { slot, .. } => *slot,
        other => panic!("not a let: {other:?}"),
    }
}

// ------------------------------------------------------------ capture and boxing

#[test]
fn only_captured_variables_are_boxed() {
    let c = compile("let a = 1\nlet b = 2\nfn f() { return a }\nprint(b)");
    let body = &c.script.body;
    let (a, b) = (let_slot(&body.stmts[0]), let_slot(&body.stmts[1]));
    assert!(boxed(body, a), "`a` is captured by f");
    assert!(!boxed(body, b), "`b` is only used where it is declared");
    assert_eq!(function(&c, "f").captures, [Capture::Local(a)]);
    assert!(!c.script.params[0].get(), "`args` is not captured");
    assert!(
        body.enter,
        "a block with a named function has work on entry"
    );
}

#[test]
fn a_capture_passes_through_the_functions_between() {
    let c = compile(
        "fn outer(x) {\n\
             fn middle() {\n\
                 fn inner() { return x }\n\
                 return inner\n\
             }\n\
             return middle\n\
         }",
    );
    let outer = function(&c, "outer");
    assert!(outer.params_boxed && outer.params[0].get());
    // `middle` takes `x` from outer's frame; `inner` from middle's captures.
    assert_eq!(function(&c, "middle").captures, [Capture::Local(0)]);
    assert_eq!(function(&c, "inner").captures, [Capture::Upval(0)]);
    let plain = compile("fn add(x, y) { return x + y }");
    let add = function(&plain, "add");
    assert!(!add.params_boxed && add.params.iter().all(|p| !p.get()));
}

#[test]
fn a_variable_used_twice_is_captured_once() {
    let c = compile("let a = 1\nlet b = 2\nfn f() { return b + a * a + b }");
    let (a, b) = (
        let_slot(&c.script.body.stmts[0]),
        let_slot(&c.script.body.stmts[1]),
    );
    // In the order the body first mentions them.
    assert_eq!(
        function(&c, "f").captures,
        [Capture::Local(b), Capture::Local(a)]
    );
}

#[test]
fn a_captured_loop_variable_gets_a_cell_per_iteration() {
    let c = compile(
        "for i in 0..3 { let f = fn() { return i } }\n\
         for j in 0..3 { print(j) }",
    );
    let Stmt::ForRange { slot, body, .. } = &c.script.body.stmts[0] else {
        panic!("a counting loop")
    };
    assert!(boxed(body, *slot), "`i` is captured");
    assert!(!boxed(body, let_slot(&body.stmts[0])), "`f` is not");
    assert!(body.enter, "a fresh cell for `i` on every entry");
    let Stmt::ForRange { slot, body, .. } = &c.script.body.stmts[1] else {
        panic!("a counting loop")
    };
    assert!(!boxed(body, *slot));
    assert!(
        !body.enter,
        "nothing to do on entering the second loop's body"
    );
}

#[test]
fn a_capture_finds_the_innermost_variable_of_its_name() {
    let c = compile("let a = 1\nif true {\n  let a = 2\n  fn f() { return a }\n}");
    let outer = let_slot(&c.script.body.stmts[0]);
    let Stmt::If { branches, .. } = &c.script.body.stmts[1] else {
        panic!("an if")
    };
    let inner = let_slot(&branches[0].1.stmts[0]);
    assert_ne!(outer, inner);
    assert!(
        !boxed(&c.script.body, outer),
        "the shadowed `a` is not captured"
    );
    assert!(boxed(&branches[0].1, inner));
    assert_eq!(function(&c, "f").captures, [Capture::Local(inner)]);
}

#[test]
fn a_function_may_capture_a_variable_declared_after_it() {
    let c = compile("fn f() { return later }\nlet later = 1");
    let later = let_slot(&c.script.body.stmts[0]);
    assert!(boxed(&c.script.body, later));
    assert_eq!(function(&c, "f").captures, [Capture::Local(later)]);
}

// ------------------------------------------------------------ prompt sessions

fn entry(session: &mut Session, text: &str) -> CResult<Compiled> {
    compile_entry(&parse(text), &crate::front::spec::NoHosts, session)
}

/// The value an expression entry gives back to the prompt.
fn echoed(compiled: &Compiled) -> &ir::Expr {
    match compiled.script.body.stmts.last() {
        Some(Stmt::Return(Some(value), _)) => value,
        other => panic!("not an echoed value: {other:?}"),
    }
}

fn local_slot(expr: &ir::Expr) -> u32 {
    match expr {
        ir::Expr::Local { slot, .. } => *slot,
        ir::Expr::LocalInt(local) => local.slot,
        other => panic!("not a local variable: {other:?}"),
    }
}

#[test]
fn later_entries_use_the_slots_of_earlier_names() {
    let mut s = Session::default();
    let first = entry(&mut s, "let x = 1").unwrap();
    let x = let_slot(&first.script.body.stmts[0]);
    assert!(
        !matches!(first.script.body.stmts.last(), Some(Stmt::Return(..))),
        "a `let` echoes nothing"
    );
    let second = entry(&mut s, "x + 1").unwrap();
    assert_eq!(local_slot(echoed(&second)), x);
    // `let` of an earlier name fills the same variable: no new one.
    let third = entry(&mut s, "let x = 5").unwrap();
    assert_eq!(let_slot(&third.script.body.stmts[0]), x);
    assert!(third.script.body.decls.is_empty());
    // Inside a block, `let` is a new variable, as in a script.
    let fourth = entry(&mut s, "if true { let x = 9 }\nx").unwrap();
    let Stmt::If { branches, .. } = &fourth.script.body.stmts[0] else {
        panic!("an if")
    };
    assert_ne!(let_slot(&branches[0].1.stmts[0]), x);
    assert_eq!(local_slot(echoed(&fourth)), x);
}

#[test]
fn args_keeps_slot_zero_in_every_entry() {
    let mut s = Session::default();
    let first = entry(&mut s, "args").unwrap();
    assert_eq!(local_slot(echoed(&first)), ARGS_SLOT);
    let second = entry(&mut s, "let y = 1\nargs").unwrap();
    assert_eq!(local_slot(echoed(&second)), ARGS_SLOT);
}

#[test]
fn functions_of_earlier_entries_see_a_variable_redefined_later() {
    let mut s = Session::default();
    let first = entry(&mut s, "let x = 1\nfn f() { return x }").unwrap();
    let x = let_slot(&first.script.body.stmts[0]);
    assert_eq!(function(&first, "f").captures, [Capture::Local(x)]);
    assert!(s.slots[x as usize].get(), "`x` is boxed for f");
    let f = first.script.body.fns[0].0;
    let second = entry(&mut s, "let x = 2\nfn f() { return x * 2 }").unwrap();
    assert_eq!(let_slot(&second.script.body.stmts[0]), x);
    assert_eq!(second.script.body.fns[0].0, f, "f is replaced in its slot");
    assert!(second.script.body.decls.is_empty());
}

#[test]
fn function_indexes_continue_from_entry_to_entry() {
    let mut s = Session::default();
    let first = entry(&mut s, "fn f() { return 1 }").unwrap();
    let f = function(&first, "f").index;
    let second = entry(&mut s, "fn g() { return f() }").unwrap();
    assert_eq!(&*second.protos[f as usize].name, "f");
    assert!(function(&second, "g").index > f);
    assert_eq!(second.script.index as usize, second.protos.len() - 1);
    assert!(second
        .protos
        .iter()
        .enumerate()
        .all(|(i, p)| p.index as usize == i));
}

#[test]
fn a_failed_entry_leaves_the_session_as_it_was() {
    let mut s = Session::default();
    entry(&mut s, "let a = 1").unwrap();
    let (slots, protos) = (s.slots.len(), s.protos.len());
    let error = entry(&mut s, "let b = 2\nfn g() { return b }\nprint(nope)")
        .err()
        .expect("`nope` is undefined");
    assert_eq!(error.message, "undefined variable `nope`");
    assert_eq!((s.slots.len(), s.protos.len()), (slots, protos));
    let error = entry(&mut s, "b").err().expect("`b` was never defined");
    assert_eq!(error.message, "undefined variable `b`");
    let after = entry(&mut s, "a").unwrap();
    assert_eq!(local_slot(echoed(&after)), 1);
}
