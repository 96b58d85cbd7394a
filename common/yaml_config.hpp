#pragma once
// Shared YAML helpers for the config files of `wait` and `serve`: every error
// names file:line and the bad value. A target in YAML is either a URL string
// or a map with `url:` and the same option keys as the URL's '#' options:
//   targets:
//     - tcp://postgres:5432
//     - url: http://api:8080/healthz
//       status: 200-299
//       header: [ "Authorization: Bearer x" ]
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/target.hpp"

namespace healthgate {

// Every document of a YAML stream, as YAML::LoadAll gives them, but split at
// the document markers first and each loaded alone: yaml-cpp 0.7's LoadAll
// never returns on some malformed streams, and its Load ignores what follows
// a first document (a chunk holding a second one is an error). A parse error
// is thrown as
// YAML::ParserException with its line counted in the whole text.
std::vector<YAML::Node> load_all(const std::string& text);
// The same with each document's own text (from its `---` line, directives
// before it included, to the next document), for a tool that writes back
// unchanged what it did not change, comments and all.
struct YamlDocument {
    YAML::Node node;
    std::string text;
};
std::vector<YamlDocument> load_documents(const std::string& text);

// Loads a YAML file; errors: "file:line: ..." (missing file, syntax error).
Expected<YAML::Node> load_yaml_file(const std::string& path);
// The same for text given inline; `file` names it in errors ("--config-yaml").
Expected<YAML::Node> parse_yaml_text(const std::string& file, const std::string& text);

// "file:line: " prefix for a node (line is 1-based).
std::string yaml_where(const std::string& file, const YAML::Node& node);

// Scalar readers: error "file:line: key: expected ..., got \"value\"".
Expected<std::string> yaml_string(const std::string& file, const YAML::Node& node, std::string_view key);
Expected<Duration> yaml_duration(const std::string& file, const YAML::Node& node, std::string_view key);
Expected<double> yaml_number(const std::string& file, const YAML::Node& node, std::string_view key);
Expected<long> yaml_integer(const std::string& file, const YAML::Node& node, std::string_view key);
Expected<bool> yaml_bool(const std::string& file, const YAML::Node& node, std::string_view key);

// A target from a string or a map (url + options). `extra_keys` lists further
// keys the caller handles itself (e.g. serve's `interval`), which are skipped.
Expected<Target> yaml_target(const std::string& file, const YAML::Node& node,
                             const std::vector<std::string>& extra_keys = {});

}  // namespace healthgate
