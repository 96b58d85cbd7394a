#include <catch2/catch.hpp>

#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "sidecar/footprint.hpp"

using namespace healthgate::sidecar;

TEST_CASE("maps lines: range, writability, inode") {
    auto maps = parse_maps(
        "00400000-00401000 r--p 00000000 fe:00 5308816                            /hg/healthgate\n"
        "00401000-009bc000 r-xp 00001000 fe:00 5308816                            /hg/healthgate\n"
        "00ba3000-00bac000 rw-p 007a2000 fe:00 5308816                            /hg/healthgate\n"
        "3b6f2000-3b714000 rw-p 00000000 00:00 0                                  [heap]\n"
        "garbage\n");
    REQUIRE(maps.size() == 4);
    CHECK(maps[1].start == 0x401000);
    CHECK(maps[1].end == 0x9bc000);
    CHECK_FALSE(maps[1].writable);
    CHECK(maps[1].inode == 5308816);
    CHECK(maps[2].writable);
    CHECK(maps[3].inode == 0);
}

TEST_CASE("page runs: only present pages backed by the file") {
    constexpr std::uint64_t present = std::uint64_t{1} << 63, file = std::uint64_t{1} << 61;
    // file, file, private copy (present but not file), absent, file
    std::vector<std::uint64_t> entries = {present | file, present | file, present, file, present | file};
    auto runs = clean_file_page_runs(0x10000, entries, 4096);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].start == 0x10000);
    CHECK(runs[0].pages == 2);
    CHECK(runs[1].start == 0x10000 + 4 * 4096);
    CHECK(runs[1].pages == 1);
    CHECK(clean_file_page_runs(0, {present, 0}, 4096).empty());
}

TEST_CASE("dropping our clean executable pages keeps the process working") {
    // Runs in the unit-test binary itself: code and read-only data are
    // dropped and fault back in; a patched (private) page keeps its content.
    static const char k_text[] = "read-only data survives";
    std::uint64_t dropped = drop_clean_executable_pages();
    CHECK(dropped > 0);
    CHECK(std::strcmp(k_text, "read-only data survives") == 0);
    CHECK(parse_maps("00400000-00401000 r--p 00000000 fe:00 7 /x\n").size() == 1);  // code faults back in
}
