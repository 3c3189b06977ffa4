//! The evaluator's side of processes: what a forked or spawned child runs, and the
//! evaluator as the process layer's `Runner` (pool tasks, spans, rendering).

use crate::error::diagnostic::Diag;
use crate::error::{Stop, R};
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::process::ending;
use crate::process::remote::protocol::{self, Hello};
use crate::process::wire;
use crate::process::{Forked, NewChild, Procs, Runner};
use crate::values::pins::{self, PinTable};
use crate::values::Value;
use crate::views::record::MadeAt;
use std::os::fd::OwnedFd;
use std::rc::Rc;

impl Runner for Interp {
    fn procs(&mut self) -> &mut Procs {
        &mut self.procs
    }

    fn run_task(&mut self, task: &[u8], fds: Vec<OwnedFd>) -> R<Value> {
        match wire::decode_task(task, fds, &self.protos.clone(), &self.hosts.clone()) {
            Ok((callee, args)) => self.call_value(&callee, &args, Span::default()),
            Err(reason) => Err(crate::error::error(
                format!("a pool task could not be read: {reason}"),
                Span::default(),
                "",
            )),
        }
    }

    fn call_function(&mut self, function: &Value) -> R<Value> {
        self.call_value(function, &[], Span::default())
    }

    fn run_due_handlers(&mut self) -> R<()> {
        Interp::run_due_handlers(self, Span::default())
    }

    fn returned_at(&self) -> Span {
        self.returned_at
    }

    fn made_at(&self, span: Span) -> MadeAt {
        Interp::made_at(self, span)
    }

    fn render(&self, diag: &Diag) -> String {
        diag.render(&self.source, self.color)
    }

    fn functions_known(&self) -> usize {
        self.protos.len()
    }

    fn hello(&self) -> Hello {
        Hello {
            protocol: protocol::PROTOCOL,
            version: protocol::own_version(),
            name: self.source.name.to_string(),
            text: self.source.text.to_string(),
            modules: self.source.modules.texts(),
            args: Vec::new(),
            hosts: self
                .hosts
                .iter()
                .map(|h| (h.name.to_string(), h.min_args, h.max_args))
                .collect(),
            init: None,
        }
    }

    fn call_method(
        &mut self,
        target: &Value,
        method: u16,
        args: &[Value],
        span: Span,
        arg_spans: &[Span],
    ) -> R<Value> {
        let site = crate::builtins::CallSite { span, arg_spans };
        crate::builtins::methods::call_by_id(self, target, method, args, &site)
    }

    fn pin_values(&self) -> Option<Rc<PinTable>> {
        pins::pin(self.stack.iter().chain([&self.returned]))
    }
}

impl Interp {
    /// `fork`: 0 in the child, the child's pid in the parent.
    pub fn fork_process(&mut self, span: Span) -> R<Value> {
        let at = self.made_at(span);
        match self.procs.fork_child(NewChild::Fork, span, at)? {
            Forked::Child(_) => Ok(Value::Int(0)),
            Forked::Parent(pid, _) => Ok(Value::Int(pid as i64)),
        }
    }

    /// `spawn f(args) [as name]`: the child runs the call and sends back its result.
    pub fn spawn_process(
        &mut self,
        callee: Value,
        args: Vec<Value>,
        name: Option<Rc<str>>,
        call: String,
        span: Span,
    ) -> R<Value> {
        // Every spawn counts, named or not: "Process-3" is the third spawn.
        let numbered = self.procs.next_spawn_name();
        let name = name.unwrap_or(numbered);
        let at = self.made_at(span);
        // Compiled here, once, and inherited: not again in every child (whose
        // writes to the heap are each a copy of a page of this process's).
        if let Value::Func(closure) = &callee {
            self.compiled(&closure.proto);
        }
        let new = NewChild::Spawn {
            call,
            name: name.clone(),
        };
        match self.procs.fork_child(new, span, at)? {
            Forked::Child(pipe) => {
                self.procs.report_to = pipe;
                let result = self.call_value(&callee, &args, span);
                ending::end_spawned_child(self, result)
            }
            Forked::Parent(pid, pipe) => Ok(self.procs.add_spawned(pid, name, pipe)),
        }
    }

    /// Ends this process (see [`ending::end_process`]).
    pub fn end_process(&mut self, result: R<()>) -> Stop {
        ending::end_process(self, result)
    }
}
