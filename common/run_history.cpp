#include "common/run_history.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/text.hpp"

namespace healthgate {
namespace {

constexpr std::size_t k_outcome_max = 80;
constexpr std::size_t k_history_file_max = 64 * 1024;

std::string number_or_dash(const std::optional<std::uint64_t>& value) {
    return value ? std::to_string(*value) : std::string("-");
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

bool parse_optional(std::string_view text, std::optional<std::uint64_t>& out) {
    if (text == "-") {
        out.reset();
        return true;
    }
    std::uint64_t value = 0;
    if (!parse_number(text, value)) return false;
    out = value;
    return true;
}

// One line, printable, short: an outcome comes from our own composer, but the
// file sits in a shared volume and may hold anything.
std::string clean_outcome(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        out += c;
    }
    out = std::string(trim(out));
    return utf8_sanitize(utf8_prefix(out, k_outcome_max));
}

}  // namespace

std::string format_history(const std::vector<RunRecord>& records) {
    std::size_t first = records.size() > k_history_max_records ? records.size() - k_history_max_records : 0;
    std::string text;
    for (std::size_t i = first; i < records.size(); ++i) {
        const RunRecord& r = records[i];
        std::string outcome = clean_outcome(r.outcome);
        if (outcome.empty()) outcome = "unknown";
        text += fmt::format("v1 {} {} {} {} {}\n", r.start_ms, r.end_ms, number_or_dash(r.peak), number_or_dash(r.limit),
                            outcome);
    }
    return text;
}

std::vector<RunRecord> parse_history(std::string_view text) {
    std::vector<RunRecord> records;
    for (std::string_view line : split(text, '\n')) {
        std::vector<std::string_view> fields;
        std::string_view rest = line;
        // Five space-separated fields, then the outcome (which may hold spaces).
        for (int i = 0; i < 5; ++i) {
            auto space = rest.find(' ');
            if (space == std::string_view::npos) break;
            fields.push_back(rest.substr(0, space));
            rest.remove_prefix(space + 1);
        }
        if (fields.size() != 5 || fields[0] != "v1" || trim(rest).empty()) continue;
        RunRecord r;
        if (!parse_number(fields[1], r.start_ms) || !parse_number(fields[2], r.end_ms)) continue;
        if (!parse_optional(fields[3], r.peak) || !parse_optional(fields[4], r.limit)) continue;
        r.outcome = clean_outcome(rest);
        records.push_back(std::move(r));
    }
    if (records.size() > k_history_max_records) {
        records.erase(records.begin(), records.end() - static_cast<long>(k_history_max_records));
    }
    return records;
}

std::vector<RunRecord> load_history(const std::string& dir) {
    std::string path = dir + "/" + k_history_file;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string text(k_history_file_max, '\0');
    std::size_t used = 0;
    while (used < text.size()) {
        ssize_t n = ::read(fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(used);
    return parse_history(text);
}

std::optional<std::string> save_history(const std::string& dir, const std::vector<RunRecord>& records) {
    std::string path = dir + "/" + k_history_file;
    std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
    std::string text = format_history(records);
    // A sub-directory of the emptyDir (--history=/hg/history) is made on
    // first use; its parent must exist.
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return fmt::format("mkdir {}: {}", dir, std::strerror(errno));
    }
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fmt::format("open {}: {}", temp, std::strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int saved = errno;
            ::close(fd);
            ::unlink(temp.c_str());
            return fmt::format("write {}: {}", temp, std::strerror(saved));
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        return fmt::format("rename {} to {}: {}", temp, path, std::strerror(saved));
    }
    return std::nullopt;
}

}  // namespace healthgate
