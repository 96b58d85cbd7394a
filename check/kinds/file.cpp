// file:///path: the file exists (optionally non-empty, or modified recently).
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/stat.h>

#include "check/check_context.hpp"

namespace healthgate::check {
namespace {

struct FileOptions {
    bool non_empty = false;                 // non_empty=true
    std::optional<Duration> max_age;        // max_age=30s (modified within)
};

std::optional<std::string> apply_non_empty(Target& target, std::string_view value) {
    return parse_bool_option(value, target.options_as<FileOptions>().non_empty);
}

std::optional<std::string> apply_max_age(Target& target, std::string_view value) {
    Duration d{};
    if (auto problem = parse_positive_duration_option(value, d)) return problem;
    target.options_as<FileOptions>().max_age = d;
    return std::nullopt;
}

const OptionSpec k_options[] = {
    {"non_empty", "true", "false", "the file must not be empty", false, apply_non_empty},
    {"max_age", "DUR", "", "modified within DUR (a heartbeat file)", false, apply_max_age},
};

std::any make_options() { return FileOptions{}; }

CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

std::chrono::system_clock::time_point modified_at(const struct stat& st) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                        std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

CheckResult check_file(const Target& target, std::chrono::system_clock::time_point now) {
    const std::string& path = target.path;
    const FileOptions& options = target.options_as<FileOptions>();
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return fail(Failure::file_missing, fmt::format("file {} does not exist", path));
        return fail(Failure::other, fmt::format("stat {}: {}", path, std::strerror(errno)));
    }
    if (options.non_empty) {
        if (S_ISDIR(st.st_mode)) return fail(Failure::other, fmt::format("{} is a directory, not a file", path));
        if (st.st_size == 0) return fail(Failure::file_empty, fmt::format("file {} is empty", path));
    }
    if (options.max_age) {
        auto age = std::chrono::duration_cast<Duration>(now - modified_at(st));
        if (age > *options.max_age) {
            return fail(Failure::file_stale, fmt::format("file {} last modified {} ago (max_age {})", path,
                                                         format_duration(age), budget_text(*options.max_age)));
        }
    }
    return {};
}

// A stat() does not block on a local filesystem: no suspension.
boost::asio::awaitable<CheckResult> attempt(CheckContext&, const Target& target, Clock::time_point) {
    co_return check_file(target, std::chrono::system_clock::now());
}

}  // namespace

extern const TargetKind k_file_kind{
    .name = "file",
    .form = "file:///path/to/file",
    .ready_when = "the file exists",
    .address = AddressForm::path,
    .options = k_options,
    .make_options = make_options,
    .locality = Locality::local,
    .attempt = attempt,
};

}  // namespace healthgate::check
