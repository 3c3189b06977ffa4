//! Built-in functions: the spec (names, argument counts, usage) in `spec`, the implementations in topic files, joined here by id.

mod args;
mod files;
mod io;
mod joinable;
mod lists;
mod math;
pub mod methods;
mod pipelines;
mod pipes;
mod pool_methods;
mod pool_options;
mod processes;
mod program_options;
mod program_output;
mod program_streams;
mod programs;
mod relayed_calls;
mod signals;
mod sync;
mod sync_quick;
mod system;
mod text;
mod values;
mod wait_any;

pub use args::{seconds, CallSite};
pub use lists::counted_range;
pub use sync_quick::quick_sync_call;

use crate::error::R;
use crate::eval::Interp;
use crate::values::Value;

type BuiltinFn = fn(&mut Interp, &[Value], &CallSite) -> R<Value>;

/// The implementation of every builtin, at its id in [`spec::all`] (the
/// name is there to be checked against the spec, not looked up).
#[rustfmt::skip]
static RUN: &[(&str, BuiltinFn)] = &[
    ("print", io::print),
    ("eprint", io::eprint),
    ("len", values::len),
    ("str", values::to_str),
    ("int", values::to_int),
    ("float", values::to_float),
    ("type", values::type_of),
    ("keys", lists::keys),
    ("values", lists::values),
    ("push", lists::push),
    ("pop", lists::pop),
    ("contains", lists::contains),
    ("split", text::split),
    ("join_str", text::join_str),
    ("range", lists::range),
    ("time", system::time),
    ("get", lists::get),
    ("env", system::env),
    ("error", system::raise),
    ("exit", system::exit),
    ("sleep", system::sleep),
    ("abs", math::abs),
    ("min", math::min),
    ("max", math::max),
    ("sum", math::sum),
    ("sort", lists::sort),
    ("reverse", lists::reverse),
    ("slice", lists::slice),
    ("trim", text::trim),
    ("upper", text::upper),
    ("lower", text::lower),
    ("replace", text::replace),
    ("starts_with", text::starts_with),
    ("ends_with", text::ends_with),
    ("round", math::round),
    ("alive", processes::alive),
    ("done", processes::done),
    ("state", processes::state),
    ("kill", processes::kill),
    ("terminate", processes::terminate),
    ("wait", processes::wait),
    ("children", processes::children),
    ("queue", processes::queue),
    ("pool", processes::pool),
    ("lock", sync::lock),
    ("event", sync::event),
    ("semaphore", sync::semaphore),
    ("barrier", sync::barrier),
    ("value", sync::value),
    ("pipe", pipes::pipe),
    ("wait_any", wait_any::wait_any),
    ("exec", programs::exec),
    ("run", programs::run),
    ("capture", programs::capture),
    ("read_file", files::read_file),
    ("write_file", files::write_file),
    ("append_file", files::append_file),
    ("list_dir", files::list_dir),
    ("mkdir", files::mkdir),
    ("copy_file", files::copy_file),
    ("remove_file", files::remove_file),
    ("exists", files::exists),
    ("is_dir", files::is_dir),
    ("file_size", files::file_size),
    ("files_equal", files::files_equal),
    ("progress", io::progress),
    ("is_link", files::is_link),
    ("read_link", files::read_link),
    ("on_signal", signals::on_signal),
    ("name", signals::name),
    ("start", programs::start),
    ("pipeline", pipelines::pipeline),
    ("capture_pipeline", pipelines::capture_pipeline),
];

/// Calls builtin `id` on arguments whose count the caller has checked.
pub fn call(interp: &mut Interp, id: u16, args: &[Value], site: &CallSite) -> R<Value> {
    (RUN[id as usize].1)(interp, args, site)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_in_the_spec_has_its_implementation_at_the_same_id() {
        let spec: Vec<&str> = crate::front::spec::names().collect();
        let run: Vec<&str> = super::RUN.iter().map(|(name, _)| *name).collect();
        assert_eq!(spec, run);
    }
}
