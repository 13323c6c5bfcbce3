#include "nn/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "nn/utf8.h"

namespace gl::nn {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxReportedProblems = 20;

// Reads one line into `line`, keeping at most `cap` + 1 bytes of it (the rest is read and
// dropped, so a huge line cannot exhaust memory). Returns false at end of input.
bool ReadBoundedLine(std::istream& in, std::size_t cap, std::string* line) {
  line->clear();
  char c;
  bool any = false;
  while (in.get(c)) {
    any = true;
    if (c == '\n') return true;
    if (line->size() <= cap) line->push_back(c);
  }
  return any;
}

int LabelIndex(std::string_view language) {
  const auto& labels = DefaultLabels();
  const auto it = std::find(labels.begin(), labels.end(), language);
  return it == labels.end() ? -1 : static_cast<int>(it - labels.begin());
}

// Reads one file line by line, applying the bad-line policy of LoadOptions.
class LineReader {
 public:
  LineReader(const LoadOptions& options, LoadReport* report) : options_(options), report_(report) {}

  // `fixed_label` >= 0: every line is a name of that label; -1: lines are TSV.
  Status ReadFile(const fs::path& file, int fixed_label, Dataset* data) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::NotFound(file.string() + ": cannot open file (does it exist and is it readable?)");
    std::string line;
    std::size_t line_number = 0;
    bool any_line = false;
    while (ReadBoundedLine(in, options_.max_line_bytes + 1, &line)) {
      ++line_number;
      report_->lines_read++;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line_number == 1) line.erase(0, line.size() - StripUtf8Bom(line).size());
      if (line.empty()) continue;
      any_line = true;
      std::string reason = ParseLine(line, fixed_label, data);
      if (reason.empty()) continue;
      if (Status s = Skip(file.string() + ":" + std::to_string(line_number) + ": " + reason); !s.ok()) return s;
      report_->lines_skipped++;
    }
    if (any_line) return Status::Ok();
    return Skip(file.string() + ": empty file (expected one name per line)");
  }

 private:
  // Fails with `problem` unless bad input is skipped; then records it in the report.
  Status Skip(std::string problem) {
    if (!options_.skip_bad_lines) return Status::InvalidArgument(std::move(problem));
    if (report_->problems.size() < kMaxReportedProblems) report_->problems.push_back(std::move(problem));
    return Status::Ok();
  }

  // Returns "" and appends an example, or returns why the line is bad.
  std::string ParseLine(const std::string& line, int fixed_label, Dataset* data) {
    if (line.size() > options_.max_line_bytes) {
      return "line longer than the limit of " + std::to_string(options_.max_line_bytes) + " bytes";
    }
    std::u32string ignored;
    if (!DecodeUtf8(line, &ignored)) return "invalid UTF-8";
    std::string name = line;
    int label = fixed_label;
    const std::size_t tab = line.find('\t');
    if (fixed_label < 0) {
      if (tab == std::string::npos) return "no tab: expected name<TAB>Language";
      name = line.substr(0, tab);
      const std::string language = line.substr(tab + 1);
      if (language.find('\t') != std::string::npos) return "more than one tab: expected name<TAB>Language";
      label = LabelIndex(language);
      if (label < 0) return "unknown language '" + language + "' (known: Arabic, Chinese, ..., Vietnamese)";
    } else if (tab != std::string::npos) {
      return "tab inside a name";
    }
    if (name.empty()) return "empty name";
    data->examples.push_back(Example{std::move(name), label});
    return "";
  }

  const LoadOptions& options_;
  LoadReport* report_;
};

Status LoadFolder(const fs::path& folder, LineReader& reader, Dataset* data) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  if (ec) return Status::IoError(folder.string() + ": cannot list folder: " + ec.message());
  if (files.empty()) {
    return Status::InvalidArgument(folder.string() + ": no <Language>.txt files (expected e.g. data/names/)");
  }
  std::sort(files.begin(), files.end());  // a deterministic example order
  for (const auto& file : files) {
    const int label = LabelIndex(file.stem().string());
    if (label < 0) {
      return Status::InvalidArgument(file.string() + ": unknown language '" + file.stem().string() +
                                     "' (file names must be one of the 18 languages, e.g. Arabic.txt)");
    }
    if (Status s = reader.ReadFile(file, label, data); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& DefaultLabels() {
  static const std::vector<std::string> kLabels = {
      "Arabic", "Chinese", "Czech",    "Dutch",   "English", "French",  "German",     "Greek",   "Irish",
      "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese"};
  return kLabels;
}

Result<Dataset> LoadDataset(const std::string& path, const LoadOptions& options, LoadReport* report) {
  LoadReport local_report;
  if (report == nullptr) report = &local_report;
  *report = LoadReport{};
  Dataset data;
  data.labels = DefaultLabels();
  LineReader reader(options, report);
  std::error_code ec;
  const fs::path p(path);
  Status status;
  if (fs::is_directory(p, ec)) {
    status = LoadFolder(p, reader, &data);
  } else if (fs::exists(p, ec)) {
    status = reader.ReadFile(p, -1, &data);
  } else {
    status = Status::NotFound(path + ": no such file or folder (give a folder of <Language>.txt or a TSV file)");
  }
  if (!status.ok()) return status;
  if (data.examples.empty()) return Status::InvalidArgument(path + ": no usable names");
  return data;
}

Status WriteTsv(const Dataset& data, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IoError(path + ": cannot create file (does the folder exist and is it writable?)");
  for (const Example& e : data.examples) out << e.name << '\t' << data.labels.at(e.label) << '\n';
  out.flush();
  if (!out) return Status::IoError(path + ": write failed (disk full?)");
  return Status::Ok();
}

std::vector<std::size_t> CountPerLabel(const Dataset& data) {
  std::vector<std::size_t> counts(data.labels.size(), 0);
  for (const Example& e : data.examples) counts.at(e.label)++;
  return counts;
}

}  // namespace gl::nn
