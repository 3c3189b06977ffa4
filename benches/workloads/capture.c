/* posix_spawn of echo with its output read back through a pipe, N times. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 300;
    long total = 0;
    for (int i = 0; i < n; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        char *child[] = {"echo", "hello", num, NULL};
        int fds[2];
        if (pipe(fds) != 0) return 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
        pid_t p;
        if (posix_spawnp(&p, "echo", &fa, NULL, child, environ) != 0) return 1;
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        char buf[4096];
        ssize_t got;
        while ((got = read(fds[0], buf, sizeof buf)) > 0) total += got;
        close(fds[0]);
        int status;
        waitpid(p, &status, 0);
    }
    printf("%ld\n", total);
    return 0;
}
