#include "common/elf_section.hpp"

#include <elf.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

namespace healthgate {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

bool read_at(std::FILE* f, std::uint64_t offset, void* out, std::size_t size) {
    return ::fseeko(f, static_cast<off_t>(offset), SEEK_SET) == 0 && std::fread(out, 1, size, f) == size;
}

}  // namespace

Expected<std::string> read_elf_section(const std::string& path, std::string_view name) {
    File file(std::fopen(path.c_str(), "rb"));
    if (!file) return make_error(fmt::format("open {}: {}", path, std::strerror(errno)));
    auto bad = [&](std::string_view why) { return make_error(fmt::format("{}: {}", path, why)); };

    Elf64_Ehdr header;
    if (!read_at(file.get(), 0, &header, sizeof header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
        return bad("not a 64-bit little-endian ELF file");
    }
    if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shstrndx >= header.e_shnum) {
        return bad("no usable section table");
    }
    std::vector<Elf64_Shdr> sections(header.e_shnum);
    if (!read_at(file.get(), header.e_shoff, sections.data(), sections.size() * sizeof(Elf64_Shdr))) {
        return bad("truncated section table");
    }
    const Elf64_Shdr& names = sections[header.e_shstrndx];
    std::string name_table(names.sh_size, '\0');
    if (!read_at(file.get(), names.sh_offset, name_table.data(), name_table.size())) {
        return bad("truncated section names");
    }
    for (const Elf64_Shdr& section : sections) {
        if (section.sh_name >= name_table.size()) continue;
        if (std::string_view(name_table.c_str() + section.sh_name) != name) continue;
        if (section.sh_type == SHT_NOBITS) return std::string();
        std::string contents(section.sh_size, '\0');
        if (!read_at(file.get(), section.sh_offset, contents.data(), contents.size())) {
            return bad(fmt::format("truncated section {}", name));
        }
        return contents;
    }
    return bad(fmt::format("no section {}", name));
}

}  // namespace healthgate
