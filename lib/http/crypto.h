// The cryptography the HTTP API needs, over OpenSSL (the one file that
// includes it for hashing; lib/http/tls.cc has the TLS side): HMAC-SHA256 for
// JWT signatures, SHA-256 digests of static tokens, comparisons in constant
// time, random bytes for new tokens, and base64url (RFC 4648 section 5, the
// JWT alphabet, no padding).
//
//   std::string mac = crypto::hmac_sha256(key, "header.payload");
//   if (!crypto::equal_constant_time(mac, signature)) ... refuse;
//
// Thread-safety: pure functions (OpenSSL 3 needs no locking setup).
#ifndef USAGEDB_HTTP_CRYPTO_H_
#define USAGEDB_HTTP_CRYPTO_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace usagedb::http::crypto {

inline constexpr size_t kSha256Bytes = 32;

// The 32-byte HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

// The 32-byte SHA-256 digest of `data`.
std::string sha256(std::string_view data);

// a == b, taking time that depends only on the sizes (CRYPTO_memcmp).
bool equal_constant_time(std::string_view a, std::string_view b);

// `n` bytes from the operating system's random source (RAND_bytes); aborts
// when none is available (a server must not mint guessable tokens).
std::string random_bytes(size_t n);

// base64url without padding.
std::string base64url_encode(std::string_view bytes);

// The bytes `text` encodes; nullopt when it holds a character outside the
// base64url alphabet (padding '=' included), has an impossible length
// (4k + 1), or leaves nonzero bits after its last byte (non-canonical).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace usagedb::http::crypto

#endif  // USAGEDB_HTTP_CRYPTO_H_
