#include "check/hosts_file.hpp"

#include <algorithm>
#include <cstdio>
#include <sys/stat.h>

#include "common/text.hpp"

namespace healthgate::check {
namespace {

constexpr std::size_t k_max_hosts_bytes = 1024 * 1024;

bool equal_icase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

std::vector<boost::asio::ip::address> hosts_lookup(std::string_view text, std::string_view name) {
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::vector<boost::asio::ip::address> out;
    if (name.empty()) return out;
    for (std::string_view line : split(text, '\n')) {
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        std::size_t i = 0;
        std::string_view address;
        bool matched = false;
        while (i < line.size()) {
            while (i < line.size() && is_blank(line[i])) ++i;
            std::size_t start = i;
            while (i < line.size() && !is_blank(line[i])) ++i;
            if (i == start) break;
            std::string_view word = line.substr(start, i - start);
            if (address.empty()) {
                address = word;
            } else if (equal_icase(word, name)) {
                matched = true;
                break;
            }
        }
        if (!matched) continue;
        boost::system::error_code ec;
        // Scoped addresses (fe80::1%eth0) parse too; plain garbage is skipped like glibc.
        auto parsed = boost::asio::ip::make_address(std::string(address), ec);
        if (ec) continue;
        if (std::find(out.begin(), out.end(), parsed) == out.end()) out.push_back(parsed);
    }
    return out;
}

void HostsFile::refresh() {
    struct stat st{};
    if (::stat(path_.c_str(), &st) != 0) {
        present_ = false;
        text_.clear();
        return;
    }
    if (present_ && st.st_ino == inode_ && st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
        st.st_mtim.tv_nsec == mtime_.tv_nsec) {
        return;
    }
    std::string text;
    if (std::FILE* file = std::fopen(path_.c_str(), "re")) {
        text.resize(std::min<std::size_t>(static_cast<std::size_t>(st.st_size), k_max_hosts_bytes));
        text.resize(std::fread(text.data(), 1, text.size(), file));
        std::fclose(file);
    } else {
        present_ = false;
        text_.clear();
        return;
    }
    text_ = std::move(text);
    present_ = true;
    inode_ = st.st_ino;
    size_ = st.st_size;
    mtime_ = st.st_mtim;
}

std::vector<boost::asio::ip::address> HostsFile::lookup(std::string_view name) {
    refresh();
    if (!present_) return {};
    return hosts_lookup(text_, name);
}

}  // namespace healthgate::check
