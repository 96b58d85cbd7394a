#pragma once
// Reads one named section of an ELF file: the SBOM that the build embeds in the
// static binary (cmake/Sbom.cmake) is read back from /proc/self/exe.
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace healthgate {

// The contents of section `name` of the 64-bit little-endian ELF file at
// `path`, or one line naming what is wrong (no such file, not ELF, no section).
Expected<std::string> read_elf_section(const std::string& path, std::string_view name);

}  // namespace healthgate
