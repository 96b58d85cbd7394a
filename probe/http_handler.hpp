#pragma once
// The endpoints of `serve` as a pure function of the request and the current
// snapshot: testable without a socket, and unable to wait on a check.
//   /startupz /livez /readyz [/NAME]   and /CONTAINER/<same>
//   ?verbose  ?exclude=NAME  ?format=json (or Accept: application/json)
//   /metrics
#include <string>
#include <string_view>

#include "probe/health_status.hpp"

namespace healthgate::probe {

struct Request {
    std::string_view method;  // "GET"
    std::string_view target;  // "/readyz?verbose"
    std::string_view accept;  // the Accept header, may be empty
};

struct Response {
    int status = 200;
    std::string_view content_type = "text/plain; charset=utf-8";
    std::string body;
    bool allow_get_head = false;  // send "Allow: GET, HEAD" (405)
};

inline constexpr std::string_view k_content_text = "text/plain; charset=utf-8";
inline constexpr std::string_view k_content_json = "application/json";
inline constexpr std::string_view k_content_metrics = "text/plain; version=0.0.4; charset=utf-8";

Response handle(const Request& request, const Snapshot& snapshot);

// The status line and headers of an answer, ready to send before the body
// (written by hand: cheaper than a general serializer for these few fields).
// HTTP/1.0 keep-alive is confirmed with "Connection: keep-alive".
std::string response_head(const Response& response, bool keep_alive, unsigned version);

}  // namespace healthgate::probe
