// `healthgate serve --config FILE` / `config check FILE`: a YAML document
// applied and validated, and the secrets the error edge finds in the file.
#include <cstdint>
#include <string>
#include <yaml-cpp/yaml.h>

#include "common/error_line.hpp"
#include "fuzz_check.hpp"
#include "probe/serve_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> secrets = healthgate::config_secrets(text);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception&) {
        return 0;  // the file loader reports these as file:line errors
    }
    healthgate::probe::LocalIdentity identity{{"10.0.0.7"}, {"pod-0"}};
    auto config = healthgate::probe::load_serve_config_yaml("fuzz.yaml", root, identity);
    if (!config) {
        std::string line = healthgate::error_line(config.error(), secrets);
        FUZZ_CHECK(line.find('\n') == std::string::npos);
    }
    return 0;
}
