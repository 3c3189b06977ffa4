/* The floor under lock.proc: N uncontended acquire + release pairs of a lock
 * word in MAP_SHARED memory, each two compare-and-swaps (free -> my pid, my
 * pid -> free), as procscript's futex lock does when nobody waits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    uint32_t *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (word == MAP_FAILED) return 1;
    uint32_t me = (uint32_t)getpid();
    for (long i = 0; i < n; i++) {
        uint32_t free_word = 0, mine = me;
        if (!__atomic_compare_exchange_n(word, &free_word, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 2;
        if (!__atomic_compare_exchange_n(word, &mine, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return 3;
    }
    printf("%ld\n", n);
    return 0;
}
