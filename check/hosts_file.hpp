#pragma once
// /etc/hosts lookups for tcp:// and http(s):// hosts. A static glibc binary
// cannot use NSS, so glibc's "files" source is reimplemented here:
// "ADDRESS NAME [ALIAS...]" per line, '#' starts a comment, names compare
// case-insensitively, every matching line contributes (file order).
#include <boost/asio/ip/address.hpp>
#include <ctime>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace healthgate::check {

// Pure: the addresses `text` (a hosts file) lists for `name`; a trailing dot
// on `name` is ignored.
std::vector<boost::asio::ip::address> hosts_lookup(std::string_view text, std::string_view name);

// The hosts file on disk, re-read only when it changed (stat per lookup).
class HostsFile {
public:
    explicit HostsFile(std::string path) : path_(std::move(path)) {}
    // Empty when the name is not listed or the file is missing/unreadable.
    std::vector<boost::asio::ip::address> lookup(std::string_view name);

private:
    void refresh();

    std::string path_;
    std::string text_;
    bool present_ = false;
    ino_t inode_ = 0;
    off_t size_ = -1;
    timespec mtime_{};
};

}  // namespace healthgate::check
