// The registry of check kinds: a kind is its file in this folder plus one
// line here (ARCHITECTURE.md, "Adding a check kind"). The order is the help order.
#include "common/target_kind.hpp"

#define HEALTHGATE_KINDS(X) \
    X(tcp)                  \
    X(http)                 \
    X(https)                \
    X(dns)                  \
    X(file)                 \
    X(unix)                 \
    X(postgres)             \
    X(mysql)                \
    X(redis)                \
    X(rediss)               \
    X(amqp)                 \
    X(memcached)            \
    X(grpc)                 \
    X(grpcs)

namespace healthgate {
namespace check {
#define HEALTHGATE_DECLARE_KIND(name) extern const TargetKind k_##name##_kind;
HEALTHGATE_KINDS(HEALTHGATE_DECLARE_KIND)
}  // namespace check

std::span<const TargetKind* const> target_kinds() {
#define HEALTHGATE_LIST_KIND(name) &check::k_##name##_kind,
    static const TargetKind* const kinds[] = {HEALTHGATE_KINDS(HEALTHGATE_LIST_KIND)};
    return kinds;
}

}  // namespace healthgate
