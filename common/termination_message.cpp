#include "common/termination_message.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/text.hpp"

namespace healthgate {

std::optional<std::string> resolve_termination_log(const std::optional<std::string>& configured) {
    if (configured) {
        if (configured->empty() || *configured == "none") return std::nullopt;
        return configured;
    }
    if (::access(k_default_termination_log, W_OK) == 0) return std::string(k_default_termination_log);
    return std::nullopt;
}

std::string fit_message(const std::vector<std::string>& lines, std::size_t max_bytes) {
    std::string out;
    for (const std::string& raw : lines) {
        std::string line = utf8_sanitize(raw);
        std::size_t needed = line.size() + (out.empty() ? 0 : 1);
        if (out.size() + needed <= max_bytes) {
            if (!out.empty()) out += '\n';
            out += line;
            continue;
        }
        if (out.empty()) out = std::string(utf8_prefix(line, max_bytes));
        break;
    }
    return out;
}

std::optional<std::string> write_termination_message(const std::string& path, std::string_view message) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fmt::format("open {}: {}", path, std::strerror(errno));
    std::size_t done = 0;
    while (done < message.size()) {
        ssize_t n = ::pwrite(fd, message.data() + done, message.size() - done, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            return fmt::format("write {}: {}", path, std::strerror(saved));
        }
        done += static_cast<std::size_t>(n);
    }
    // A character device (a tty, /dev/null) cannot be truncated: that is fine.
    if (::ftruncate(fd, static_cast<off_t>(message.size())) != 0 && errno != EINVAL) {
        int saved = errno;
        ::close(fd);
        return fmt::format("truncate {}: {}", path, std::strerror(saved));
    }
    ::close(fd);
    return std::nullopt;
}

}  // namespace healthgate
