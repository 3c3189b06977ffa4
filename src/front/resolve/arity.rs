//! Arity checked before running: a call or `spawn` of a `fn` declaration that is never reassigned.

use crate::error::closure_arity;
use crate::error::diagnostic::Diag;
use crate::front::ast::Span;
use crate::front::ir::Boxed;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// A slot's identity: the address of its shared cell, kept alive by the map that holds it.
fn key(slot: &Boxed) -> usize {
    Rc::as_ptr(slot) as usize
}

struct Declared {
    _slot: Boxed,
    params: usize,
    span: Span,
}

struct Call {
    slot: usize,
    name: String,
    given: usize,
    span: Span,
}

/// The `fn` declarations seen, the slots assigned to, and the calls to check
/// once the whole program is read (an assignment may follow the call).
#[derive(Default)]
pub(super) struct ArityChecks {
    functions: HashMap<usize, Declared>,
    reassigned: HashSet<usize>,
    calls: Vec<Call>,
}

impl ArityChecks {
    pub(super) fn declared(&mut self, slot: &Boxed, params: usize, span: Span) {
        self.functions.insert(
            key(slot),
            Declared {
                _slot: slot.clone(),
                params,
                span,
            },
        );
    }

    pub(super) fn assigned(&mut self, slot: &Boxed) {
        self.reassigned.insert(key(slot));
    }

    pub(super) fn called(&mut self, slot: &Boxed, name: &str, given: usize, span: Span) {
        self.calls.push(Call {
            slot: key(slot),
            name: name.to_string(),
            given,
            span,
        });
    }

    /// The first call, in the order written, whose count of arguments the
    /// function it surely calls does not take.
    pub(super) fn check(&self) -> Result<(), Diag> {
        for call in &self.calls {
            if self.reassigned.contains(&call.slot) {
                continue;
            }
            if let Some(f) = self.functions.get(&call.slot) {
                if f.params != call.given {
                    let name = format!("`{}`", call.name);
                    return Err(closure_arity(
                        &name, f.params, call.given, call.span, f.span,
                    ));
                }
            }
        }
        Ok(())
    }
}
