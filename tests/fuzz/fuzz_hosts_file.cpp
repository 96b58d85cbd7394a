// /etc/hosts: the name looked up is the first line of the input, the file the rest.
#include <cstdint>
#include <string>

#include "check/hosts_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::size_t newline = input.find('\n');
    std::string_view name = newline == std::string_view::npos ? std::string_view("localhost") : input.substr(0, newline);
    std::string_view text = newline == std::string_view::npos ? input : input.substr(newline + 1);
    (void)healthgate::check::hosts_lookup(text, name);
    return 0;
}
