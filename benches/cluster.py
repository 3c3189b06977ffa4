#!/usr/bin/env python3
"""procscript's pools on many machines (issue 17): a local pool, ssh and Slurm, with Dask beside them.

    tools/cluster.sh up                      # the cluster (see benches/README.md for one beside the tests')
    python3 benches/cluster.py --cluster-dir /tmp/procscript-cluster
    python3 benches/cluster.py --rounds 3 --dask-python /tmp/dask/bin/python --write

Against the real SSH hosts and Slurm nodes of tools/cluster.sh, with the `dist` build that
benches/run.py measures, each round runs every workload once on every engine, one after the
other (local, ssh, Slurm, Dask...), so that the load of a shared machine falls on all of them
alike; the table gives the median of the rounds, their range, and the mean load average seen
before each run. The workloads (benches/workloads/cluster_*.proc, dask_*.py) time themselves
with a monotonic clock, so the interpreter's own start (procscript's or Python's and its
imports) is not counted:

  - start-up: pool(6) (6 workers: ssh on 3 hosts, Slurm on 3 nodes), a map of 6 trivial
    items, close; Dask: a cluster of 6 single-threaded worker processes, the same map, close;
  - on a pool made first: 10,000 tiny tasks by map, 600 by submit + join, fib(25) x60 by map.

Dask (dask-jobqueue's SLURMCluster on the same Slurm, and a LocalCluster for reference) runs
with the Python of --dask-python, which must import dask_jobqueue and distributed; without
one, its columns are skipped with the reason printed. Its tiny-task rows are measured only with
--dask-tiny (they took minutes here). Only the Python standard library is used here.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (benches/run.py: paths, the build, machine and number formats)

README = suite.ROOT / "benches" / "README.md"
SECTION = "## Many machines (issue 17)"
RUN_LIMIT = 900  # seconds for one workload run: a hung run fails the benchmark, not the machine

# (column, label in the table); the Dask columns need --dask-python.
ENGINES = [
    ("local", "local pool(6)"),
    ("ssh", "ssh, 3 hosts"),
    ("slurm", "Slurm, 3 nodes"),
    ("dask-slurm", "Dask SLURMCluster, 3 jobs x 2"),
    ("dask-local", "Dask LocalCluster(6)"),
]
METRICS = [
    ("startup", "start-up: pool(6) + map of 6 + close"),
    ("tiny_map", "10,000 tiny tasks (`x + 1`) by map"),
    ("submit_join", "600 tiny tasks by submit + join"),
    ("fib_map", "fib(25) x60 by map"),
]


def cluster_env(folder):
    """The variables of the cluster's env file (`export NAME=value` lines that `up` writes)."""
    path = Path(folder) / "env"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: start the cluster first (tools/cluster.sh up, "
                         "with the same PROCSCRIPT_CLUSTER_* variables; see benches/README.md)")
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export "):].split("=", 1)
            env[name] = value.strip('"')
    return env


def dask_missing(python):
    """Why Dask's columns cannot run (None when they can)."""
    if not python:
        return "no --dask-python given (a Python with dask-jobqueue and distributed)"
    found = subprocess.run([python, "-c", "import dask_jobqueue, distributed"],
                           capture_output=True, text=True)
    if found.returncode != 0:
        return f"{python} cannot import dask_jobqueue and distributed ({found.stderr.strip().splitlines()[-1]})"
    return None


def commands(engine, env, options):
    """The commands of one engine's runs: [(workload, argv)], each printing "NAME SECONDS" lines."""
    if engine.startswith("dask-"):
        log_dir = str(suite.OUT / "dask")
        kind = engine[len("dask-"):]
        maps = [options.dask_python, "dask_map.py", kind, log_dir] + (["tiny"] if options.dask_tiny else [])
        return [("startup", [options.dask_python, "dask_startup.py", kind, log_dir]), ("maps", maps)]
    hosts = ",".join(env["PROCSCRIPT_CLUSTER_HOSTS"].split())
    engine_args = [engine, str(suite.PROCSCRIPT), env["PROCSCRIPT_CLUSTER_SSH_CONFIG"], hosts]
    return [(name, [str(suite.PROCSCRIPT), f"cluster_{name}.proc", *engine_args])
            for name in ["startup", "map"]]


def run_once(argv, env):
    """The "NAME SECONDS" lines of one run, as {name: seconds}; a failed run stops the benchmark."""
    try:
        done = subprocess.run(argv, cwd=suite.WORK, env=env, capture_output=True, text=True,
                              timeout=RUN_LIMIT)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"still running after {RUN_LIMIT} s: {' '.join(argv)}")
    if done.returncode != 0:
        raise SystemExit(f"failed (exit {done.returncode}): {' '.join(argv)}\n{done.stderr[-3000:]}")
    times = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in dict(METRICS):
            times[parts[0]] = float(parts[1])
    return times


def measure(engines, env, options):
    """{(metric, engine): [(seconds, load average before the run)]} over the rounds."""
    results = {}
    for round_number in range(1, options.rounds + 1):
        for engine in engines:
            for workload, argv in commands(engine, env, options):
                load = os.getloadavg()[0]
                for metric, seconds in run_once(argv, env).items():
                    results.setdefault((metric, engine), []).append((seconds, load))
                    print(f"round {round_number}: {engine:10} {metric:12} {suite.fmt(seconds):>10}"
                          f"  (load {load:.1f})", flush=True)
    return results


def cell(samples):
    if not samples:
        return "-"
    times = [t for t, _ in samples]
    spread = f" [{suite.fmt(min(times))}-{suite.fmt(max(times))}]" if len(times) > 1 else ""
    load = statistics.mean(load for _, load in samples)
    return f"{suite.fmt(statistics.median(times))}{spread} (load {load:.1f})"


