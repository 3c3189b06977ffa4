//! Nothing lost: every name of a folder comes through, a failed copy reaches the script,
//! and a file error names the path that failed. Run through the binary.

mod common;

use common::{procscript, run, run_code};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs scripts/copy_folder.proc on SRC DST, stopped by `--timeout` if it hangs.
fn copy_folder(src: &Path, dst: &Path) -> common::Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/copy_folder.proc");
    run(procscript(&[
        "--timeout",
        "60",
        script.to_str().unwrap(),
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
    ]))
}

fn not_utf8_name(dir: &Path) -> PathBuf {
    dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"))
}

#[test]
fn list_dir_of_a_name_that_is_not_utf8_is_an_error_not_a_skip() {
    let dir = scratch("latin1");
    std::fs::write(dir.join("a.txt"), "a").unwrap();
    std::fs::write(not_utf8_name(&dir), "b").unwrap();
    let d = dir.to_str().unwrap();
    let out = run_code(&format!(
        "try {{ print(list_dir(\"{d}\")) }} catch e {{ print(replace(e, \"{d}\", \"D\")) }}"
    ));
    assert_eq!(
        out.stdout, "list_dir(\"D\"): the name \"caf\u{fffd}.txt\" in it is not UTF-8 text\n",
        "{}",
        out.stderr
    );
}

#[test]
fn the_folder_copier_fails_on_a_name_it_cannot_copy_instead_of_reporting_0_differ() {
    let dir = scratch("copier-latin1");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::fs::write(not_utf8_name(&src), "b").unwrap();
    let out = copy_folder(&src, &dir.join("dst"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("is not UTF-8 text"), "{}", out.stderr);
}

#[test]
fn the_folder_copier_copies_links_as_links_and_never_follows_them() {
    use std::os::unix::fs::symlink;
    let dir = scratch("copier-links");
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/file.txt"), "content").unwrap();
    symlink("nowhere", src.join("dangling")).unwrap();
    symlink(".", src.join("sub/loop")).unwrap();
    symlink("/", src.join("outside")).unwrap();
    symlink("sub/file.txt", src.join("inside")).unwrap();
    let dst = dir.join("dst");
    let out = copy_folder(&src, &dst);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "copied 5 files in 1 folders, 7 bytes; 0 differ\n"
    );
    for (link, target) in [
        ("dangling", "nowhere"),
        ("sub/loop", "."),
        ("outside", "/"),
        ("inside", "sub/file.txt"),
    ] {
        assert_eq!(
            std::fs::read_link(dst.join(link)).unwrap(),
            Path::new(target),
            "{link}"
        );
    }
}

#[test]
fn the_folder_copier_reports_a_failed_copy_instead_of_hanging() {
    let dir = scratch("copier-fifo");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    nix::unistd::mkfifo(&src.join("pipe"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let out = copy_folder(&src, &dir.join("dst"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // The message is wrapped to the width of a terminal: unwrap it, then
    // look for its parts.
    let flat = out
        .stderr
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ");
    for part in [
        "the task failed: copy_file(",
        "pipe\": it is not a regular file (a FIFO, socket or device)",
    ] {
        assert!(flat.contains(part), "{part}: {}", out.stderr);
    }
}

#[test]
fn a_copy_error_names_the_destination_when_the_destination_failed() {
    let dir = scratch("copy-dest");
    std::fs::write(dir.join("a.txt"), "a").unwrap();
    let d = dir.to_str().unwrap();
    let out = run_code(&format!(
        "try {{ copy_file(\"{d}/a.txt\", \"{d}/missing/b.txt\") }} catch e {{ print(replace(e, \"{d}\", \"D\")) }}\n\
         try {{ copy_file(\"{d}/nope.txt\", \"{d}/b.txt\") }} catch e {{ print(replace(e, \"{d}\", \"D\")) }}"
    ));
    assert_eq!(
        out.stdout,
        "copy_file(\"D/a.txt\", \"D/missing/b.txt\"): the destination \"D/missing/b.txt\": no such file or folder\n\
         copy_file(\"D/nope.txt\", \"D/b.txt\"): the source \"D/nope.txt\": no such file or folder\n",
        "{}",
        out.stderr
    );
}
