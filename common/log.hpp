#pragma once
// Logging through spdlog to stderr, as text or one JSON object a line.
// Call sites give a message and key/value fields; the format decides how
// they are shown:  text: 2026-01-02T03:04:05.678Z info target ready name=db elapsed=1.2s
//                  json: {"time":"...","level":"info","msg":"target ready","name":"db","elapsed":"1.2s"}
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "common/expected.hpp"

namespace healthgate::log {

enum class Format { text, json };
enum class Level { debug, info, warn, error, off };

Expected<Format> parse_format(std::string_view text);  // "text" | "json"
Expected<Level> parse_level(std::string_view text);    // "debug" | "info" | "warn" | "error" | "off"

// Installs the stderr logger. Safe to call again (replaces settings).
void setup(Format format, Level level);

using Field = std::pair<std::string_view, std::string_view>;
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }
bool enabled(Level level);

// Pure: the line that write() would print (without the timestamp when
// `timestamp` is empty). Exposed for tests.
std::string compose(Format format, Level level, std::string_view timestamp, std::string_view message,
                    std::initializer_list<Field> fields);

}  // namespace healthgate::log
