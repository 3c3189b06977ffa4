//! One block's names, in the order they were bound, indexed by name so that a block of any length resolves in linear time.

use crate::front::ast::Span;
use std::collections::HashMap;
use std::rc::Rc;

pub(super) struct Binding {
    pub name: Rc<str>,
    pub slot: u32,
    /// False between the start of the block and the `let` that declares it.
    pub declared: bool,
    pub span: Span,
}

/// The bindings of one block. A name may be bound more than once (`let x`
/// again shadows); `by_name` holds each name's bindings in order.
#[derive(Default)]
pub(super) struct BlockNames {
    bindings: Vec<Binding>,
    by_name: HashMap<Rc<str>, Vec<usize>>,
}

impl BlockNames {
    pub fn push(&mut self, binding: Binding) {
        let at = self.bindings.len();
        self.by_name
            .entry(binding.name.clone())
            .or_default()
            .push(at);
        self.bindings.push(binding);
    }

    /// The bindings of `name`, latest first.
    pub fn named_rev<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Binding> + 'a {
        let found = self.by_name.get(name).map_or(&[][..], Vec::as_slice);
        found.iter().rev().map(|&i| &self.bindings[i])
    }

    pub fn first_named(&self, name: &str) -> Option<&Binding> {
        self.named_rev(name).last()
    }

    pub fn last_named(&self, name: &str) -> Option<&Binding> {
        self.named_rev(name).next()
    }

    pub fn last_named_mut(&mut self, name: &str) -> Option<&mut Binding> {
        let i = *self.by_name.get(name)?.last()?;
        Some(&mut self.bindings[i])
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Binding> {
        self.bindings.iter()
    }

    pub fn into_vec(self) -> Vec<Binding> {
        self.bindings
    }
}
