import multiprocessing as mp, sys
def work(c, k):
    for _ in range(k):
        with c.get_lock():
            c.value += 1
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400000
    c = mp.Value("q", 0)
    ps = [mp.Process(target=work, args=(c, n // 8)) for _ in range(8)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(c.value)
