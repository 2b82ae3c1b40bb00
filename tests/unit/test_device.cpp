// The device option (cpu | cuda | cuda:N), its validation, and the fp16 loss scaler. CI has no GPU: the
// CUDA paths are checked here only for their errors; a CUDA build exercises them for real.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <random>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "io/safetensors.h"
#include "models/pretrained.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"
#include "train/config.h"
#include "train/device.h"
#include "train/evaluate.h"
#include "train/loss_scale.h"
#include "train/trainer.h"

namespace stilts::train {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

// ---- parsing and validation ----

TEST(Device, CpuParses) {
  EXPECT_EQ(parse_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_EQ(TrainConfig{}.device, "cpu");  // the default
}

TEST(Device, MalformedNamesAreErrorsNamingTheValue) {
  for (const std::string bad : {"gpu", "cuda:x", "cuda:", "CUDA", "cuda:-1", "cpu:0", ""}) {
    const std::string message = input_error_of([&] { parse_device(bad, "--device"); });
    EXPECT_THAT(message, HasSubstr("--device: '" + bad + "' is not a device")) << bad;
    EXPECT_THAT(message, HasSubstr("expected cpu, cuda or cuda:N")) << bad;
  }
}

TEST(Device, CudaWithoutAGpuIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible: cuda is valid here";
  for (const std::string name : {"cuda", "cuda:0", "cuda:3"}) {
    const std::string message = input_error_of([&] { parse_device(name, "--device"); });
    std::cout << message << "\n";
    EXPECT_THAT(message, HasSubstr("--device: '" + name + "'"));
    EXPECT_THAT(message, at::hasCUDA() ? HasSubstr("no GPU is visible") : HasSubstr("built without CUDA"));
    EXPECT_THAT(message, HasSubstr("README"));
  }
}

TEST(Device, UnderRanksCudaMeansTheLocalRanksGpu) {
  const torch::Device cuda(torch::kCUDA), cuda1(torch::kCUDA, 1);
  // torchrun's convention: local rank r of a machine trains on cuda:r.
  EXPECT_EQ(device_for_local_rank(cuda, 0, 2, "--device"), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(device_for_local_rank(cuda, 1, 2, "--device"), cuda1);
  EXPECT_EQ(device_for_local_rank(cuda, 3, 8, "--device"), torch::Device(torch::kCUDA, 3));
  // An explicit GPU is every rank's; the CPU stays the CPU, whatever the GPUs.
  EXPECT_EQ(device_for_local_rank(cuda1, 0, 2, "--device"), cuda1);
  EXPECT_EQ(device_for_local_rank(cuda1, 5, 2, "--device"), cuda1);
  EXPECT_EQ(device_for_local_rank(torch::kCPU, 1, 0, "--device"), torch::Device(torch::kCPU));
  // More ranks on a machine than GPUs.
  const std::string message = input_error_of([&] { device_for_local_rank(cuda, 2, 2, "--device"); });
  EXPECT_THAT(message, HasSubstr("--device: 'cuda' under ranks is cuda:LOCAL_RANK, and LOCAL_RANK 2 has no GPU (2 visible)"));
  EXPECT_THAT(input_error_of([&] { device_for_local_rank(cuda, 0, 0, "--device"); }), HasSubstr("LOCAL_RANK 0 has no GPU (0 visible)"));
}

TEST(Device, ConfigKeyValidatedLikeTheOthers) {
  TrainConfig c;
  c.model = "m";
  c.train = "t";
  c.out = "o";
  c.final_model = "last";
  EXPECT_NO_THROW(c.validate());
  c.apply_setting("device=cpu");
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.to_json().at("device"), "cpu");
  c.apply_setting("device=gpu");
  EXPECT_THAT(input_error_of([&] { c.validate(); }), HasSubstr("'device' (--device): 'gpu' is not a device"));
  c.apply_json({{"device", "cuda:x"}}, "study.toml");
  EXPECT_THAT(input_error_of([&] { c.validate(); }), HasSubstr("'cuda:x' is not a device"));
  EXPECT_THAT(input_error_of([&] { c.apply_json({{"device", 0}}, "study.toml"); }), HasSubstr("'device' must be a string"));
  // fp16 autocast exists on CUDA only.
  c.device = "cpu";
  c.precision = "fp16";
  EXPECT_THAT(input_error_of([&] { c.validate(); }), HasSubstr("fp16 autocast needs a CUDA device"));
  EXPECT_THROW(AutocastScope(Precision::kFp16, torch::kCPU), InputError);
  c.precision = "bf16";
  EXPECT_NO_THROW(c.validate());
}

// ---- the loss scaler (torch.cuda.amp.GradScaler's rules), on CPU tensors ----

TEST(LossScaler, StartsAt2To16AndGrowsAfter2000CleanSteps) {
  LossScaler scaler;
  EXPECT_EQ(scaler.scale(), 65536.0);
  for (int i = 0; i < 1999; ++i) scaler.update(/*finite=*/true);
  EXPECT_EQ(scaler.scale(), 65536.0);
  EXPECT_EQ(scaler.growth_tracker(), 1999);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 131072.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(LossScaler, BacksOffOnNonFiniteAndRestartsTheCount) {
  LossScaler scaler({/*init_scale=*/1024, /*growth_factor=*/2, /*backoff_factor=*/0.5, /*growth_interval=*/3});
  scaler.update(true);
  scaler.update(true);
  scaler.update(false);  // two clean steps, then an overflow: halve, count from 0
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 512.0);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1024.0);
  scaler.restore(8.0, 2);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 16.0);
}

