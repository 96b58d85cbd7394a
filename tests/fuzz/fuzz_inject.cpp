// `healthgate inject FILE`: a manifest stream transformed with every part
// wired in (gate, serve with probes moved, exec probes), then with --remove.
// Invariants: an error is one line; what inject wrote, injected again, comes
// back as the same objects (idempotent) and --remove of it succeeds.
// The same objects, not the same bytes: a mangled input (keys with blanks and
// quotes) may come back with its keys in another order or a list in another
// style; tests/inject's golden files hold real manifests to the same bytes.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "common/error_line.hpp"
#include "common/yaml_config.hpp"
#include "fuzz_check.hpp"
#include "inject/inject.hpp"

namespace hi = healthgate::inject;

namespace {

// The data of a node: map keys sorted, styles and tags of collections ignored.
std::string canonical(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            std::vector<std::string> entries;
            for (const auto& entry : node) entries.push_back(canonical(entry.first) + ":" + canonical(entry.second));
            std::sort(entries.begin(), entries.end());
            std::string out = "{";
            for (const std::string& e : entries) out += e + ",";
            return out + "}";
        }
        case YAML::NodeType::Sequence: {
            std::string out = "[";
            for (const auto& item : node) out += canonical(item) + ",";
            return out + "]";
        }
        case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'" + (node.Tag() == "!" ? "!" : "");
        default: return "~";
    }
}

std::string objects(const std::string& yaml) {
    std::string out;
    for (const YAML::Node& document : healthgate::load_all(yaml)) out += canonical(document) + "\n";
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    hi::InjectOptions options;
    options.image = "registry.example.com/healthgate:1";
    options.wait_targets = {"tcp://db:5432"};
    options.entrypoints = {{"", {"/entrypoint", "serve"}}};
    options.exec_probes = options.rewrite_probes = options.serve = true;
    auto first = hi::inject_manifests(text, "fuzz.yaml", options);
    if (!first) {
        std::string line = healthgate::error_line(first.error(), {});
        FUZZ_CHECK(line.find('\n') == std::string::npos);
        return 0;
    }
    auto again = hi::inject_manifests(first->yaml, "fuzz.yaml", options);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->yaml == first->yaml || objects(again->yaml) == objects(first->yaml));
    hi::InjectOptions remove = options;
    remove.remove = true;
    FUZZ_CHECK(hi::inject_manifests(first->yaml, "fuzz.yaml", remove).ok());
    return 0;
}
