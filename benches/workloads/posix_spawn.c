/* posix_spawn + waitpid of /bin/true, N times. */
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 300;
    char *child[] = {"/bin/true", NULL};
    for (int i = 0; i < n; i++) {
        pid_t p;
        if (posix_spawn(&p, "/bin/true", NULL, NULL, child, environ) != 0) return 1;
        int status;
        waitpid(p, &status, 0);
    }
    return 0;
}
