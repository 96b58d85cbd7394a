// Target URLs and their '#' options, as given on the command line, in
// HEALTHGATE_TARGETS and in config files; and the error line that quotes them.
#include <cstdint>
#include <string>

#include "common/error_line.hpp"
#include "common/target.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto target = healthgate::parse_target(text);
    if (target) {
        FUZZ_CHECK(!target->name.empty());
        return 0;
    }
    std::string line = healthgate::error_line(target.error(), healthgate::secrets_in(text));
    FUZZ_CHECK(line.find('\n') == std::string::npos);
    FUZZ_CHECK(line.size() <= healthgate::k_error_line_max + 64);
    return 0;
}
