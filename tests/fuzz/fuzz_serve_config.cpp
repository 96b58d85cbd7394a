// `healthgate serve --config FILE` / `config check FILE`: a YAML document
// applied and validated, and the secrets the error edge finds in the file.
#include <cstdint>
#include <string>
#include <yaml-cpp/yaml.h>

#include "common/error_line.hpp"
#include "common/yaml_config.hpp"
#include "fuzz_check.hpp"
#include "probe/serve_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> secrets = healthgate::config_secrets(text);
    // As the file loader reads it (load_all: one document, errors as file:line).
    auto root = healthgate::parse_yaml_text("fuzz.yaml", text);
    if (!root) {
        FUZZ_CHECK(healthgate::error_line(root.error(), secrets).find('\n') == std::string::npos);
        return 0;
    }
    healthgate::probe::LocalIdentity identity{{"10.0.0.7"}, {"pod-0"}};
    auto config = healthgate::probe::load_serve_config_yaml("fuzz.yaml", *root, identity);
    if (!config) {
        std::string line = healthgate::error_line(config.error(), secrets);
        FUZZ_CHECK(line.find('\n') == std::string::npos);
    }
    return 0;
}
