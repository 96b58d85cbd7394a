#include "sidecar/output_pump.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace healthgate::sidecar {
namespace {

constexpr std::size_t k_chunk = 1 << 20;         // bytes asked of one tee/splice
constexpr int k_rounds_per_pump = 16;            // then return to the loop (signals, timers)
constexpr std::size_t k_copy_buffer = 64 * 1024; // fallback read()+write()
// Into a pipe, a batch smaller than this is followed by a short pause
// (see pump_splice).
constexpr std::size_t k_batch = 64 * 1024;
constexpr long k_batch_pause_ns = 20'000;

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

OutputPump::OutputPump(OutputStream stream, int source, int sink, LastLines& tail, int dev_null)
    : stream_(stream), source_(source), sink_(sink), tail_(tail), dev_null_(dev_null) {
    set_nonblocking(source_);
    struct stat st {};
    sink_is_pipe_ = ::fstat(sink_, &st) == 0 && S_ISFIFO(st.st_mode);
    buffer_size_ = std::max(tail_.max_bytes(), std::size_t{4096});
    buffer_.reset(new char[buffer_size_]);
    if (::pipe2(side_, O_CLOEXEC | O_NONBLOCK) != 0) {
        side_[0] = side_[1] = -1;
        mode_ = Mode::copy;
        return;
    }
    // The side pipe must hold whatever one tee can take from the source.
    int size = ::fcntl(source_, F_GETPIPE_SZ);
    if (size > 0) ::fcntl(side_[1], F_SETPIPE_SZ, size);
    // When our output is a pipe too (a container's stdout), a pipe as large
    // as the app's lets one splice move a whole chunk: fewer wake-ups of the
    // reader. Best effort; the reader sees no difference but the batching.
    if (size > 0 && ::fcntl(sink_, F_GETPIPE_SZ) > 0 && ::fcntl(sink_, F_GETPIPE_SZ) < size) {
        ::fcntl(sink_, F_SETPIPE_SZ, size);
    }
}

OutputPump::~OutputPump() {
    if (source_ >= 0) ::close(source_);
    if (side_[0] >= 0) ::close(side_[0]);
    if (side_[1] >= 0) ::close(side_[1]);
}

OutputPump::State OutputPump::pump() {
    if (state_ == State::eof) return state_;
    state_ = State::open;
    return mode_ == Mode::copy ? pump_copy() : pump_splice();
}

void OutputPump::drain() {
    // The app has exited: whatever is buffered goes out, waiting for our
    // reader if it must (a slow log reader still gets every byte). A
    // grandchild may keep the pipe open: an empty pipe ends the drain, and
    // one that keeps writing is cut off after a while.
    constexpr auto k_max_drain = std::chrono::seconds(5);
    auto deadline = std::chrono::steady_clock::now() + k_max_drain;
    while (state_ != State::eof && std::chrono::steady_clock::now() < deadline) {
        State state = pump();
        if (state == State::output_blocked) {
            pollfd writable{sink_, POLLOUT, 0};
            ::poll(&writable, 1, 100);
            continue;
        }
        if (state == State::open) {
            int available = 0;
            if (::ioctl(source_, FIONREAD, &available) != 0 || available == 0) break;
        }
    }
}

OutputPump::State OutputPump::pump_splice() {
    for (int round = 0; round < k_rounds_per_pump; ++round) {
        if (pending_ > 0 && !send_pending_splice()) return state_;
        if (mode_ == Mode::copy) return pump_copy();
        // Of a large chunk only the end can be quoted: the bytes before it
        // go straight out, and only the last tail_bytes are tee'd, captured
        // and then spliced (less page reference work per byte).
        int available = 0;
        if (::ioctl(source_, FIONREAD, &available) == 0 && static_cast<std::size_t>(available) > tail_.max_bytes()) {
            std::size_t direct = static_cast<std::size_t>(available) - tail_.max_bytes();
            ssize_t moved = ::splice(source_, nullptr, sink_, nullptr, direct, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (moved > 0) {
                tail_.skip(stream_, static_cast<std::size_t>(moved));
                continue;
            }
            if (moved < 0 && errno == EINTR) continue;
            if (moved < 0 && errno == EAGAIN) return state_ = State::output_blocked;
            if (moved < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
                mode_ = Mode::copy;
                return pump_copy();
            }
            lose_output();
            return state_;
        }
        ssize_t n = ::tee(source_, side_[1], k_chunk, SPLICE_F_NONBLOCK);
        if (n == 0) return state_ = State::eof;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return state_ = State::open;
            // tee refused (should not happen with two pipes): plain copies still work.
            mode_ = Mode::copy;
            return pump_copy();
        }
        capture_tail(static_cast<std::size_t>(n));
        pending_ = static_cast<std::size_t>(n);
        if (!send_pending_splice()) return state_;
        if (mode_ == Mode::copy) return pump_copy();
        // A streaming app writes in small pieces, and a pipe wakes its
        // reader each time it turns non-empty: keeping up piece by piece
        // costs us, the app and the reader behind us a wake-up each (on two
        // cores, most of run's overhead in bench/run). After a small batch,
        // a pause of a few tens of microseconds lets the next pieces gather
        // in the app's 1 MiB pipe, which they come nowhere near filling in
        // that time, and move together. Only into a pipe: into a file or
        // /dev/null a splice wakes nobody.
        if (sink_is_pipe_ && static_cast<std::size_t>(n) < k_batch) {
            timespec pause{0, k_batch_pause_ns};
            ::nanosleep(&pause, nullptr);
        }
    }
    return state_ = State::open;
}

bool OutputPump::capture_tail(std::size_t bytes) {
    std::size_t keep = std::min(bytes, tail_.max_bytes());
    std::size_t drop = bytes - keep;
    if (drop > 0) tail_.skip(stream_, drop);
    while (drop > 0) {
        ssize_t n = ::splice(side_[0], nullptr, dev_null_, nullptr, drop, SPLICE_F_NONBLOCK);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // /dev/null without splice support: read the excess away.
            ssize_t r = ::read(side_[0], buffer_.get(), std::min(drop, buffer_size_));
            if (r <= 0) return false;
            n = r;
        }
        drop -= static_cast<std::size_t>(n);
    }
    std::size_t got = 0;
    while (got < keep) {
        ssize_t n = ::read(side_[0], buffer_.get() + got, keep - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    tail_.append(stream_, std::string_view(buffer_.get(), got));
    return got == keep;
}

bool OutputPump::send_pending_splice() {
    while (pending_ > 0) {
        ssize_t n = ::splice(source_, nullptr, sink_, nullptr, pending_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            pending_ -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            state_ = State::output_blocked;
            return false;
        }
        if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            // Our output cannot take splice (O_APPEND file, some ttys): copy the
            // bytes instead; those already in the tail are not captured twice.
            mode_ = Mode::copy;
            return true;
        }
        lose_output();  // EPIPE, EIO...: nobody reads our output any more
        return false;
    }
    return true;
}

void OutputPump::lose_output() {
    // Without us the app's writes would now fail (SIGPIPE, EPIPE): closing
    // the app's pipe makes them fail the same way, at once. What was already
    // captured stays in the tail.
    output_lost_ = true;
    ::close(source_);
    source_ = -1;
    pending_ = 0;
    buffer_used_ = buffer_sent_ = 0;
    state_ = State::eof;
}

OutputPump::State OutputPump::pump_copy() {
    if (buffer_size_ < k_copy_buffer) {
        buffer_.reset(new char[k_copy_buffer]);
        buffer_size_ = k_copy_buffer;
        buffer_used_ = buffer_sent_ = 0;
    }
    for (int round = 0; round < k_rounds_per_pump; ++round) {
        if (buffer_sent_ < buffer_used_ && !write_copy_buffer()) return state_;
        std::size_t want = buffer_size_;
        // Bytes tee'd before the switch are in the tail already; move them
        // first, without capturing them again.
        if (pending_ > 0) want = std::min(want, pending_);
        ssize_t n = ::read(source_, buffer_.get(), want);
        if (n == 0) return state_ = State::eof;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return state_ = State::open;
            return state_ = State::eof;
        }
        buffer_used_ = static_cast<std::size_t>(n);
        buffer_sent_ = 0;
        if (pending_ > 0) pending_ -= buffer_used_;
        else tail_.append(stream_, std::string_view(buffer_.get(), buffer_used_));
        if (!write_copy_buffer()) return state_;
    }
    return state_ = State::open;
}

bool OutputPump::write_copy_buffer() {
    while (buffer_sent_ < buffer_used_) {
        ssize_t n = ::write(sink_, buffer_.get() + buffer_sent_, buffer_used_ - buffer_sent_);
        if (n > 0) {
            buffer_sent_ += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            state_ = State::output_blocked;
            return false;
        }
        lose_output();
        return false;
    }
    return true;
}

}  // namespace healthgate::sidecar
