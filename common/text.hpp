#pragma once
// Small string helpers shared by the parsers and the message composers.
#include <string>
#include <string_view>
#include <vector>

namespace healthgate {

std::vector<std::string_view> split(std::string_view text, char separator);
std::string_view trim(std::string_view text);
std::string to_lower(std::string_view text);
bool starts_with_icase(std::string_view text, std::string_view prefix);

// Decodes %XX escapes (and '+' is kept as is). Returns false on a bad escape.
bool percent_decode(std::string_view text, std::string& out);
// The inverse, for a value put into a target's '#' options: every byte but
// letters, digits and . _ - / ~ becomes %XX.
std::string percent_encode(std::string_view text);

// Longest prefix of `text` that is at most `max_bytes` long and does not end in
// the middle of a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);
// Offset of the first byte that does not start a valid UTF-8 sequence, or
// std::string_view::npos when `text` is valid UTF-8.
std::size_t utf8_invalid_at(std::string_view text);
// Replaces invalid UTF-8 sequences with U+FFFD so the result is always valid.
std::string utf8_sanitize(std::string_view text);

// Escapes a string for inclusion inside a JSON string literal (without quotes).
std::string json_escape(std::string_view text);

bool parse_bool(std::string_view text, bool& out);

}  // namespace healthgate
