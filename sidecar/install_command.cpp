// `healthgate install DIR`: how the binary reaches an app container without
// rebuilding its image: an init container copies it into a shared emptyDir.
#include "sidecar/install_command.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.hpp"
#include "common/flags.hpp"

namespace healthgate::sidecar {
namespace {

constexpr const char* k_install_help = R"(Usage: healthgate install DIR

Copies this binary (/proc/self/exe) to DIR/healthgate and prints that path.
The copy is atomic: a temporary file in DIR, mode 0755, synced, then renamed
over DIR/healthgate, so a container never sees a half-written binary (and a
running copy is replaced, not overwritten).

Typical use, in an init container sharing an emptyDir with the app:
  command: ["healthgate", "install", "/hg"]
and the app container's command becomes
  ["/hg/healthgate", "run", "--", ORIGINAL COMMAND...]

Flags: none besides --help.

Exit codes:
  0  installed (the path is printed on stdout)
  1  DIR missing, not a directory, read-only or full (the reason is printed)
  2  usage error
)";

constexpr const char* k_installed_name = "healthgate";
constexpr int k_exit_install_failed = 1;

int fail(const std::string& message) {
    std::fprintf(stderr, "healthgate install: %s\n", message.c_str());
    return k_exit_install_failed;
}

// Copies with copy_file_range (reflinks or in-kernel copy), falling back to
// sendfile across filesystems that refuse it.
std::optional<std::string> copy_contents(int from, int to, const std::string& to_path) {
    struct stat st {};
    if (::fstat(from, &st) != 0) return fmt::format("stat /proc/self/exe: {}", std::strerror(errno));
    off_t remaining = st.st_size;
    bool use_sendfile = false;
    while (remaining > 0) {
        ssize_t n = use_sendfile ? ::sendfile(to, from, nullptr, static_cast<std::size_t>(remaining))
                                 : ::copy_file_range(from, nullptr, to, nullptr, static_cast<std::size_t>(remaining), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && !use_sendfile && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            use_sendfile = true;
            continue;
        }
        if (n < 0) return fmt::format("write {}: {}", to_path, std::strerror(errno));
        if (n == 0) return fmt::format("copy to {}: /proc/self/exe ended early", to_path);
        remaining -= n;
    }
    return std::nullopt;
}

}  // namespace

int install_main(const std::vector<std::string>& args) {
    auto parsed = parse_flags(args, {}, "install");
    if (!parsed) {
        std::fprintf(stderr, "healthgate %s\n", parsed.error().c_str());
        return k_exit_usage;
    }
    if (parsed->help) {
        std::fputs(k_install_help, stdout);
        return k_exit_ok;
    }
    if (parsed->positionals.size() != 1 || parsed->has_command) {
        std::fputs("healthgate install: expected exactly one directory (healthgate install DIR)\n", stderr);
        return k_exit_usage;
    }
    std::string dir = parsed->positionals.front();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();

    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail(fmt::format("{}: {}", dir, std::strerror(errno)));
    if (!S_ISDIR(st.st_mode)) return fail(fmt::format("{}: not a directory", dir));

    std::string target = fmt::format("{}/{}", dir == "/" ? "" : dir, k_installed_name);
    std::string temp = fmt::format("{}/.{}.tmp.{}", dir == "/" ? "" : dir, k_installed_name, ::getpid());

    int from = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (from < 0) return fail(fmt::format("open /proc/self/exe: {}", std::strerror(errno)));
    int to = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (to < 0) {
        int saved = errno;
        ::close(from);
        return fail(fmt::format("create {}: {}", temp, std::strerror(saved)));
    }
    auto cleanup = [&](const std::string& message) {
        ::close(from);
        ::close(to);
        ::unlink(temp.c_str());
        return fail(message);
    };
    if (auto problem = copy_contents(from, to, temp)) return cleanup(*problem);
    // The umask may have taken bits off the mode given to open().
    if (::fchmod(to, 0755) != 0) return cleanup(fmt::format("chmod {}: {}", temp, std::strerror(errno)));
    if (::fsync(to) != 0) return cleanup(fmt::format("fsync {}: {}", temp, std::strerror(errno)));
    ::close(from);
    if (::close(to) != 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        return fail(fmt::format("close {}: {}", temp, std::strerror(saved)));
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        return fail(fmt::format("rename {} to {}: {}", temp, target, std::strerror(saved)));
    }
    std::printf("%s\n", target.c_str());
    return k_exit_ok;
}

}  // namespace healthgate::sidecar
