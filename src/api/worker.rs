//! `procscript --worker`: reads the driver's hello on stdin, checks the version, compiles the same script, then serves its pool tasks (see `process::remote`).

use crate::api::engine::Engine;
use crate::error::diagnostic::Source;
use crate::os;
use crate::process::pool::WorkerSetup;
use crate::process::remote::protocol::{self, Hello};
use crate::process::remote::worker_host;
use crate::process::wire;
use crate::views::record::Made;

/// Serves one remote worker over stdin/stdout; the exit code.
pub fn serve_worker() -> i32 {
    let host = os::host_name();
    let (stdin, _) = os::std_streams();
    let Ok(Some(bytes)) = os::read_stream_frame(stdin) else {
        return worker_host::refuse(format!("the worker on {host} got no hello from the driver"));
    };
    let Some(head) = protocol::read_head(&bytes) else {
        return worker_host::refuse(format!(
            "the worker on {host} could not read the driver's hello"
        ));
    };
    if let Some(why) = protocol::mismatch(&head, &host) {
        return worker_host::refuse(why);
    }
    let Ok(hello) = postcard::from_bytes::<Hello>(&bytes) else {
        return worker_host::refuse(format!(
            "the worker on {host} could not read the driver's hello"
        ));
    };
    let mut engine = Engine::new();
    for (name, min, max) in &hello.hosts {
        engine = engine.host_stub(name, *min, *max);
    }
    let source = Source::new(hello.name.as_str(), hello.text.as_str());
    // The modules come with the script: this host need not have the files.
    for (name, text) in hello.modules {
        source.modules.give(name, text);
    }
    let compiled = match engine.compile(&source) {
        Ok(compiled) => compiled,
        Err(diag) => {
            return worker_host::refuse(format!(
                "the script does not compile on {host}: {}",
                diag.message
            ))
        }
    };
    let mut interp = engine.interp(&source, &compiled, Made::Script);
    let mut setup = WorkerSetup::default();
    if let Some(init) = &hello.init {
        match wire::decode_task(
            init,
            Vec::new(),
            &interp.protos.clone(),
            &interp.hosts.clone(),
        ) {
            Ok((function, _)) => setup.init = Some(function),
            Err(why) => {
                return worker_host::refuse(format!(
                    "the worker on {host} could not read the pool's init: {why}"
                ))
            }
        }
    }
    worker_host::serve(&mut interp, &host, &setup)
}
