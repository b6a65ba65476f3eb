#include "tls_context.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace tessera {
namespace {

Result<std::string> read_file(const std::filesystem::path& file, std::string_view what,
                              std::string_view role) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::invalid_argument(std::string(what) + ": cannot read the " + std::string(role) +
                                    " " + file.string());
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Runs `parse` (a kj-tls constructor, which throws on bad input) and turns its failure into
// InvalidArgument naming the file.
template <typename T, typename Parse>
Result<T> parse_pem(Parse parse, const std::filesystem::path& file, std::string_view what,
                    std::string_view role) {
  std::optional<T> parsed;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { parsed.emplace(parse()); })) {
    return Status::invalid_argument(std::string(what) + ": " + file.string() + " is not a PEM " +
                                    std::string(role) + " (" + e->getDescription().cStr() + ")");
  }
  return std::move(*parsed);
}

// Whether the first certificate of `cert_pem` is the public half of `key_pem` (kj-tls would
// only find out at the first handshake).
bool key_matches_certificate(const std::string& cert_pem, const std::string& key_pem) {
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  X509* cert = cert_bio ? PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr) : nullptr;
  EVP_PKEY* key = key_bio ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
  const bool matches = cert != nullptr && key != nullptr && X509_check_private_key(cert, key) == 1;
  EVP_PKEY_free(key);
  X509_free(cert);
  BIO_free(key_bio);
  BIO_free(cert_bio);
  return matches;
}

}  // namespace

Result<std::vector<kj::TlsCertificate>> load_tls_ca(const std::filesystem::path& ca_file,
                                                    std::string_view what) {
  TESSERA_ASSIGN_OR_RETURN(std::string pem, read_file(ca_file, what, "CA certificate"));
  TESSERA_ASSIGN_OR_RETURN(kj::TlsCertificate ca,
                           parse_pem<kj::TlsCertificate>(
                               [&]() { return kj::TlsCertificate(kj::StringPtr(pem.c_str())); },
                               ca_file, what, "CA certificate"));
  std::vector<kj::TlsCertificate> trusted;
  trusted.push_back(std::move(ca));
  return trusted;
}

Result<std::shared_ptr<const TlsMaterial>> load_tls_material(const TlsFiles& files,
                                                             std::string_view what) {
  TESSERA_ASSIGN_OR_RETURN(std::string cert_pem, read_file(files.cert_file, what, "certificate"));
  TESSERA_ASSIGN_OR_RETURN(std::string key_pem, read_file(files.key_file, what, "private key"));
  TESSERA_ASSIGN_OR_RETURN(
      kj::TlsCertificate cert,
      parse_pem<kj::TlsCertificate>(
          [&]() { return kj::TlsCertificate(kj::StringPtr(cert_pem.c_str())); }, files.cert_file,
          what, "certificate"));
  TESSERA_ASSIGN_OR_RETURN(
      kj::TlsPrivateKey key,
      parse_pem<kj::TlsPrivateKey>(
          [&]() { return kj::TlsPrivateKey(kj::StringPtr(key_pem.c_str())); }, files.key_file,
          what, "private key (unencrypted)"));
  TESSERA_ASSIGN_OR_RETURN(std::vector<kj::TlsCertificate> trusted,
                           load_tls_ca(files.ca_file, what));
  auto material = std::make_shared<TlsMaterial>(
      TlsMaterial{kj::TlsKeypair{std::move(key), std::move(cert)}, std::move(trusted)});
  // A key that does not belong to the certificate fails here rather than at every handshake.
  if (!key_matches_certificate(cert_pem, key_pem)) {
    return Status::invalid_argument(std::string(what) + ": the key " + files.key_file.string() +
                                    " does not go with the certificate " +
                                    files.cert_file.string());
  }
  return std::shared_ptr<const TlsMaterial>(std::move(material));
}

kj::Own<kj::TlsContext> make_server_tls(const TlsMaterial& material, kj::Timer& timer) {
  kj::TlsContext::Options options;
  options.useSystemTrustStore = false;
  options.trustedCertificates = kj::arrayPtr(material.trusted.data(), material.trusted.size());
  options.defaultKeypair = material.keypair;
  options.timer = timer;
  options.acceptTimeout = kTlsHandshakeTimeoutMs * kj::MILLISECONDS;
  return kj::heap<kj::TlsContext>(kj::mv(options));
}

kj::Own<kj::TlsContext> make_client_tls(kj::ArrayPtr<const kj::TlsCertificate> trusted) {
  kj::TlsContext::Options options;
  options.useSystemTrustStore = false;
  options.trustedCertificates = trusted;
  return kj::heap<kj::TlsContext>(kj::mv(options));
}

std::string tls_host_of(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace tessera
