#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sidecar/spawn.hpp"

using namespace healthgate::sidecar;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/hg-spawn-XXXXXX";
        path = ::mkdtemp(name);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, const std::string& content, mode_t mode) const {
        std::string full = path + "/" + name;
        std::ofstream(full) << content;
        ::chmod(full.c_str(), mode);
        return full;
    }
};

}  // namespace

TEST_CASE("resolve: a path with a slash is used as is") {
    auto r = resolve_command("/app/start.sh", "/usr/bin");
    CHECK(r.path == "/app/start.sh");
    CHECK(r.error == 0);
    CHECK_FALSE(r.searched);
}

TEST_CASE("resolve: PATH search finds the first executable, remembers a non-executable match") {
    TempDir a, b;
    a.file("tool", "#!/bin/sh\n", 0644);
    std::string runnable = b.file("tool", "#!/bin/sh\n", 0755);
    auto found = resolve_command("tool", a.path + ":" + b.path);
    CHECK(found.path == runnable);
    CHECK(found.error == 0);
    CHECK(found.searched);
    auto only_unrunnable = resolve_command("tool", a.path);
    CHECK(only_unrunnable.error == EACCES);
    CHECK(only_unrunnable.path == a.path + "/tool");
    auto missing = resolve_command("no-such-tool-here", a.path);
    CHECK(missing.error == ENOENT);
}

TEST_CASE("describe exec errors") {
    ResolvedCommand direct{"/app/start.sh", 0, false};
    CHECK(describe_exec_error("/app/start.sh", direct, ENOENT, std::nullopt) ==
          "exec /app/start.sh: no such file or directory");
    CHECK(describe_exec_error("/app/start.sh", direct, EACCES, std::nullopt) == "exec /app/start.sh: permission denied");
    CHECK(describe_exec_error("/app/start.sh", direct, ENOENT, std::string("#!/bin/bashx -e\necho\n")) ==
          "exec /app/start.sh: no such file or directory (the file exists; its #! interpreter /bin/bashx does not)");
    CHECK(describe_exec_error("/app/start.sh", direct, ENOENT, std::string("#!/bin/sh\r\necho\r\n")).find("Windows line endings") !=
          std::string::npos);
    CHECK(describe_exec_error("/app/x", direct, ENOENT, std::string("\x7f" "ELF\x02\x01")).find("dynamic loader") !=
          std::string::npos);
    CHECK(describe_exec_error("/app/x", direct, ENOEXEC, std::string("echo hi\n")) ==
          "exec /app/x: exec format error (a script needs a #! line)");
    ResolvedCommand searched{"node", ENOENT, true};
    CHECK(describe_exec_error("node", searched, ENOENT, std::nullopt) == "exec node: executable file not found in $PATH");
}

TEST_CASE("exec failure exit codes follow the shell") {
    CHECK(exec_failure_exit_code(ENOENT) == 127);
    CHECK(exec_failure_exit_code(ENOTDIR) == 127);
    CHECK(exec_failure_exit_code(EACCES) == 126);
    CHECK(exec_failure_exit_code(ENOEXEC) == 126);
}

TEST_CASE("spawn: a real child in its own process group; exec errors come back") {
    SpawnRequest request;
    request.path = "/bin/sh";
    request.argv = {"sh", "-c", "exit 7"};
    sigemptyset(&request.child_mask);
    auto spawned = spawn_app(request);
    REQUIRE(spawned.ok());
    CHECK(spawned->exec_error == 0);
    int status = 0;
    REQUIRE(::waitpid(spawned->pid, &status, 0) == spawned->pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);

    request.path = "/no/such/program";
    auto failed = spawn_app(request);
    REQUIRE(failed.ok());
    CHECK(failed->exec_error == ENOENT);
    REQUIRE(::waitpid(failed->pid, &status, 0) == failed->pid);
    CHECK(WEXITSTATUS(status) == 127);
}

TEST_CASE("same_open_file: 2>&1 is one open file, two pipes are not") {
    int a[2], b[2];
    REQUIRE(::pipe(a) == 0);
    REQUIRE(::pipe(b) == 0);
    int dup = ::dup(a[1]);
    CHECK(same_open_file(a[1], dup));
    CHECK_FALSE(same_open_file(a[1], b[1]));
    CHECK_FALSE(same_open_file(a[0], a[1]));  // the two ends of one pipe
    CHECK_FALSE(same_open_file(a[1], 12345));  // not open
    for (int fd : {a[0], a[1], b[0], b[1], dup}) ::close(fd);
}

TEST_CASE("same_open_file_by_stat: the fallback where seccomp forbids kcmp") {
    int a[2], b[2];
    REQUIRE(::pipe(a) == 0);
    REQUIRE(::pipe(b) == 0);
    int dup = ::dup(a[1]);
    CHECK(same_open_file_by_stat(a[1], dup));
    CHECK_FALSE(same_open_file_by_stat(a[1], b[1]));   // two pipes
    CHECK_FALSE(same_open_file_by_stat(a[0], a[1]));   // one inode, other flags
    CHECK_FALSE(same_open_file_by_stat(a[1], 12345));  // not open

    // A file: a dup shares the offset, a second open does not once either moves.
    char path[] = "/tmp/healthgate-same-open-XXXXXX";
    int file = ::mkstemp(path);
    REQUIRE(file >= 0);
    int file_dup = ::dup(file);
    int reopened = ::open(path, O_RDWR);
    REQUIRE(reopened >= 0);
    REQUIRE(::write(file, "12345", 5) == 5);
    CHECK(same_open_file_by_stat(file, file_dup));
    CHECK_FALSE(same_open_file_by_stat(file, reopened));
    // And the fallback agrees with kcmp where both can answer.
    CHECK(same_open_file(file, file_dup) == same_open_file_by_stat(file, file_dup));
    CHECK(same_open_file(file, reopened) == same_open_file_by_stat(file, reopened));
    ::unlink(path);
    for (int fd : {a[0], a[1], b[0], b[1], dup, file, file_dup, reopened}) ::close(fd);
}
