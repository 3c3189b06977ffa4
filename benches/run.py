#!/usr/bin/env python3
"""procscript's benchmark suite: each workload against its peers, side by side in one run.

    python3 benches/run.py            # build the dist profile, run everything, write docs/benchmarks.md
    python3 benches/run.py --rounds 3 --no-scaling
    python3 benches/run.py --quick --only run     # the rows whose names contain "run"

Each workload runs for procscript and for its peer alternately (A B A B ...),
after one warm-up pair, and the table gives medians, the median of the
per-pair ratios procscript/peer, and peak memory (max RSS of the measured
process, through GNU time). Peers missing from the machine (Lua) are skipped.
The rows are issue 18's table of targets, issue 16's (locks, values, pipes), then a few
kept from the first round.
Only the Python standard library is used.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benches" / "workloads"
OUT = ROOT / "target" / "bench"
PROCSCRIPT = ROOT / "target" / "dist" / "procscript"
PYTHON = sys.executable


def lua():
    return shutil.which("lua5.4") or shutil.which("lua")


def measure(cmd, repeat=1):
    """Seconds for `repeat` runs of cmd, and the largest max RSS (KiB) wait4 saw."""
    peak = 0
    start = time.perf_counter()
    for _ in range(repeat):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=WORK)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(map(str, cmd))}")
        peak = max(peak, usage.ru_maxrss)
    return time.perf_counter() - start, peak


def words_file():
    """A deterministic 5 MB text of 12-word lines."""
    path = OUT / "words.txt"
    if path.exists():
        return path
    import random

    rng = random.Random(7)
    vocabulary = ["alpha", "beta", "gamma", "delta", "epsilon"] + [f"w{i}" for i in range(2000)]
    lines, size = [], 0
    while size < 5_000_000:
        line = " ".join(rng.choice(vocabulary) for _ in range(12))
        lines.append(line)
        size += len(line) + 1
    path.write_text("\n".join(lines) + "\n")
    return path


def workloads():
    """(name, procscript command, [(peer name, peer command, goal ratio)], repeat).

    The first rows are issue 18's table of targets, in its order, with its goals,
    then issue 16's (sync objects 20x Python's, pipes 5x); the last ones are kept
    from the first round for comparison (no goal now)."""
    ps = [str(PROCSCRIPT)]
    spawn_c, posix_spawn_c = str(OUT / "spawn_c"), str(OUT / "posix_spawn_c")
    capture_c = str(OUT / "capture_c")
    lock_c = str(OUT / "lock_c")
    text = str(words_file())
    lua_cmd = (lambda *rest: [lua(), *rest] if lua() else None)
    items = [
        ("fib(27), recursive", ps + ["fib.proc", "27"],
         [("Lua 5.4", lua_cmd("fib.lua", "27"), 1.0),
          ("CPython", [PYTHON, "fib.py", "27"], 0.3)], 1),
        ("while loop of 3 M steps with %, if/else, +=", ps + ["branchloop.proc", "3000000"],
         [("Lua 5.4", lua_cmd("branchloop.lua", "3000000"), 1.0)], 1),
        ("spawn + join x300", ps + ["spawn.proc", "300"],
         [("C fork + _exit + waitpid", [spawn_c, "300"], 1.5),
          ("Python multiprocessing.Process", [PYTHON, "mp_spawn.py", "300"], None),
          ("Perl fork + POSIX::_exit + waitpid", ["perl", "fork.pl", "300"], None)], 1),
        ('run("/bin/true") x300', ps + ["run_true.proc", "300"],
         [("C posix_spawn + waitpid", [posix_spawn_c, "300"], 1.3),
          ("a bash loop", ["bash", "run_true.sh", "300"], 0.6)], 1),
        ('capture("echo", ...) x300', ps + ["capture.proc", "300"],
         [("Python subprocess.run(capture_output=True)", [PYTHON, "capture.py", "300"], 0.4),
          ("C posix_spawn + a pipe read back", [capture_c, "300"], None)], 1),
        ("100,000 messages through a queue", ps + ["queue.proc", "100000"],
         [("Python multiprocessing.Queue", [PYTHON, "mp_queue.py", "100000"], 0.1)], 1),
        ("100 messages of 1 MiB through queue(4)", ps + ["bigqueue.proc", "100"],
         [("Python multiprocessing.Queue(4)", [PYTHON, "mp_bigqueue.py", "100"], 0.5)], 1),
        ("pool(2).map of fib(20) over 64 items", ps + ["poolmap.proc"],
         [("Python multiprocessing.Pool(2).map", [PYTHON, "mp_poolmap.py"], 0.3)], 1),
        ("start-up, 20 runs", ps + ["-e", ""],
         [("python3 -c ''", [PYTHON, "-c", ""], 0.1)], 20),
        ("50 pool(2) tasks reading a 1 M-int global", ps + ["pool_global.proc", "50"],
         [("50 spawns doing the same", ps + ["spawn_global.proc", "50"], 1.5)], 1),
        # Issue 16's goals: sync objects at least 20x faster than Python's, pipes 5x.
        ("lock acquire + release x1,000,000, uncontended", ps + ["lock.proc", "1000000"],
         [("Python mp.Lock", [PYTHON, "mp_lock.py", "1000000"], 0.05)], 1),
        # No goal: how far the row above is from the physical floor (C doing
        # only the two compare-and-swaps a pair that the lock does).
        ("lock pairs vs C: acquire + release x1,000,000", ps + ["lock.proc", "1000000"],
         [("C: two atomic CAS a pair on a MAP_SHARED word", [lock_c, "1000000"], None)], 1),
        ("value.add(1) x1,000,000, uncontended", ps + ["value_add.proc", "1000000"],
         [("Python mp.Value, += under get_lock()", [PYTHON, "mp_value_add.py", "1000000"], 0.05)], 1),
        ("8 processes: 400,000 lock pairs in all", ps + ["lock8.proc", "400000"],
         [("Python mp.Lock, 8 processes", [PYTHON, "mp_lock8.py", "400000"], None)], 1),
        ("8 processes: 400,000 value.add(1) in all", ps + ["value_add8.proc", "400000"],
         [("Python mp.Value, 8 processes", [PYTHON, "mp_value_add8.py", "400000"], None)], 1),
        ("pipe: 100,000 messages one way", ps + ["pipe.proc", "100000"],
         [("Python mp.Pipe", [PYTHON, "mp_pipe.py", "100000"], 0.2)], 1),
        ("pipe: 20,000 round trips (ping-pong)", ps + ["pingpong.proc", "20000"],
         [("Python mp.Pipe", [PYTHON, "mp_pingpong.py", "20000"], 0.2)], 1),
        ("fork + join x300", ps + ["fork.proc", "300"],
         [("bash ( : ) & wait", ["bash", "fork.sh", "300"], None)], 1),
        ("while loop summing 0..3,000,000", ps + ["loop.proc", "3000000"],
         [("CPython", [PYTHON, "loop.py", "3000000"], None),
          ("Lua 5.4", lua_cmd("loop.lua", "3000000"), None)], 1),
        ("word count of 5 MB", ps + ["words.proc", text],
         [("CPython", [PYTHON, "words.py", text], None)], 1),
    ]
    return items


def floors():
    """The same shape as `workloads`, with a C program in procscript's place:
    where C itself misses a goal set against a peer, the goal is below the
    floor that process creation and exec set on this machine."""
    posix_spawn_c, capture_c = str(OUT / "posix_spawn_c"), str(OUT / "capture_c")
    lock_c = str(OUT / "lock_c")
    return [
        ('C: posix_spawn("/bin/true") x300', [posix_spawn_c, "300"],
         [("a bash loop", ["bash", "run_true.sh", "300"], 0.6)], 1),
        ('C: posix_spawn("echo") with a pipe read back x300', [capture_c, "300"],
         [("Python subprocess.run(capture_output=True)", [PYTHON, "capture.py", "300"], 0.4)], 1),
        ("C: two atomic CAS a pair on a MAP_SHARED word x1,000,000", [lock_c, "1000000"],
         [("Python mp.Lock", [PYTHON, "mp_lock.py", "1000000"], 0.05)], 1),
    ]


def fmt(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def compare(items, rounds, only=None):
    rows = []
    for name, ours, peers, repeat in items:
        for peer_name, peer_cmd, goal in peers:
            if peer_cmd is None:
                continue
            if only and only.lower() not in f"{name} {peer_name}".lower():
                continue
            measure(ours, repeat), measure(peer_cmd, repeat)  # warm-up pair
            a, b = [], []
            for _ in range(rounds):
                a.append(measure(ours, repeat)[0])
                b.append(measure(peer_cmd, repeat)[0])
            ratio = statistics.median(x / y for x, y in zip(a, b))
            pa, pb = peak_kib(ours), peak_kib(peer_cmd)
            met = "" if goal is None else ("yes" if ratio <= goal else "NO")
            rows.append((name, statistics.median(a), peer_name, statistics.median(b), ratio, goal, met, pa, pb))
            print(f"{name:42} {fmt(statistics.median(a)):>10}  vs {peer_name:36} {fmt(statistics.median(b)):>10}"
                  f"  ratio {ratio:6.3f}  goal {goal if goal else '-':>5}  {met}", flush=True)
    return rows


def peak_kib(cmd):
    """Peak RSS of cmd. Linux keeps a process's peak RSS across exec, so a
    child of this (large) Python process would report Python's peak: measure
    through GNU time, a small program, where it is installed."""
    time_bin = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(time_bin):
        return measure(cmd)[1]
    out = OUT / "peak.txt"
    subprocess.run([time_bin, "-f", "%M", "-o", str(out)] + list(cmd), cwd=WORK,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return int(out.read_text().split()[-1])


def hello_memory():
    return peak_kib([str(PROCSCRIPT), "-e", 'print("hello")'])


def scaling():
    rows = []
    ps = [str(PROCSCRIPT)]
    for name, script, sizes in [
        ("spawn + join", "spawn.proc", [100, 1000, 10000]),
        ("queue messages", "queue.proc", [10_000, 100_000, 1_000_000]),
        ("while loop iterations", "loop.proc", [300_000, 3_000_000, 30_000_000]),
    ]:
        times = []
        for n in sizes:
            t = statistics.median(measure(ps + [script, str(n)])[0] for _ in range(3))
            times.append((n, t))
        per = [t / n for n, t in times]
        rows.append((name, times, per))
        print(f"{name:24} " + "  ".join(f"{n:>10,}: {fmt(t):>9} ({t / n * 1e6:.2f} us each)" for n, t in times), flush=True)
    return rows


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gcc": subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0],
        "bash": subprocess.run(["bash", "--version"], capture_output=True, text=True).stdout.splitlines()[0],
        "lua": subprocess.run([lua(), "-v"], capture_output=True, text=True).stdout.strip() if lua() else "not installed",
    }
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB", versions


def write_markdown(rows, floor_rows, memory_kib, scale_rows, rounds):
    cores, versions = machine()
    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 benches/run.py` (see the README); every number below comes from one run",
        f"on one machine: {cores}; Linux {versions['kernel']}; Python {versions['python']};",
        f"{versions['gcc']}; {versions['bash']}; Lua: {versions['lua']}.",
        "",
        f"Each workload ran for procscript and its peer alternately, {rounds} rounds after a warm-up pair.",
        "Times are medians; the ratio is the median of the per-pair ratios procscript / peer (lower is",
        "better for procscript); memory is the peak RSS of the measured process.",
        "",
        "| workload | procscript | peer | peer time | ratio | goal | met | procscript peak | peer peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, ours, peer, theirs, ratio, goal, met, pa, pb in rows:
        lines.append(f"| {name} | {fmt(ours)} | {peer} | {fmt(theirs)} | {ratio:.3f} | "
                     f"{'at most ' + str(goal) if goal else '-'} | {met or '-'} | {pa / 1024:.1f} MiB | {pb / 1024:.1f} MiB |")
    missed = [name for name, *_, met, _, _ in rows if met == "NO"]
    lines += [
        "",
        "How the interpreter is fast: it evaluates a tree of resolved nodes (variables are slots,",
        "int operations on locals are fused nodes, no hash lookups), and functions and loops of a",
        "numeric subset run as register code (src/eval/vm/), where a call of a compiled function",
        "switches frames inside the loop instead of recursing. A call of fib costs about 256",
        "instructions (callgrind, --profile dist), Lua 5.4's about 252; a step of the while",
        "loops 127 and 204 against Lua's 122 and 209. The binary is linked statically",
        "(`cargo dist-static`): a fork copies each memory mapping, and a static binary has half",
        "of a dynamic one's (spawn + join: 0.84 of the dynamic build's time). What limits the",
        "rows not met is in benches/README.md.",
        "",
    ]
    if missed:
        lines += [f"Goals not met in this run: {', '.join(missed)}.", ""]
    if floor_rows:
        lines += [
            "## The floor: C against the same peers",
            "",
            "A C program doing the same work in procscript's place, measured the same way: where C",
            "misses a goal too, the goal is below what process creation and exec cost on this machine.",
            "",
            "| C program | C time | peer | peer time | ratio | goal | C meets it |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, ours, peer, theirs, ratio, goal, met, _, _ in floor_rows:
            lines.append(f"| {name[3:]} | {fmt(ours)} | {peer} | {fmt(theirs)} | {ratio:.3f} | "
                         f"at most {goal} | {met} |")
        lines.append("")
    lines += [
        f"Peak memory of `procscript -e 'print(\"hello\")'`: {memory_kib / 1024:.1f} MiB (goal: at most 5 MiB).",
        "",
        "## How cost grows",
        "",
        "Each workload at three sizes (procscript alone, median of 3); the cost of one unit staying",
        "flat shows linear growth.",
        "",
        "| workload | size | time | per unit |",
        "|---|---|---|---|",
    ]
    for name, times, per in scale_rows:
        for (n, t), p in zip(times, per):
            lines.append(f"| {name} | {n:,} | {fmt(t)} | {p * 1e6:.2f} us |")
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {ROOT / 'docs' / 'benchmarks.md'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per pair (default 5)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the three-size runs")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--only", metavar="TEXT",
                        help="only the rows whose workload or peer name contains TEXT (implies --no-write)")
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds, no scaling, no docs/benchmarks.md: a look while working")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.no_scaling, options.no_write = 3, True, True
    if options.only:
        options.no_write = True
    subprocess.run(["cargo", "dist-static"], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ["spawn", "posix_spawn", "capture", "lock"]:
        # lock.proc's peer is lock_c.c: lock.c would read as a workload of its own.
        source = WORK / (f"{name}_c.c" if name == "lock" else f"{name}.c")
        subprocess.run(["cc", "-O2", "-o", str(OUT / f"{name}_c"), str(source)], check=True)
    rows = compare(workloads(), options.rounds, options.only)
    floor_rows = compare(floors(), options.rounds, options.only)
    memory = hello_memory()
    print(f"peak memory of a hello world: {memory / 1024:.1f} MiB")
    scale_rows = [] if options.no_scaling else scaling()
    if not options.no_write:
        write_markdown(rows, floor_rows, memory, scale_rows, options.rounds)


if __name__ == "__main__":
    main()
