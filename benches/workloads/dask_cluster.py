"""The Dask cluster of the engine named on the command line, for dask_startup.py and dask_map.py.

    ENGINE: "slurm" (dask-jobqueue's SLURMCluster: 3 jobs of 2 worker processes each, on the
    Slurm that SLURM_CONF names) or "local" (a LocalCluster of 6 worker processes).
    Everything listens on loopback; job scripts and logs go to LOG_DIR (argument 2).
"""

import sys


def start(engine, log_dir):
    """A (cluster, client) pair with 6 single-threaded worker processes, all of them up."""
    from dask.distributed import Client, LocalCluster

    if engine == "local":
        cluster = LocalCluster(n_workers=6, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    elif engine == "slurm":
        from dask_jobqueue import SLURMCluster

        cluster = SLURMCluster(cores=2, processes=2, memory="500MB", walltime="00:30:00",
                               queue="debug", interface="lo", log_directory=log_dir,
                               local_directory=log_dir, scheduler_options={"dashboard_address": None},
                               python=sys.executable)
        cluster.scale(jobs=3)
    else:
        raise SystemExit(f"no engine named {engine} (local, slurm)")
    client = Client(cluster)
    client.wait_for_workers(6)
    return cluster, client


def stop(cluster, client):
    client.close()
    cluster.close()