def ratio(results, metric, engine):
    """Median of the per-round ratios engine / local pool, or None."""
    ours, local = results.get((metric, engine)), results.get((metric, "local"))
    if not ours or not local or len(ours) != len(local):
        return None
    return statistics.median(a / b for (a, _), (b, _) in zip(ours, local))


def table(results, engines):
    labels = dict(ENGINES)
    lines = ["| what | " + " | ".join(labels[e] for e in engines) + " |",
             "|---" * (len(engines) + 1) + "|"]
    for metric, label in METRICS:
        lines.append(f"| {label} | " + " | ".join(cell(results.get((metric, e))) for e in engines) + " |")
    for metric, label, goal in [("tiny_map", "10,000 tiny tasks: x the local pool", " (goal: at most 3)"),
                                ("fib_map", "fib(25) x60: x the local pool", "")]:
        ratios = [ratio(results, metric, e) for e in engines]
        if any(r is not None for r in ratios[1:]):
            lines.append(f"| {label}{goal} | " + " | ".join(
                "1" if e == "local" else ("-" if r is None else f"{r:.2f}") for e, r in zip(engines, ratios)) + " |")
    return lines


def leftovers(env):
    """What is still running on the cluster's hosts and nodes, and Slurm jobs not finished."""
    left = []
    tool = suite.ROOT / "tools" / "cluster.sh"
    for name in env["PROCSCRIPT_CLUSTER_HOSTS"].split() + env["PROCSCRIPT_CLUSTER_NODES"].split():
        out = subprocess.run(["bash", str(tool), "ps", name], env=env, capture_output=True, text=True).stdout
        left += [f"{name}: {line}" for line in out.splitlines()]
    jobs = subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout
    left += [f"slurm job: {line.strip()}" for line in jobs.splitlines()]
    return left


def report(results, engines, options, skipped, loads):
    cores, versions = suite.machine()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = f"python3 benches/cluster.py --rounds {options.rounds}" + (" --dask-tiny" if options.dask_tiny else "")
    rounds = f"{options.rounds} round" + ("s" if options.rounds != 1 else "")
    lines = [
        SECTION,
        "",
        f"Written by `{command}` on {when}:",
        f"{cores}, Linux {versions['kernel']}, Python {versions['python']}; the `dist` build; the",
        f"cluster of `tools/cluster.sh` in {options.cluster_dir}. Load average (1 min): {loads[0]:.1f} at the",
        f"start, {loads[1]:.1f} at the end. Each cell: the median of {rounds} [fastest-slowest]",
        "(the mean load average before its runs).",
        "",
    ] + table(results, engines)
    notes = [skipped] if skipped else []
    if any(e.startswith("dask-") for e in engines) and not options.dask_tiny:
        notes.append("Dask's tiny-task rows (`--dask-tiny` measures them)")
    if notes:
        lines += ["", f"Not measured: {'; '.join(notes)}."]
    return lines


def write_readme(lines):
    """Puts the section into benches/README.md, in place of the one written before."""
    text = README.read_text()
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    else:
        end = text.find("\n## ", start + len(SECTION))
        rest = "" if end < 0 else text[end:]
        text = text[:start] + "\n".join(lines) + "\n" + rest
    README.write_text(text)
    print(f"wrote the section {SECTION!r} of {README}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--rounds", type=int, default=5, help="rounds; every cell is their median (default 5)")
    parser.add_argument("--cluster-dir", default=os.environ.get("PROCSCRIPT_CLUSTER_DIR", "/tmp/procscript-cluster"),
                        help="the cluster's state folder (default $PROCSCRIPT_CLUSTER_DIR or /tmp/procscript-cluster)")
    parser.add_argument("--engines", default=",".join(e for e, _ in ENGINES),
                        help="columns to measure, comma-separated (default all: %(default)s)")
    parser.add_argument("--dask-python", help="a Python that imports dask_jobqueue and distributed (for the Dask columns)")
    parser.add_argument("--dask-tiny", action="store_true", help="measure Dask's tiny-task rows too (minutes a round here)")
    parser.add_argument("--quick", action="store_true", help="1 round, procscript's columns only: a look while working")
    parser.add_argument("--no-build", action="store_true", help="use target/dist/procscript as it is")
    parser.add_argument("--write", action="store_true", help=f"write the table into benches/README.md ({SECTION!r})")
    options = parser.parse_args()
    engines = [e for e in options.engines.split(",") if e]
    unknown = [e for e in engines if e not in dict(ENGINES)]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(dict(ENGINES))}")
    if options.quick:
        options.rounds = 1
        engines = [e for e in engines if not e.startswith("dask-")]
    env = {**os.environ, **cluster_env(options.cluster_dir)}
    skipped = ""
    if any(e.startswith("dask-") for e in engines):
        why = dask_missing(options.dask_python)
        if why:
            skipped = "Dask: " + why
            print(f"skipping the Dask columns: {why}", flush=True)
            engines = [e for e in engines if not e.startswith("dask-")]
    if not options.no_build:
        subprocess.run(["cargo", "dist-static"], cwd=suite.ROOT, check=True)
    (suite.OUT / "dask").mkdir(parents=True, exist_ok=True)
    loads = [os.getloadavg()[0]]
    results = measure(engines, env, options)
    loads.append(os.getloadavg()[0])
    lines = report(results, engines, options, skipped, loads)
    print("\n" + "\n".join(lines))
    time.sleep(1)  # a Slurm step's end is seen by squeue a moment after srun returns
    left = leftovers(env)
    if left:
        print("\nstill running on the cluster after the runs:\n" + "\n".join(left))
    if options.write:
        write_readme(lines)


if __name__ == "__main__":
    main()
