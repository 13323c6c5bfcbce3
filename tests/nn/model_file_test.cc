#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "nn/model.h"
#include "nn/model_file.h"
#include "temp_dir.h"

namespace gl::nn {
namespace {

using testing::TempDir;

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelOptions o;
    o.hidden_size = 16;
    o.max_name_length = 10;
    o.seed = 5;
    model_ = std::move(Model::Create(o)).value();
    model_->TrainBatch({{"Nakamura", 10}, {"Rossi", 9}});
    path_ = dir_.File("model.glm");
    ASSERT_TRUE(model_->Save(path_).ok());
    bytes_ = Read(path_);
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // Writes `bytes` to a new file and returns the status of loading it.
  Status LoadBytes(const std::string& bytes) {
    return Model::Load(dir_.Write("other.glm", bytes)).status();
  }

  TempDir dir_;
  std::unique_ptr<Model> model_;
  std::string path_, bytes_;
};

TEST_F(ModelFileTest, SaveLoadRoundTrip) {
  Result<std::unique_ptr<Model>> loaded = Model::Load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->Signature(), model_->Signature());
  EXPECT_EQ((*loaded)->GetParameters(), model_->GetParameters());
  EXPECT_EQ((*loaded)->Predict("Schmidt"), model_->Predict("Schmidt"));
  // The file holds a header, 4 bytes per parameter and an 8-byte checksum.
  EXPECT_GT(bytes_.size(), model_->ParameterCount() * 4 + 8);
  EXPECT_LT(bytes_.size(), model_->ParameterCount() * 4 + 1024);
}

TEST_F(ModelFileTest, SaveIsAtomicAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(model_->Save(path_).ok());  // replaces the existing file
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_FALSE(model_->Save(dir_.File("missing-folder/model.glm")).ok());
}

TEST_F(ModelFileTest, LoadExpectingChecksTheSignature) {
  EXPECT_TRUE(Model::LoadExpecting(path_, model_->Signature()).ok());
  Status s = Model::LoadExpecting(path_, "gru1/h128/l20/a0/c18/0").status();
  EXPECT_EQ(s.code(), Status::Code::kRejected);
  EXPECT_NE(s.message().find("signature"), std::string::npos);
}

TEST_F(ModelFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(Model::Load(dir_.File("nope.glm")).status().code(), Status::Code::kNotFound);
}

TEST_F(ModelFileTest, AFolderIsAnErrorNotAnException) {
  std::filesystem::create_directory(dir_.File("model.ckpt"));
  Result<std::unique_ptr<Model>> loaded = Model::Load(dir_.File("model.ckpt"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Status::Code::kIoError);
  EXPECT_NE(loaded.status().message().find("is a folder"), std::string::npos) << loaded.status().message();
}

TEST_F(ModelFileTest, BadMagicIsRejected) {
  std::string bytes = bytes_;
  bytes[0] = 'X';
  Status s = LoadBytes(bytes);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("bad magic"), std::string::npos);
  EXPECT_FALSE(LoadBytes("").ok());
}

TEST_F(ModelFileTest, UnknownVersionIsRejected) {
  std::string bytes = bytes_;
  bytes[8] = 9;  // version field after the 8-byte magic
  Status s = LoadBytes(bytes);
  EXPECT_EQ(s.code(), Status::Code::kRejected);
  EXPECT_NE(s.message().find("version 9"), std::string::npos);
}

TEST_F(ModelFileTest, TruncatedFileIsRejectedAtEveryLength) {
  for (std::size_t keep : {std::size_t{10}, std::size_t{30}, bytes_.size() / 2, bytes_.size() - 9, bytes_.size() - 1}) {
    Status s = LoadBytes(bytes_.substr(0, keep));
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << "kept " << keep << " bytes: " << s.ToString();
  }
}

TEST_F(ModelFileTest, FlippedParameterByteFailsTheChecksum) {
  std::string bytes = bytes_;
  bytes[bytes.size() - 100] ^= 0x01;
  Status s = LoadBytes(bytes);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("checksum"), std::string::npos);
}

TEST_F(ModelFileTest, TrailingBytesAreRejected) { EXPECT_FALSE(LoadBytes(bytes_ + "x").ok()); }

TEST_F(ModelFileTest, SignatureNotMatchingTheHeaderFieldsIsRejected) {
  Result<ModelFileContents> c = ReadModelFile(path_);
  ASSERT_TRUE(c.ok());
  c->signature = "gru1/h16/l10/forged";
  ASSERT_TRUE(WriteModelFile(dir_.File("forged.glm"), *c).ok());
  EXPECT_EQ(Model::Load(dir_.File("forged.glm")).status().code(), Status::Code::kRejected);
}

}  // namespace
}  // namespace gl::nn
