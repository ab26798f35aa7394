#include "bench/compare/report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "bench/peers/peer_sql.h"
#include "lib/api/endpoint_catalog.h"

namespace usagedb::compare {
namespace {

// ---- formatting ---------------------------------------------------------------------------------

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string grouped(uint64_t v) {  // 1234567 -> "1,234,567"
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string ms_text(double ms) {
  if (ms < 1) return fmt("%.3f", ms);
  if (ms < 10) return fmt("%.2f", ms);
  if (ms < 100) return fmt("%.1f", ms);
  return fmt("%.0f", ms);
}

std::string factor_text(double f) {
  if (f < 10) return fmt("%.2fx", f);
  if (f < 100) return fmt("%.1fx", f);
  return fmt("%.0fx", f);
}

std::string display_name(const std::string& engine) {
  if (engine == "duckdb") return "DuckDB";
  if (engine == "chdb") return "chDB";
  return engine;
}

std::string show_row(const std::vector<std::string>& row) {
  std::string s = "[";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) s += ", ";
    s += '\'';
    for (const char c : row[i]) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '\'' || c == '\\') {
        s += fmt("\\x%02x", u);
      } else {
        s += c;
      }
    }
    s += '\'';
  }
  return s + "]";
}

// ---- tables -------------------------------------------------------------------------------------

size_t text_width(const std::string& s) {  // code points: the cells are ASCII plus a few symbols
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::string render(TableStyle style) const {
    std::ostringstream out;
    if (style == TableStyle::kMarkdown) {
      auto line = [&](const std::vector<std::string>& cells) {
        out << '|';
        for (const std::string& c : cells) out << ' ' << c << " |";
        out << '\n';
      };
      line(header);
      out << '|';
      for (size_t i = 0; i < header.size(); ++i) out << (i == 0 ? "---|" : "---:|");
      out << '\n';
      for (const auto& r : rows) line(r);
      return out.str();
    }
    std::vector<size_t> width(header.size(), 0);
    for (size_t i = 0; i < header.size(); ++i) width[i] = text_width(header[i]);
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], text_width(r[i]));
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l;
      for (size_t i = 0; i < cells.size(); ++i) {
        const std::string pad(width[i] - text_width(cells[i]), ' ');
        l += i == 0 ? cells[i] + pad : "  " + pad + cells[i];  // first column left, others right
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out << l << '\n';
    };
    line(header);
    size_t total = 0;
    for (const size_t w : width) total += w + 2;
    out << std::string(total - 2, '-') << '\n';
    for (const auto& r : rows) line(r);
    return out.str();
  }
};

enum class Better { kLower, kHigher };

// usagedb's value against the best peer's, in words: "2.31x faster than DuckDB".
std::string versus_best(const std::vector<EngineReport>& reports, const std::vector<std::optional<double>>& values,
                        Better better, const char* better_word, const char* worse_word) {
  std::optional<double> ours;
  std::optional<double> best;
  std::string best_name;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (!values[i] || *values[i] <= 0) continue;
    if (reports[i].engine == "usagedb") {
      ours = values[i];
    } else if (!best || (better == Better::kLower ? *values[i] < *best : *values[i] > *best)) {
      best = values[i];
      best_name = display_name(reports[i].engine);
    }
  }
  if (!ours || !best) return "";
  const bool ours_better = better == Better::kLower ? *ours <= *best : *ours >= *best;
  const double factor = std::max(*ours, *best) / std::min(*ours, *best);
  return factor_text(factor) + " " + (ours_better ? better_word : worse_word) + " than " + best_name;
}

// The query could not be expressed in that engine's SQL (bench/peers/peer_sql.h).
bool not_applicable(const QueryReport& q) { return q.error.rfind(bench::kNotApplicable, 0) == 0; }

