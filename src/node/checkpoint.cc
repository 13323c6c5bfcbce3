#include "node/checkpoint.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string_view>

#include "common/atomic_file.h"
#include "common/little_endian.h"
#include "common/log.h"
#include "common/read_file.h"
#include "nn/hash.h"
#include "nn/model_file.h"

namespace gl::node {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kMagic("GLCKPT2\n", 8);
constexpr std::string_view kOlderMagic("GLMODEL\n", 8);  // the previous release's model.ckpt: a model file
constexpr std::size_t kMaxOlderMetaBytes = 64;
constexpr std::size_t kMaxSignatureBytes = 1 << 16;
constexpr std::uint64_t kMaxParameters = 1ull << 28;  // 1 GiB of fp32
constexpr std::uint64_t kMaxFileBytes = kMaxParameters * 4 + kMaxSignatureBytes + 1024;

std::string Encode(const std::string& signature, const std::vector<float>& params, const CheckpointMeta& meta) {
  std::string bytes(kMagic);
  PutLe(bytes, meta.age, 8);
  PutLe(bytes, meta.epochs, 8);
  PutText(bytes, signature);
  PutLe(bytes, params.size(), 8);
  for (float p : params) PutLe(bytes, std::bit_cast<std::uint32_t>(p), 4);
  PutLe(bytes, nn::Fnv1a64(bytes), 8);
  return bytes;
}

std::string OlderMetaPath(const std::string& path) { return path + ".meta"; }

bool IsOlderFormat(std::string_view bytes) { return bytes.starts_with(kOlderMagic); }

Status CheckUsable(const std::string& path, const std::string& saved_signature, const std::string& signature,
                   const std::vector<float>& params) {
  if (saved_signature != signature) {
    return Status::Rejected(path + ": model signature " + saved_signature + " differs from this node's " + signature +
                            " (other hidden size, name length, alphabet or labels)");
  }
  if (!std::all_of(params.begin(), params.end(), [](float p) { return std::isfinite(p); })) {
    return Status::Corruption(path + ": non-finite parameter");
  }
  return Status::Ok();
}

Result<LoadedCheckpoint> Decode(const std::string& path, std::string_view bytes, const std::string& signature) {
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return Status::Corruption(path + ": not a gossip-learner checkpoint (bad magic)");
  }
  LeReader r(bytes.substr(kMagic.size()));
  LoadedCheckpoint loaded;
  loaded.path = path;
  loaded.meta.age = r.Le(8);
  loaded.meta.epochs = r.Le(8);
  const std::string saved_signature = r.Text(kMaxSignatureBytes);
  const std::uint64_t count = r.Le(8);
  if (count > kMaxParameters || !r.Has(count * 4 + 8)) {
    return Status::Corruption(path + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  loaded.params.resize(count);
  for (float& p : loaded.params) p = std::bit_cast<float>(static_cast<std::uint32_t>(r.Le(4)));
  const std::size_t checked = kMagic.size() + r.offset();
  if (r.Le(8) != nn::Fnv1a64(bytes.substr(0, checked))) return Status::Corruption(path + ": checksum mismatch");
  if (checked + 8 != bytes.size()) return Status::Corruption(path + ": unexpected trailing bytes");
  if (Status usable = CheckUsable(path, saved_signature, signature, loaded.params); !usable.ok()) return usable;
  return loaded;
}

// "AGE EPOCHS\n" in decimal, as the previous release wrote it; nothing else.
std::optional<CheckpointMeta> ParseOlderMeta(std::string_view text) {
  CheckpointMeta meta;
  const char* end = text.data() + text.size();
  const auto [after_age, age_error] = std::from_chars(text.data(), end, meta.age);
  if (age_error != std::errc() || after_age == end || *after_age != ' ') return std::nullopt;
  const auto [after_epochs, epochs_error] = std::from_chars(after_age + 1, end, meta.epochs);
  if (epochs_error != std::errc() || std::string_view(after_epochs, end - after_epochs) != "\n") return std::nullopt;
  return meta;
}

// The previous release's checkpoint at `path`: a model file (nn/model_file.h) and its sidecar.
Result<LoadedCheckpoint> DecodeOlderPair(const std::string& path, const std::string& signature) {
  const std::string meta_path = OlderMetaPath(path);
  Result<std::string> text = ReadWholeFile(meta_path, kMaxOlderMetaBytes);
  if (!text.ok()) {
    return Status::Corruption(path + ": a checkpoint of an older gossip-learner without a readable " + meta_path +
                              " (its age and epochs): " + text.status().message());
  }
  std::optional<CheckpointMeta> meta = ParseOlderMeta(*text);
  if (!meta) return Status::Corruption(meta_path + ": not 'AGE EPOCHS' (two decimal numbers and a newline)");
  Result<nn::ModelFileContents> model = nn::ReadModelFile(path);
  if (!model.ok()) return model.status();
  if (Status usable = CheckUsable(path, model->signature, signature, model->parameters); !usable.ok()) return usable;
  return LoadedCheckpoint{std::move(model->parameters), *meta, path, /*older_format=*/true};
}

Status RefuseNonFinite(const std::vector<float>& params, const std::string& path) {
  const auto bad = std::find_if(params.begin(), params.end(), [](float p) { return !std::isfinite(p); });
  if (bad == params.end()) return Status::Ok();
  return Status::Rejected("the model has a non-finite parameter (#" + std::to_string(bad - params.begin()) +
                          "); not saved, " + path + " keeps the last good one");
}

// The GL_TEST_CRASH_IN_CHECKPOINT hook (checkpoint.h): on the Nth call, leaves half of the
// new checkpoint's temporary file behind and aborts.
void CrashMidWriteIfAsked(const std::string& bytes, const std::string& path) {
  static int saves = 0;
  const char* hook = std::getenv("GL_TEST_CRASH_IN_CHECKPOINT");
  if (hook == nullptr || ++saves != std::atoi(hook)) return;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  (void)WriteFileAtomically(tmp, std::string_view(bytes).substr(0, bytes.size() / 2));
  GL_LOG(kError, "checkpoint") << "GL_TEST_CRASH_IN_CHECKPOINT=" << hook << ": aborting mid-write of " << tmp;
  std::abort();
}

}  // namespace

Checkpointer::Checkpointer(std::string state_dir) : state_dir_(std::move(state_dir)) {}

std::string Checkpointer::newest_path() const { return state_dir_ + "/model.ckpt"; }
std::string Checkpointer::previous_path() const { return state_dir_ + "/model.prev.ckpt"; }
std::string Checkpointer::exported_path() const { return state_dir_ + "/model.bin"; }

Status Checkpointer::Export(const nn::Model& model) const {
  if (Status s = RefuseNonFinite(model.GetParameters(), exported_path()); !s.ok()) return s;
  return model.Save(exported_path());
}

Status Checkpointer::Save(const std::string& signature, const std::vector<float>& params,
                          const CheckpointMeta& meta) {
  if (Status s = RefuseNonFinite(params, newest_path()); !s.ok()) return s;
  std::error_code ec;
  fs::create_directories(state_dir_, ec);
  if (ec) return Status::IoError("cannot create state dir " + state_dir_ + ": " + ec.message());
  const std::string bytes = Encode(signature, params, meta);
  const bool upgrading = HasOlderMeta();
  if (upgrading) {
    if (Status s = RewriteOlderNewest(signature); !s.ok()) return s;
  }
  MakeRoomFor(bytes.size(), signature);
  CrashMidWriteIfAsked(bytes, newest_path());
  Status saved = WriteFileAtomicallyKeepingPrevious(newest_path(), previous_path(), bytes);
  if (saved.ok() && upgrading) RemoveOlderMeta();
  return saved;
}

bool Checkpointer::HasOlderMeta() const {
  std::error_code ec;
  return fs::exists(OlderMetaPath(newest_path()), ec) || fs::exists(OlderMetaPath(previous_path()), ec);
}

// The rotation that follows moves model.ckpt to model.prev.ckpt without its sidecar; so the
// checkpoint the node resumed from goes there in the current format, and the pair it was read
// from stays whole until then.
Status Checkpointer::RewriteOlderNewest(const std::string& signature) {
  Result<std::string> newest = ReadWholeFile(newest_path(), kMaxFileBytes);
  if (newest.ok() && Decode(newest_path(), *newest, signature).ok()) return Status::Ok();
  Result<LoadedCheckpoint> older = LoadOlderPairs(signature, nullptr);
  if (!older.ok()) return Status::Ok();  // nothing of the older format worth keeping
  Status s = WriteFileAtomically(newest_path(), Encode(signature, older->params, older->meta));
  if (!s.ok()) return Status::IoError(s.message() + " (rewriting " + older->path + " in the current format)");
  return Status::Ok();
}

void Checkpointer::RemoveOlderMeta() const {
  for (const std::string& path : {newest_path(), previous_path()}) {
    std::error_code ec;
    if (fs::remove(OlderMetaPath(path), ec)) {
      GL_LOG(kInfo, "checkpoint") << "removed " << OlderMetaPath(path)
                                  << ": the checkpoints are now in the current one-file format";
    }
  }
}

void Checkpointer::MakeRoomFor(std::size_t bytes, const std::string& signature) {
  struct statvfs disk {};
  if (::statvfs(state_dir_.c_str(), &disk) != 0 || disk.f_frsize == 0) return;
  auto blocks = [&](std::uintmax_t size) { return (size + disk.f_frsize - 1) / disk.f_frsize; };
  if (disk.f_bavail >= blocks(bytes)) return;
  std::error_code ec;
  const std::uintmax_t previous = fs::file_size(previous_path(), ec);
  if (ec || disk.f_bavail + blocks(previous) < blocks(bytes)) return;
  Result<std::string> newest = ReadWholeFile(newest_path(), kMaxFileBytes);
  if (!newest.ok() || !Decode(newest_path(), *newest, signature).ok()) return;
  if (!fs::remove(previous_path(), ec)) return;
  GL_LOG(kWarn, "checkpoint") << "disk full in " << state_dir_ << " (" << disk.f_bavail * disk.f_frsize
                              << " bytes free): deleted " << previous_path()
                              << " to make room for the new checkpoint; free some space";
}

Result<LoadedCheckpoint> Checkpointer::LoadNewest(const std::string& signature) const {
  std::string reasons;
  bool any = false, any_older = false;
  for (const std::string& path : {newest_path(), previous_path()}) {
    Result<std::string> bytes = ReadWholeFile(path, kMaxFileBytes);
    if (bytes.status().code() == Status::Code::kNotFound) continue;
    any = true;
    if (bytes.ok() && IsOlderFormat(*bytes)) {
      any_older = true;  // read below, if no checkpoint of the current format is usable
      continue;
    }
    Result<LoadedCheckpoint> loaded = bytes.ok() ? Decode(path, *bytes, signature) : bytes.status();
    if (loaded.ok()) return loaded;
    GL_LOG(kWarn, "checkpoint") << "unusable checkpoint: " << loaded.status().message()
                                << (path == newest_path() ? "; trying the previous one" : "");
    reasons += (reasons.empty() ? "" : "; ") + loaded.status().message();
  }
  if (!any) return Status::NotFound("no checkpoint in " + state_dir_);
  if (any_older) {
    Result<LoadedCheckpoint> older = LoadOlderPairs(signature, &reasons);
    if (older.ok()) {
      GL_LOG(kInfo, "checkpoint") << "upgrading: resuming from " << older->path << " and "
                                  << OlderMetaPath(older->path)
                                  << ", a checkpoint of an older gossip-learner; the next checkpoint is written in "
                                     "the current format, and then the .meta files are removed";
      return older;
    }
  }
  return Status::Corruption(reasons + " (start with --fresh to ignore them)");
}

Result<LoadedCheckpoint> Checkpointer::LoadOlderPairs(const std::string& signature, std::string* reasons) const {
  Status last = Status::NotFound("no checkpoint of an older gossip-learner in " + state_dir_);
  for (const std::string& path : {newest_path(), previous_path()}) {
    Result<std::string> bytes = ReadWholeFile(path, kMaxFileBytes);
    if (!bytes.ok() || !IsOlderFormat(*bytes)) continue;
    Result<LoadedCheckpoint> loaded = DecodeOlderPair(path, signature);
    if (loaded.ok()) return loaded;
    last = loaded.status();
    if (reasons == nullptr) continue;
    GL_LOG(kWarn, "checkpoint") << "unusable checkpoint: " << last.message();
    *reasons += (reasons->empty() ? "" : "; ") + last.message();
  }
  return last;
}

}  // namespace gl::node
