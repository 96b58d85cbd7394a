/* The app of the VM scenarios: allocates and touches memory at a given rate.
 *   alloc rate MIB_PER_S    until killed (0: as fast as it can)
 *   alloc child MIB_PER_S   a child allocates until killed; the app outlives it and exits 3
 *   alloc hold MIB          allocates MIB, then waits to be killed
 *   alloc squeeze MIB       allocates MIB (throttled above memory.high), holds 1 s, exits 0
 * Built static at test time (gcc -static) so it runs in a busybox initramfs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Touches `mib` MiB (forever when mib < 0) at `rate` MiB/s (0: no pause). */
static void allocate(long mib, double rate) {
    double start = now();
    for (long n = 1; mib < 0 || n <= mib; ++n) {
        char* chunk = malloc(MIB);
        if (!chunk) {
            perror("malloc");
            exit(1);
        }
        memset(chunk, (int)n, MIB);
        if (rate > 0) {
            double wait = start + (double)n / rate - now();
            if (wait > 0) usleep((useconds_t)(wait * 1e6));
        }
    }
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: alloc rate|child|hold|squeeze N\n");
        return 2;
    }
    double n = atof(argv[2]);
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(argv[1], "rate") == 0) {
        printf("allocating at %s MiB/s\n", n > 0 ? argv[2] : "max");
        allocate(-1, n);
    } else if (strcmp(argv[1], "child") == 0) {
        pid_t child = fork();
        if (child == 0) {
            allocate(-1, n);
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        printf("worker died: %s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
        sleep(2);
        return 3;
    } else if (strcmp(argv[1], "hold") == 0) {
        allocate((long)n, 0);
        printf("holding %ld MiB\n", (long)n);
        for (;;) pause();
    } else if (strcmp(argv[1], "squeeze") == 0) {
        allocate((long)n, 0);
        printf("squeezed %ld MiB\n", (long)n);
        sleep(1);
        return 0;
    }
    return 2;
}
