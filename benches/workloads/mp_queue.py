import multiprocessing as mp, sys
def produce(q, n):
    for i in range(n):
        q.put(i)
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    q = mp.Queue()
    p = mp.Process(target=produce, args=(q, n))
    p.start()
    total = 0
    for i in range(n):
        total += q.get()
    p.join()
    print(total)
