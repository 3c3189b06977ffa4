//! Ranges are counted, not built, where they are read item by item (`for`, `p.imap`), and
//! task streams read their list in place: memory stays bounded however long the range.

mod common;

use common::run_code;

/// Runs `code`, which ends by printing its /proc status; checks that its output
/// starts with `expected` and that its peak resident memory stayed under `most_mib`.
fn check_bounded(code: &str, expected: &str, most_mib: u64) {
    let out = run_code(&format!("{code}\nprint(read_file(\"/proc/self/status\"))"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with(expected), "{}", out.stdout);
    let peak = peak_mib(&out.stdout);
    assert!(peak < most_mib, "peak {peak} MiB");
}

/// The script's own peak resident memory in MiB, from the /proc status it printed.
fn peak_mib(stdout: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or_else(|| panic!("no VmHWM in {stdout}"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number of kB");
    kib / 1024
}

#[test]
fn imap_over_a_range_far_past_the_list_limit_streams_and_a_break_ends_it() {
    check_bounded(
        "let p = pool(2)\n\
         let seen = 0\n\
         for r in p.imap(fn(x) { return x * 2 }, 0..50000000) {\n\
           seen = seen + 1\n\
           if seen == 100 { print(r); break }\n\
         }\n\
         for r in p.imap_unordered(fn(x) { return x }, range(3, 90000000, 3)) {\n\
           print(r % 3); break\n\
         }",
        "198\n0\n",
        100,
    );
}

#[test]
fn a_stream_over_a_big_list_does_not_copy_it() {
    // 5,000,000 ints are 80 MB as a list; a copy of them (and of each item with its
    // number, as streams once kept) would pass 200 MB.
    check_bounded(
        "let xs = range(5000000)\n\
         xs[0] = 7\n\
         let p = pool(2)\n\
         for r in p.imap(fn(x) { return x + 1 }, xs) { print(r); break }",
        "8\n",
        200,
    );
}

#[test]
fn a_range_in_a_variable_is_read_by_for_without_being_built() {
    // 16,000,000 ints built as a list are 256 MB.
    check_bounded(
        "let r = 0..16000000\n\
         let n = 0\n\
         for i in r { n = n + 1; if n == 3 { break } }\n\
         print(type(r), len(0..16000000), n)",
        "list 16000000 3\n",
        100,
    );
}

#[test]
fn a_range_used_as_a_list_behaves_as_one() {
    let out = run_code(
        "let r = 2..6\n\
         let alias = r\n\
         push(r, 9)\n\
         r[0] = 5\n\
         print(alias, len(alias), type(r), r == [5, 3, 4, 5, 9], range(10, 0, -4))\n\
         print(0..0, range(3)[2], (1..3) + [3])",
    );
    assert_eq!(
        out.stdout, "[5, 3, 4, 5, 9] 5 list true [10, 6, 2]\n[] 2 [1, 2, 3]\n",
        "{}",
        out.stderr
    );
}