TEST(LossScaler, UnscalesGradientsAndFlagsInfAndNan) {
  LossScaler scaler({/*init_scale=*/8, 2, 0.5, 2000});
  torch::Tensor w = torch::tensor({1.0f, 2.0f}, torch::requires_grad());
  torch::Tensor b = torch::tensor({3.0f}, torch::requires_grad());
  torch::Tensor unused = torch::zeros({2}, torch::requires_grad());  // no gradient: ignored
  scaler.scale_loss((w * w).sum() + b.sum()).backward();               // dL/dw = 2w, dL/db = 1, × 8
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({16.0f, 32.0f})));
  EXPECT_TRUE(scaler.unscale({w, b, unused}));
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({2.0f, 4.0f})));
  EXPECT_TRUE(torch::allclose(b.grad(), torch::tensor({1.0f})));

  for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    w.mutable_grad() = torch::tensor({1.0f, bad});
    EXPECT_FALSE(scaler.unscale({w, b})) << bad;
  }
}

// ---- training and evaluation: --device cpu is the default ----

TrainConfig tiny_run(const fs::path& root, const std::string& out) {
  TrainConfig c;
  c.model = (root / "model").string();
  c.train = (root / "train.tsv").string();
  c.dev = {c.train};
  c.out = (root / out).string();
  c.cache_dir = (root / "cache").string();
  c.batch_size = 8;
  c.lr = 1e-3;
  c.max_steps = 6;
  c.max_length = 16;
  c.log_every = 1000;
  c.seed = 5;
  c.final_model = "last";
  return c;
}

void write_data(const fs::path& root) {
  testing::make_tiny_bert(root / "model", {{"red", "blue", "cat", "dog", "yes", "no", "runs", "sits"}});
  std::mt19937 rng(7);
  const std::vector<std::string> w = {"red", "blue", "cat", "dog", "runs", "sits"};
  std::string tsv = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < 32; ++i) {
    const bool positive = rng() % 2;
    tsv += w[rng() % 6] + " " + w[rng() % 6] + "\t" + w[rng() % 6] + (positive ? " yes" : " no") + "\t" +
           (positive ? "1" : "0") + "\n";
  }
  write_file_atomic(root / "train.tsv", tsv);
}

