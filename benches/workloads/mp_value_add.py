import multiprocessing as mp, sys
if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    c = mp.Value("q", 0)
    for _ in range(n):
        with c.get_lock():
            c.value += 1
    print(c.value)
