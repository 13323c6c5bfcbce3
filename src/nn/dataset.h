// Surname datasets: loading, saving and the fixed label set.
//
// Two on-disk layouts are read:
//  * a folder of `<Language>.txt` files, one UTF-8 name per line (data/names/);
//  * a TSV file of `name<TAB>Language` lines (what `gossip-learner split` writes).
// Every dataset uses the same 18 labels (DefaultLabels()), in that order, so that a
// label index means the same language on every node.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace gl::nn {

struct Example {
  std::string name;  // UTF-8, NFC, as read
  int label = 0;     // index into Dataset::labels
};

struct Dataset {
  std::vector<std::string> labels;  // always DefaultLabels()
  std::vector<Example> examples;
};

// The 18 languages of the surnames data, sorted: Arabic, Chinese, ..., Vietnamese.
const std::vector<std::string>& DefaultLabels();

struct LoadOptions {
  // false: the first bad line fails the load with "FILE:LINE: reason".
  // true: bad lines are skipped and counted in LoadReport.
  bool skip_bad_lines = false;
  // Lines longer than this many bytes are bad (a surname is < 64 bytes).
  std::size_t max_line_bytes = 256;
};

struct LoadReport {
  std::size_t lines_read = 0;
  std::size_t lines_skipped = 0;
  std::vector<std::string> problems;  // "FILE:LINE: reason", at most the first 20
};

// Loads a folder of <Language>.txt files or a TSV file; a UTF-8 byte order mark at the
// start of a file is skipped, as are CR line ends. Errors name the file and line:
// missing/empty file, unknown language, invalid UTF-8, a TSV line without a tab,
// an over-long line. `report` may be null.
Result<Dataset> LoadDataset(const std::string& path, const LoadOptions& options = {},
                            LoadReport* report = nullptr);

// Writes `name<TAB>Language` lines, readable by LoadDataset.
Status WriteTsv(const Dataset& data, const std::string& path);

// Number of examples per label, indexed like Dataset::labels.
std::vector<std::size_t> CountPerLabel(const Dataset& data);

}  // namespace gl::nn