// Two Float64 texts are the same value to 1e-12 relative (engines print doubles each their own
// way, and ClickHouse's shortest digits are not always the last digit of the same double).
bool same_float64(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  const double x = std::strtod(a.c_str(), &end_a);
  const double y = std::strtod(b.c_str(), &end_b);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') return false;
  return std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
}

// Whether two rows of `endpoint` hold the same values: byte-equal text, except Float64 columns
// (the endpoint catalog's types), equal to 1e-12 relative.
bool same_row(const std::string& endpoint, const std::vector<std::string>& got,
              const std::vector<std::string>& want) {
  if (got == want) return true;
  const api::EndpointSpec* spec = api::find_endpoint(endpoint);
  if (spec == nullptr || got.size() != want.size() || got.size() != spec->columns.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    if (spec->columns[i].type != api::ColumnType::kFloat64 || !same_float64(got[i], want[i])) return false;
  }
  return true;
}

const QueryReport* find_query(const EngineReport& r, const std::string& name) {
  for (const QueryReport& q : r.queries) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::string load_average() {
  std::istringstream in(read_first_line("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

MachineInfo read_machine_info() {
  MachineInfo m;
  m.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) m.mem_total_kib = std::stoull(line.substr(9));
  }
  utsname u{};
  if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  m.load_start = load_average();
  return m;
}

int check_results(const Plan& plan, const std::vector<EngineReport>& reports, const std::string& oracle,
                  std::ostream& out) {
  const EngineReport* ref = nullptr;
  for (const EngineReport& r : reports) {
    if (r.engine == oracle) ref = &r;
  }
  if (ref == nullptr) {
    out << "results NOT checked: the oracle (" << oracle << ") did not run\n";
    return 0;
  }
  int failures = 0;
  out << "same rows as " << display_name(oracle) << " (the SPEC's oracle):\n";
  for (const QuerySpec& spec : plan.queries) {
    const QueryReport* expected = find_query(*ref, spec.name);
    std::vector<std::string> problems;
    std::vector<std::string> notes;
    if (expected == nullptr || !expected->error.empty()) {
      problems.push_back(display_name(oracle) + " failed: " + (expected ? expected->error : "no result"));
    } else if (expected->rows.empty()) {
      problems.push_back(display_name(oracle) + " returned no rows (the plan's queries all have rows)");
    }
    auto compare = [&](const std::string& who, const QueryReport* got) {
      if (got != nullptr && not_applicable(*got)) {
        notes.push_back(who + ": " + got->error);
        return;
      }
      if (got == nullptr || !got->error.empty()) {
        problems.push_back(who + " failed: " + (got ? got->error : "no result"));
        return;
      }
      int shown = 0;
      for (size_t i = 0; i < std::max(got->rows.size(), expected->rows.size()) && shown < 3; ++i) {
        const bool have_got = i < got->rows.size(), have_expected = i < expected->rows.size();
        if (have_got && have_expected && same_row(spec.endpoint, got->rows[i], expected->rows[i])) continue;
        ++shown;
        problems.push_back("row " + std::to_string(i) + ": " + who + " " +
                           (have_got ? show_row(got->rows[i]) : "(none)") + " vs " + display_name(oracle) + " " +
                           (have_expected ? show_row(expected->rows[i]) : "(none)"));
      }
      if (got->rows.size() != expected->rows.size()) {
        problems.push_back(who + " has " + std::to_string(got->rows.size()) + " rows, " + display_name(oracle) +
                           " has " + std::to_string(expected->rows.size()));
      }
    };
    for (const EngineReport& r : reports) {
      if (&r == ref || expected == nullptr) continue;
      compare(display_name(r.engine), find_query(r, spec.name));
      if (!r.queries_after_ingest.empty()) {
        const QueryReport* early = nullptr;
        for (const QueryReport& q : r.queries_after_ingest) {
          if (q.name == spec.name) early = &q;
        }
        compare(display_name(r.engine) + " (after ingest, before compact)", early);
      }
    }
    const size_t n = expected ? expected->rows.size() : 0;
    char head[256];
    std::snprintf(head, sizeof head, "  %-8s %-24s %6zu rows  %s\n", problems.empty() ? "same" : "DIFFERENT",
                  spec.name.c_str(), n, spec.label.c_str());
    out << head;
    for (const std::string& p : problems) out << "           " << p << '\n';
    for (const std::string& n : notes) out << "           (" << n << ")\n";
    if (!problems.empty()) ++failures;
  }
  return failures;
}

std::string render_tables(const RunSummary& run, const std::vector<EngineReport>& reports, TableStyle style) {
  const bool md = style == TableStyle::kMarkdown;
  std::ostringstream out;
  const MachineInfo& m = run.machine;
  const uint64_t n = run.plan.events;
  out << (md ? "" : "\n") << grouped(n) << " events (" << fmt("%.1f", run.ndjson_bytes / 1e6)
      << " MB of NDJSON, generator seed " << run.seed << ")" << (run.smoke ? ", SMOKE run (few repetitions)" : "")
      << (md ? "  \n" : "\n");
  out << "machine: " << m.nproc << " cores (nproc), " << m.cpu_model << ", "
      << fmt("%.1f", m.mem_total_kib / 1048576.0) << " GiB RAM, " << m.kernel << (md ? "  \n" : "\n");
  out << "load average (1/5/15 min): " << m.load_start << " at the start, " << m.load_end << " at the end"
      << (md ? "  \n" : "\n");
  out << "engines:";
  for (const EngineReport& r : reports) out << " " << display_name(r.engine) << " " << r.version << ";";
  out << " each in its own process, one after the other, the NDJSON file in the page cache for all"
      << (md ? "\n\n" : "\n\n");

  std::vector<std::string> header = {"ingest and storage"};
  for (const EngineReport& r : reports) header.push_back(display_name(r.engine));
  header.push_back("usagedb vs best peer");
  Table t{header, {}};
  auto add = [&](const std::string& label, auto value_of, auto text_of, Better better, const char* bw,
                 const char* ww) {
    std::vector<std::string> row = {label};
    std::vector<std::optional<double>> values;
    for (const EngineReport& r : reports) {
      const std::optional<double> v = value_of(r);
      values.push_back(v);
      row.push_back(v ? text_of(*v) : "-");
    }
    row.push_back(versus_best(reports, values, better, bw, ww));
    t.rows.push_back(row);
  };
  using Opt = std::optional<double>;
  auto secs = [](double v) { return fmt("%.2f", v); };
  auto rate = [](double v) { return grouped(static_cast<uint64_t>(v)); };
  auto mib = [](double v) { return fmt("%.0f", v); };
  add("open (s)", [](const EngineReport& r) { return Opt(r.open_seconds); }, secs, Better::kLower, "faster",
      "slower");
  add("load / ingest_file (s)", [](const EngineReport& r) { return Opt(r.ingest_seconds); }, secs, Better::kLower,
      "faster", "slower");
  add("  ingest events/s", [&](const EngineReport& r) { return Opt(n / r.ingest_seconds); }, rate, Better::kHigher,
      "faster", "slower");
  add("compact (s)",
      [](const EngineReport& r) { return r.compact_seconds < 0 ? Opt() : Opt(r.compact_seconds); }, secs,
      Better::kLower, "faster", "slower");
  add("  ingest + compact events/s",
      [&](const EngineReport& r) { return Opt(n / (r.ingest_seconds + std::max(r.compact_seconds, 0.0))); }, rate,
      Better::kHigher, "faster", "slower");
  add("peak RSS after open (MiB)", [](const EngineReport& r) { return Opt(r.rss_open_kib / 1024.0); }, mib,
      Better::kLower, "less", "more");
  add("peak RSS during ingest (MiB)", [](const EngineReport& r) { return Opt(r.rss_ingest_kib / 1024.0); }, mib,
      Better::kLower, "less", "more");
  add("peak RSS overall (MiB)", [](const EngineReport& r) { return Opt(r.rss_final_kib / 1024.0); }, mib,
      Better::kLower, "less", "more");
  add("bytes on disk (MB)", [](const EngineReport& r) { return Opt(r.bytes_on_disk / 1e6); },
      [](double v) { return fmt("%.1f", v); }, Better::kLower, "smaller", "larger");
  add("  bytes per event", [&](const EngineReport& r) { return Opt(static_cast<double>(r.bytes_on_disk) / n); },
      [](double v) { return fmt("%.1f", v); }, Better::kLower, "smaller", "larger");
  out << t.render(style) << '\n';

  std::vector<std::string> qheader = {"query (ms)", "rows"};
  for (const EngineReport& r : reports) {
    qheader.push_back(display_name(r.engine) + " p50");
    qheader.push_back(display_name(r.engine) + " p99");
  }
  qheader.push_back("usagedb p50 vs best peer");
  qheader.push_back("timed runs");
  Table q{qheader, {}};
  for (const QuerySpec& spec : run.plan.queries) {
    std::vector<std::string> row = {spec.name, ""};
    std::vector<std::optional<double>> p50s;
    std::string runs;
    for (const EngineReport& r : reports) {
      const QueryReport* qr = find_query(r, spec.name);
      const bool ok = qr != nullptr && qr->error.empty() && !qr->latencies_ms.empty();
      const char* missing = qr != nullptr && not_applicable(*qr) ? "n/a" : "error";
      if (ok && row[1].empty()) row[1] = grouped(qr->rows.size());
      p50s.push_back(ok ? Opt(percentile(qr->latencies_ms, 50)) : Opt());
      row.push_back(ok ? ms_text(*p50s.back()) : missing);
      row.push_back(ok ? ms_text(percentile(qr->latencies_ms, 99)) : missing);
      runs += (runs.empty() ? "" : "/") + std::to_string(qr ? qr->latencies_ms.size() : 0);
    }
    row.push_back(versus_best(reports, p50s, Better::kLower, "faster", "slower"));
    row.push_back(runs);
    q.rows.push_back(row);
  }
  out << q.render(style) << '\n';

  // usagedb's queries right after the load, before compact(): the parts and rollups ingest_file
  // left, against the peers' p50 of the table above.
  const EngineReport* ours = nullptr;
  for (const EngineReport& r : reports) {
    if (r.engine == "usagedb" && !r.queries_after_ingest.empty()) ours = &r;
  }
  if (ours != nullptr) {
    std::vector<std::string> eheader = {"after ingest, before compact (ms)", "usagedb p50", "usagedb p99"};
    for (const EngineReport& r : reports) {
      if (&r != ours) eheader.push_back(display_name(r.engine) + " p50");
    }
    eheader.push_back("usagedb p50 vs best peer");
    Table early{eheader, {}};
    for (const QuerySpec& spec : run.plan.queries) {
      std::vector<std::string> row = {spec.name};
      std::vector<std::optional<double>> p50s;
      for (const EngineReport& r : reports) {
        const QueryReport* qr = nullptr;
        for (const QueryReport& q : (&r == ours ? r.queries_after_ingest : r.queries)) {
          if (q.name == spec.name) qr = &q;
        }
        const bool ok = qr != nullptr && qr->error.empty() && !qr->latencies_ms.empty();
        p50s.push_back(ok ? Opt(percentile(qr->latencies_ms, 50)) : Opt());
        const std::string missing = qr != nullptr && not_applicable(*qr) ? "n/a" : "error";
        if (&r == ours) {
          row.push_back(ok ? ms_text(*p50s.back()) : missing);
          row.push_back(ok ? ms_text(percentile(qr->latencies_ms, 99)) : missing);
        } else {
          row.push_back(ok ? ms_text(*p50s.back()) : missing);
        }
      }
      row.push_back(versus_best(reports, p50s, Better::kLower, "faster", "slower"));
      early.rows.push_back(row);
    }
    out << early.render(style) << '\n';
  }

  // The first run of each query (the first warm-up, untimed in the table above): what a query
  // costs before any cache of the engine (usagedb's rollup cache, the peers' own) holds it.
  std::vector<std::string> fheader = {"first run (ms)"};
  for (const EngineReport& r : reports) fheader.push_back(display_name(r.engine));
  fheader.push_back("usagedb vs best peer");
  Table first{fheader, {}};
  for (const QuerySpec& spec : run.plan.queries) {
    std::vector<std::string> row = {spec.name};
    std::vector<std::optional<double>> values;
    for (const EngineReport& r : reports) {
      const QueryReport* qr = find_query(r, spec.name);
      const bool ok = qr != nullptr && qr->error.empty() && qr->first_ms >= 0;
      values.push_back(ok ? Opt(qr->first_ms) : Opt());
      row.push_back(ok ? ms_text(qr->first_ms) : qr != nullptr && not_applicable(*qr) ? "n/a" : "error");
    }
    row.push_back(versus_best(reports, values, Better::kLower, "faster", "slower"));
    first.rows.push_back(row);
  }
  out << first.render(style) << '\n';

  out << (md ? "Queries:\n\n" : "queries:\n");
  for (const QuerySpec& spec : run.plan.queries) {
    out << (md ? "- `" : "  ") << spec.name << (md ? "`: " : ": ") << spec.label << " (";
    for (size_t i = 0; i < spec.params.size(); ++i) {
      out << (i ? " " : "") << spec.params[i].first << "=" << spec.params[i].second;
    }
    out << ")\n";
  }
  out << (md ? "\nBytes on disk, as measured:\n\n" : "bytes on disk, as measured:\n");
  for (const EngineReport& r : reports) {
    out << (md ? "- " : "  ") << display_name(r.engine) << ": "
        << (r.bytes_note.empty() ? "directory sum" : r.bytes_note) << "\n";
  }
  return out.str();
}

std::string render_scale_rows(const RunSummary& run, const std::vector<EngineReport>& reports, bool queries) {
  std::ostringstream out;
  const double n = static_cast<double>(run.plan.events);
  const auto mib = [](uint64_t kib) { return fmt("%.0f", static_cast<double>(kib) / 1024); };
  for (const EngineReport& r : reports) {
    if (queries) break;
    out << "| " << grouped(run.plan.events) << " | " << display_name(r.engine) << " | " << fmt("%.1f", r.ingest_seconds)
        << " | " << (r.ingest_seconds > 0 ? fmt("%.2fM", n / r.ingest_seconds / 1e6) : "-") << " | "
        << mib(r.rss_ingest_kib) << " | " << fmt("%.0f", r.bytes_on_disk / 1e6) << " | "
        << fmt("%.1f", r.bytes_on_disk / n) << " | " << ms_text(r.open_seconds * 1e3) << " | "
        << mib(r.rss_after_open_kib) << " | " << mib(r.rss_final_kib) << " | " << run.machine.load_start << " / "
        << run.machine.load_end << " |\n";
  }
  for (const EngineReport& r : reports) {
    if (!queries) break;
    out << "| " << grouped(run.plan.events) << " | " << display_name(r.engine) << " |";
    for (const QuerySpec& spec : run.plan.queries) {
      auto q = std::find_if(r.queries.begin(), r.queries.end(),
                            [&](const QueryReport& x) { return x.name == spec.name; });
      if (q == r.queries.end() || !q->error.empty()) {
        out << " n/a |";
      } else {
        out << " " << ms_text(q->first_ms) << " / " << ms_text(percentile(q->latencies_ms, 50)) << " |";
      }
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace usagedb::compare
