#include "sidecar/spawn.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/exit_codes.hpp"
#include "common/text.hpp"

extern char** environ;

namespace healthgate::sidecar {
namespace {

// strerror() in lower case, as Go and runc print it: "no such file or directory".
std::string error_text(int error) {
    std::string text = std::strerror(error);
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
    return text;
}

bool is_executable_file(const std::string& path, int& error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = errno;
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        error = EACCES;
        return false;
    }
    if (::access(path.c_str(), X_OK) != 0) {
        error = errno;
        return false;
    }
    return true;
}

}  // namespace

ResolvedCommand resolve_command(std::string_view command, std::string_view path_env) {
    ResolvedCommand resolved;
    if (command.find('/') != std::string_view::npos) {
        resolved.path = std::string(command);
        return resolved;
    }
    resolved.searched = true;
    if (command.empty()) {
        resolved.error = ENOENT;
        return resolved;
    }
    std::string_view path = path_env.empty() ? k_default_path : path_env;
    bool found_unrunnable = false;
    for (std::string_view dir : split(path, ':')) {
        std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, command);
        int error = 0;
        if (is_executable_file(candidate, error)) {
            resolved.path = candidate;
            return resolved;
        }
        if (error == EACCES && !found_unrunnable) {
            found_unrunnable = true;
            resolved.path = candidate;
        }
    }
    resolved.error = found_unrunnable ? EACCES : ENOENT;
    if (!found_unrunnable) resolved.path = std::string(command);
    return resolved;
}

std::string describe_exec_error(std::string_view command, const ResolvedCommand& resolved, int error,
                                const std::optional<std::string>& file_head) {
    if (resolved.searched && error == ENOENT) {
        return fmt::format("exec {}: executable file not found in $PATH", command);
    }
    std::string shown = resolved.searched ? resolved.path : std::string(command);
    std::string message = fmt::format("exec {}: {}", shown, error_text(error));
    if (!file_head) return message;
    const std::string& head = *file_head;
    bool script = head.size() >= 2 && head[0] == '#' && head[1] == '!';
    bool elf = head.size() >= 4 && head.compare(0, 4, "\x7f" "ELF") == 0;
    if (error == ENOENT && script) {
        std::string_view line = std::string_view(head).substr(2);
        line = line.substr(0, line.find('\n'));
        std::string_view interpreter = trim(line);
        interpreter = interpreter.substr(0, interpreter.find_first_of(" \t"));
        if (!line.empty() && line.back() == '\r') {
            message += " (the #! line ends in a carriage return: the script has Windows line endings)";
        } else {
            message += fmt::format(" (the file exists; its #! interpreter {} does not)", utf8_sanitize(interpreter));
        }
    } else if (error == ENOENT && elf) {
        message += " (the file exists; its dynamic loader does not: built for another libc or architecture?)";
    } else if (error == ENOEXEC) {
        message += elf ? " (a binary for another architecture?)" : " (a script needs a #! line)";
    }
    return message;
}

bool same_open_file(int a, int b) {
    // kcmp says it exactly; where it is not allowed (seccomp), the same
    // inode, flags and offset do.
    long same = ::syscall(SYS_kcmp, ::getpid(), ::getpid(), KCMP_FILE, a, b);
    if (same == 0) return true;
    if (same > 0) return false;
    return same_open_file_by_stat(a, b);
}

bool same_open_file_by_stat(int a, int b) {
    struct stat sa {}, sb {};
    if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0) return false;
    if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino) return false;
    if (::fcntl(a, F_GETFL) != ::fcntl(b, F_GETFL)) return false;
    errno = 0;
    off_t oa = ::lseek(a, 0, SEEK_CUR);
    int ea = errno;
    errno = 0;
    off_t ob = ::lseek(b, 0, SEEK_CUR);
    return oa == ob && ea == errno;
}

int exec_failure_exit_code(int error) {
    return (error == ENOENT || error == ENOTDIR || error == ELOOP || error == ENAMETOOLONG) ? k_exit_not_found
                                                                                           : k_exit_not_executable;
}

std::optional<std::string> read_file_head(const std::string& path, std::size_t bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return std::nullopt;
    std::string head(bytes, '\0');
    ssize_t n = ::read(fd, head.data(), head.size());
    ::close(fd);
    if (n < 0) return std::nullopt;
    head.resize(static_cast<std::size_t>(n));
    return head;
}

Expected<Spawned> spawn_app(const SpawnRequest& request) {
    // Everything the child needs is built before fork: after it only
    // async-signal-safe calls are allowed.
    std::vector<char*> argv;
    for (const std::string& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) return make_error(fmt::format("pipe2: {}", std::strerror(errno)));

    pid_t pid = ::fork();
    if (pid < 0) {
        int saved = errno;
        ::close(status_pipe[0]);
        ::close(status_pipe[1]);
        return make_error(fmt::format("fork: {}", std::strerror(saved)));
    }
    if (pid == 0) {
        ::close(status_pipe[0]);
        // Own process group, like tini: a group signal reaches the app's
        // children, and a terminal's foreground group becomes the app's.
        ::setpgid(0, 0);
        // SIGTTOU is still blocked here, so a background group may take the terminal.
        if (::isatty(STDIN_FILENO)) ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
        // Dispositions are left alone: what our parent ignored stays ignored
        // (exec keeps SIG_IGN), the rest is default, as without us.
        ::sigprocmask(SIG_SETMASK, &request.child_mask, nullptr);
        if (request.cwd_fd >= 0 && ::fchdir(request.cwd_fd) != 0) {
            int error = errno;
            ssize_t ignored = ::write(status_pipe[1], &error, sizeof error);
            (void)ignored;
            ::_exit(k_exit_not_executable);
        }
        if (request.stdout_fd >= 0) ::dup2(request.stdout_fd, STDOUT_FILENO);
        if (request.stderr_fd >= 0) ::dup2(request.stderr_fd, STDERR_FILENO);
        ::execve(request.path.c_str(), argv.data(), environ);
        int error = errno;
        ssize_t ignored = ::write(status_pipe[1], &error, sizeof error);
        (void)ignored;
        ::_exit(exec_failure_exit_code(error));
    }
    ::close(status_pipe[1]);
    ::setpgid(pid, pid);  // also from here, so a group signal cannot race the child's own call

    Spawned spawned;
    spawned.pid = pid;
    int error = 0;
    std::size_t got = 0;
    while (got < sizeof error) {
        ssize_t n = ::read(status_pipe[0], reinterpret_cast<char*>(&error) + got, sizeof error - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(status_pipe[0]);
    if (got == sizeof error) spawned.exec_error = error;
    return spawned;
}

}  // namespace healthgate::sidecar
