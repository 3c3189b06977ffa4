import multiprocessing as mp, sys
def echo(conn, n):
    for _ in range(n):
        conn.send(conn.recv() + 1)
if __name__ == "__main__":
    mp.set_start_method("fork")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b, n))
    p.start()
    total = 0
    for i in range(n):
        a.send(i)
        total += a.recv()
    p.join()
    print(total)
