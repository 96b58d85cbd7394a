// What a gRPC server sends back on a Health/Check or Health/List stream: the
// framed protobuf messages and the grpc-message trailer. The first byte picks
// the :status, the second the grpc-status; the rest is the DATA.
#include <string>

#include "check/grpc_health.hpp"
#include "fuzz_check.hpp"

using namespace healthgate::check::grpc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
    if (auto message = unframe_message(rest)) {
        (void)decode_check_response(*message);
        if (auto listed = decode_list_response(*message)) {
            for (const auto& wanted : {std::vector<std::string>{}, std::vector<std::string>{"a", ""}}) {
                auto result = judge_listed(*listed, wanted, "127.0.0.1:1");
                FUZZ_CHECK(result.reason.find('\n') == std::string::npos);
            }
        }
    }
    RpcAnswer answer;
    static const int k_http[] = {0, 200, 404, 503};
    answer.http_status = k_http[data[0] % 4];
    answer.grpc_status = data[1] < 20 ? data[1] : -1;
    answer.grpc_message = decode_grpc_message(rest);
    answer.body = std::string(rest);
    for (const char* service : {"", "orders"}) {
        auto result = judge_check(answer, service, "127.0.0.1:1");
        FUZZ_CHECK(result.reason.find('\n') == std::string::npos);
    }
    (void)judge_list(answer, "127.0.0.1:1");
    return 0;
}
