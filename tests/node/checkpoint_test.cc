#include "node/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"

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

  std::unique_ptr<nn::Model> ModelWith(float value) {
    nn::ModelOptions options;
    options.hidden_size = 8;
    auto m = std::move(nn::Model::Create(options)).value();
    EXPECT_TRUE(m->SetParameters(std::vector<float>(m->ParameterCount(), value)).ok());
    return m;
  }
  void Corrupt(const std::string& path) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\x5a').put('\xa5');
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
  ASSERT_TRUE(c.Save(*ModelWith(0.25f), {1234, 5}).ok());
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->meta.age, 1234u);
  EXPECT_EQ(r->meta.epochs, 5u);
  EXPECT_EQ(r->model->GetParameters(), std::vector<float>(model_->ParameterCount(), 0.25f));
}

TEST_F(CheckpointTest, CorruptNewestFallsBackToPrevious) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(*ModelWith(1.0f), {100, 1}).ok());
  ASSERT_TRUE(c.Save(*ModelWith(2.0f), {200, 2}).ok());
  Corrupt(dir_ + "/model.ckpt");
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->path, dir_ + "/model.prev.ckpt");
  EXPECT_EQ(r->meta.age, 100u);
  EXPECT_EQ(r->model->GetParameters()[0], 1.0f);
}

TEST_F(CheckpointTest, MissingNewestAfterRotationFallsBackToPrevious) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(*ModelWith(1.0f), {100, 1}).ok());
  fs::rename(dir_ + "/model.ckpt", dir_ + "/model.prev.ckpt");  // as if killed right after rotating
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model->GetParameters()[0], 1.0f);
}

TEST_F(CheckpointTest, AllCorruptIsAnErrorThatSaysWhatToDo) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(*ModelWith(1.0f), {100, 1}).ok());
  Corrupt(dir_ + "/model.ckpt");
  Result<LoadedCheckpoint> r = c.LoadNewest(model_->Signature());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--fresh"), std::string::npos) << r.status().ToString();
}

TEST_F(CheckpointTest, OtherSignatureIsRejected) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(*ModelWith(1.0f), {100, 1}).ok());
  nn::ModelOptions bigger;
  bigger.hidden_size = 16;
  auto other = std::move(nn::Model::Create(bigger)).value();
  EXPECT_FALSE(c.LoadNewest(other->Signature()).ok());
}

TEST_F(CheckpointTest, TemporariesLeftByACrashAreRemovedAndNothingElse) {
  Checkpointer c(dir_);
  ASSERT_TRUE(c.Save(*ModelWith(0.5f), CheckpointMeta{7, 1}).ok());
  for (const char* leftover : {"model.ckpt.tmp.123", "round.tmp.456"}) std::ofstream(dir_ + "/" + leftover) << "half";
  EXPECT_EQ(RemoveLeftoverTemporaries(dir_).value(), 2);
  EXPECT_FALSE(fs::exists(dir_ + "/model.ckpt.tmp.123"));
  EXPECT_EQ(c.LoadNewest(model_->Signature()).value().meta.age, 7u);
  EXPECT_EQ(RemoveLeftoverTemporaries(dir_ + "/missing").value(), 0);
}

}  // namespace
}  // namespace gl::node
