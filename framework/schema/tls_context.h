// TLS for the client API and node links, with kj-tls (kj/compat/tls.h, OpenSSL underneath):
// the contexts a node, a peer dialer, the client library, the CLI and tessera-bench make from
// PEM files.
//
// Trust is the configured CA alone (never the system's store): a node's certificate must be
// signed by it, and a client or a dialing peer checks the node's certificate against it and
// against the host of the address it dialed. kj-tls matches that host as a DNS name, also when
// it is an IP address, so a certificate for "10.0.0.5:7401" lists `DNS:10.0.0.5` (and
// `IP:10.0.0.5`) in its subjectAltName.
//
// Thread-safety: a TlsMaterial is immutable and may be shared; a kj::TlsContext made by
// make_server_tls belongs to the loop whose timer it was given; one made by make_client_tls may
// wrap streams on any thread (OpenSSL's SSL_CTX is thread-safe for that).
#pragma once

#include <kj/compat/tls.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera {

// [tls] of a node's config.
struct TlsFiles {
  std::filesystem::path cert_file;  // PEM: the node's certificate (and its chain)
  std::filesystem::path key_file;   // PEM: its private key, unencrypted
  std::filesystem::path ca_file;    // PEM: the CA (or CAs) that signed every node's certificate
};

// What a node serves and trusts with, loaded once.
struct TlsMaterial {
  kj::TlsKeypair keypair;
  std::vector<kj::TlsCertificate> trusted;
};

// Reads and parses the files. InvalidArgument naming `what` (the config section or flag), the
// file and the reason for a file that is missing, unreadable or not the PEM it should be.
Result<std::shared_ptr<const TlsMaterial>> load_tls_material(const TlsFiles& files,
                                                             std::string_view what);
Result<std::vector<kj::TlsCertificate>> load_tls_ca(const std::filesystem::path& ca_file,
                                                    std::string_view what);

// A server context that presents `material`'s keypair; a handshake that does not complete
// within kTlsHandshakeTimeoutMs on `timer` fails.
inline constexpr uint32_t kTlsHandshakeTimeoutMs = 10'000;
kj::Own<kj::TlsContext> make_server_tls(const TlsMaterial& material, kj::Timer& timer);

// A client context that trusts `trusted` only.
kj::Own<kj::TlsContext> make_client_tls(kj::ArrayPtr<const kj::TlsCertificate> trusted);

// The host part of "host:port" (what the server's certificate must name).
std::string tls_host_of(const std::string& address);

}  // namespace tessera
