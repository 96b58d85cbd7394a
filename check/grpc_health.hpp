#pragma once
// The grpc.health.v1 messages and gRPC's framing, encoded and decoded by
// hand: the two messages are small enough that a protobuf runtime would cost
// more than it saves. Pure functions, no I/O.
//
//   message HealthCheckRequest  { string service = 1; }
//   message HealthCheckResponse { ServingStatus status = 1; }
//     enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
//   message HealthListResponse  { map<string, HealthCheckResponse> statuses = 1; }
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.hpp"

namespace healthgate::check::grpc {

inline constexpr std::string_view k_check_path = "/grpc.health.v1.Health/Check";
inline constexpr std::string_view k_list_path = "/grpc.health.v1.Health/List";

enum class ServingStatus { unknown = 0, serving = 1, not_serving = 2, service_unknown = 3 };

// "SERVING", "NOT_SERVING", ...; other values as "status 7".
std::string serving_status_name(int status);

// gRPC status codes that the check names (the rest by number via status_code_name).
enum StatusCode : int { k_ok = 0, k_not_found = 5, k_unimplemented = 12, k_unavailable = 14 };

// "NOT_FOUND", "UNIMPLEMENTED", ... (the 17 codes of the gRPC spec), else "code N".
std::string status_code_name(int code);

// The HealthCheckRequest for `service` ("" = the whole server).
std::string encode_check_request(std::string_view service);

// One length-prefixed message: compressed flag 0, 4-byte big-endian length, bytes.
std::string frame_message(std::string_view message);

// The single message of a unary response body. Errors: a truncated frame,
// a compressed frame (we ask for none), more than one message.
Expected<std::string> unframe_message(std::string_view body);

// The status of a HealthCheckResponse (unknown fields skipped; none: UNKNOWN).
Expected<int> decode_check_response(std::string_view message);

// The (service, status) pairs of a HealthListResponse, in the order sent.
Expected<std::vector<std::pair<std::string, int>>> decode_list_response(std::string_view message);

// grpc-message is percent-encoded (gRPC spec: "%" + two hex digits); invalid
// escapes are kept as written.
std::string decode_grpc_message(std::string_view text);

// The grpc-timeout header for the time left: at most 8 digits, in
// milliseconds ("1500m"), or whole seconds beyond that.
std::string grpc_timeout(std::chrono::milliseconds left);

}  // namespace healthgate::check::grpc

#include "check/check.hpp"

namespace healthgate::check::grpc {

// What came back on one HTTP/2 stream of a unary call.
struct RpcAnswer {
    int http_status = 0;        // :status; 0 when no header arrived
    int grpc_status = -1;       // grpc-status from trailers (or a trailers-only answer); -1: none
    std::string grpc_message;   // grpc-message, decoded
    std::string body;           // the DATA bytes (framed messages)
};

// "service \"db\"" or "the server" (service ""): how a message names what was asked.
std::string service_label(std::string_view service);

// The verdict on one Health/Check answer: ok only for SERVING. `peer` names
// the server in the reason ("10.0.0.1:50051").
CheckResult judge_check(const RpcAnswer& answer, std::string_view service, std::string_view peer);

// Health/List: the statuses, or `unimplemented` (the server has no List; older
// gRPC servers, gRPC C++ before 1.66 among them), or a failure.
struct ListAnswer {
    bool unimplemented = false;
    CheckResult failure;                          // when neither of the others
    std::vector<std::pair<std::string, int>> statuses;
};
ListAnswer judge_list(const RpcAnswer& answer, std::string_view peer);

// The verdict over services' statuses from Health/List: ok when each of
// `wanted` (or, with none named, every listed service) is SERVING.
CheckResult judge_listed(const std::vector<std::pair<std::string, int>>& statuses,
                         const std::vector<std::string>& wanted, std::string_view peer);

}  // namespace healthgate::check::grpc
