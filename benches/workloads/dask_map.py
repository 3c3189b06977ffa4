"""Dask's maps, as cluster_map.proc measures procscript's, on a cluster of 6 workers (see
dask_cluster.py) made first and not counted: fib(25) x60 by client.map, and with "tiny"
first 10,000 tiny tasks by client.map and 600 by client.submit + gather (minutes on a loaded
2-core machine). Prints "NAME SECONDS" for each.

    python dask_map.py ENGINE LOG_DIR [tiny]
"""

import sys
import time

from dask_cluster import start, stop


def inc(x):
    return x + 1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def tiny_tasks(client):
    began = time.perf_counter()
    tiny = client.gather(client.map(inc, range(10000)))
    print("tiny_map", time.perf_counter() - began, flush=True)
    assert sum(tiny) == 50005000
    began = time.perf_counter()
    # pure=False: 600 separate tasks, as procscript's 600 submits (Dask would merge equal calls).
    joined = client.gather([client.submit(inc, i, pure=False) for i in range(600)])
    print("submit_join", time.perf_counter() - began, flush=True)
    assert sum(joined) == 180300


if __name__ == "__main__":
    cluster, client = start(sys.argv[1], sys.argv[2])
    client.gather(client.map(inc, range(6)))  # every worker has answered once
    if sys.argv[3:] == ["tiny"]:
        tiny_tasks(client)
    began = time.perf_counter()
    # pure=False: Dask would otherwise compute fib(25) once for the 60 equal items.
    fibs = client.gather(client.map(fib, [25] * 60, pure=False))
    print("fib_map", time.perf_counter() - began, flush=True)
    assert fibs == [75025] * 60
    stop(cluster, client)
