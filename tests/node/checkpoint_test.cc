#include "node/checkpoint.h"

#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <limits>

#include "../common/file_size_limit.h"
#include "common/atomic_file.h"
#include "common/read_file.h"
#include "nn/dataset.h"
#include "nn/hash.h"
#include "nn/model.h"

namespace gl::node {
namespace {
namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/checkpoint_test_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    nn::ModelOptions options;
    options.hidden_size = 8;
    model_ = std::move(nn::Model::Create(options)).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Corrupt(const std::string& path, std::streamoff at = -1) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(at >= 0 ? at : static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\x5a').put('\xa5');
  }
  std::vector<float> Params(float value) { return std::vector<float>(model_->ParameterCount(), value); }
  std::string Bytes(const std::string& name) { return ReadWholeFile(dir_ + "/" + name, 1 << 20).value(); }

  // A checkpoint as the previous release wrote it (its Checkpointer::Save): `name` holds a
  // model file of format version 1 (magic, version, hidden size, name length, alphabet,
  // labels, signature, parameters, FNV-1a 64 checksum; all little-endian) and `name`.meta
  // holds "AGE EPOCHS\n".
  void WriteOlderCheckpoint(const std::string& name, const std::vector<float>& params, const std::string& meta) {
    fs::create_directories(dir_);
    auto le = [](std::string& out, std::uint64_t value, int bytes) {
      for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
    };
    auto text = [&](std::string& out, const std::string& t) {
      le(out, t.size(), 4);
      out += t;
    };
    std::string labels;
    for (const std::string& label : nn::DefaultLabels()) labels += (labels.empty() ? "" : "\n") + label;
    std::string bytes = "GLMODEL\n";
    le(bytes, 1, 4);   // format version
    le(bytes, 8, 4);   // hidden size
    le(bytes, 20, 4);  // longest name
    le(bytes, 0, 4);   // alphabet: fold accents
    text(bytes, labels);
    text(bytes, model_->Signature());
    le(bytes, params.size(), 8);
    for (float p : params) le(bytes, std::bit_cast<std::uint32_t>(p), 4);
    le(bytes, nn::Fnv1a64(bytes), 8);
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
    std::ofstream(dir_ + "/" + name + ".meta", std::ios::binary) << meta;
  }

  std::string dir_;
  std::unique_ptr<nn::Model> model_;
};

TEST_F(CheckpointTest, NoCheckpointIsNotFound) {
  Result<LoadedCheckpoint> r = Checkpointer(dir_).LoadNewest(model_->Signature());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST_F(CheckpointTest, RoundTripKeepsParametersAndMeta) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(0.25f), {1234, 5}).ok());
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->meta.age, 1234u);
  EXPECT_EQ(r->meta.epochs, 5u);
  EXPECT_EQ(r->params, std::vector<float>(model_->ParameterCount(), 0.25f));
}

TEST_F(CheckpointTest, CorruptNewestFallsBackToPrevious) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  ASSERT_TRUE(c.Save(model_->Signature(), Params(2.0f), {200, 2}).ok());
  Corrupt(dir_ + "/model.ckpt");
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir_ + "/model.prev.ckpt");
  EXPECT_EQ(r->meta.age, 100u);
  EXPECT_EQ(r->params[0], 1.0f);
}

TEST_F(CheckpointTest, MissingNewestAfterRotationFallsBackToPrevious) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  fs::rename(dir_ + "/model.ckpt", dir_ + "/model.prev.ckpt");  // as if killed right after rotating
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->params[0], 1.0f);
}

TEST_F(CheckpointTest, DamagedMetadataIsDetectedAndFallsBackToThePreviousPair) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  ASSERT_TRUE(c.Save(model_->Signature(), Params(2.0f), {200, 2}).ok());
  Corrupt(dir_ + "/model.ckpt", 8);  // the age
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir_ + "/model.prev.ckpt");
  EXPECT_EQ(r->meta.age, 100u);
  EXPECT_EQ(r->params[0], 1.0f);
}

