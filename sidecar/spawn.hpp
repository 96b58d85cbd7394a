#pragma once
// Starting the app: finding COMMAND like execvp, forking it into its own
// process group, and learning whether exec failed and why, through a
// close-on-exec pipe (EOF: exec succeeded; 4 bytes: its errno).
#include <csignal>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "common/expected.hpp"

namespace healthgate::sidecar {

inline constexpr std::string_view k_default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ResolvedCommand {
    std::string path;   // what to execve
    int error = 0;      // set when nothing in PATH can run: ENOENT or EACCES
    bool searched = false;  // the name had no '/' and PATH was searched
};
// A name with '/' is used as is; else the first regular file of that name in
// PATH (empty PATH: the default above) that is executable; a match that is not
// executable is remembered as EACCES, like execvp does.
ResolvedCommand resolve_command(std::string_view command, std::string_view path_env);

// "exec /app/start.sh: no such file or directory", plus the reason when the
// file's first bytes tell it (`file_head`: nullopt when the file cannot be
// read): a missing #! interpreter, a #! line ending in CR (Windows line
// endings), a missing dynamic loader, a script without #!.
std::string describe_exec_error(std::string_view command, const ResolvedCommand& resolved, int error,
                                const std::optional<std::string>& file_head);
// 127 when the command was not found, 126 when it was found but cannot run.
int exec_failure_exit_code(int error);

// The first bytes of a file (for describe_exec_error), or nullopt.
std::optional<std::string> read_file_head(const std::string& path, std::size_t bytes = 256);

// Whether fds `a` and `b` are one open file (2>&1, or a runtime that merges
// stdout and stderr): the app then gets one pipe for both, so what it writes
// keeps its order.
bool same_open_file(int a, int b);
// The fallback where kcmp is not allowed: the same inode, status flags and
// offset. Two opens of one file with the same flags, both at offset 0, look
// the same to it (a pipe or socket cannot be opened twice that way).
bool same_open_file_by_stat(int a, int b);

struct SpawnRequest {
    std::string path;
    std::vector<std::string> argv;
    int stdout_fd = -1;  // -1: inherit (a terminal is passed as is)
    int stderr_fd = -1;  // may be stdout_fd: one pipe for both keeps their order
    sigset_t child_mask;  // the signal mask the app starts with
    int cwd_fd = -1;      // the working directory the app starts in; -1: ours
};

struct Spawned {
    pid_t pid = -1;
    int exec_error = 0;  // errno of a failed exec (the child has then exited; reap it)
};

// Errors (fork, pipe) name the call that failed.
Expected<Spawned> spawn_app(const SpawnRequest& request);

}  // namespace healthgate::sidecar
