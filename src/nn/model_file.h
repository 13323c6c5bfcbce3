// The model file format, version 1. All integers little-endian:
//   magic        8 bytes  "GLMODEL\n"
//   version      u32      kModelFileVersion
//   hidden_size  u32
//   max_length   u32      longest name, in characters
//   alphabet     u32      AlphabetKind
//   labels       u32 byte count, then the labels joined by '\n'
//   signature    u32 byte count, then Model::Signature()
//   count        u64      number of parameters
//   parameters   count x fp32 (IEEE 754, little-endian), in the flat parameter order
//   checksum     u64      FNV-1a 64 of every byte before it
// Writes are atomic (common/atomic_file.h: temporary file, fsync, rename, fsync of the
// folder). Pure functions of their arguments and the file system; thread-safe for distinct paths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "nn/alphabet.h"

namespace gl::nn {

inline constexpr std::uint32_t kModelFileVersion = 1;

struct ModelFileContents {
  int hidden_size = 0;
  int max_name_length = 0;
  AlphabetKind alphabet = AlphabetKind::kFoldAccents;
  std::vector<std::string> labels;
  std::string signature;
  std::vector<float> parameters;
};

Status WriteModelFile(const std::string& path, const ModelFileContents& contents);

// Fails with kNotFound (missing), kIoError (a folder or unreadable), kCorruption (bad magic,
// truncated, checksum mismatch, unreadable fields) or kRejected (unknown version); never throws. Does not check that the signature
// matches the other fields: the caller rebuilds the model and compares.
Result<ModelFileContents> ReadModelFile(const std::string& path);

}  // namespace gl::nn
