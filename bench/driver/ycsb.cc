#include "bench/driver/ycsb.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace strata::bench {

Result<YcsbSpec> CoreWorkload(char letter) {
  YcsbSpec s;
  s.name = std::string("ycsb-") + letter;
  switch (letter) {
    case 'a': s.read = 0.5; s.update = 0.5; break;
    case 'b': s.read = 0.95; s.update = 0.05; break;
    case 'c': s.read = 1.0; break;
    case 'd':
      s.read = 0.95;
      s.insert = 0.05;
      s.distribution = RequestDistribution::kLatest;
      break;
    case 'e': s.scan = 0.95; s.insert = 0.05; break;
    case 'f': s.read = 0.5; s.read_modify_write = 0.5; break;
    default:
      return Status::InvalidArgument(std::string("unknown YCSB core workload '") + letter + "'");
  }
  return s;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Status ParseNumber(std::string_view key, std::string_view value, double* out) {
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || *out < 0) {
    return Status::InvalidArgument("property " + std::string(key) + "=" + std::string(value) +
                                   ": expected a non-negative number");
  }
  return Status::Ok();
}

Status Apply(std::string_view key, std::string_view value, YcsbSpec* s, std::string* ignored) {
  double* proportion = nullptr;
  if (key == "readproportion") proportion = &s->read;
  if (key == "updateproportion") proportion = &s->update;
  if (key == "insertproportion") proportion = &s->insert;
  if (key == "scanproportion") proportion = &s->scan;
  if (key == "readmodifywriteproportion") proportion = &s->read_modify_write;
  if (proportion != nullptr) return ParseNumber(key, value, proportion);
  if (key == "requestdistribution") {
    if (value == "uniform") {
      s->distribution = RequestDistribution::kUniform;
    } else if (value == "zipfian") {
      s->distribution = RequestDistribution::kZipfian;
    } else if (value == "latest") {
      s->distribution = RequestDistribution::kLatest;
    } else {
      return Status::InvalidArgument("property requestdistribution=" + std::string(value) +
                                     ": expected uniform|zipfian|latest");
    }
  } else if (key == "maxscanlength") {
    double v = 0;
    STRATA_RETURN_IF_ERROR(ParseNumber(key, value, &v));
    if (v < 1) return Status::InvalidArgument("property maxscanlength must be >= 1");
    s->scan_length_max = static_cast<uint64_t>(v);
  } else if (key == "scanlengthdistribution") {
    if (value != "uniform" && value != "zipfian") {
      return Status::InvalidArgument("property scanlengthdistribution=" + std::string(value) +
                                     ": expected uniform|zipfian");
    }
    s->scan_length_zipfian = value == "zipfian";
  } else if (key == "zipfianconstant") {
    STRATA_RETURN_IF_ERROR(ParseNumber(key, value, &s->zipfian_theta));
    if (!(s->zipfian_theta > 0 && s->zipfian_theta < 1)) {
      return Status::InvalidArgument("property zipfianconstant must be in (0, 1)");
    }
  } else {
    *ignored += (ignored->empty() ? "" : ",") + std::string(key);
  }
  return Status::Ok();
}

}  // namespace

Result<YcsbSpec> ParseYcsbProperties(std::string_view text, std::string* ignored) {
  YcsbSpec spec;
  spec.name = "ycsb-custom";
  ignored->clear();
  size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = Trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_number;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("property file line " + std::to_string(line_number) +
                                     ": expected key=value");
    }
    Status s = Apply(Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)), &spec, ignored);
    if (!s.ok()) return s.WithContext("property file line " + std::to_string(line_number));
  }
  if (!(spec.total() > 0)) {
    return Status::InvalidArgument("property file: all operation proportions are 0");
  }
  return spec;
}

Result<YcsbSpec> LoadYcsbPropertyFile(const std::string& path, std::string* ignored) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--property_file=" + path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  Result<YcsbSpec> spec = ParseYcsbProperties(ss.str(), ignored);
  if (!spec.ok()) return spec.status().WithContext(path);
  return spec;
}

}  // namespace strata::bench
