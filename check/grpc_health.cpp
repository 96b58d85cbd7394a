#include "check/grpc_health.hpp"

#include "check/http_rules.hpp"  // body_excerpt: server text as one short line

#include <algorithm>
#include <array>
#include <optional>
#include <fmt/format.h>

namespace healthgate::check::grpc {
namespace {

constexpr std::size_t k_frame_header = 5;

// A protobuf reader over one message: varints, and skipping what we do not read.
class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}
    bool done() const { return at_ == data_.size(); }

    bool varint(std::uint64_t& out) {
        out = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at_ >= data_.size()) return false;
            auto byte = static_cast<unsigned char>(data_[at_++]);
            out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80)) return true;
        }
        return false;
    }

    bool bytes(std::string_view& out) {
        std::uint64_t length = 0;
        if (!varint(length) || length > data_.size() - at_) return false;
        out = data_.substr(at_, length);
        at_ += length;
        return true;
    }

    // Skips a field of wire type `type` (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    bool skip(std::uint64_t type) {
        std::uint64_t ignored = 0;
        std::string_view ignored_bytes;
        switch (type) {
            case 0: return varint(ignored);
            case 1: return advance(8);
            case 2: return bytes(ignored_bytes);
            case 5: return advance(4);
            default: return false;
        }
    }

private:
    bool advance(std::size_t n) {
        if (n > data_.size() - at_) return false;
        at_ += n;
        return true;
    }
    std::string_view data_;
    std::size_t at_ = 0;
};

void append_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out += static_cast<char>((value & 0x7f) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
}

