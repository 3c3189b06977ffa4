"""Dask's start-up, as cluster_startup.proc measures procscript's: a cluster of 6 workers
(see dask_cluster.py), a map of 6 trivial items, close. Prints "startup SECONDS".

    python dask_startup.py ENGINE LOG_DIR
"""

import sys
import time

from dask_cluster import start, stop


def same(x):
    return x


if __name__ == "__main__":
    began = time.perf_counter()
    cluster, client = start(sys.argv[1], sys.argv[2])
    got = client.gather(client.map(same, range(6)))
    stop(cluster, client)
    took = time.perf_counter() - began
    assert got == list(range(6)), got
    print("startup", took)
