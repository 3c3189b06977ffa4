import multiprocessing as mp, sys
def work(lock, k):
    for _ in range(k):
        lock.acquire()
        lock.release()
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400000
    lock = mp.Lock()
    ps = [mp.Process(target=work, args=(lock, n // 8)) for _ in range(8)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(n)
