#include "common/elf_section.hpp"

#include <catch2/catch.hpp>
#include <cstdio>

#include "temp_file.hpp"

using healthgate::read_elf_section;

TEST_CASE("read_elf_section reads a section of a real ELF file") {
    // This test binary, built by GCC, carries the compiler's identification.
    auto comment = read_elf_section("/proc/self/exe", ".comment");
    REQUIRE(comment.ok());
    CHECK(comment->find("GCC: ") != std::string::npos);
}

TEST_CASE("read_elf_section names what is missing or wrong") {
    auto missing = read_elf_section("/proc/self/exe", ".healthgate.no-such-section");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error() == "/proc/self/exe: no section .healthgate.no-such-section");

    auto no_file = read_elf_section("/nonexistent/healthgate", ".comment");
    REQUIRE_FALSE(no_file.ok());
    CHECK(no_file.error() == "open /nonexistent/healthgate: No such file or directory");

    std::string text = write_temp_file("not an ELF file, just text long enough to hold a header........\n");
    auto not_elf = read_elf_section(text, ".comment");
    std::remove(text.c_str());
    REQUIRE_FALSE(not_elf.ok());
    CHECK(not_elf.error() == text + ": not a 64-bit little-endian ELF file");

    std::string truncated = write_temp_file("\x7f" "ELF");
    auto short_file = read_elf_section(truncated, ".comment");
    std::remove(truncated.c_str());
    REQUIRE_FALSE(short_file.ok());
    CHECK(short_file.error() == truncated + ": not a 64-bit little-endian ELF file");
}
