/* maxrss: runs a command and prints its peak RSS (ru_maxrss, KiB), user and
 * system CPU (µs) on stderr. Built static and tiny so that the RSS it has
 * itself before exec (which the kernel counts into the child's peak) stays
 * far below what is measured; GNU time(1), being dynamic, adds ~1 MiB. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        fputs("usage: maxrss COMMAND [ARGS...]\n", stderr);
        return 2;
    }
    pid_t pid = vfork();
    if (pid < 0) {
        perror("maxrss: vfork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("maxrss: wait4");
        return 2;
    }
    fprintf(stderr, "maxrss_kib=%ld user_us=%ld sys_us=%ld\n", usage.ru_maxrss,
            usage.ru_utime.tv_sec * 1000000L + usage.ru_utime.tv_usec,
            usage.ru_stime.tv_sec * 1000000L + usage.ru_stime.tv_usec);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
