// `healthgate wait --config FILE`: the YAML file as the loader reads it (from
// a memory file, so each input costs no disk I/O).
#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error_line.hpp"
#include "fuzz_check.hpp"
#include "gate/wait_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int fd = ::memfd_create("wait-config", 0);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
    auto config = healthgate::gate::load_wait_config({"--config", path, "--termination-log", "none"});
    if (!config) {
        std::string line = healthgate::error_line(config.error(), {});
        FUZZ_CHECK(line.find('\n') == std::string::npos);
    }
    return 0;
}
