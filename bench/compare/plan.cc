#include "bench/compare/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

namespace usagedb::compare {
namespace {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    switch (s[++i]) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_line(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(unescape(line.substr(start, tab == std::string_view::npos ? tab : tab - start)));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return fields;
}

void put_line(std::ostream& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out << '\t';
    out << escape(fields[i]);
  }
  out << '\n';
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string num(uint64_t v) { return std::to_string(v); }

absl::Status write_lines(const std::string& path, const std::ostringstream& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text.str();
  out.close();
  if (!out) return absl::UnavailableError("cannot write " + path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<std::string>>> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::vector<std::vector<std::string>> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(split_line(line));
  return lines;
}

absl::Status malformed(const std::string& path, size_t line) {
  return absl::DataLossError(path + ":" + std::to_string(line + 1) + ": malformed line");
}

}  // namespace

absl::Status write_plan(const Plan& plan, const std::string& path) {
  std::ostringstream out;
  put_line(out, {"events", num(plan.events)});
  const RepetitionPolicy& r = plan.repetitions;
  put_line(out, {"repetitions", std::to_string(r.warmup), num(r.budget_seconds), std::to_string(r.min_reps),
                 std::to_string(r.max_reps)});
  for (const QuerySpec& q : plan.queries) {
    std::vector<std::string> f = {"query", q.name, q.label, q.endpoint};
    for (const auto& [k, v] : q.params) {
      f.push_back(k);
      f.push_back(v);
    }
    put_line(out, f);
  }
  return write_lines(path, out);
}

absl::StatusOr<Plan> read_plan(const std::string& path) {
  absl::StatusOr<std::vector<std::vector<std::string>>> lines = read_lines(path);
  if (!lines.ok()) return lines.status();
  Plan plan;
  for (size_t i = 0; i < lines->size(); ++i) {
    const std::vector<std::string>& f = (*lines)[i];
    if (f[0] == "events" && f.size() == 2) {
      plan.events = std::stoull(f[1]);
    } else if (f[0] == "repetitions" && f.size() == 5) {
      plan.repetitions = {std::stoi(f[1]), std::stod(f[2]), std::stoi(f[3]), std::stoi(f[4])};
    } else if (f[0] == "query" && f.size() >= 4 && f.size() % 2 == 0) {
      QuerySpec q{f[1], f[2], f[3], {}};
      for (size_t k = 4; k < f.size(); k += 2) q.params.emplace_back(f[k], f[k + 1]);
      plan.queries.push_back(std::move(q));
    } else {
      return malformed(path, i);
    }
  }
  return plan;
}

absl::Status write_report(const EngineReport& r, const std::string& path) {
  std::ostringstream out;
  put_line(out, {"engine", r.engine});
  put_line(out, {"version", r.version});
  if (!r.error.empty()) put_line(out, {"error", r.error});
  put_line(out, {"open_seconds", num(r.open_seconds)});
  put_line(out, {"ingest_seconds", num(r.ingest_seconds)});
  put_line(out, {"compact_seconds", num(r.compact_seconds)});
  put_line(out, {"rows", num(r.rows)});
  put_line(out, {"bytes_after_ingest", num(r.bytes_after_ingest)});
  put_line(out, {"bytes_on_disk", num(r.bytes_on_disk)});
  put_line(out, {"bytes_note", r.bytes_note});
  put_line(out, {"rss_open_kib", num(r.rss_open_kib)});
  put_line(out, {"rss_ingest_kib", num(r.rss_ingest_kib)});
  put_line(out, {"rss_compact_kib", num(r.rss_compact_kib)});
  put_line(out, {"rss_final_kib", num(r.rss_final_kib)});
  put_line(out, {"hwm_final_kib", num(r.hwm_final_kib)});
  put_line(out, {"rss_after_open_kib", num(r.rss_after_open_kib)});
  put_line(out, {"memory_note", r.memory_note});
  auto put_query = [&](const char* key, const QueryReport& q) {
    put_line(out, {key, q.name, q.error});
    put_line(out, {"first_ms", num(q.first_ms)});
    std::vector<std::string> lat = {"latencies_ms"};
    for (const double ms : q.latencies_ms) lat.push_back(num(ms));
    put_line(out, lat);
    for (const auto& row : q.rows) {
      std::vector<std::string> f = {"row"};
      f.insert(f.end(), row.begin(), row.end());
      put_line(out, f);
    }
  };
  for (const QueryReport& q : r.queries) put_query("query", q);
  for (const QueryReport& q : r.queries_after_ingest) put_query("query_after_ingest", q);
  return write_lines(path, out);
}

absl::StatusOr<EngineReport> read_report(const std::string& path) {
  absl::StatusOr<std::vector<std::vector<std::string>>> lines = read_lines(path);
  if (!lines.ok()) return lines.status();
  EngineReport r;
  std::vector<QueryReport>* current = nullptr;  // the list the last query line started
  for (size_t i = 0; i < lines->size(); ++i) {
    const std::vector<std::string>& f = (*lines)[i];
    const std::string& key = f[0];
    const bool has_value = f.size() >= 2;
    if ((key == "query" || key == "query_after_ingest") && f.size() == 3) {
      current = key == "query" ? &r.queries : &r.queries_after_ingest;
      current->push_back(QueryReport{f[1], f[2], -1, {}, {}});
    } else if (key == "latencies_ms" && current != nullptr) {
      for (size_t k = 1; k < f.size(); ++k) current->back().latencies_ms.push_back(std::stod(f[k]));
    } else if (key == "row" && current != nullptr) {
      current->back().rows.emplace_back(f.begin() + 1, f.end());
    } else if (key == "first_ms" && f.size() == 2 && current != nullptr) {
      current->back().first_ms = std::stod(f[1]);
    } else if (!has_value || f.size() != 2) {
      return malformed(path, i);
    } else if (key == "engine") {
      r.engine = f[1];
    } else if (key == "version") {
      r.version = f[1];
    } else if (key == "error") {
      r.error = f[1];
    } else if (key == "bytes_note") {
      r.bytes_note = f[1];
    } else if (key == "memory_note") {
      r.memory_note = f[1];
    } else if (key == "open_seconds") {
      r.open_seconds = std::stod(f[1]);
    } else if (key == "ingest_seconds") {
      r.ingest_seconds = std::stod(f[1]);
    } else if (key == "compact_seconds") {
      r.compact_seconds = std::stod(f[1]);
    } else {
      uint64_t* field = key == "rows"                 ? &r.rows
                        : key == "bytes_after_ingest" ? &r.bytes_after_ingest
                        : key == "bytes_on_disk"      ? &r.bytes_on_disk
                        : key == "rss_open_kib"       ? &r.rss_open_kib
                        : key == "rss_ingest_kib"     ? &r.rss_ingest_kib
                        : key == "rss_compact_kib"    ? &r.rss_compact_kib
                        : key == "rss_final_kib"      ? &r.rss_final_kib
                        : key == "hwm_final_kib"      ? &r.hwm_final_kib
                        : key == "rss_after_open_kib" ? &r.rss_after_open_kib
                                                      : nullptr;
      if (field == nullptr) return malformed(path, i);
      *field = std::stoull(f[1]);
    }
  }
  if (r.engine.empty()) return absl::DataLossError(path + ": no engine line (did the child crash?)");
  return r;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace usagedb::compare
