#include "inject/yaml_out.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace healthgate::inject {

namespace {

// YAML's merge key: a plain `<<` (a quoted one is an ordinary key).
bool is_merge_key(const YAML::Node& key) {
    return key.IsScalar() && key.Scalar() == "<<" && (key.Tag() == "?" || key.Tag() == "tag:yaml.org,2002:merge");
}

bool has_key(const YAML::Node& map, const YAML::Node& key) {
    if (!key.IsScalar()) return false;
    for (const auto& entry : map) {
        if (entry.first.IsScalar() && entry.first.Scalar() == key.Scalar()) return true;
    }
    return false;
}

YAML::Node copy(const YAML::Node& node, std::size_t& budget) {
    if (budget == 0) throw TooManyNodes{};
    --budget;
    switch (node.Type()) {
        case YAML::NodeType::Sequence: {
            YAML::Node out(YAML::NodeType::Sequence);
            for (const auto& item : node) out.push_back(copy(item, budget));
            out.SetStyle(node.Style());
            return out;
        }
        case YAML::NodeType::Map: {
            // Keys of the map itself win over merged ones; of several merged
            // maps (`<<: [*a, *b]`) the first wins, as YAML 1.1 says.
            YAML::Node out(YAML::NodeType::Map);
            std::vector<YAML::Node> merged;
            for (const auto& entry : node) {
                if (is_merge_key(entry.first) && (entry.second.IsMap() || entry.second.IsSequence())) {
                    if (entry.second.IsMap()) {
                        merged.push_back(entry.second);
                    } else {
                        for (const auto& item : entry.second) {
                            if (item.IsMap()) merged.push_back(item);
                        }
                    }
                    continue;
                }
                out[copy(entry.first, budget)] = copy(entry.second, budget);
            }
            for (const YAML::Node& source : merged) {
                YAML::Node resolved = copy(source, budget);
                for (const auto& entry : resolved) {
                    if (!has_key(out, entry.first)) out[entry.first] = entry.second;
                }
            }
            out.SetStyle(node.Style());
            return out;
        }
        case YAML::NodeType::Scalar: {
            YAML::Node out(node.Scalar());
            out.SetTag(node.Tag());
            return out;
        }
        case YAML::NodeType::Null: return YAML::Node(YAML::NodeType::Null);
        case YAML::NodeType::Undefined: return YAML::Node();
    }
    return YAML::Node();
}

}  // namespace

YAML::Node deep_copy(const YAML::Node& node, std::size_t max_nodes) {
    std::size_t budget = max_nodes;
    return copy(node, budget);
}

YAML::Node string_node(std::string_view text) {
    YAML::Node out{std::string(text)};
    if (plain_reads_as_non_string(text)) out.SetTag("!");
    return out;
}

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// YAML 1.1 (what Go's yaml readers and kubectl accept) reads these plain
// words as bools or null.
bool is_special_word(std::string_view text) {
    static constexpr std::string_view k_words[] = {"true", "false", "yes", "no", "on", "off", "y", "n",
                                                    "null", "~", ".nan", ".inf", "-.inf", "+.inf"};
    std::string l = lower(text);
    return std::find(std::begin(k_words), std::end(k_words), l) != std::end(k_words);
}

// Digits with an optional sign, point, exponent, base prefix or '_'/':'
// separators (1.1's sexagesimal 1:30): anything a YAML reader may take as a number.
bool looks_numeric(std::string_view text) {
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (i < text.size() && text[i] == '.') ++i;
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    for (; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (!std::isxdigit(c) && c != '.' && c != '_' && c != ':' && c != 'x' && c != 'X' && c != 'o' && c != 'e' &&
            c != 'E' && c != '+' && c != '-') {
            return false;
        }
    }
    return true;
}

// Text that is not a valid plain scalar where it is written: it starts with
// an indicator, holds ": " or " #", or (in flow style) a flow indicator.
// yaml-cpp lets some through (":8081"), which other readers reject.
bool plain_is_invalid(std::string_view text, bool flow) {
    if (text.empty()) return false;
    constexpr std::string_view k_leading = ",[]{}#&*!|>'\"%@`?:";
    if (k_leading.find(text.front()) != std::string_view::npos) return true;
    if (text == "-" || text.starts_with("- ")) return true;
    if (text.front() == ' ' || text.back() == ' ' || text.back() == ':') return true;
    if (text.find(": ") != std::string_view::npos || text.find(" #") != std::string_view::npos) return true;
    return flow && text.find_first_of(",[]{}") != std::string_view::npos;
}

// A literal block (`|`) reads back as the same string only when its
// indentation can be told from its first line, it ends in exactly one line
// break (the clip chomping yaml-cpp writes) and it holds no other control
// character; anything else is written double-quoted, with escapes.
bool literal_keeps(std::string_view text) {
    if (!text.ends_with('\n') || text.ends_with("\n\n")) return false;
    std::size_t first = text.find_first_not_of('\n');
    if (first == std::string_view::npos || text[first] == ' ' || text[first] == '\t') return false;
    return std::none_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\n') || u == 0x7f;
    });
}

void emit(YAML::Emitter& out, const YAML::Node& node, bool flow) {
    switch (node.Type()) {
        case YAML::NodeType::Sequence:
            if (node.size() == 0 || node.Style() == YAML::EmitterStyle::Flow || flow) out << YAML::Flow;
            out << YAML::BeginSeq;
            for (const auto& item : node) emit(out, item, flow);
            out << YAML::EndSeq;
            return;
        case YAML::NodeType::Map:
            if (node.size() == 0 || node.Style() == YAML::EmitterStyle::Flow || flow) out << YAML::Flow;
            out << YAML::BeginMap;
            for (const auto& entry : node) {
                out << YAML::Key;
                emit(out, entry.first, flow);
                out << YAML::Value;
                emit(out, entry.second, flow);
            }
            out << YAML::EndMap;
            return;
        case YAML::NodeType::Scalar: {
            const std::string& text = node.Scalar();
            bool quoted = node.Tag() == "!";
            if (!node.Tag().empty() && node.Tag() != "!" && node.Tag() != "?") out << YAML::VerbatimTag(node.Tag());
            bool multi_line = text.find('\n') != std::string::npos;
            if (quoted && multi_line && !flow && literal_keeps(text)) {
                out << YAML::Literal << text;
            } else if ((quoted && plain_reads_as_non_string(text)) || plain_is_invalid(text, flow) || multi_line) {
                out << YAML::DoubleQuoted << text;
            } else {
                out << text;
            }
            return;
        }
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: out << YAML::Null; return;
    }
}

}  // namespace

bool plain_reads_as_non_string(std::string_view text) {
    return text.empty() || is_special_word(text) || looks_numeric(text);
}

std::string emit_yaml(const YAML::Node& node) {
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    out.SetMapFormat(YAML::Block);
    out.SetNullFormat(YAML::TildeNull);
    emit(out, node, false);
    std::string text = out.c_str();
    if (text.empty() || text.back() != '\n') text += '\n';
    return text;
}

std::string emit_yaml_flow(const YAML::Node& node) {
    YAML::Emitter out;
    out.SetNullFormat(YAML::TildeNull);
    emit(out, node, true);
    return out.c_str();
}

}  // namespace healthgate::inject
