#include "check/tls_context.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace healthgate::check {
namespace {

namespace ssl = boost::asio::ssl;

constexpr const char* k_debian_bundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr int k_max_names_shown = 4;

bool file_exists(const char* path) {
    struct stat st{};
    return ::stat(path, &st) == 0;
}

bool is_ip_literal(const std::string& name) {
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, name.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

std::string openssl_error() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown error";
    const char* reason = ERR_reason_error_string(code);
    return reason ? reason : fmt::format("error {:#x}", code);
}

void load_system_trust(SSL_CTX* ctx) {
    const char* file = std::getenv("SSL_CERT_FILE");
    const char* dir = std::getenv("SSL_CERT_DIR");
    bool loaded = false;
    if ((file && *file) || (dir && *dir)) {
        loaded = SSL_CTX_load_verify_locations(ctx, file && *file ? file : nullptr, dir && *dir ? dir : nullptr) == 1;
    } else if (file_exists(k_debian_bundle)) {
        loaded = SSL_CTX_load_verify_locations(ctx, k_debian_bundle, nullptr) == 1;
    }
    if (!loaded) SSL_CTX_set_default_verify_paths(ctx);
    ERR_clear_error();
}

std::string subject_of(X509* cert) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio) return {};
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data ? data : "", n > 0 ? static_cast<std::size_t>(n) : 0);
    BIO_free(bio);
    return out;
}

// "DNS:api.example, IP:10.0.0.1" (the first few), from subjectAltName.
std::string alt_names_of(X509* cert) {
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (!names) return {};
    std::string out;
    int count = sk_GENERAL_NAME_num(names), shown = 0;
    for (int i = 0; i < count && shown < k_max_names_shown; ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        std::string item;
        if (name->type == GEN_DNS) {
            const auto* s = name->d.dNSName;
            item = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        static_cast<std::size_t>(ASN1_STRING_length(s)));
        } else if (name->type == GEN_IPADD) {
            const auto* s = name->d.iPAddress;
            char text[INET6_ADDRSTRLEN] = "";
            int length = ASN1_STRING_length(s);
            if (length == 4 || length == 16) {
                ::inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
                item = std::string("IP:") + text;
            }
        }
        if (item.empty()) continue;
        if (!out.empty()) out += ", ";
        out += item;
        ++shown;
    }
    if (count > shown && shown == k_max_names_shown) out += ", ...";
    GENERAL_NAMES_free(names);
    return out;
}

// "CN=api.test; names DNS:api.test, IP:10.0.0.1"
std::string certificate_note(X509* cert) {
    std::string subject = subject_of(cert);
    std::string names = alt_names_of(cert);
    if (names.empty()) return subject;
    return subject.empty() ? names : subject + ", " + names;
}

int note_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
    if (preverify_ok) return preverify_ok;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* note = ssl ? static_cast<std::string*>(SSL_get_ex_data(ssl, note_index())) : nullptr;
    if (note && note->empty()) {
        if (X509* leaf = X509_STORE_CTX_get0_cert(store)) *note = certificate_note(leaf);
    }
    return preverify_ok;
}

}  // namespace

void attach_certificate_note(ssl_st* ssl, std::string* note) { SSL_set_ex_data(ssl, note_index(), note); }

Expected<ssl::context*> TlsContexts::get(const std::string& ca_file, bool insecure, const std::string& cert_file,
                                         const std::string& key_file) {
    for (auto& entry : entries_) {
        if (entry.insecure == insecure && entry.ca_file == ca_file && entry.cert_file == cert_file &&
            entry.key_file == key_file) {
            return entry.context.get();
        }
    }
    // No openssl.cnf: a probe should behave the same on every image, and the
    // system's config is rarely present in a pod anyway.
    static const bool initialized = OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr) == 1;
    (void)initialized;
    auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX* ctx = context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &verify_callback);
        if (!ca_file.empty()) {
            if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
                std::string why = file_exists(ca_file.c_str()) ? openssl_error() : "no such file";
                ERR_clear_error();
                return make_error(fmt::format("ca={}: cannot load CA certificates: {}", ca_file, why));
            }
        } else {
            load_system_trust(ctx);
        }
    }
    if (!cert_file.empty()) {
        auto cannot = [&](const std::string& option, const std::string& path, std::string_view what) {
            std::string why = file_exists(path.c_str()) ? openssl_error() : "no such file";
            ERR_clear_error();
            return make_error(fmt::format("{}={}: cannot load {}: {}", option, path, what, why));
        };
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
            return cannot("cert", cert_file, "the client certificate");
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
            return cannot("key", key_file, "the private key");
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            ERR_clear_error();
            return make_error(fmt::format("key={} does not belong to the certificate in cert={}", key_file, cert_file));
        }
    }
    entries_.push_back(Entry{ca_file, insecure, cert_file, key_file, std::move(context)});
    return entries_.back().context.get();
}

std::string prepare_tls_connection(ssl_st* ssl, const std::string& name, bool verify) {
    bool ip = is_ip_literal(name);
    if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
        return fmt::format("cannot set TLS server name \"{}\": {}", name, openssl_error());
    }
    if (!verify) return {};
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) : SSL_set1_host(ssl, name.c_str());
    if (ok != 1) return fmt::format("cannot verify against \"{}\": {}", name, openssl_error());
    return {};
}

std::string describe_verify_failure(ssl_st* ssl, std::string_view name, const std::string& note) {
    long result = SSL_get_verify_result(ssl);
    if (result == X509_V_OK) return {};
    std::string out = fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(result));
    if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        out += note.empty() ? fmt::format(" (wanted {})", name) : fmt::format(" (certificate is for {}; wanted {})", note, name);
    } else if (!note.empty()) {
        out += fmt::format(" (certificate {})", note);
    }
    return out;
}

}  // namespace healthgate::check
