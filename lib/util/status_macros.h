// Early-return helpers for absl::Status and absl::StatusOr.
//
//   USAGEDB_RETURN_IF_ERROR(file.sync());
//   USAGEDB_ASSIGN_OR_RETURN(auto part, read_part(path));
#ifndef USAGEDB_UTIL_STATUS_MACROS_H_
#define USAGEDB_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define USAGEDB_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    if (::absl::Status _st = (expr); !_st.ok()) {      \
      return _st;                                      \
    }                                                  \
  } while (0)

#define USAGEDB_CONCAT_INNER_(a, b) a##b
#define USAGEDB_CONCAT_(a, b) USAGEDB_CONCAT_INNER_(a, b)

#define USAGEDB_ASSIGN_OR_RETURN(lhs, expr) \
  USAGEDB_ASSIGN_OR_RETURN_IMPL_(USAGEDB_CONCAT_(_statusor_, __LINE__), lhs, expr)

#define USAGEDB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return std::move(tmp).status();                    \
  }                                                    \
  lhs = std::move(tmp).value()

#endif  // USAGEDB_UTIL_STATUS_MACROS_H_
