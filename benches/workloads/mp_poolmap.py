import multiprocessing as mp
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(2) as p:
        results = p.map(fib, [20] * 64)
    print(len(results), results[0])
