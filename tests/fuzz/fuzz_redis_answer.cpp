// Redis replies (RESP) to AUTH, PING and INFO replication, with and without
// a password given and a role asked for.
#include "check/kinds/redis.hpp"
#include "fuzz_protocol.hpp"

using namespace healthgate::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RespReply reply = parse_resp_reply(fuzz_bytes(data, size));
    FUZZ_CHECK(reply.consumed <= size);
    FUZZ_CHECK(!reply.complete || reply.consumed > 0);
    check_protocol_answer(parse_redis_replies(fuzz_bytes(data, size), false, ""), size);
    check_protocol_answer(parse_redis_replies(fuzz_bytes(data, size), true, "master"), size);
    check_protocol_answer(parse_redis_replies(fuzz_bytes(data, size), false, "replica"), size);
    return 0;
}