TEST_F(CheckpointTest, NewestThatIsAFolderFallsBackToPrevious) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  fs::rename(dir_ + "/model.ckpt", dir_ + "/model.prev.ckpt");
  fs::create_directories(dir_ + "/model.ckpt");
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir_ + "/model.prev.ckpt");
  EXPECT_EQ(r->meta.age, 100u);
  Status s = c.Save(model_->Signature(), Params(2.0f), {200, 2});  // cannot rotate a folder away: says so, keeps prev
  EXPECT_NE(s.message().find("folder"), std::string::npos) << s.ToString();
  EXPECT_EQ(c.LoadNewest(model_->Signature()).value().meta.age, 100u);
}

TEST_F(CheckpointTest, NonFiniteModelIsNeverWritten) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  ASSERT_TRUE(c.Save(model_->Signature(), Params(2.0f), {200, 2}).ok());
  const std::string newest = Bytes("model.ckpt"), previous = Bytes("model.prev.ckpt");
  std::vector<float> params = Params(3.0f);
  params[5] = std::numeric_limits<float>::quiet_NaN();
  Status s = c.Save(model_->Signature(), params, {300, 3});
  EXPECT_EQ(s.code(), Status::Code::kRejected) << s.ToString();
  EXPECT_NE(s.message().find("non-finite"), std::string::npos) << s.ToString();
  EXPECT_EQ(Bytes("model.ckpt"), newest);
  EXPECT_EQ(Bytes("model.prev.ckpt"), previous);
}

TEST_F(CheckpointTest, FullDiskKeepsBothCheckpointsAndLeavesNoTemporary) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  ASSERT_TRUE(c.Save(model_->Signature(), Params(2.0f), {200, 2}).ok());
  const std::string newest = Bytes("model.ckpt"), previous = Bytes("model.prev.ckpt");
  for (int attempt = 0; attempt < 2; ++attempt) {  // a second failure must not rotate either
    FileSizeLimit full(newest.size() / 2);
    Status s = c.Save(model_->Signature(), Params(3.0f), {300, 3});
    EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
  }
  EXPECT_EQ(Bytes("model.ckpt"), newest);
  EXPECT_EQ(Bytes("model.prev.ckpt"), previous);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2) << "a temporary was left";
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->meta.age, 200u);
  EXPECT_EQ(r->params[0], 2.0f);
}

TEST_F(CheckpointTest, CheckpointOfAnOlderVersionWithoutItsMetaIsNamedAsSuch) {
  ASSERT_TRUE(fs::create_directories(dir_));
  ASSERT_TRUE(model_->Save(dir_ + "/model.ckpt").ok());
  Result<LoadedCheckpoint> r = Checkpointer(dir_).LoadNewest(model_->Signature());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("older gossip-learner"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("model.ckpt.meta"), std::string::npos) << r.status().ToString();
}

TEST_F(CheckpointTest, OlderPairResumesAndTheNextSaveUpgradesIt) {
  WriteOlderCheckpoint("model.ckpt", Params(0.25f), "1234 5\n");
  WriteOlderCheckpoint("model.prev.ckpt", Params(0.125f), "1000 4\n");
  Checkpointer c(dir_);
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->older_format);
  EXPECT_EQ(r->path, dir_ + "/model.ckpt");
  EXPECT_EQ(r->meta.age, 1234u);
  EXPECT_EQ(r->meta.epochs, 5u);
  EXPECT_EQ(r->params, Params(0.25f));
  EXPECT_TRUE(fs::exists(dir_ + "/model.ckpt.meta")) << "loading alone changes nothing on disk";

  ASSERT_TRUE(c.Save(model_->Signature(), Params(0.5f), {1300, 6}).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/model.ckpt.meta"));
  EXPECT_FALSE(fs::exists(dir_ + "/model.prev.ckpt.meta"));
  r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->older_format);
  EXPECT_EQ(r->meta.age, 1300u);
  EXPECT_EQ(r->params, Params(0.5f));
  Corrupt(dir_ + "/model.ckpt");  // the previous one is the checkpoint resumed from, now in the current format
  r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->older_format);
  EXPECT_EQ(r->path, dir_ + "/model.prev.ckpt");
  EXPECT_EQ(r->meta.age, 1234u);
  EXPECT_EQ(r->meta.epochs, 5u);
  EXPECT_EQ(r->params, Params(0.25f));
}

