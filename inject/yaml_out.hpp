#pragma once
// YAML out of yaml-cpp nodes, faithful enough for Kubernetes manifests.
// yaml-cpp's own emitter forgets that a scalar was quoted, so "8080" in args
// would come back as the number 8080 and the apiserver would reject it; this
// one keeps a quoted scalar a string. Aliases are expanded (each node is
// written where it is used) and comments are not kept: yaml-cpp drops them
// when it parses.
#include <cstddef>
#include <string>
#include <string_view>
#include <yaml-cpp/yaml.h>

namespace healthgate::inject {

// Thrown by deep_copy past its node budget (an alias bomb: a few lines of
// aliases of aliases that expand to billions of nodes).
struct TooManyNodes {};
constexpr std::size_t k_max_nodes = 1'000'000;

// A copy sharing no node with the original, so an edit of one use of an
// anchored node does not change its other uses. Merge keys (`<<: *base`,
// `<<: [*a, *b]`) are resolved into the map, as kubectl reads them.
YAML::Node deep_copy(const YAML::Node& node, std::size_t max_nodes = k_max_nodes);

// A string scalar that stays a string when written ("8080", "true", "").
YAML::Node string_node(std::string_view text);

// True when `text` written plain would read back as something else than this
// string: a number, bool, null, or nothing.
bool plain_reads_as_non_string(std::string_view text);

// Block style, two-space indent, sequences indented under their key; ends in a newline.
std::string emit_yaml(const YAML::Node& node);
// One line, every collection in flow style (for a value kept in an annotation).
std::string emit_yaml_flow(const YAML::Node& node);

}  // namespace healthgate::inject
