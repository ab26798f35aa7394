// Cursor files: one named sequence number a consumer of the store's feed
// keeps in the store's directory (EventStore::save_cursor, usagedb/feed.h),
// e.g. how far `usagedb forward` got delivering events to a destination.
//
// File `cursor-<name>.udbc`, framed (framed_file.h: magic "UDBCURSR",
// version 1, checksum), body: varint sequence, then the name
// length-prefixed (so a file renamed by hand is noticed). Replaced
// atomically (FileSystem::write_file_atomically): a crash leaves the old
// number or the new one. Not named by the MANIFEST, and not a store file
// (store_file_names.h): opening a store never deletes one.
//
//   std::string bytes = encode_cursor("to-tinybird", 1234);
//   absl::StatusOr<uint64_t> n = decode_cursor(bytes, "to-tinybird", path);
//
// Thread-safety: pure functions.
#ifndef USAGEDB_STORAGE_CURSOR_FILE_H_
#define USAGEDB_STORAGE_CURSOR_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usagedb::storage {

// OK when `name` is 1 to 64 bytes of [A-Za-z0-9_.-] and not "." or "..";
// InvalidArgumentError saying so otherwise.
absl::Status check_cursor_name(std::string_view name);

// "cursor-<name>.udbc". REQUIRES: check_cursor_name(name) is OK.
std::string cursor_file_name(std::string_view name);
// The name in a cursor file's name, if `file` is one ("cursor-x.udbc" -> "x").
std::optional<std::string> cursor_name_of_file(std::string_view file);

std::string encode_cursor(std::string_view name, uint64_t sequence);
// DataLossError naming `path` for damaged bytes or a file of another name.
absl::StatusOr<uint64_t> decode_cursor(std::string_view bytes, std::string_view name, std::string_view path);

}  // namespace usagedb::storage

#endif  // USAGEDB_STORAGE_CURSOR_FILE_H_