TEST(DeviceTraining, ExplicitCpuEqualsTheDefault) {
  const auto root = testing::make_temp_dir();
  write_data(root);
  std::ostringstream log;
  TrainOptions options;
  options.log = &log;
  options.tty = 0;
  const TrainConfig by_default = tiny_run(root, "default");
  TrainConfig on_cpu = tiny_run(root, "cpu");
  on_cpu.device = "cpu";
  const TrainOutcome a = run_training(by_default, options);
  const TrainOutcome b = run_training(on_cpu, options);
  EXPECT_THAT(log.str(), HasSubstr("fp32, 1 thread(s), device cpu"));
  ASSERT_EQ(a.steps, 6);
  ASSERT_EQ(b.steps, 6);
  EXPECT_EQ(a.metrics.at("evaluations"), b.metrics.at("evaluations"));  // losses and dev metrics alike
  const auto wa = io::load_safetensors(a.out / "model.safetensors");
  const auto wb = io::load_safetensors(b.out / "model.safetensors");
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto& [name, t] : wa) EXPECT_TRUE(torch::equal(t, wb.at(name))) << name;

  // Resuming the finished run's checkpoint is unaffected: weights and optimizer state go back on the
  // device (the CPU here) and the run is done.
  options.resume = true;
  EXPECT_TRUE(run_training(on_cpu, options).already_finished);

  // The saved model reloads, and evaluates alike with the device given and not.
  const auto loaded = models::load_pretrained(b.out);
  for (const auto& p : loaded.model->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), wb.at(p.key()))) << p.key();
  }
}

// ---- the CLI: the errors users see ----

TEST(DeviceCli, CudaAndMalformedDevicesExitNonZeroNamingTheOption) {
  const auto root = testing::make_temp_dir();
  write_data(root);
  const std::string model = (root / "model").string(), data = (root / "train.tsv").string();
  if (!torch::cuda::is_available()) {
    const auto cuda = testing::run_stilts(
        {"train", "--model", model, "--train", data, "--out", (root / "run").string(), "--device", "cuda"});
    EXPECT_NE(cuda.exit_code, 0);
    EXPECT_THAT(cuda.err, HasSubstr("'device' (--device): 'cuda'"));
    EXPECT_THAT(cuda.err, HasSubstr("README"));
    EXPECT_FALSE(fs::exists(root / "run" / "checkpoints"));
  }
  const auto gpu = testing::run_stilts(
      {"train", "--model", model, "--train", data, "--out", (root / "run").string(), "--device", "gpu"});
  EXPECT_NE(gpu.exit_code, 0);
  EXPECT_THAT(gpu.err, HasSubstr("'gpu' is not a device; expected cpu, cuda or cuda:N"));

  const auto eval = testing::run_stilts({"eval", "--model", model, "--data", data, "--device", "cuda:x"});
  EXPECT_NE(eval.exit_code, 0);
  EXPECT_THAT(eval.err, HasSubstr("--device: 'cuda:x' is not a device"));

  const std::vector<std::string> bench = {"bench", model, "--batch-sizes", "1", "--seq-lens", "8", "--warmup", "0",
                                          "--reps", "1", "--min-time", "0", "--json", "--device"};
  auto bench_on = [&](const std::string& device) {
    auto args = bench;
    args.push_back(device);
    return testing::run_stilts(args);
  };
  const auto bench_gpu = bench_on("gpu");
  EXPECT_NE(bench_gpu.exit_code, 0);
  EXPECT_THAT(bench_gpu.err, HasSubstr("--device: 'gpu' is not a device"));
  if (!torch::cuda::is_available()) {
    const auto bench_cuda = bench_on("cuda");
    EXPECT_NE(bench_cuda.exit_code, 0);
    EXPECT_THAT(bench_cuda.err, HasSubstr("--device: 'cuda'"));
  }
  const auto bench_cpu = bench_on("cpu");
  EXPECT_EQ(bench_cpu.exit_code, 0) << bench_cpu.err;
  EXPECT_THAT(bench_cpu.out, HasSubstr("\"p50"));
}

}  // namespace
}  // namespace stilts::train
