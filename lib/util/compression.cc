#include "lib/util/compression.h"

#include <cstdlib>

#include <zstd.h>

#include "absl/strings/str_cat.h"

namespace usagedb::compression {
namespace {

constexpr size_t kMaxExpansion = (128 * 1024) / 4;

}  // namespace

void compress(std::string_view in, int level, std::string* out) {
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compress(out->data() + start, out->size() - start, in.data(), in.size(), level);
  // Compressing into a buffer of ZSTD_compressBound bytes cannot fail except
  // on an invalid level, which is a programming error.
  if (ZSTD_isError(n)) std::abort();
  out->resize(start + n);
}

absl::Status decompress(std::string_view in, size_t expected_size, std::string* out) {
  // The frame header states the content size; check it before allocating, so
  // a corrupt size cannot trigger a huge allocation.
  const unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return absl::DataLossError("zstd: not a zstd frame");
  // compress() always records the size in the frame.
  if (content == ZSTD_CONTENTSIZE_UNKNOWN) return absl::DataLossError("zstd: frame without a content size");
  if (content != expected_size) {
    return absl::DataLossError(absl::StrCat("zstd: frame holds ", content, " bytes, expected ", expected_size));
  }
  // No block of a frame expands 4 bytes into more than 128 KiB (an RLE
  // block), so a larger claim is corrupt: refuse it before allocating.
  if (expected_size / kMaxExpansion > in.size()) {
    return absl::DataLossError(
        absl::StrCat("zstd: ", in.size(), " bytes cannot hold ", expected_size, " bytes of content"));
  }
  const size_t frame = ZSTD_findFrameCompressedSize(in.data(), in.size());
  if (ZSTD_isError(frame)) {
    return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(frame)));
  }
  if (frame != in.size()) {
    return absl::DataLossError(absl::StrCat("zstd: ", in.size() - frame, " bytes after the frame"));
  }
  out->resize(expected_size);
  const size_t n = ZSTD_decompress(out->data(), out->size(), in.data(), in.size());
  if (ZSTD_isError(n)) return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
  if (n != expected_size) {
    return absl::DataLossError(absl::StrCat("zstd: frame holds ", n, " bytes, expected ", expected_size));
  }
  return absl::OkStatus();
}

}  // namespace usagedb::compression
