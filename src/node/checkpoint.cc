#include "node/checkpoint.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/log.h"

namespace gl::node {
namespace fs = std::filesystem;
namespace {

CheckpointMeta ReadMeta(const std::string& model_path) {
  CheckpointMeta meta;
  std::ifstream in(model_path + ".meta");
  if (!(in >> meta.age >> meta.epochs)) return CheckpointMeta{};
  return meta;
}

Status WriteMeta(const std::string& model_path, const CheckpointMeta& meta) {
  return WriteFileAtomically(model_path + ".meta", std::to_string(meta.age) + ' ' + std::to_string(meta.epochs) + '\n');
}

void RenameIfExists(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (fs::exists(from, ec)) fs::rename(from, to, ec);
  if (ec) GL_LOG(kWarn, "checkpoint") << "cannot rename " << from << " to " << to << ": " << ec.message();
}

// The GL_TEST_CRASH_IN_CHECKPOINT hook (checkpoint.h): on the Nth call, leaves half of a
// temporary model file behind and aborts.
void CrashMidWriteIfAsked(const nn::Model& model, const std::string& path) {
  static int saves = 0;
  const char* hook = std::getenv("GL_TEST_CRASH_IN_CHECKPOINT");
  if (hook == nullptr || ++saves != std::atoi(hook)) return;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  if (model.Save(tmp).ok()) fs::resize_file(tmp, fs::file_size(tmp, ec) / 2, ec);
  GL_LOG(kError, "checkpoint") << "GL_TEST_CRASH_IN_CHECKPOINT=" << hook << ": aborting mid-write of " << tmp;
  std::abort();
}

}  // namespace

Checkpointer::Checkpointer(std::string state_dir) : state_dir_(std::move(state_dir)) {}

std::string Checkpointer::newest_path() const { return state_dir_ + "/model.ckpt"; }
std::string Checkpointer::previous_path() const { return state_dir_ + "/model.prev.ckpt"; }

Status Checkpointer::Save(const nn::Model& model, const CheckpointMeta& meta) {
  std::error_code ec;
  fs::create_directories(state_dir_, ec);
  if (ec) return Status::IoError("cannot create state dir " + state_dir_ + ": " + ec.message());
  RenameIfExists(newest_path(), previous_path());
  RenameIfExists(newest_path() + ".meta", previous_path() + ".meta");
  Status s = WriteMeta(newest_path(), meta);
  if (!s.ok()) return s;
  CrashMidWriteIfAsked(model, newest_path());
  return model.Save(newest_path());
}

Result<LoadedCheckpoint> Checkpointer::LoadNewest(const std::string& signature) const {
  std::string reasons;
  bool any = false;
  for (const std::string& path : {newest_path(), previous_path()}) {
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;
    any = true;
    Result<std::unique_ptr<nn::Model>> model = nn::Model::LoadExpecting(path, signature);
    if (model.ok()) return LoadedCheckpoint{std::move(model).value(), ReadMeta(path), path};
    GL_LOG(kWarn, "checkpoint") << "unusable checkpoint " << path << ": " << model.status().ToString();
    reasons += (reasons.empty() ? "" : "; ") + path + ": " + model.status().message();
  }
  if (!any) return Status::NotFound("no checkpoint in " + state_dir_);
  return Status::Corruption(reasons + " (start with --fresh to ignore them)");
}

}  // namespace gl::node
