#pragma once
// The last lines the app printed, kept to quote in the termination message.
// Both streams land in one list in arrival order; each stream assembles its
// own partial line, so a stdout fragment never glues onto a stderr line.
// Bounded in bytes; holds raw bytes (invalid UTF-8 included) and leaves
// cleaning to printable(), used when a message is composed.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace healthgate::sidecar {

enum class OutputStream : std::uint8_t { out = 0, err = 1 };

struct OutputLine {
    OutputStream stream = OutputStream::out;
    std::string text;       // raw bytes without the newline
    // Its beginning was not seen (skipped output) or was dropped: a line
    // longer than the limit keeps its end, where a log line's error usually is.
    bool cut_head = false;
    bool complete = true;   // false: no newline yet (still being written)
};

inline constexpr std::size_t k_default_tail_bytes = 8192;
inline constexpr std::size_t k_max_line_bytes = 4096;  // all a termination message can hold

class LastLines {
public:
    explicit LastLines(std::size_t max_bytes = k_default_tail_bytes, std::size_t max_line = k_max_line_bytes);

    void append(OutputStream stream, std::string_view data);
    // `bytes` of the stream went by unseen (the pump reads only the tail of a
    // large chunk): the partial line in progress is lost, the next one starts cut.
    void skip(OutputStream stream, std::size_t bytes);

    // Complete lines, then lines still in progress, oldest first.
    std::vector<OutputLine> lines() const;
    std::size_t max_bytes() const { return max_bytes_; }

private:
    struct Partial {
        OutputLine line;
        bool active = false;
        std::uint64_t touched = 0;  // arrival order among partial lines
    };
    void finish(Partial& partial);
    void push(OutputLine line);

    std::size_t max_bytes_;
    std::size_t max_line_;
    std::deque<OutputLine> lines_;
    std::size_t bytes_ = 0;
    Partial partial_[2];
    std::uint64_t clock_ = 0;
};

// What a person should see of a raw line: ANSI escape sequences removed,
// only the text after the last carriage return (progress bars), other
// control characters dropped, tabs as spaces, valid UTF-8, at most
// `max_bytes`: a longer line keeps its end, cut at a character boundary after
// a leading "…".
std::string printable(const OutputLine& line, std::size_t max_bytes);

// Nothing printable in it (only control bytes, escapes or spaces).
bool is_blank(const OutputLine& line);

// The line worth quoting in a verdict: among the last lines, the last one
// that reads like an error (panic, fatal, error, exception), not an indented
// stack frame; else the last non-blank line. Index into `lines`, or -1.
int pick_quote(const std::vector<OutputLine>& lines);

}  // namespace healthgate::sidecar
