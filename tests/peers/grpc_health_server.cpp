// A real gRPC server for the black-box tests: Debian's gRPC C++ library with
// its default grpc.health.v1 service, whose statuses the test sets over stdin.
//
//   grpc_health_server [--tls CERT KEY [--client-ca CA]] [--no-health]
//   stdout: "port N" once listening, then "metadata NAME=VALUE" per request header
//   stdin:  "set SERVICE SERVING|NOT_SERVING" (SERVICE "-" is the whole server),
//           answered "ok"; end of input stops the server.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Prints the request metadata a client sent, so a test can see it arrive.
class MetadataPrinter final : public grpc::experimental::Interceptor {
public:
    void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
        using grpc::experimental::InterceptionHookPoints;
        if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
            for (const auto& [name, value] : *methods->GetRecvInitialMetadata()) {
                std::string n(name.data(), name.size());
                if (n.rfind("grpc-", 0) == 0 || n == "user-agent" || n == "te" || n == "content-type") continue;
                std::printf("metadata %s=%.*s\n", n.c_str(), static_cast<int>(value.size()), value.data());
                std::fflush(stdout);
            }
        }
        methods->Proceed();
    }
};

class MetadataPrinterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
public:
    grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo*) override {
        return new MetadataPrinter;
    }
};

}  // namespace

int main(int argc, char** argv) {
    const char *cert = nullptr, *key = nullptr, *client_ca = nullptr;
    bool health = true;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--tls") && i + 2 < argc) {
            cert = argv[++i];
            key = argv[++i];
        } else if (!std::strcmp(argv[i], "--client-ca") && i + 1 < argc) {
            client_ca = argv[++i];
        } else if (!std::strcmp(argv[i], "--no-health")) {
            health = false;
        } else {
            std::fprintf(stderr, "usage: %s [--tls CERT KEY [--client-ca CA]] [--no-health]\n", argv[0]);
            return 2;
        }
    }
    grpc::EnableDefaultHealthCheckService(health);
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (cert) {
        grpc::SslServerCredentialsOptions options(
            client_ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
        options.pem_key_cert_pairs.push_back({read_file(key), read_file(cert)});
        if (client_ca) options.pem_root_certs = read_file(client_ca);
        credentials = grpc::SslServerCredentials(options);
    }
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", credentials, &port);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::make_unique<MetadataPrinterFactory>());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    // Every other method answers UNIMPLEMENTED, as a real server does (and a
    // server needs at least one service to start).
    grpc::CallbackGenericService unimplemented;
    builder.RegisterCallbackGenericService(&unimplemented);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0) {
        std::fprintf(stderr, "cannot start the gRPC server\n");
        return 1;
    }
    std::printf("port %d\n", port);
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream words(line);
        std::string verb, service, status;
        words >> verb >> service >> status;
        if (verb == "set" && health && !service.empty()) {
            server->GetHealthCheckService()->SetServingStatus(service == "-" ? "" : service, status == "SERVING");
            std::printf("ok\n");
        } else {
            std::printf("error: %s\n", line.c_str());
        }
        std::fflush(stdout);
    }
    server->Shutdown();
    return 0;
}
