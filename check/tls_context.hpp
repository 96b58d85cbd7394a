#pragma once
// TLS client contexts, created only when an https target first runs (loading
// trust anchors costs memory in a binary that runs in every pod) and then
// cached per (ca file, insecure).
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

struct ssl_st;

namespace healthgate::check {

class TlsContexts {
public:
    // insecure: no verification. Else trust `ca_file` when given, or the
    // system's CAs: $SSL_CERT_FILE, $SSL_CERT_DIR, /etc/ssl/certs/ca-certificates.crt,
    // else OpenSSL's default paths. A ca file that cannot be loaded is an error
    // (not cached: a secret may be mounted later). `cert_file` + `key_file`:
    // a client certificate (PEM, the chain after the leaf) and its key, for mTLS.
    Expected<boost::asio::ssl::context*> get(const std::string& ca_file, bool insecure,
                                             const std::string& cert_file = {}, const std::string& key_file = {});
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::string ca_file;
        bool insecure;
        std::string cert_file, key_file;
        std::unique_ptr<boost::asio::ssl::context> context;
    };
    std::vector<Entry> entries_;
};

// Per connection: SNI (for names, not IP literals: RFC 6066) and, when
// verifying, the DNS name or IP address the certificate must be valid for.
// Returns an error message, or empty.
std::string prepare_tls_connection(ssl_st* ssl, const std::string& name, bool verify);

// Where the verify callback writes what the peer's certificate says (its
// subject and names) when verification fails: OpenSSL drops the certificate
// of a failed handshake, so it is noted while it is at hand. `note` must
// outlive the handshake.
void attach_certificate_note(ssl_st* ssl, std::string* note);

// After a failed handshake, why verification failed, or empty when it did
// not: "certificate verify failed: self-signed certificate (subject CN=x)".
std::string describe_verify_failure(ssl_st* ssl, std::string_view name, const std::string& note);

}  // namespace healthgate::check
