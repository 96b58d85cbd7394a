#include "common/yaml_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "common/text.hpp"

namespace healthgate {

std::string yaml_where(const std::string& file, const YAML::Node& node) {
    auto mark = node.Mark();
    if (mark.line < 0) return fmt::format("{}: ", file);
    return fmt::format("{}:{}: ", file, mark.line + 1);
}

Expected<YAML::Node> load_yaml_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(fmt::format("{}: cannot open config file: {}", path, std::strerror(errno)));
    std::stringstream content;
    content << in.rdbuf();
    return parse_yaml_text(path, content.str());
}

Expected<YAML::Node> parse_yaml_text(const std::string& file, const std::string& text) {
    try {
        YAML::Node root = YAML::Load(text);
        if (!root.IsMap()) {
            return make_error(fmt::format("{}{}", yaml_where(file, root),
                                          root.IsNull() ? "config file is empty" : "expected a map of settings at the top level"));
        }
        return root;
    } catch (const YAML::Exception& e) {
        return make_error(fmt::format("{}:{}: YAML syntax error: {}", file, e.mark.line + 1, e.msg));
    }
}

Expected<std::string> yaml_string(const std::string& file, const YAML::Node& node, std::string_view key) {
    if (!node.IsScalar()) {
        return make_error(fmt::format("{}{}: expected a single value", yaml_where(file, node), key));
    }
    return node.Scalar();
}

Expected<Duration> yaml_duration(const std::string& file, const YAML::Node& node, std::string_view key) {
    auto text = yaml_string(file, node, key);
    if (!text) return make_error(text.error());
    auto d = parse_duration(*text);
    if (!d) return make_error(fmt::format("{}{}: {}", yaml_where(file, node), key, d.error()));
    return *d;
}

Expected<double> yaml_number(const std::string& file, const YAML::Node& node, std::string_view key) {
    auto text = yaml_string(file, node, key);
    if (!text) return make_error(text.error());
    try {
        std::size_t used = 0;
        double value = std::stod(*text, &used);
        if (used == text->size()) return value;
    } catch (const std::exception&) {
    }
    return make_error(fmt::format("{}{}: expected a number, got \"{}\"", yaml_where(file, node), key, *text));
}

Expected<long> yaml_integer(const std::string& file, const YAML::Node& node, std::string_view key) {
    auto text = yaml_string(file, node, key);
    if (!text) return make_error(text.error());
    try {
        std::size_t used = 0;
        long value = std::stol(*text, &used);
        if (used == text->size()) return value;
    } catch (const std::exception&) {
    }
    return make_error(fmt::format("{}{}: expected a whole number, got \"{}\"", yaml_where(file, node), key, *text));
}

Expected<bool> yaml_bool(const std::string& file, const YAML::Node& node, std::string_view key) {
    auto text = yaml_string(file, node, key);
    if (!text) return make_error(text.error());
    bool value = false;
    if (!parse_bool(*text, value)) {
        return make_error(fmt::format("{}{}: expected true or false, got \"{}\"", yaml_where(file, node), key, *text));
    }
    return value;
}

Expected<Target> yaml_target(const std::string& file, const YAML::Node& node, const std::vector<std::string>& extra_keys) {
    if (node.IsScalar()) {
        auto target = parse_target(node.Scalar());
        if (!target) return make_error(yaml_where(file, node) + target.error());
        return target;
    }
    if (!node.IsMap()) {
        return make_error(yaml_where(file, node) + "a target is a URL or a map with url: and options");
    }
    const YAML::Node url = node["url"];
    if (!url) return make_error(yaml_where(file, node) + "target has no url:");
    auto url_text = yaml_string(file, url, "url");
    if (!url_text) return make_error(url_text.error());
    auto target = parse_target(*url_text);
    if (!target) return make_error(yaml_where(file, url) + target.error());
    for (const auto& entry : node) {
        std::string key = entry.first.Scalar();
        if (key == "url" || std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) continue;
        const YAML::Node& value = entry.second;
        std::vector<YAML::Node> values;
        if (value.IsSequence()) {
            for (const auto& item : value) values.push_back(item);  // e.g. several headers
        } else {
            values.push_back(value);
        }
        for (const YAML::Node& item : values) {
            if (!item.IsScalar()) return make_error(fmt::format("{}{}: expected a single value", yaml_where(file, item), key));
            if (auto problem = apply_target_option(*target, key, item.Scalar())) {
                return make_error(yaml_where(file, item) + *problem);
            }
        }
    }
    if (auto problem = check_option_combination(*target)) return make_error(yaml_where(file, node) + *problem);
    return target;
}

}  // namespace healthgate
