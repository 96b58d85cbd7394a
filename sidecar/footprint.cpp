#include "sidecar/footprint.hpp"

#include <charconv>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "common/text.hpp"

namespace healthgate::sidecar {
namespace {

constexpr std::uint64_t k_present = std::uint64_t{1} << 63;
constexpr std::uint64_t k_file_or_shared = std::uint64_t{1} << 61;

bool parse_hex(std::string_view text, std::uintptr_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc{} && end == text.data() + text.size();
}

std::string read_proc_file(const char* path) {
    std::string text;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buffer[8192];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

}  // namespace

std::vector<Mapping> parse_maps(std::string_view maps) {
    std::vector<Mapping> mappings;
    for (std::string_view line : split(maps, '\n')) {
        std::vector<std::string_view> fields;
        for (std::string_view w : split(line, ' ')) {
            if (!w.empty()) fields.push_back(w);
        }
        if (fields.size() < 5) continue;
        auto dash = fields[0].find('-');
        Mapping m;
        if (dash == std::string_view::npos || !parse_hex(fields[0].substr(0, dash), m.start) ||
            !parse_hex(fields[0].substr(dash + 1), m.end) || fields[1].size() != 4) {
            continue;
        }
        m.writable = fields[1][1] == 'w';
        std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), m.inode);
        mappings.push_back(m);
    }
    return mappings;
}

std::vector<PageRun> clean_file_page_runs(std::uintptr_t start, const std::vector<std::uint64_t>& entries,
                                          std::size_t page_size) {
    std::vector<PageRun> runs;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        bool droppable = (entries[i] & k_present) && (entries[i] & k_file_or_shared);
        if (!droppable) continue;
        std::uintptr_t address = start + i * page_size;
        if (!runs.empty() && runs.back().start + runs.back().pages * page_size == address) {
            ++runs.back().pages;
        } else {
            runs.push_back(PageRun{address, 1});
        }
    }
    return runs;
}

std::uint64_t drop_clean_executable_pages() {
    auto mappings = parse_maps(read_proc_file("/proc/self/maps"));
    auto self = reinterpret_cast<std::uintptr_t>(&drop_clean_executable_pages);
    std::uint64_t inode = 0;
    for (const Mapping& m : mappings) {
        if (m.start <= self && self < m.end) inode = m.inode;
    }
    if (inode == 0) return 0;
    int pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap < 0) return 0;
    const std::size_t page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::uint64_t dropped = 0;
    std::vector<std::uint64_t> entries;
    for (const Mapping& m : mappings) {
        if (m.inode != inode || m.writable) continue;
        std::size_t pages = (m.end - m.start) / page_size;
        entries.assign(pages, 0);
        off_t offset = static_cast<off_t>(m.start / page_size * sizeof(std::uint64_t));
        ssize_t want = static_cast<ssize_t>(pages * sizeof(std::uint64_t));
        if (::pread(pagemap, entries.data(), static_cast<std::size_t>(want), offset) != want) continue;
        for (const PageRun& run : clean_file_page_runs(m.start, entries, page_size)) {
            if (::madvise(reinterpret_cast<void*>(run.start), run.pages * page_size, MADV_DONTNEED) == 0) {
                dropped += run.pages * page_size;
            }
        }
    }
    ::close(pagemap);
    return dropped;
}

}  // namespace healthgate::sidecar