TEST_F(CheckpointTest, OlderMetaIsParsedStrictlyAndABadPairFallsBackToThePreviousOne) {
  for (const char* bad : {"", "1234", "1234 5", "1234 5 \n", "-1 5\n", "+1 5\n", "1234  5\n", "1e3 5\n",
                          "99999999999999999999 5\n", "1234 5\nx", " 1234 5\n"}) {
    WriteOlderCheckpoint("model.ckpt", Params(0.25f), bad);
    Result<LoadedCheckpoint> r = Checkpointer(dir_).LoadNewest(model_->Signature());
    EXPECT_FALSE(r.ok()) << "'" << bad << "' read as age " << r->meta.age;
    EXPECT_NE(r.status().message().find("--fresh"), std::string::npos) << r.status().ToString();
  }
  WriteOlderCheckpoint("model.prev.ckpt", Params(0.125f), "1000 4\n");
  Result<LoadedCheckpoint> r = Checkpointer(dir_).LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir_ + "/model.prev.ckpt");
  EXPECT_EQ(r->meta.age, 1000u);
  EXPECT_EQ(r->params, Params(0.125f));
}

TEST_F(CheckpointTest, OlderPairOfANonFiniteOrOtherModelIsRefused) {
  std::vector<float> nan = Params(0.25f);
  nan[3] = std::numeric_limits<float>::quiet_NaN();
  WriteOlderCheckpoint("model.ckpt", nan, "1234 5\n");
  Result<LoadedCheckpoint> r = Checkpointer(dir_).LoadNewest(model_->Signature());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("non-finite"), std::string::npos) << r.status().ToString();
  WriteOlderCheckpoint("model.ckpt", Params(0.25f), "1234 5\n");
  nn::ModelOptions bigger;
  bigger.hidden_size = 16;
  EXPECT_FALSE(Checkpointer(dir_).LoadNewest(nn::Model::Create(bigger).value()->Signature()).ok());
}

TEST_F(CheckpointTest, ExportedModelIsAModelFileAndACheckpointSaysToUseIt) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  ASSERT_TRUE(model_->SetParameters(Params(0.5f)).ok());
  ASSERT_TRUE(c.Export(*model_).ok());
  EXPECT_EQ(c.exported_path(), dir_ + "/model.bin");
  Result<std::unique_ptr<nn::Model>> exported = nn::Model::Load(c.exported_path());
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ((*exported)->GetParameters(), Params(0.5f));
  Status s = nn::Model::Load(dir_ + "/model.ckpt").status();
  EXPECT_NE(s.message().find("model.bin"), std::string::npos) << s.ToString();
}

TEST_F(CheckpointTest, AllCorruptIsAnErrorThatSaysWhatToDo) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  Corrupt(dir_ + "/model.ckpt");
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--fresh"), std::string::npos) << r.status().ToString();
}

TEST_F(CheckpointTest, OtherSignatureIsRejected) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(1.0f), {100, 1}).ok());
  nn::ModelOptions bigger;
  bigger.hidden_size = 16;
  auto other = std::move(nn::Model::Create(bigger)).value();
  EXPECT_FALSE(c.LoadNewest(other->Signature()).ok());
}

TEST_F(CheckpointTest, TemporariesLeftByACrashAreRemovedAndNothingElse) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(model_->Signature(), Params(0.5f), CheckpointMeta{7, 1}).ok());
  for (const char* leftover : {"model.ckpt.tmp.123", "round.tmp.456"}) std::ofstream(dir_ + "/" + leftover) << "half";
  EXPECT_EQ(RemoveLeftoverTemporaries(dir_).value(), 2);
  EXPECT_FALSE(fs::exists(dir_ + "/model.ckpt.tmp.123"));
  EXPECT_EQ(c.LoadNewest(model_->Signature()).value().meta.age, 7u);
  EXPECT_EQ(RemoveLeftoverTemporaries(dir_ + "/missing").value(), 0);
}

}  // namespace
}  // namespace gl::node
