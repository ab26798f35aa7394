// The Data Sources API (SPEC 5):
//   POST /v0/datasources?name=feature_events&mode=append[&format=csv|ndjson]
//     a file (the raw body, or a multipart field csv/ndjson/file), streamed
//     into the store (EventStore::ingest_stream); answers once its rows are
//     durable. Quarantined rows name "datasources API import <import_id>".
//   POST /v0/datasources/feature_events/delete
//     form delete_condition=user_id = 'X' [dry_run=true]: erases a user.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/http/crypto.h"
#include "lib/http/delete_condition.h"
#include "lib/http/form_decoding.h"
#include "lib/http/multipart_source.h"
#include "lib/http/request_body.h"
#include "lib/http/routes.h"
#include "lib/util/text.h"

namespace usagedb::http {
namespace {

// A random version 4 UUID, Tinybird's form of an import id.
std::string new_import_id() {
  std::string b = crypto::random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    absl::StrAppendFormat(&hex, "%02x", static_cast<unsigned char>(b[i]));
  }
  return hex;
}

std::string media_type(const RequestHeaders& headers) {
  const std::string_view type = RequestHeaders::value(headers.content_type);
  std::string_view t = type.substr(0, type.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return absl::AsciiStrToLower(text::absl_view(t));
}

absl::StatusOr<InputFormat> format_named(std::string_view name) {
  if (name == "csv") return InputFormat::kCsv;
  if (name == "ndjson") return InputFormat::kNdjson;
  return absl::InvalidArgumentError(absl::StrCat("format: expected csv or ndjson, got '", text::excerpt(name), "'"));
}

// The format a file's name or media type suggests, if any.
std::optional<InputFormat> format_of_filename(std::string_view filename) {
  const std::string lower = absl::AsciiStrToLower(text::absl_view(filename));
  for (const char* ext : {".ndjson", ".jsonl", ".json", ".ndjson.gz"}) {
    if (absl::EndsWith(lower, ext)) return InputFormat::kNdjson;
  }
  if (absl::EndsWith(lower, ".csv")) return InputFormat::kCsv;
  return std::nullopt;
}

std::optional<InputFormat> format_of_media_type(std::string_view type) {
  if (type == "text/csv" || type == "application/csv") return InputFormat::kCsv;
  if (type == "application/x-ndjson" || type == "application/ndjson" || type == "application/jsonl" ||
      type == "application/x-jsonlines" || type == "application/json") {
    return InputFormat::kNdjson;
  }
  return std::nullopt;
}

}  // namespace

void handle_datasources_append(Exchange& ex) {
  const std::string* mode = ex.param("mode");
  if (mode == nullptr) return reply_error(ex.res, 400, "mode: required: mode=append (the one mode supported)");
  if (*mode != "append") {
    return reply_error(ex.res, 400, absl::StrCat("mode: only append is supported, got '", text::excerpt(*mode), "'"));
  }
  if (ex.param("url") != nullptr) {
    return reply_error(ex.res, 400,
                       "url: importing from a URL is not supported: send the file as the request body or as a "
                       "multipart field (csv, ndjson or file)");
  }
  std::optional<InputFormat> format;
  if (const std::string* name = ex.param("format")) {
    absl::StatusOr<InputFormat> f = format_named(*name);
    if (!f.ok()) return reply_status(ex.res, f.status());
    format = *f;
  }
  const std::string type = media_type(ex.state.headers);
  const std::string_view content_type = RequestHeaders::value(ex.state.headers.content_type);
  absl::StatusOr<std::unique_ptr<RequestBody>> body = RequestBody::open(ex, ex.server.options.max_file_bytes);
  if (!body.ok()) return reply_status(ex.res, body.status());
  ByteSource* file = &(*body)->source();
  // curl --data-binary @file sends a form's Content-Type: a raw file, unless
  // the form is the url= of an import from a URL (as the SDK sends it).
  InputBuffer prefix;
  if (type == "application/x-www-form-urlencoded") {
    constexpr std::string_view kUrl = "url=";
    absl::StatusOr<bool> whole = (*body)->read_prefix(kUrl.size(), &prefix);
    if (!whole.ok()) return reply_status(ex.res, whole.status());
    if (prefix.view() == kUrl) {
      return reply_error(ex.res, 400,
                         "url: importing from a URL is not supported: send the file as the request body or as a "
                         "multipart field (csv, ndjson or file)");
    }
  }
  std::unique_ptr<MultipartSource> multipart;
  if (is_multipart_form_data(content_type)) {
    absl::StatusOr<std::string> boundary = multipart_boundary(content_type);
    if (!boundary.ok()) return reply_status(ex.res, boundary.status());
    multipart = std::make_unique<MultipartSource>(*file, *boundary, std::vector<std::string>{"csv", "ndjson", "file"});
    if (absl::Status s = multipart->open(); !s.ok()) return reply_status(ex.res, s);
    if (!format) {
      if (multipart->field_name() == "csv") format = InputFormat::kCsv;
      if (multipart->field_name() == "ndjson") format = InputFormat::kNdjson;
      if (!format) format = format_of_filename(multipart->filename());
    }
    file = multipart.get();
  } else if (!format) {
    format = format_of_media_type(type);
  }
  // Streamed into the store, which answers once the rows are durable.
  const std::string import_id = new_import_id();
  const std::string source = absl::StrCat("datasources API import ", import_id);
  absl::StatusOr<IngestReport> report = ex.server.store.ingest_stream(
      input_source(prefix.view(), *file),
      IngestStreamOptions{
          .format = format.value_or(InputFormat::kCsv), .source = source, .size_hint = (*body)->size_hint()});
  if (!report.ok()) return reply_status(ex.res, report.status());
  ex.server.metrics.record_ingest(*report);
  std::string out =
      absl::StrCat("{\"successful_rows\":", report->successful_rows, ",\"quarantined_rows\":", report->quarantined_rows,
                   ",\"duplicate_rows\":", report->duplicate_rows, ",\"import_id\":\"", import_id, "\"}");
  reply_json(ex.res, 200, std::move(out));
}

void handle_datasources_delete(Exchange& ex) {
  api::Params params = ex.state.query;
  if (ex.state.has_body) {
    if (is_multipart_form_data(RequestHeaders::value(ex.state.headers.content_type))) {
      return reply_error(ex.res, 400,
                         "send the form as application/x-www-form-urlencoded (curl -d, not -F): "
                         "delete_condition=user_id = 'X'");
    }
    absl::StatusOr<std::unique_ptr<RequestBody>> body = RequestBody::open(ex, ex.server.options.max_body_bytes);
    if (!body.ok()) return reply_status(ex.res, body.status());
    absl::StatusOr<std::string> text = (*body)->read_all();
    if (!text.ok()) return reply_status(ex.res, text.status());
    absl::StatusOr<api::Params> form = parse_form(*text, "form body");
    if (!form.ok()) return reply_status(ex.res, form.status());
    params.insert(params.end(), form->begin(), form->end());
  }
  const std::string* condition = nullptr;
  const std::string* dry_run = nullptr;
  for (const auto& [name, value] : params) {
    const std::string** slot = name == "delete_condition" ? &condition : name == "dry_run" ? &dry_run : nullptr;
    if (slot == nullptr) continue;
    if (*slot != nullptr) return reply_error(ex.res, 400, absl::StrCat(name, ": given more than once"));
    *slot = &value;
  }
  if (condition == nullptr) {
    return reply_error(ex.res, 400, "delete_condition: required, e.g. delete_condition=user_id = 'user_615'");
  }
  absl::StatusOr<std::string> user = parse_delete_condition(*condition);
  if (!user.ok()) return reply_status(ex.res, user.status());
  bool dry = false;
  if (dry_run != nullptr) {
    if (*dry_run == "true" || *dry_run == "1") {
      dry = true;
    } else if (*dry_run != "false" && *dry_run != "0") {
      return reply_error(ex.res, 400,
                         absl::StrCat("dry_run: expected true or false, got '", text::excerpt(*dry_run), "'"));
    }
  }
  if (dry) {
    absl::StatusOr<QueryResult<UserFeatureUsageRow>> usage =
        ex.server.store.user_feature_usage(UserFeatureUsageQuery{.user_id = *user});
    if (!usage.ok()) return reply_status(ex.res, usage.status());
    uint64_t rows = 0;
    for (const UserFeatureUsageRow& r : usage->rows) rows += r.usage_count;
    return reply_json(ex.res, 200, absl::StrCat("{\"rows_to_be_deleted\":", rows, "}"));
  }
  absl::StatusOr<uint64_t> deleted = ex.server.store.delete_user(*user);
  if (!deleted.ok()) return reply_status(ex.res, deleted.status());
  if (absl::Status s = ex.server.commit.sync(); !s.ok()) return reply_status(ex.res, s);
  reply_json(ex.res, 200, absl::StrCat("{\"rows_deleted\":", *deleted, "}"));
}

}  // namespace usagedb::http
