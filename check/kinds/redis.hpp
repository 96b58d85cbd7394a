#pragma once
// redis:// answers as pure functions over bytes (for tests and fuzzing).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "check/session.hpp"

namespace healthgate::check {

// One RESP reply: a simple string (+), error (-), integer (:) or bulk string
// ($). `complete` is false while more bytes are needed; `malformed` when the
// bytes are not RESP.
struct RespReply {
    bool complete = false;
    bool malformed = false;
    char type = 0;
    std::string text;       // without the type byte and CRLF (a bulk string's contents)
    std::size_t consumed = 0;
};
RespReply parse_resp_reply(std::span<const std::uint8_t> bytes);

// The answers to the pipelined requests: [AUTH password], PING, [INFO replication].
// +PONG is ready; -NOAUTH / -WRONGPASS without a password given prove the server
// is up (ready); -LOADING, -MASTERDOWN, -BUSY are not ready, named; a role
// ("master" or "replica") other than the wanted one is not ready.
ProtocolAnswer parse_redis_replies(std::span<const std::uint8_t> bytes, bool password_given, std::string_view role);

// The request bytes, RESP arrays.
std::string redis_request(std::string_view password, bool want_role);

}  // namespace healthgate::check
