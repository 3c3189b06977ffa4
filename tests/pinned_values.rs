//! Values a pool's workers already hold (made before the pool): tasks name them instead of
//! copying them, yet each task sees them as they were when it was submitted, and no task's
//! change reaches another. Run through the binary; nothing may be left running.

mod common;

use common::run_code;

/// The largest resident size any child of this test process reached, in MiB.
fn children_peak_mib() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage")
        .max_rss()
        / 1024
}

/// Runs `code`, expecting it to succeed with exactly `stdout`.
fn expect(code: &str, stdout: &str) {
    let out = run_code(code);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, stdout, "")
    );
}

#[test]
fn tasks_see_pinned_values_as_they_were_when_submitted() {
    // Each value is large enough to be pinned; the script changes each after a submit.
    expect(
        "let data = range(2000)\n\
         let m = {\"a\": range(1000), \"b\": \"x\" * 5000}\n\
         let nested = [range(1000), range(1000)]\n\
         let p = pool(2)\n\
         fn look() { return [len(data), data[0], len(m), len(m[\"a\"]), nested[1][0]] }\n\
         let t1 = p.submit(look)\n\
         push(data, 5)\n data[0] = 99\n\
         let t2 = p.submit(look)\n\
         m[\"c\"] = 1\n nested[1][0] = 42\n\
         let t3 = p.submit(look)\n\
         data = [1]\n\
         let t4 = p.submit(look)\n\
         print(join(t1))\n print(join(t2))\n print(join(t3))\n print(join(t4))\n\
         p.close()",
        "[2000, 0, 2, 1000, 0]\n\
         [2001, 99, 2, 1000, 0]\n\
         [2001, 99, 3, 1000, 42]\n\
         [1, 1, 3, 1000, 42]\n",
    );
}

#[test]
fn a_task_changing_a_captured_global_does_not_change_it_for_the_next_task() {
    // One worker runs every task: each must start from the pool's copy.
    expect(
        "let data = range(2000)\n\
         let m = {\"k\": range(1000)}\n\
         let p = pool(1)\n\
         fn change() { push(data, 7); data[0] = -1; m[\"new\"] = 1; push(m[\"k\"], 1)\n\
             return [len(data), data[0], len(m), len(m[\"k\"])] }\n\
         print(p.map(fn(i) { return change() }, [1, 2, 3]))\n\
         print(p.map(fn(l) { push(l, 0); return len(l) }, [data, data]))\n\
         print(len(data), data[0], len(m), len(m[\"k\"]))\n\
         p.close()",
        "[[2001, -1, 2, 1001], [2001, -1, 2, 1001], [2001, -1, 2, 1001]]\n\
         [2001, 2001]\n\
         2000 0 1 1000\n",
    );
}

#[test]
fn a_task_sent_again_to_a_newer_worker_sees_the_values_it_was_submitted_with() {
    // `grow` changes the pinned values in the only worker, which then retires;
    // `look` waited behind it, and the script changed the values before the
    // new worker was forked: it must still see them as they were.
    expect(
        "let data = range(2000)\n\
         let m = {\"k\": range(600), \"n\": [range(700)]}\n\
         let p = pool(1)\n\
         fn grow() { push(data, 0); m[\"z\"] = 1; return len(data) }\n\
         fn look() { return [len(data), data[0], len(m), m[\"n\"][0][0], len(m[\"k\"])] }\n\
         let a = p.submit(grow)\n\
         let b = p.submit(look)\n\
         data[0] = 99\n m[\"n\"][0][0] = 77\n\
         let c = p.submit(look)\n\
         print(join(a), join(b), join(c))\n\
         print(join(p.submit(look)))\n\
         p.close()",
        "2001 [2000, 0, 2, 0, 600] [2000, 99, 2, 77, 600]\n[2000, 99, 2, 77, 600]\n",
    );
}

#[test]
fn pools_made_in_children_pin_their_own_values() {
    // A spawned child and a pool task each make a pool of their own.
    expect(
        "let big = range(3000)\n\
         fn inner(extra) {\n\
             let mine = range(2000)\n\
             let q = pool(2)\n\
             let r = q.map(fn(i) { push(mine, i); return len(big) + len(mine) + extra }, [1, 2])\n\
             q.close()\n\
             return [r, len(mine)]\n\
         }\n\
         let h = spawn inner(1)\n\
         let p = pool(1)\n\
         print(join(h), join(p.submit(inner, [2])), len(big))\n\
         p.close()",
        "[[5002, 5002], 2000] [[5003, 5003], 2000] 3000\n",
    );
}

#[test]
fn tasks_capturing_a_10_mb_string_do_not_copy_it_per_task() {
    // Each task used to carry its own copy: 4 GB for these 400 tasks.
    expect(
        "let s = \"x\" * 10000000\n\
         let p = pool(4)\n\
         let r = p.map(fn(i) { return len(s) + i }, range(400))\n\
         p.close()\n\
         print(len(r), r[0], r[399])",
        "400 10000000 10000399\n",
    );
    let peak = children_peak_mib();
    assert!(peak < 200, "a process of the run peaked at {peak} MiB");
}

#[test]
fn fifty_tasks_read_a_million_int_global_made_before_the_pool() {
    expect(
        "let data = range(1000000)\n\
         let p = pool(4)\n\
         fn f(i) { return len(data) + data[i * 1000] }\n\
         let ts = []\n\
         for i in 0..50 { push(ts, p.submit(f, [i])) }\n\
         let total = 0\n\
         for t in ts { total += join(t) }\n\
         p.close()\n\
         print(total)",
        "51225000\n",
    );
    let peak = children_peak_mib();
    assert!(peak < 200, "a process of the run peaked at {peak} MiB");
}

#[test]
fn a_task_resent_after_its_worker_died_sees_the_values_it_was_submitted_with() {
    // `look` waits behind `victim` in the only worker, which kills itself; the
    // script changes `data` before the pool sees the death and forks again.
    expect(
        "let data = range(2000)\n\
         let p = pool(1)\n\
         fn victim() { kill(pid, \"KILL\")\n sleep(30) }\n\
         fn look() { return [len(data), data[0]] }\n\
         let t = p.submit(victim)\n\
         let b = p.submit(look)\n\
         data[0] = 5\n\
         try { join t } catch e { print(\"died\") }\n\
         print(join b, join(p.submit(look)))\n\
         p.close()",
        "died\n[2000, 0] [2000, 5]\n",
    );
}

#[test]
fn every_task_of_a_map_may_retire_its_worker() {
    // Each task changes the pinned list, so each worker answers once and is
    // replaced, while the next tasks are being sent to it.
    let lens: Vec<String> = (0..30).map(|_| "2001".to_string()).collect();
    expect(
        "let data = range(2000)\n\
         let p = pool(2)\n\
         print(p.map(fn(i) { push(data, i); return len(data) }, range(30)))\n\
         print(len(data))\n\
         p.close()",
        &format!("[{}]\n2000\n", lens.join(", ")),
    );
}
