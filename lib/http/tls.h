// TLS for `usagedb serve --tls-cert PEM --tls-key PEM` (OpenSSL): the server
// context and the handshake of one connection.
//
//   absl::StatusOr<std::unique_ptr<TlsContext>> tls = TlsContext::create(cert, key);
//   SSL* ssl = (*tls)->new_session(fd);   // then ConnectionStream does the handshake
//
// Thread-safety: a TlsContext is immutable after create() and shared by all
// connections; each SSL session is used by one thread at a time.
#ifndef USAGEDB_HTTP_TLS_H_
#define USAGEDB_HTTP_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace usagedb::http {

class TlsContext {
 public:
  // Loads a PEM certificate chain and its private key (TLS 1.2 and up).
  // InvalidArgumentError naming the file that cannot be used.
  static absl::StatusOr<std::unique_ptr<TlsContext>> create(const std::string& cert_file, const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server session over socket `fd` (not yet handshaken); null when
  // OpenSSL cannot allocate one. The caller frees it (SSL_free).
  SSL* new_session(int fd) const;

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// OpenSSL's error queue as text ("" when empty), which it then clears.
std::string tls_error_text();

}  // namespace usagedb::http

#endif  // USAGEDB_HTTP_TLS_H_
