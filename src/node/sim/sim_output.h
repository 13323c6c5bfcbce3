// What `gossip-learner simulate` writes to its --out folder: curves.csv (one row per node and
// sample time, the format tools/report reads) and summary.json. The folder may be new, empty,
// or hold only these files from an earlier run (they are replaced); a folder holding anything
// else is refused and never touched.
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "common/status.h"

namespace gl::node::sim {

// Creates `dir` if needed; InvalidArgument naming a foreign entry if it holds one.
Status PrepareOutDir(const std::string& dir);

struct CurveRow {
  double t_s = 0;
  std::string node;
  bool up = false;
  std::optional<double> accuracy;
  double mb_sent = 0;
  std::optional<std::size_t> dead_peers;
};

class CurvesWriter {
 public:
  // Truncates DIR/curves.csv and writes its header.
  Status Open(const std::string& dir);
  void Write(const CurveRow& row);
  Status Close();

 private:
  std::string path_;
  std::ofstream out_;
};

struct Summary {
  std::size_t nodes = 0;
  std::string mode;
  double median_accuracy = 0;
  double min_accuracy = 0;
  double p10_accuracy = 0;
  double mb_sent_per_node = 0;
  double virtual_s = 0;
  double wall_s = 0;
  double peak_rss_mb = 0;
  double mean_epochs = 0;
  double samples_per_s = 0;  // the virtual training speed of one node
};

// Writes DIR/summary.json (atomically).
Status WriteSummary(const std::string& dir, const Summary& summary);

}  // namespace gl::node::sim
