#pragma once
// Keeping `run`'s resident set small while the app runs. Start-up (static
// initialisers of every library in the one static binary, flag parsing,
// spawning) touches code and read-only data that the wait loop never uses
// again, and the kernel's fault-around maps 64 KiB around each touch. So once
// the app runs, and after each flight record, the clean file-backed pages of
// our executable are dropped from our page tables: they stay in the page
// cache (shared, charged once) and fault back in when used again. Pages we
// wrote (relocations, .data) are private copies and are never dropped.
#include <cstdint>
#include <string_view>
#include <vector>

namespace healthgate::sidecar {

struct Mapping {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    bool writable = false;
    std::uint64_t inode = 0;
};

// The mappings listed in /proc/self/maps text.
std::vector<Mapping> parse_maps(std::string_view maps);

// Runs of pages to drop, from one /proc/self/pagemap entry per page starting at
// `start`: present (bit 63) and backed by the file (bit 61), not a private copy.
struct PageRun {
    std::uintptr_t start = 0;
    std::size_t pages = 0;
};
std::vector<PageRun> clean_file_page_runs(std::uintptr_t start, const std::vector<std::uint64_t>& entries,
                                          std::size_t page_size);

// Drops the clean file pages of our own executable's read-only mappings;
// returns the bytes dropped.
std::uint64_t drop_clean_executable_pages();

}  // namespace healthgate::sidecar
