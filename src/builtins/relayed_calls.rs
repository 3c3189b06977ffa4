//! Methods of the driver's queues, locks... in a remote task: each call goes to the driver's relay (`process::remote::relayed`), which makes it on the real object; `l.with(f)` runs `f` here between a relayed acquire and release.

use crate::builtins::{methods, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::front::spec;
use crate::process::remote::relayed::{self, CallFailed, Proxy, Reply, Request};
use crate::values::Value;

/// Calls method `id` of the driver's object that `proxy` stands for.
pub(super) fn call(
    interp: &mut Interp,
    proxy: &Proxy,
    id: u16,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let on = proxy.type_name();
    if on == "lock" && spec::methods()[id as usize].name == "with" {
        return lock_with(interp, proxy, args, site);
    }
    let args = args
        .iter()
        .map(|arg| methods::encode(arg, site))
        .collect::<R<Vec<_>>>()?;
    let request = Request {
        object: proxy.index,
        method: id,
        args,
        span: site.span,
        arg_spans: site.arg_spans.to_vec(),
    };
    match relayed::call(&request) {
        Ok(Reply::Returned(bytes)) => methods::decode(&bytes, site),
        Ok(Reply::Failed(diag)) => Err(diag.into()),
        Err(CallFailed::Stopped(sig)) => Err(Unwind::from(sig)),
        Err(CallFailed::NotHere) => {
            let diag = ErrorKind::RemoteWorker
                .at(
                    site.span,
                    format!("this {on} belongs to the driver, and only the remote task it was given to can use it"),
                    "not in this process",
                )
                .with_help(
                    "a remote task reaches the driver's queues and locks through its worker's \
                     connection; a process the task starts cannot share it",
                );
            Err(diag.into())
        }
        Err(CallFailed::Lost) => {
            let diag = ErrorKind::RemoteWorker.at(
                site.span,
                format!("the connection to the driver was lost while using its {on}"),
                "lost",
            );
            Err(diag.into())
        }
    }
}

/// `l.with(f)` on the driver's lock: acquire there, call `f` here, release there.
fn lock_with(interp: &mut Interp, proxy: &Proxy, args: &[Value], site: &CallSite) -> R<Value> {
    let method = |name| spec::method_id("lock", name).expect("locks have it");
    call(interp, proxy, method("acquire"), &[], site)?;
    let result = interp.call_value(&args[0], &[], site.arg(0));
    let released = call(interp, proxy, method("release"), &[], site);
    let value = result?;
    released?;
    Ok(value)
}
