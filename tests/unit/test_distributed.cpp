// The rank context read from torchrun's variables (absent: one process; bad values: an error naming the
// variable and what was expected) and the Gloo process group over a TCPStore on loopback: 2 ranks (one
// thread each) all-reduce bucketed gradients, broadcast weights and gather evaluation rows; a rank that
// leaves ends the other's collective with a DistributedError at once, one that hangs at the timeout.
// Evaluating a file under 2 ranks runs each rank's share of the batches and gives every rank one
// process's predictions and metrics. GroupRankRows gives each rank the whole batch's in-batch softmax, its
// ranks' gradients summing to one process's (double precision: to rounding).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "models/linear_hook.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"
#include "support/torch/tiny_study.h"
#include "train/device.h"
#include "train/distributed.h"
#include "train/evaluate.h"

namespace stilts::train {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

RankContext context_of(const std::map<std::string, std::string>& env) {
  return rank_context_from([&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& env) {
  try {
    context_of(env);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(RankContext, AbsentIsOneProcess) {
  const RankContext c = context_of({});
  EXPECT_EQ(c.rank, 0);
  EXPECT_EQ(c.world_size, 1);
  EXPECT_FALSE(c.distributed());
  EXPECT_TRUE(c.writes());
  EXPECT_FALSE(context_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).distributed());
}

TEST(RankContext, ReadsTorchrunVariables) {
  const RankContext c = context_of(
      {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29500"}});
  EXPECT_EQ(c.rank, 3);
  EXPECT_EQ(c.world_size, 4);
  EXPECT_EQ(c.local_rank, 1);
  EXPECT_EQ(c.master_addr, "node7");
  EXPECT_EQ(c.master_port, 29500);
  EXPECT_TRUE(c.distributed());
  EXPECT_FALSE(c.writes());
}

TEST(RankContext, BadVariablesNameTheVariableAndTheExpectation) {
  const std::map<std::string, std::string> ok = {
      {"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto with = [&](const std::string& key, const std::string& value) {
    auto env = ok;
    env[key] = value;
    return env;
  };
  auto without = [&](const std::string& key) {
    auto env = ok;
    env.erase(key);
    return env;
  };
  EXPECT_THAT(error_of(with("RANK", "one")), AllOf(HasSubstr("RANK='one'"), HasSubstr("expected an integer")));
  EXPECT_THAT(error_of(with("RANK", "2")), AllOf(HasSubstr("RANK='2'"), HasSubstr("[0, 2)")));
  EXPECT_THAT(error_of(with("RANK", "-1")), HasSubstr("RANK='-1'"));
  EXPECT_THAT(error_of(with("WORLD_SIZE", "0")), AllOf(HasSubstr("WORLD_SIZE='0'"), HasSubstr(">= 1")));
  EXPECT_THAT(error_of(with("WORLD_SIZE", "2x")), HasSubstr("WORLD_SIZE='2x'"));
  EXPECT_THAT(error_of(without("WORLD_SIZE")), HasSubstr("WORLD_SIZE is not"));
  EXPECT_THAT(error_of(without("RANK")), HasSubstr("RANK is not"));
  EXPECT_THAT(error_of(with("LOCAL_RANK", "x")), HasSubstr("LOCAL_RANK='x'"));
  EXPECT_THAT(error_of(without("MASTER_ADDR")), AllOf(HasSubstr("MASTER_ADDR is not set"), HasSubstr("host")));
  EXPECT_THAT(error_of(with("MASTER_ADDR", "")), HasSubstr("MASTER_ADDR is not set"));
  EXPECT_THAT(error_of(without("MASTER_PORT")), HasSubstr("MASTER_PORT is not set"));
  EXPECT_THAT(error_of(with("MASTER_PORT", "70000")), AllOf(HasSubstr("MASTER_PORT='70000'"), HasSubstr("1..65535")));
  EXPECT_THAT(error_of(with("MASTER_PORT", "http")), HasSubstr("MASTER_PORT='http'"));
}

// Runs `body(group)` as ranks 0 and 1 of a fresh group on loopback, one thread each.
void two_ranks(const std::function<void(ProcessGroup&)>& body, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const int port = testing::free_loopback_port();
  std::exception_ptr failures[2];
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      try {
        RankContext c;
        c.rank = r;
        c.world_size = 2;
        c.local_rank = 1 - r;  // LOCAL_RANK need not be RANK (here the reverse, as on a second machine's ranks)
        c.master_addr = "127.0.0.1";
        c.master_port = port;
        auto group = ProcessGroup::connect(c, timeout);
        body(*group);
      } catch (...) {
        failures[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& f : failures) {
    if (f) std::rethrow_exception(f);
  }
}

TEST(ProcessGroup, TwoRanksAllReduceBucketedGradientsAndBroadcast) {
  two_ranks([](ProcessGroup& group) {
    const int r = group.rank();
    EXPECT_EQ(group.world_size(), 2);
    EXPECT_EQ(group.local_rank(), 1 - r);
    EXPECT_EQ(parse_device("cpu", "--device", &group), torch::Device(torch::kCPU));
    // Three parameters, a bucket of 40 bytes: [a (6 floats)], [b (3)], [c (4)]; rank 1 has no gradient for b.
    std::vector<torch::Tensor> params = {torch::zeros({2, 3}), torch::zeros({3}), torch::zeros({4})};
    for (auto& p : params) p.set_requires_grad(true);
    params[0].mutable_grad() = torch::full({2, 3}, 1.0f + static_cast<float>(r));
    if (r == 0) params[1].mutable_grad() = torch::arange(3, torch::kFloat);
    params[2].mutable_grad() = torch::arange(4, torch::kFloat) * static_cast<float>(r + 1);
    all_reduce_gradients(group, params, /*bucket_bytes=*/40);
    EXPECT_TRUE(torch::equal(params[0].grad(), torch::full({2, 3}, 3.0f)));
    EXPECT_TRUE(torch::equal(params[1].grad(), torch::arange(3, torch::kFloat)));
    EXPECT_TRUE(torch::equal(params[2].grad(), torch::arange(4, torch::kFloat) * 3.0f));

    std::vector<torch::Tensor> weights = {torch::full({5}, static_cast<float>(r + 10))};
    weights[0].set_requires_grad(true);
    broadcast_parameters(group, weights);
    EXPECT_TRUE(torch::equal(weights[0], torch::full({5}, 10.0f)));
    group.barrier();
  });
}

TEST(ProcessGroup, RowsFilledOnOneRankEachAreGatheredOnEvery) {
  two_ranks([](ProcessGroup& group) {
    // Rows 0 and 2 are rank 0's, 1 and 3 rank 1's; row 3 is empty; lengths differ.
    std::vector<std::vector<float>> rows(4);
    if (group.rank() == 0) {
      rows[0] = {1.5f, -2.0f};
      rows[2] = {7.0f};
    } else {
      rows[1] = {0.25f, 3.0f, -0.0f};
    }
    all_gather_rows(group, rows);
    EXPECT_EQ(rows[0], (std::vector<float>{1.5f, -2.0f}));
    EXPECT_EQ(rows[1], (std::vector<float>{0.25f, 3.0f, 0.0f}));
    EXPECT_EQ(rows[2], (std::vector<float>{7.0f}));
    EXPECT_TRUE(rows[3].empty());
  });
}

TEST(ProcessGroup, ARankThatLeavesEndsTheOtherWithAnError) {
  std::string message;
  const auto start = std::chrono::steady_clock::now();
  // A 60 s timeout: the error must come from the closed connection, well before it.
  EXPECT_THROW(two_ranks(
                   [&](ProcessGroup& group) {
                     if (group.rank() == 1) return;  // leaves: its group is destroyed, its sockets closed
                     std::vector<torch::Tensor> t = {torch::ones({4})};
                     try {
                       group.all_reduce_sum(t);
                     } catch (const DistributedError& e) {
                       message = e.what();
                       throw;
                     }
                   },
                   std::chrono::seconds(60)),
               DistributedError);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30.0);
  EXPECT_THAT(message, AllOf(HasSubstr("rank 0 of 2"), HasSubstr("all-reduce failed"), HasSubstr("--resume")));
  std::cout << "message: " << message << "\n";
}

TEST(ProcessGroup, ARankThatHangsEndsTheOtherAtTheTimeout) {
  std::string message;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(two_ranks(
                   [&](ProcessGroup& group) {
                     if (group.rank() == 1) {  // alive but never joins the collective in time
                       std::this_thread::sleep_for(std::chrono::seconds(4));
                       return;
                     }
                     std::vector<torch::Tensor> t = {torch::ones({4})};
                     try {
                       group.all_reduce_sum(t);
                     } catch (const DistributedError& e) {
                       message = e.what();
                       throw;
                     }
                   },
                   std::chrono::seconds(2)),
               DistributedError);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 15.0);
  EXPECT_THAT(message, AllOf(HasSubstr("rank 0 of 2"), HasSubstr("all-reduce failed")));
  std::cout << "message: " << message << "\n";
}

TEST(ProcessGroup, NoPeerAtTheRendezvousTimesOut) {
  RankContext c;
  c.rank = 1;
  c.world_size = 2;
  c.master_addr = "127.0.0.1";
  c.master_port = testing::free_loopback_port();
  try {
    ProcessGroup::connect(c, std::chrono::milliseconds(1500));
    FAIL() << "no error";
  } catch (const DistributedError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("rank 1 of 2"), HasSubstr("rendezvous at 127.0.0.1:")));
  }
}

// evaluate_file of the model in `model_dir` on the tiny study's en dev file (24 rows, batches of 4),
// counting the linear layers this thread runs (models::linear's hook, falling back to torch::linear).
struct CountedEvaluation {
  FileEvaluation evaluation;
  int64_t linear_calls = 0;
};
CountedEvaluation evaluate_counted(const std::filesystem::path& model_dir, const std::filesystem::path& root,
                                   ProcessGroup* group) {
  EvalModel model = load_eval_model(model_dir);
  const auto kind = tasks::make_task_kind("classification", tasks::KindSettings{});
  DataFile file;
  file.path = root / "data" / "en" / "dev.tsv";
  file.format = "glue-sst2";
  file.max_length = 24;
  EvalSettings settings;
  settings.batch_size = 4;
  settings.group = group;
  CountedEvaluation out;
  const models::LinearHook count = [&](const torch::Tensor&, const torch::nn::LinearImpl&) {
    ++out.linear_calls;
    return torch::Tensor();
  };
  models::ScopedLinearHook hooked(&count);
  out.evaluation = evaluate_file(model, *kind, file, settings);
  return out;
}

TEST(ProcessGroup, AFileEvaluatedUnderTwoRanksIsShardedAndEveryRankGetsOneProcessResult) {
  const auto study = testing::make_tiny_study("sharded-eval");
  testing::TinyBert spec;
  spec.words = testing::kTinyWords;
  spec.with_head = true;
  const auto model_dir = testing::make_tiny_bert(study.root / "classifier", spec);
  const CountedEvaluation one = evaluate_counted(model_dir, study.root, nullptr);
  ASSERT_EQ(one.evaluation.predictions.predicted.size(), 24u);
  ASSERT_GT(one.linear_calls, 0);
  std::vector<CountedEvaluation> ranks(2);
  two_ranks([&](ProcessGroup& group) {
    ranks[static_cast<size_t>(group.rank())] = evaluate_counted(model_dir, study.root, &group);
  });
  for (const auto& r : ranks) {
    // Each rank ran some of the 6 batches and together they ran each once.
    EXPECT_GT(r.linear_calls, 0);
    EXPECT_LT(r.linear_calls, one.linear_calls);
    EXPECT_EQ(r.evaluation.predictions.predicted, one.evaluation.predictions.predicted);
    EXPECT_EQ(r.evaluation.predictions.gold, one.evaluation.predictions.gold);
    EXPECT_EQ(metrics_json(r.evaluation.metrics), metrics_json(one.evaluation.metrics));
  }
  EXPECT_EQ(ranks[0].linear_calls + ranks[1].linear_calls, one.linear_calls);
}

// Retrieval's in-batch softmax over a tiny double-precision encoder (rows x [R, 4] → normalise(tanh(x·w))
// [R, 3]): the n queries' scores against the n positives × scale, cross-entropy against the diagonal.
struct InBatch {
  torch::Tensor w = torch::sin(torch::arange(12, torch::kDouble) * 0.7).reshape({4, 3}).requires_grad_();
  torch::Tensor scale = torch::full({1}, 5.0, torch::kDouble).requires_grad_();
  torch::Tensor embed(const torch::Tensor& x) const {
    const torch::Tensor e = torch::tanh(x.matmul(w));  // [R, 3]
    return e / e.norm(2, -1, true);
  }
  // `e` [2m, 3]: m queries, then their m positives.
  torch::Tensor loss(const torch::Tensor& e, const torch::Tensor& s) const {
    const int64_t m = e.size(0) / 2;
    const torch::Tensor logits = e.narrow(0, 0, m).matmul(e.narrow(0, m, m).t()) * s;  // [m, m]
    return torch::cross_entropy_loss(logits, torch::arange(m, torch::kLong));
  }
};

TEST(GroupRankRows, EachRankHasTheWholeBatchLossAndTheGradientsSumToOneProcesss) {
  // Batches of 5 (shards of 2 and 3) and of 1 (rank 0's shard is empty: it joins the gather).
  for (const int64_t n : {5, 1}) {
    SCOPED_TRACE("batch of " + std::to_string(n));
    const torch::Tensor x = torch::cos(torch::arange(2 * n * 4, torch::kDouble) * 1.3).reshape({2 * n, 4});
    InBatch one;
    const torch::Tensor whole = one.loss(one.embed(x), one.scale);
    whole.backward();
    // Each shard's own in-batch loss (its rows as the only negatives) is not the batch's.
    InBatch apart;
    for (int64_t begin : {int64_t{0}, n / 2}) {
      const int64_t end = begin == 0 ? n / 2 : n;
      if (end == begin) continue;
      const torch::Tensor rows = torch::cat({x.narrow(0, begin, end - begin), x.narrow(0, n + begin, end - begin)});
      (apart.loss(apart.embed(rows), apart.scale) * (static_cast<double>(end - begin) / static_cast<double>(n)))
          .backward();
    }
    if (n > 1) EXPECT_GT((apart.w.grad() - one.w.grad()).abs().max().item<double>(), 1e-3);

    two_ranks([&](ProcessGroup& group) {
      const int64_t begin = n * group.rank() / 2, end = n * (group.rank() + 1) / 2;
      GroupRankRows rank_rows(group, n, begin, end);
      InBatch mine;
      if (end > begin) {
        const torch::Tensor local = mine.embed(
            torch::cat({x.narrow(0, begin, end - begin), x.narrow(0, n + begin, end - begin)}));  // [2b, 3]
        const torch::Tensor all = rank_rows.all_rows(local, 2);                                  // [2n, 3]
        ASSERT_EQ(all.sizes(), (std::vector<int64_t>{2 * n, 3}));
        const torch::Tensor loss = mine.loss(all, rank_rows.shared(mine.scale));
        EXPECT_NEAR(loss.item<double>(), whole.item<double>(), 1e-14);
        loss.backward();
      } else {
        rank_rows.join();
      }
      // This rank's gradients (none on an empty shard's rank; the scale's on the last rank only), summed.
      std::vector<torch::Tensor> grads = {
          mine.w.grad().defined() ? mine.w.grad().clone() : torch::zeros_like(mine.w),
          mine.scale.grad().defined() ? mine.scale.grad().clone() : torch::zeros_like(mine.scale)};
      EXPECT_EQ(mine.scale.grad().defined(), group.rank() == 1);
      group.all_reduce_sum(grads);
      if (n > 1) EXPECT_GT(one.w.grad().abs().max().item<double>(), 1e-3);  // (one row's softmax is constant)
      EXPECT_LT((grads[0] - one.w.grad()).abs().max().item<double>(), 1e-14);
      EXPECT_LT((grads[1] - one.scale.grad()).abs().max().item<double>(), 1e-14);
    });
  }
}

}  // namespace
}  // namespace stilts::train
