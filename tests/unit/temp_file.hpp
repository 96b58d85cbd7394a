#pragma once
// A file with the given content under /tmp for tests that read config files;
// the caller removes it.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

inline std::string write_temp_file(const std::string& content) {
    char path[] = "/tmp/hg-test-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << content;
    return path;
}
