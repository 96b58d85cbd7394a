#!/usr/bin/python3
"""A gRPC health server that has Health/List, for the black-box tests.

Debian 12's gRPC C++ (1.51) predates grpc.health.v1.Health/List, so this one
is Python grpcio with the messages of health.proto built at run time from
their descriptor by the protobuf library itself: the bytes healthgate decodes
are protobuf's own encoding, not the test's. Check and List both answer from
one table that the test sets over stdin ("set SERVICE STATUS", "-" for the
whole server); prints "port N" when listening on 127.0.0.1.
"""
import sys
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
try:
    from google.protobuf import message_factory
except ImportError:  # pragma: no cover
    message_factory = None

F = descriptor_pb2.FieldDescriptorProto


def health_proto():
    """grpc.health.v1 as in grpc-proto's health.proto (Check and List)."""
    f = descriptor_pb2.FileDescriptorProto(name="grpc/health/v1/health.proto", package="grpc.health.v1",
                                           syntax="proto3")
    request = f.message_type.add(name="HealthCheckRequest")
    request.field.add(name="service", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    response = f.message_type.add(name="HealthCheckResponse")
    status = response.enum_type.add(name="ServingStatus")
    for number, name in enumerate(["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]):
        status.value.add(name=name, number=number)
    response.field.add(name="status", number=1, type=F.TYPE_ENUM, label=F.LABEL_OPTIONAL,
                       type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus")
    f.message_type.add(name="HealthListRequest")
    listed = f.message_type.add(name="HealthListResponse")
    entry = listed.nested_type.add(name="StatusesEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    type_name=".grpc.health.v1.HealthCheckResponse")
    listed.field.add(name="statuses", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                     type_name=".grpc.health.v1.HealthListResponse.StatusesEntry")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)

    def message(name):
        descriptor = pool.FindMessageTypeByName("grpc.health.v1." + name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    return {name: message(name) for name in
            ("HealthCheckRequest", "HealthCheckResponse", "HealthListRequest", "HealthListResponse")}


def main():
    m = health_proto()
    statuses = {"": "SERVING"}
    number = m["HealthCheckResponse"].ServingStatus.Value

    def check(request, context):
        if request.service not in statuses:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return m["HealthCheckResponse"](status=number(statuses[request.service]))

    def list_(request, context):
        answer = m["HealthListResponse"]()
        for service, status in statuses.items():
            answer.statuses[service].status = number(status)
        return answer

    def handler(function, request):
        return grpc.unary_unary_rpc_method_handler(function, request_deserializer=m[request].FromString,
                                                   response_serializer=lambda message: message.SerializeToString())

    service = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": handler(check, "HealthCheckRequest"),
        "List": handler(list_, "HealthListRequest"),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((service,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("port %d" % port, flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 3 and words[0] == "set":
            name = "" if words[1] == "-" else words[1]
            if words[2] == "REMOVE":
                statuses.pop(name, None)
            else:
                number(words[2])  # raises on a bad name
                statuses[name] = words[2]
            print("ok", flush=True)
        else:
            print("error: expected set SERVICE STATUS", flush=True)
    server.stop(0)


if __name__ == "__main__":
    main()
