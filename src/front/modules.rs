//! Imported files: where an import's path leads, reading the module (or the text a driver sent for it), and the chain of files being compiled, which a cycle would close.

use crate::error::diagnostic::Diag;
use crate::error::source_files::{ModuleText, SharedModules};
use crate::error::ErrorKind;
use crate::front::ast::Span;
use crate::front::ir;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// The modules of one script: those compiled so far, by index, and the
/// files being compiled now.
#[derive(Default, Clone)]
pub struct ModuleSet {
    files: SharedModules,
    pub compiled: Vec<Rc<ir::Module>>,
    /// The files being compiled now, outermost first: the script, then each
    /// module on the way in (an import of one of them is a cycle).
    chain: Vec<Rc<str>>,
}

impl ModuleSet {
    /// The modules of the script named `script` (its path, or `-e`,
    /// `<stdin>`, `<prompt>`: then imports start from the current folder),
    /// read into `files`.
    pub fn new(files: SharedModules, script: &str) -> ModuleSet {
        ModuleSet {
            files,
            compiled: Vec::new(),
            chain: vec![normal(Path::new(script)).into()],
        }
    }

    /// Where the modules' texts are kept.
    pub fn files(&self) -> SharedModules {
        self.files.clone()
    }

    /// The path an import names, from the importing file's folder, with
    /// `.` and `..` taken out as written (no link is followed, so the same
    /// name comes out on a remote worker that has no such files).
    pub fn resolve(&self, path: &str) -> String {
        let importer = self.chain.last().map_or("", |file| &**file);
        let folder = Path::new(importer).parent().unwrap_or(Path::new(""));
        // `.` and `..` can take every part away: that is the folder itself.
        let name = normal(&folder.join(path));
        match name.is_empty() {
            true => ".".into(),
            false => name,
        }
    }

    /// The index of a module compiled already under this resolved path.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.compiled
            .iter()
            .position(|m| &*m.name == name)
            .map(|i| i as u32)
    }

    /// The error for an import of a file being compiled now: the chain, from
    /// the file it starts in, round to itself.
    pub fn cycle(&self, name: &str, span: Span) -> Option<Diag> {
        let start = self.chain.iter().position(|file| &**file == name)?;
        let mut chain: Vec<&str> = self.chain[start..].iter().map(|f| &**f).collect();
        chain.push(name);
        let chain = chain.join(" -> ");
        Some(
            ErrorKind::Import
                .at(
                    span,
                    format!("import cycle: {chain}"),
                    "this import closes the cycle",
                )
                .with_help(
                    "a module cannot import, directly or not, a file that imports it: \
                     move what both need into a third module",
                ),
        )
    }

    /// Reads a module (or takes the text given for it), at offsets of its own.
    pub fn read(&self, name: &str, span: Span) -> Result<ModuleText, Diag> {
        if self.chain.len() >= crate::limits::MAX_IMPORT_DEPTH {
            return Err(ErrorKind::TooLarge
                .at(
                    span,
                    format!(
                        "imports nest more than {} files deep",
                        crate::limits::MAX_IMPORT_DEPTH
                    ),
                    "one import too deep",
                )
                .with_help("a chain of imports this long is likely generated: import the modules from fewer levels"));
        }
        if let Some(known) = self.files.named(name) {
            return Ok(known);
        }
        let text = match self.files.given(name) {
            Some(text) => text,
            None => self.read_file(name, span)?.into(),
        };
        self.files.add(name, text).ok_or_else(|| {
            ErrorKind::TooLarge.at(
                span,
                "the modules of this script are too large",
                "one import too many",
            )
        })
    }

    /// A module's text from its file: at most a script's size. A module is a
    /// regular file: a FIFO or device is refused before it could block.
    fn read_file(&self, name: &str, span: Span) -> Result<String, Diag> {
        let max = crate::limits::MAX_SOURCE_BYTES;
        let failed = |why: String| {
            let importer = self.chain.last().map_or("", |file| &**file);
            let folder = Path::new(importer).parent().unwrap_or(Path::new(""));
            let folder = match folder.as_os_str().is_empty() {
                true => "the current folder".to_string(),
                false => format!("`{}`", folder.display()),
            };
            ErrorKind::Import
                .at(
                    span,
                    format!("cannot import {name}: {why}"),
                    "imported here",
                )
                .with_help(format!(
                    "the path is taken from the importing file's folder: here {folder}"
                ))
        };
        let bytes =
            crate::os::read_regular_file_at_most(name, max).map_err(|e| failed(e.to_string()))?;
        if bytes.len() > max {
            return Err(failed(format!("larger than a script may be ({max} bytes)")));
        }
        String::from_utf8(bytes).map_err(|e| {
            failed(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })
    }

    /// Enters a module's file: its own imports start from its folder.
    pub fn enter(&mut self, name: &str) {
        self.chain.push(name.into());
    }

    /// Leaves the module entered last, now compiled.
    pub fn leave(&mut self, module: ir::Module) -> u32 {
        self.chain.pop();
        self.compiled.push(Rc::new(module));
        (self.compiled.len() - 1) as u32
    }
}

/// A path with `.` and `..` taken out as written, in `/` form.
fn normal(path: &Path) -> String {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            // A `..` takes away the folder before it; at the start, or after
            // other `..`s, it stays (popping one of those would go down
            // again); after the root it is the root.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_taken_from_the_importing_files_folder() {
        let mut set = ModuleSet::new(SharedModules::default(), "scripts/main.proc");
        assert_eq!(set.resolve("lib/text.proc"), "scripts/lib/text.proc");
        assert_eq!(set.resolve("./lib/../x.proc"), "scripts/x.proc");
        set.enter("scripts/lib/text.proc");
        assert_eq!(set.resolve("words.proc"), "scripts/lib/words.proc");
        assert_eq!(set.resolve("../../up.proc"), "up.proc");
        assert_eq!(set.resolve("../../../../up.proc"), "../../up.proc");
        assert_eq!(set.resolve("/../x.proc"), "/x.proc");
        assert_eq!(set.resolve("../.."), ".");
        let prompt = ModuleSet::new(SharedModules::default(), "<prompt>");
        assert_eq!(prompt.resolve("lib/a.proc"), "lib/a.proc");
        let cycle = set.cycle("scripts/main.proc", Span::default()).unwrap();
        assert_eq!(
            cycle.message,
            "import cycle: scripts/main.proc -> scripts/lib/text.proc -> scripts/main.proc"
        );
    }
}
