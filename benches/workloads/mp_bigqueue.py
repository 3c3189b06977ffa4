import multiprocessing as mp, sys
def produce(q, n):
    message = "x" * (1024 * 1024)
    for i in range(n):
        q.put(message)
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    q = mp.Queue(4)
    p = mp.Process(target=produce, args=(q, n))
    p.start()
    total = 0
    for i in range(n):
        total += len(q.get())
    p.join()
    print(total)
