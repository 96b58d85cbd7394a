/* What a container runtime does before starting the container's PID 1, in
 * short: new cgroup, PID and mount namespaces, /proc and /sys/fs/cgroup
 * mounted anew (so /proc/self/cgroup reads "0::/"), then exec the command as
 * PID 1. busybox's unshare has no cgroup namespace (-C), hence this.
 *   nsinit COMMAND [ARGS...]   exits with the command's status (128+N for signal N) */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: nsinit COMMAND [ARGS...]\n");
        return 2;
    }
    if (unshare(CLONE_NEWCGROUP | CLONE_NEWPID | CLONE_NEWNS) != 0) {
        perror("unshare");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) perror("mount --make-rprivate /");
        if (mount("proc", "/proc", "proc", 0, NULL) != 0) perror("mount /proc");
        // The host's cgroup2 mount cannot be mounted over (EBUSY): replace it.
        if (umount2("/sys/fs/cgroup", MNT_DETACH) != 0) perror("umount /sys/fs/cgroup");
        if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) != 0) perror("mount /sys/fs/cgroup");
        execvp(argv[1], argv + 1);
        perror("exec");
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
