#include "common/yaml_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <yaml-cpp/eventhandler.h>

#include "common/text.hpp"

namespace healthgate {

namespace {

// A line that starts with `---` or `...` followed by a blank or its end: a
// document marker (no scalar may contain one at the start of a line).
bool marker_line(std::string_view line, std::string_view marker) {
    return line.substr(0, 3) == marker && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

// Only blanks, comments and directives: no document of its own.
bool no_content(std::string_view chunk) {
    std::size_t at = 0;
    while (at < chunk.size()) {
        std::size_t end = chunk.find('\n', at);
        std::string_view line = chunk.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        std::size_t first = line.find_first_not_of(" \t\r");
        if (first != std::string_view::npos && line[first] != '#' && line[first] != '%' && !marker_line(line, "...")) {
            return false;
        }
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return true;
}

// Counts the documents the parser finds in a chunk, stopping at the second:
// a chunk without markers holds one, and YAML::Load would silently ignore the
// rest (LoadAll would find "documents" at the same place for ever).
class DocumentCounter : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& mark) override {
        if (++documents_ > 1) throw YAML::ParserException(mark, "unexpected text after the document (a broken quote or bracket?)");
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

private:
    int documents_ = 0;
};

void check_one_document(const std::string& chunk) {
    std::istringstream in(chunk);
    YAML::Parser parser(in);
    DocumentCounter counter;
    while (parser.HandleNextDocument(counter)) {
    }
}

}  // namespace

std::vector<YamlDocument> load_documents(const std::string& text) {
    // YAML is Unicode text; yaml-cpp would pass other bytes through, to come
    // back changed (U+FFFD) wherever they are written again.
    auto fail_at = [&](std::size_t bad, const std::string& what) {
        YAML::Mark mark = YAML::Mark::null_mark();
        mark.pos = static_cast<int>(bad);
        mark.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
        std::size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
        mark.column = static_cast<int>(line_start == std::string::npos || bad == 0 ? bad : bad - line_start - 1);
        throw YAML::ParserException(mark, what);
    };
    if (std::size_t bad = utf8_invalid_at(text); bad != std::string_view::npos) {
        fail_at(bad, "not valid UTF-8 (YAML is UTF-8 text)");
    }
    // Nor may it hold control characters other than tab and line breaks
    // (yaml-cpp reads a NUL as the start of UTF-16 text, and so on).
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                  static_cast<unsigned char>(text[i + 1]) <= 0x9F && static_cast<unsigned char>(text[i + 1]) != 0x85;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F || c1) {
            unsigned code = c1 ? static_cast<unsigned char>(text[i + 1]) : c;
            fail_at(i, fmt::format("control character U+{:04X} (YAML allows only tab and line breaks)", code));
        }
    }
    // A chunk begins at each `---` line (with the directive lines just
    // before it) and after each `...` line.
    struct Chunk {
        std::size_t start = 0, line = 0;
        bool explicit_start = false;  // begins with `---`: a document even when empty
    };
    std::vector<Chunk> chunks{Chunk{}};
    std::size_t line_number = 0, directive_start = std::string::npos, directive_line = 0;
    auto begin_chunk = [&](std::size_t start, std::size_t line, bool explicit_start) {
        if (start == chunks.back().start) {
            chunks.back() = Chunk{start, line, explicit_start};
        } else {
            chunks.push_back(Chunk{start, line, explicit_start});
        }
    };
    for (std::size_t at = 0; at < text.size(); ++line_number) {
        std::size_t end = text.find('\n', at);
        std::string_view line = std::string_view(text).substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (!line.empty() && line[0] == '%') {
            if (directive_start == std::string::npos) directive_start = at, directive_line = line_number;
        } else {
            if (marker_line(line, "---")) {
                bool directives = directive_start != std::string::npos;
                begin_chunk(directives ? directive_start : at, directives ? directive_line : line_number, true);
            } else if (marker_line(line, "...") && end != std::string::npos) {
                begin_chunk(end + 1, line_number + 1, false);
            }
            directive_start = std::string::npos;
        }
        if (end == std::string::npos) break;
        at = end + 1;
    }
    std::vector<YamlDocument> documents;
    std::string comments;  // a chunk of no document (a file's head comment): kept with the next one's text
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        std::size_t end = i + 1 < chunks.size() ? chunks[i + 1].start : text.size();
        std::string chunk = text.substr(chunks[i].start, end - chunks[i].start);
        // Text without a `---` of its own is a document only when it has content.
        if (!chunks[i].explicit_start && no_content(chunk) && (i > 0 || chunks.size() > 1)) {
            comments += chunk;
            continue;
        }
        try {
            // A second parse, for the count: yaml-cpp's Load stops reading
            // after a scalar, a flow collection and even a block sequence.
            check_one_document(chunk);
            YAML::Node node = YAML::Load(chunk);
            documents.push_back(YamlDocument{node, comments + chunk});
            comments.clear();
        } catch (const YAML::ParserException& e) {
            YAML::Mark mark = e.mark;
            mark.line += static_cast<int>(chunks[i].line);
            throw YAML::ParserException(mark, e.msg);
        }
    }
    return documents;
}

std::vector<YAML::Node> load_all(const std::string& text) {
    std::vector<YAML::Node> nodes;
    for (YamlDocument& document : load_documents(text)) nodes.push_back(std::move(document.node));
    return nodes;
}

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
        std::vector<YAML::Node> documents = load_all(text);
        if (documents.size() > 1) {
            return make_error(fmt::format("{}a config is one YAML document; a second one begins here",
                                          yaml_where(file, documents[1])));
        }
        YAML::Node root = documents.empty() ? YAML::Node(YAML::NodeType::Null) : documents[0];
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
