//! Tests of the compiler: which functions and loops of the VM cases compile, and how.

use super::*;

const CASES: [&str; 2] = [
    include_str!("../../../tests/cases/vm/arithmetic_matches_tree_walker.proc"),
    include_str!("../../../tests/cases/vm/break_continue_matches_tree_walker.proc"),
];

use crate::front::ir::tests::functions;

/// The cases compare `vm_` functions with `tw_` ones: that only means
/// something if the first compile and the second (and its loops) do not.
#[test]
fn the_cases_compile_the_functions_they_say() {
    let mut seen = (0, 0);
    for proto in CASES.iter().flat_map(|text| functions(text)) {
        if proto.name.starts_with("vm_") {
            assert!(function(&proto).is_some(), "{} compiles", proto.name);
            seen.0 += 1;
        } else if proto.name.starts_with("tw_") {
            assert!(function(&proto).is_none(), "{} does not", proto.name);
            let plain = |_: u32| Some(false);
            for stmt in &proto.body.stmts {
                assert!(one_loop(stmt, proto.slots as usize, &plain).is_none());
            }
            seen.1 += 1;
        }
    }
    assert_eq!(seen, (2, 2), "the cases lost their functions");
}

/// The cases of calls between compiled functions say which functions
/// compile: (case, function, compiles); "" names the anonymous ones.
#[test]
fn the_call_cases_compile_what_they_say() {
    let cases: [(&str, &[(&str, bool)]); 5] = [
        (
            include_str!("../../../tests/cases/vm/error_deep_in_compiled_recursion.proc"),
            &[("down", true), ("leaf", true), ("through", true)],
        ),
        (
            include_str!("../../../tests/cases/vm/mutual_recursion_compiled_and_tree_walked.proc"),
            &[("even", true), ("odd", false)],
        ),
        (
            include_str!("../../../tests/cases/vm/arity_deep_in_compiled_calls.proc"),
            &[("two", true), ("down", true)],
        ),
        (
            include_str!("../../../tests/cases/vm/recursion_through_reassigned_variable.proc"),
            &[
                ("first", true),
                ("second", true),
                ("swap", false),
                ("", true),
            ],
        ),
        (
            include_str!("../../../tests/cases/vm/return_values_of_every_type.proc"),
            &[
                ("vm_id", true),
                ("vm_pass", true),
                ("vm_consts", true),
                ("tw_pass", false),
            ],
        ),
    ];
    for (text, expected) in cases {
        let protos = functions(text);
        for (name, compiles) in expected {
            let named: Vec<_> = protos.iter().filter(|p| &*p.name == *name).collect();
            assert!(!named.is_empty(), "{name} is in its case");
            // Of the anonymous ones, those that do not replace a function compile.
            let any = named.iter().any(|p| function(p).is_some());
            assert_eq!(any, *compiles, "{name}");
        }
    }
}

#[test]
fn guarded_returns_compile() {
    let protos = functions("fn f(n) {\n  if n < 2 { return n }\n  return f(n - 1)\n}");
    let f = protos.iter().find(|p| &*p.name == "f").expect("f");
    assert!(f.returns.is_some() && function(f).is_some());
}

#[test]
fn a_loop_with_a_cell_reads_and_writes_through_it() {
    let protos = functions("let t = 0\nfn f() { return t }\nwhile t < 3 { t += 1 }");
    let script = protos
        .iter()
        .find(|p| &*p.name == "<script>")
        .expect("script");
    let cells = |slot: u32| Some(slot == 1);
    let stmt = script.body.stmts.last().expect("the loop");
    let code = one_loop(stmt, script.slots as usize, &cells).expect("compiles");
    assert_eq!(code.cells, vec![1]);
    assert!(code.ops.iter().any(|op| matches!(op, Op::SetCell { .. })));
}
