//! The files of a run: the script at offsets from 0, each imported module at offsets of its own, so that a span alone says which file it is in.

use std::sync::{Arc, Mutex, PoisonError};

/// Where the first module's text starts. A script is at most
/// `limits::MAX_SOURCE_BYTES` long, so its offsets never reach here, and a
/// prompt entry's offsets (which start from 0 each entry) never meet a module's.
pub const MODULE_BASE: u32 = 1 << 31;

/// One module's text, at the offset it starts at.
#[derive(Debug, Clone)]
pub struct ModuleText {
    pub base: u32,
    /// The path as the importing file resolved it (what diagnostics show).
    pub name: Arc<str>,
    pub text: Arc<str>,
}

/// The modules of one script: those read so far, and the texts given in
/// place of files (a remote worker gets them from the driver).
#[derive(Debug, Default)]
pub struct ModuleFiles {
    loaded: Vec<ModuleText>,
    given: Vec<(String, Arc<str>)>,
}

/// Shared by every clone of a [`crate::Source`]: compiling fills it, and a
/// diagnostic rendered later with the same source finds its module's text.
#[derive(Debug, Default, Clone)]
pub struct SharedModules(Arc<Mutex<ModuleFiles>>);

impl SharedModules {
    fn with<T>(&self, f: impl FnOnce(&mut ModuleFiles) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The module whose offsets hold `offset`.
    pub fn at(&self, offset: u32) -> Option<ModuleText> {
        if offset < MODULE_BASE {
            return None;
        }
        self.with(|files| {
            files
                .loaded
                .iter()
                .rev()
                .find(|m| m.base <= offset)
                .cloned()
        })
    }

    /// The module read under `name` (the resolved path), if it was.
    pub fn named(&self, name: &str) -> Option<ModuleText> {
        self.with(|files| files.loaded.iter().find(|m| &*m.name == name).cloned())
    }

    /// Adds a module's text at the next free offsets; None when the offsets
    /// are spent (modules of more than 2 GiB in all).
    pub fn add(&self, name: &str, text: Arc<str>) -> Option<ModuleText> {
        self.with(|files| {
            let base = match files.loaded.last() {
                // One offset apart: a span at one text's end is not the next one's start.
                Some(last) => last
                    .base
                    .checked_add(last.text.len() as u32)?
                    .checked_add(1)?,
                None => MODULE_BASE,
            };
            base.checked_add(text.len() as u32)?;
            let module = ModuleText {
                base,
                name: name.into(),
                text,
            };
            files.loaded.push(module.clone());
            Some(module)
        })
    }

    /// Every module read, as (resolved path, text): what a remote worker is sent.
    pub fn texts(&self) -> Vec<(String, String)> {
        self.with(|files| {
            files
                .loaded
                .iter()
                .map(|m| (m.name.to_string(), m.text.to_string()))
                .collect()
        })
    }

    /// A module's text given under its resolved path, read instead of the file.
    pub fn give(&self, name: String, text: String) {
        self.with(|files| files.given.push((name, text.into())));
    }

    /// The text given under `name`, if one was.
    pub fn given(&self, name: &str) -> Option<Arc<str>> {
        self.with(|files| {
            files
                .given
                .iter()
                .find(|(given, _)| given == name)
                .map(|(_, text)| text.clone())
        })
    }

    /// Forgets the modules read (not those given): a new compile reads them again.
    pub fn forget_loaded(&self) {
        self.with(|files| files.loaded.clear());
    }
}
