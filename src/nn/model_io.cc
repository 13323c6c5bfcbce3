// Model::Load and Model::LoadExpecting: the file side of nn/model.h (no tiny-dnn here).
#include "nn/model.h"
#include "nn/model_file.h"

namespace gl::nn {

Result<std::unique_ptr<Model>> Model::Load(const std::string& path) {
  Result<ModelFileContents> file = ReadModelFile(path);
  if (!file.ok()) return file.status();
  ModelOptions options;
  options.hidden_size = file->hidden_size;
  options.max_name_length = file->max_name_length;
  options.labels = file->labels;
  options.alphabet = file->alphabet;
  Result<std::unique_ptr<Model>> model = Create(options);
  if (!model.ok()) return Status::Corruption(path + ": " + model.status().message());
  if ((*model)->Signature() != file->signature) {
    return Status::Rejected(path + ": its signature " + file->signature + " does not match what this build makes of it (" +
                            (*model)->Signature() + "); use the gossip-learner that wrote it");
  }
  if (Status s = (*model)->SetParameters(file->parameters); !s.ok()) {
    return Status::Corruption(path + ": " + s.message());
  }
  return model;
}

Result<std::unique_ptr<Model>> Model::LoadExpecting(const std::string& path, const std::string& expected_signature) {
  Result<std::unique_ptr<Model>> model = Load(path);
  if (model.ok() && (*model)->Signature() != expected_signature) {
    return Status::Rejected(path + ": model signature " + (*model)->Signature() + " differs from the expected " +
                            expected_signature + " (other hidden size, name length, alphabet or labels)");
  }
  return model;
}

}  // namespace gl::nn
