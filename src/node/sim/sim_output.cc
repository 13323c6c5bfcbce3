#include "node/sim/sim_output.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/atomic_file.h"

namespace gl::node::sim {
namespace fs = std::filesystem;

Status PrepareOutDir(const std::string& dir) {
  static const std::set<std::string> kOurs = {"curves.csv", "summary.json", "report"};
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return Status::InvalidArgument("--out " + dir + " is a file; give a folder");
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!kOurs.contains(name)) {
        return Status::InvalidArgument("--out " + dir + " holds " + name +
                                       ", which a simulation does not write; give a new or empty folder "
                                       "(nothing in this one was changed)");
      }
    }
    if (ec) return Status::IoError("cannot list --out " + dir + ": " + ec.message());
    return Status::Ok();
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create --out " + dir + ": " + ec.message());
  return Status::Ok();
}

Status CurvesWriter::Open(const std::string& dir) {
  path_ = (fs::path(dir) / "curves.csv").string();
  out_.open(path_, std::ios::trunc);
  if (!out_) return Status::IoError("cannot write " + path_);
  out_ << "t_s,node,up,accuracy,mb_sent,dead_peers\n";
  return Status::Ok();
}

void CurvesWriter::Write(const CurveRow& row) {
  char text[64];
  std::snprintf(text, sizeof text, "%.3f", row.t_s);
  out_ << text << ',' << row.node << ',' << (row.up ? 1 : 0) << ',';
  if (row.accuracy) {
    std::snprintf(text, sizeof text, "%.4f", *row.accuracy);
    out_ << text;
  }
  std::snprintf(text, sizeof text, "%.4f", row.mb_sent);
  out_ << ',' << text << ',';
  if (row.dead_peers) out_ << *row.dead_peers;
  out_ << '\n';
}

Status CurvesWriter::Close() {
  out_.close();
  if (!out_) return Status::IoError("writing " + path_ + " failed (disk full?)");
  return Status::Ok();
}

Status WriteSummary(const std::string& dir, const Summary& s) {
  const nlohmann::json doc = {{"nodes", s.nodes},
                              {"mode", s.mode},
                              {"median_accuracy", s.median_accuracy},
                              {"min_accuracy", s.min_accuracy},
                              {"p10_accuracy", s.p10_accuracy},
                              {"mb_sent_per_node", s.mb_sent_per_node},
                              {"virtual_s", s.virtual_s},
                              {"wall_s", s.wall_s},
                              {"peak_rss_mb", s.peak_rss_mb},
                              {"mean_epochs", s.mean_epochs},
                              {"samples_per_s", s.samples_per_s}};
  return WriteFileAtomically((fs::path(dir) / "summary.json").string(), doc.dump(2) + "\n");
}

}  // namespace gl::node::sim
