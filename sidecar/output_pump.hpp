#pragma once
// Passes one of the app's streams (its stdout or stderr pipe) through to ours
// unchanged while keeping the tail for the termination message.
//
// Fast path, no copy of the bulk: tee() duplicates what is in the app's pipe
// into a side pipe (page references, no copy), splice() moves it from the
// app's pipe to our stdout/stderr, and of the side pipe only the last
// `tail_bytes` are read into LastLines; the rest is spliced to /dev/null.
// Where splice cannot write (a terminal on older kernels, an O_APPEND file) it
// falls back to read()+write(). Never blocks on the app's side; when our
// output is full it waits for POLLOUT instead of spinning. When our output is
// gone (EPIPE) the app's pipe is closed, so the app's next write fails as it
// would without us.
#include <cstddef>
#include <memory>

#include "sidecar/last_lines.hpp"

namespace healthgate::sidecar {

class OutputPump {
public:
    enum class State { open, output_blocked, eof };

    // `source`: read end of the app's pipe (set non-blocking here, owned and
    // closed by the pump); `sink`: our fd 1 or 2.
    OutputPump(OutputStream stream, int source, int sink, LastLines& tail, int dev_null);
    ~OutputPump();
    OutputPump(const OutputPump&) = delete;
    OutputPump& operator=(const OutputPump&) = delete;

    // Moves what the pipe holds now (up to a budget, so one busy stream cannot
    // starve signal handling). Returns the state to poll for.
    State pump();
    // Moves everything left, for when the app has exited: stops at EOF, or
    // when nothing more is buffered (a grandchild may still hold the pipe).
    void drain();

    int source() const { return source_; }
    int sink() const { return sink_; }
    State state() const { return state_; }
    bool output_lost() const { return output_lost_; }

private:
    enum class Mode { splice, copy, discard };
    State pump_splice();
    State pump_copy();
    bool capture_tail(std::size_t bytes);  // reads the side pipe after a tee
    bool send_pending_splice();            // moves `pending_` bytes from source to sink
    bool write_copy_buffer();
    void lose_output();

    OutputStream stream_;
    int source_;
    int sink_;
    LastLines& tail_;
    int dev_null_;
    int side_[2] = {-1, -1};
    Mode mode_ = Mode::splice;
    State state_ = State::open;
    bool sink_is_pipe_ = false;  // our output is a pipe (a container's stdout)
    std::size_t pending_ = 0;  // bytes already tee'd into the tail, not yet spliced out
    std::unique_ptr<char[]> buffer_;
    std::size_t buffer_size_ = 0;
    std::size_t buffer_used_ = 0, buffer_sent_ = 0;  // copy mode: bytes read / written
    bool output_lost_ = false;
};

}  // namespace healthgate::sidecar
