//! Imports at run time: a module's top-level code runs once, on its first import, and each importing file gets the cells of its fields.

use super::{Env, Interp};
use crate::error::diagnostic::Frame;
use crate::error::R;
use crate::front::ir::Import;
use crate::front::resolve::ARGS_SLOT;
use crate::values::{Upval, Value};
use std::cell::RefCell;
use std::rc::Rc;

impl Interp {
    /// Runs a file's imports, before its other statements: the slots bound
    /// for a module's fields get the module's own cells, so a change the
    /// module makes to a variable is seen through `name.variable`.
    pub(super) fn run_imports(&mut self, imports: &[Import], env: Env) -> R<()> {
        for import in imports {
            let cells = self.module_cells(import)?;
            for &(field, slot) in &import.fields {
                self.stack[env.base + slot as usize] = Value::Cell(cells[field as usize].clone());
            }
        }
        Ok(())
    }

    /// The cells of a module's fields, running the module if no import has yet.
    fn module_cells(&mut self, import: &Import) -> R<Rc<[Upval]>> {
        let index = import.module as usize;
        if let Some(Some(cells)) = self.module_fields.get(index) {
            return Ok(cells.clone());
        }
        let module = self.modules[index].clone();
        let script = &module.script;
        let base = self.stack.len();
        self.stack.resize(base + script.slots as usize, Value::Nil);
        // A module sees the script's `args`, as the script does.
        let args = match self.stack.get(ARGS_SLOT as usize) {
            Some(Value::Cell(cell)) => cell.borrow().clone(),
            Some(args) => args.clone(),
            None => Value::list(Vec::new()),
        };
        self.stack[base + ARGS_SLOT as usize] = match script.params.first() {
            Some(boxed) if boxed.get() => Value::Cell(Rc::new(RefCell::new(args))),
            _ => args,
        };
        let env = Env { base, upvals: &[] };
        let ran = self
            .run_imports(&script.body.imports, env)
            .and_then(|()| self.exec_block(&script.body, env));
        let cells: Rc<[Upval]> = module
            .fields
            .iter()
            .map(|&(_, slot)| match &mut self.stack[base + slot as usize] {
                Value::Cell(cell) => cell.clone(),
                // Fields are always cells; stay correct if one is not.
                other => Rc::new(RefCell::new(std::mem::take(other))),
            })
            .collect();
        self.stack.truncate(base);
        if let Err(mut unwind) = ran {
            if let Some(diag) = unwind.diag_mut() {
                diag.trace.push(Frame {
                    function: format!("the module {}", module.name),
                    call_site: import.span,
                });
            }
            return Err(unwind);
        }
        if self.module_fields.len() <= index {
            self.module_fields.resize(index + 1, None);
        }
        self.module_fields[index] = Some(cells.clone());
        Ok(cells)
    }
}