// HealthCheckResponse.status, or an error naming the malformed part.
Expected<int> read_status(std::string_view message, std::string_view what) {
    Reader reader(message);
    int status = 0;
    while (!reader.done()) {
        std::uint64_t tag = 0, value = 0;
        if (!reader.varint(tag)) return make_error(fmt::format("malformed {}", what));
        if (tag == (1 << 3 | 0)) {
            if (!reader.varint(value)) return make_error(fmt::format("malformed {}", what));
            status = static_cast<int>(value & 0x7fffffff);
        } else if (!reader.skip(tag & 7)) {
            return make_error(fmt::format("malformed {}", what));
        }
    }
    return status;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string serving_status_name(int status) {
    switch (status) {
        case 0: return "UNKNOWN";
        case 1: return "SERVING";
        case 2: return "NOT_SERVING";
        case 3: return "SERVICE_UNKNOWN";
    }
    return fmt::format("status {}", status);
}

std::string status_code_name(int code) {
    static constexpr std::array<std::string_view, 17> k_names = {
        "OK",        "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED",    "INTERNAL",       "UNAVAILABLE",         "DATA_LOSS",         "UNAUTHENTICATED"};
    if (code >= 0 && code < static_cast<int>(k_names.size())) return std::string(k_names[code]);
    return fmt::format("code {}", code);
}

std::string encode_check_request(std::string_view service) {
    std::string out;
    if (service.empty()) return out;  // proto3: the default value is not sent
    out += static_cast<char>(1 << 3 | 2);
    append_varint(out, service.size());
    out += service;
    return out;
}

std::string frame_message(std::string_view message) {
    std::string out(k_frame_header, '\0');
    auto n = static_cast<std::uint32_t>(message.size());
    out[1] = static_cast<char>(n >> 24);
    out[2] = static_cast<char>(n >> 16);
    out[3] = static_cast<char>(n >> 8);
    out[4] = static_cast<char>(n);
    return out + std::string(message);
}

Expected<std::string> unframe_message(std::string_view body) {
    if (body.empty()) return make_error("no response message");
    if (body.size() < k_frame_header) return make_error("truncated gRPC message");
    if (body[0] != 0) return make_error("compressed gRPC message (none was asked for)");
    std::uint32_t n = 0;
    for (int i = 1; i < 5; ++i) n = n << 8 | static_cast<unsigned char>(body[i]);
    if (n > body.size() - k_frame_header) return make_error("truncated gRPC message");
    if (n != body.size() - k_frame_header) return make_error("more than one gRPC message in a unary response");
    return std::string(body.substr(k_frame_header, n));
}

Expected<int> decode_check_response(std::string_view message) {
    return read_status(message, "HealthCheckResponse");
}

Expected<std::vector<std::pair<std::string, int>>> decode_list_response(std::string_view message) {
    std::vector<std::pair<std::string, int>> out;
    Reader reader(message);
    auto malformed = [] { return make_error("malformed HealthListResponse"); };
    while (!reader.done()) {
        std::uint64_t tag = 0;
        if (!reader.varint(tag)) return malformed();
        if (tag != (1 << 3 | 2)) {
            if (!reader.skip(tag & 7)) return malformed();
            continue;
        }
        std::string_view entry_bytes;
        if (!reader.bytes(entry_bytes)) return malformed();
        // A map entry: key = 1 (string), value = 2 (HealthCheckResponse).
        Reader entry(entry_bytes);
        std::string name;
        int status = 0;
        while (!entry.done()) {
            std::uint64_t field = 0;
            std::string_view bytes;
            if (!entry.varint(field)) return malformed();
            if (field == (1 << 3 | 2) || field == (2 << 3 | 2)) {
                if (!entry.bytes(bytes)) return malformed();
                if (field >> 3 == 1) {
                    name = std::string(bytes);
                } else {
                    auto decoded = read_status(bytes, "HealthListResponse");
                    if (!decoded) return make_error(decoded.error());
                    status = *decoded;
                }
            } else if (!entry.skip(field & 7)) {
                return malformed();
            }
        }
        out.emplace_back(std::move(name), status);
    }
    return out;
}

std::string decode_grpc_message(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        int high = 0, low = 0;
        if (text[i] == '%' && i + 2 < text.size() && (high = hex_digit(text[i + 1])) >= 0 &&
            (low = hex_digit(text[i + 2])) >= 0) {
            out += static_cast<char>(high << 4 | low);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string grpc_timeout(std::chrono::milliseconds left) {
    long long ms = std::max<long long>(left.count(), 1);
    if (ms < 100'000'000) return fmt::format("{}m", ms);
    return fmt::format("{}S", std::min<long long>(ms / 1000, 99'999'999));
}

}  // namespace healthgate::check::grpc

namespace healthgate::check::grpc {
namespace {

CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

std::string with_message(const RpcAnswer& answer) {
    std::string code = status_code_name(answer.grpc_status);
    // grpc-message is the server's text (percent-decoded): one short line in a reason.
    return answer.grpc_message.empty() ? code : code + ": " + body_excerpt(answer.grpc_message, 256);
}

// The failure of a call that did not end with grpc-status OK, or none.
std::optional<CheckResult> call_failure(const RpcAnswer& answer, std::string_view method, std::string_view peer) {
    if (answer.http_status != 200 && answer.grpc_status < 0) {
        if (answer.http_status == 0) {
            return fail(Failure::http_protocol, fmt::format("{} ended the {} call without an answer", peer, method));
        }
        return fail(Failure::http_status, fmt::format("{} answered HTTP status {} to {}, not gRPC (is it a gRPC port?)",
                                                      peer, answer.http_status, method));
    }
    if (answer.grpc_status < 0) {
        return fail(Failure::http_protocol, fmt::format("{} ended the {} call without a grpc-status", peer, method));
    }
    if (answer.grpc_status == k_unimplemented) {
        return fail(Failure::grpc_unimplemented,
                    fmt::format("{} has no grpc.health.v1.Health/{} ({})", peer, method, with_message(answer)));
    }
    if (answer.grpc_status != k_ok) {
        return fail(Failure::grpc_status, fmt::format("{} {}: {}", peer, method, with_message(answer)));
    }
    return std::nullopt;
}

}  // namespace

std::string service_label(std::string_view service) {
    // A listed name comes from the server: one short line, like any text it sends.
    return service.empty() ? std::string("the server") : fmt::format("service \"{}\"", body_excerpt(service, 128));
}

CheckResult judge_check(const RpcAnswer& answer, std::string_view service, std::string_view peer) {
    if (answer.grpc_status == k_not_found) {
        return fail(Failure::grpc_service_unknown,
                    fmt::format("{} is unknown to {} ({})", service_label(service), peer, with_message(answer)));
    }
    if (auto failed = call_failure(answer, "Check", peer)) {
        if (failed->failure == Failure::grpc_status) failed->reason += fmt::format(" (for {})", service_label(service));
        return *failed;
    }
    auto message = unframe_message(answer.body);
    if (!message) return fail(Failure::http_protocol, fmt::format("{}: Health/Check answer: {}", peer, message.error()));
    auto status = decode_check_response(*message);
    if (!status) return fail(Failure::http_protocol, fmt::format("{}: {}", peer, status.error()));
    if (*status == static_cast<int>(ServingStatus::serving)) return {};
    Failure failure = *status == static_cast<int>(ServingStatus::service_unknown) ? Failure::grpc_service_unknown
                                                                                   : Failure::grpc_not_serving;
    return fail(failure, fmt::format("{} is {} at {}", service_label(service), serving_status_name(*status), peer));
}

ListAnswer judge_list(const RpcAnswer& answer, std::string_view peer) {
    ListAnswer out;
    if (auto failed = call_failure(answer, "List", peer)) {
        if (failed->failure == Failure::grpc_unimplemented) out.unimplemented = true;
        else out.failure = *failed;
        return out;
    }
    auto message = unframe_message(answer.body);
    if (!message) {
        out.failure = fail(Failure::http_protocol, fmt::format("{}: Health/List answer: {}", peer, message.error()));
        return out;
    }
    auto statuses = decode_list_response(*message);
    if (!statuses) {
        out.failure = fail(Failure::http_protocol, fmt::format("{}: {}", peer, statuses.error()));
        return out;
    }
    out.statuses = std::move(*statuses);
    return out;
}

CheckResult judge_listed(const std::vector<std::pair<std::string, int>>& statuses,
                         const std::vector<std::string>& wanted, std::string_view peer) {
    std::vector<std::string> problems;
    Failure first = Failure::none;
    auto note = [&](Failure failure, std::string text) {
        if (first == Failure::none) first = failure;
        problems.push_back(std::move(text));
    };
    if (wanted.empty()) {
        for (const auto& [name, status] : statuses) {
            if (status != static_cast<int>(ServingStatus::serving)) {
                note(Failure::grpc_not_serving, fmt::format("{} is {}", service_label(name), serving_status_name(status)));
            }
        }
        if (statuses.empty()) note(Failure::grpc_service_unknown, "Health/List named no service");
    }
    for (const std::string& name : wanted) {
        auto it = std::find_if(statuses.begin(), statuses.end(), [&](const auto& s) { return s.first == name; });
        if (it == statuses.end()) {
            note(Failure::grpc_service_unknown, fmt::format("{} is not listed", service_label(name)));
        } else if (it->second != static_cast<int>(ServingStatus::serving)) {
            note(Failure::grpc_not_serving, fmt::format("{} is {}", service_label(name), serving_status_name(it->second)));
        }
    }
    if (problems.empty()) return {};
    std::string reason;
    for (const auto& p : problems) reason += (reason.empty() ? "" : "; ") + p;
    return fail(first, fmt::format("{} (Health/List at {})", reason, peer));
}

}  // namespace healthgate::check::grpc
