#include "sidecar/last_lines.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace healthgate::sidecar {

LastLines::LastLines(std::size_t max_bytes, std::size_t max_line)
    : max_bytes_(std::max<std::size_t>(max_bytes, 1)), max_line_(std::max<std::size_t>(std::min(max_line, max_bytes), 1)) {
    partial_[0].line.stream = OutputStream::out;
    partial_[1].line.stream = OutputStream::err;
}

void LastLines::append(OutputStream stream, std::string_view data) {
    Partial& partial = partial_[static_cast<int>(stream)];
    while (!data.empty()) {
        std::size_t newline = data.find('\n');
        std::string_view piece = data.substr(0, newline);
        if (!piece.empty()) {
            partial.active = true;
            std::string& text = partial.line.text;
            if (piece.size() >= max_line_) {
                text.assign(piece.substr(piece.size() - max_line_));
                partial.line.cut_head = true;
            } else {
                std::size_t excess = text.size() + piece.size() > max_line_ ? text.size() + piece.size() - max_line_ : 0;
                if (excess > 0) {
                    text.erase(0, excess);
                    partial.line.cut_head = true;
                }
                text.append(piece);
            }
        }
        partial.touched = ++clock_;
        if (newline == std::string_view::npos) break;
        partial.active = true;
        finish(partial);
        data.remove_prefix(newline + 1);
    }
}

void LastLines::skip(OutputStream stream, std::size_t bytes) {
    if (bytes == 0) return;
    Partial& partial = partial_[static_cast<int>(stream)];
    partial.line.text.clear();
    partial.line.cut_head = true;
    partial.active = true;
    partial.touched = ++clock_;
}

void LastLines::finish(Partial& partial) {
    OutputLine line = std::move(partial.line);
    partial.line = OutputLine{};
    partial.line.stream = line.stream;
    partial.active = false;
    if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
    // Blank lines cost bytes and say nothing in a termination message.
    if (line.text.find_first_not_of(" \t\r") == std::string::npos) return;
    line.complete = true;
    push(std::move(line));
}

void LastLines::push(OutputLine line) {
    bytes_ += line.text.size() + 1;
    lines_.push_back(std::move(line));
    while (bytes_ > max_bytes_ && lines_.size() > 1) {
        bytes_ -= lines_.front().text.size() + 1;
        lines_.pop_front();
    }
}

std::vector<OutputLine> LastLines::lines() const {
    std::vector<OutputLine> out(lines_.begin(), lines_.end());
    const Partial* order[2] = {&partial_[0], &partial_[1]};
    if (order[0]->touched > order[1]->touched) std::swap(order[0], order[1]);
    for (const Partial* partial : order) {
        if (!partial->active || partial->line.text.empty()) continue;
        OutputLine line = partial->line;
        line.complete = false;
        out.push_back(std::move(line));
    }
    return out;
}

namespace {

// Drops ESC [ ... final-byte (CSI) and ESC ] ... BEL/ST (OSC) sequences and
// lone escapes, so colourised logs read as plain text.
std::string strip_escapes(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '\x1b') {
            out += c;
            continue;
        }
        if (i + 1 >= text.size()) break;
        char kind = text[i + 1];
        if (kind == '[') {
            std::size_t j = i + 2;
            while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
            i = j;
        } else if (kind == ']') {
            std::size_t j = i + 2;
            while (j < text.size() && text[j] != '\a' && !(text[j] == '\x1b' && j + 1 < text.size() && text[j + 1] == '\\')) ++j;
            i = (j < text.size() && text[j] == '\x1b') ? j + 1 : j;
        } else {
            i += 1;
        }
    }
    return out;
}

}  // namespace

std::string printable(const OutputLine& line, std::size_t max_bytes) {
    std::string_view raw = line.text;
    std::string text = strip_escapes(raw);
    if (auto cr = text.rfind('\r'); cr != std::string::npos && cr + 1 < text.size()) text.erase(0, cr + 1);
    std::string clean;
    clean.reserve(text.size());
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '\t') clean += ' ';
        else if (byte < 0x20 || byte == 0x7f) continue;
        else clean += c;
    }
    // A line whose head was cut may start inside a UTF-8 sequence.
    auto skip_continuation = [](std::string_view text) {
        std::size_t lead = 0;
        while (lead < text.size() && lead < 3 && (static_cast<unsigned char>(text[lead]) & 0xC0) == 0x80) ++lead;
        return text.substr(lead);
    };
    std::string out = utf8_sanitize(line.cut_head ? skip_continuation(clean) : std::string_view(clean));
    static constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";  // …
    bool cut = line.cut_head;
    std::size_t room = cut ? (max_bytes > k_ellipsis.size() ? max_bytes - k_ellipsis.size() : 0) : max_bytes;
    if (out.size() > room) {
        // The end of the line is what it ends with: usually the error.
        cut = true;
        room = max_bytes > k_ellipsis.size() ? max_bytes - k_ellipsis.size() : 0;
        out = std::string(skip_continuation(std::string_view(out).substr(out.size() - room)));
    }
    if (cut && out.size() + k_ellipsis.size() <= max_bytes) out.insert(0, k_ellipsis);
    return out;
}

namespace {

bool looks_like_error(std::string_view text) {
    if (text.empty() || text[0] == ' ' || text[0] == '\t') return false;  // stack frames are indented
    std::string lower = to_lower(text.substr(0, 512));
    for (std::string_view word : {"panic", "fatal", "error", "exception", "killed", "segmentation fault", "abort"}) {
        if (lower.find(word) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

bool is_blank(const OutputLine& line) {
    OutputLine plain = line;
    plain.cut_head = false;
    return trim(printable(plain, 512)).empty();
}

int pick_quote(const std::vector<OutputLine>& lines) {
    // Look back a few dozen lines: far enough to skip a Go or Java stack
    // trace, near enough not to quote an error the app recovered from.
    constexpr int k_lookback = 40;
    int last_non_blank = -1;
    int n = static_cast<int>(lines.size());
    for (int i = n - 1; i >= 0 && i >= n - k_lookback; --i) {
        if (is_blank(lines[static_cast<std::size_t>(i)])) continue;
        std::string text = printable(lines[static_cast<std::size_t>(i)], 512);
        if (last_non_blank < 0) last_non_blank = i;
        if (looks_like_error(text)) return i;
    }
    if (last_non_blank >= 0) return last_non_blank;
    for (int i = n - 1; i >= 0; --i) {
        if (!is_blank(lines[static_cast<std::size_t>(i)])) return i;
    }
    return -1;
}

}  // namespace healthgate::sidecar
