import multiprocessing as mp, sys
def produce(conn, n):
    for i in range(n):
        conn.send(i)
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    a, b = mp.Pipe()
    p = mp.Process(target=produce, args=(a, n))
    p.start()
    total = 0
    for _ in range(n):
        total += b.recv()
    p.join()
    print(total)
