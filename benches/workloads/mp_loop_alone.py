import multiprocessing as mp, sys
if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    lock = mp.Lock()
    for _ in range(n):
        pass
    print(n)
