#include "common/log.hpp"

#include <chrono>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/text.hpp"

namespace healthgate::log {
namespace {

Format g_format = Format::text;
Level g_level = Level::info;
std::shared_ptr<spdlog::logger> g_logger;

std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
        case Level::off: return "off";
    }
    return "info";
}

spdlog::level::level_enum to_spdlog(Level level) {
    switch (level) {
        case Level::debug: return spdlog::level::debug;
        case Level::info: return spdlog::level::info;
        case Level::warn: return spdlog::level::warn;
        case Level::error: return spdlog::level::err;
        case Level::off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

bool needs_quotes(std::string_view value) {
    if (value.empty()) return true;
    for (char c : value) {
        if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
    }
    return false;
}

std::string utc_timestamp() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms);
}

}  // namespace

Expected<Format> parse_format(std::string_view text) {
    if (text == "text") return Format::text;
    if (text == "json") return Format::json;
    return make_error(fmt::format("invalid log format \"{}\": use text or json", text));
}

Expected<Level> parse_level(std::string_view text) {
    for (Level level : {Level::debug, Level::info, Level::warn, Level::error, Level::off}) {
        if (text == level_name(level)) return level;
    }
    return make_error(fmt::format("invalid log level \"{}\": use debug, info, warn, error or off", text));
}

std::string compose(Format format, Level level, std::string_view timestamp, std::string_view message,
                    std::initializer_list<Field> fields) {
    std::string line;
    if (format == Format::json) {
        line.push_back('{');  // not line = "{": GCC 12 -Wrestrict false positive (PR105329)
        if (!timestamp.empty()) line += fmt::format("\"time\":\"{}\",", timestamp);
        line += fmt::format("\"level\":\"{}\",\"msg\":\"{}\"", level_name(level), json_escape(utf8_sanitize(message)));
        for (auto [key, value] : fields) {
            line += fmt::format(",\"{}\":\"{}\"", json_escape(key), json_escape(utf8_sanitize(value)));
        }
        line += "}";
        return line;
    }
    if (!timestamp.empty()) line += fmt::format("{} ", timestamp);
    line += fmt::format("{:<5} {}", level_name(level), message);
    for (auto [key, value] : fields) {
        if (needs_quotes(value)) line += fmt::format(" {}=\"{}\"", key, json_escape(value));
        else line += fmt::format(" {}={}", key, value);
    }
    return line;
}

void setup(Format format, Level level) {
    g_format = format;
    g_level = level;
    if (!g_logger) {
        g_logger = std::make_shared<spdlog::logger>("healthgate", std::make_shared<spdlog::sinks::stderr_sink_st>());
        g_logger->set_pattern("%v");
        g_logger->flush_on(spdlog::level::trace);  // every line reaches the container log at once
    }
    g_logger->set_level(to_spdlog(level));
}

bool enabled(Level level) { return level != Level::off && level >= g_level; }

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (!g_logger) setup(g_format, g_level);
    if (!enabled(level)) return;
    g_logger->log(to_spdlog(level), "{}", compose(g_format, level, utc_timestamp(), message, fields));
}

}  // namespace healthgate::log
