// Model directories in and out: save_pretrained writes what transformers wrote (same tensor names,
// shapes and config fields), strict loading, encoder-only loading for a new head, and the
// conventions of older checkpoints (no prefix, LayerNorm gamma/beta, position_ids buffer).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <fstream>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "text/auto.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;

fs::path golden(const std::string& name) { return testing::test_data_dir() / "hf-golden" / name; }

class SaveRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(SaveRoundTrip, WritesTheTransformersLayout) {
  const auto src = golden(GetParam());
  auto loaded = models::load_pretrained(src);
  const auto out = testing::make_temp_dir() / "saved";
  models::save_pretrained(*loaded.model, out);

  // Same tensor names, shapes and values as the checkpoint transformers wrote.
  const auto original = io::load_safetensors(src / "model.safetensors");
  const auto saved = io::load_safetensors(out / "model.safetensors");
  ASSERT_EQ(saved.size(), original.size());
  for (const auto& [name, t] : original) {
    ASSERT_TRUE(saved.count(name)) << name;
    EXPECT_TRUE(torch::equal(saved.at(name), t)) << name;
  }
  EXPECT_EQ(io::SafetensorsFile::open(out / "model.safetensors").metadata().at("format"), "pt");

  // Every field transformers wrote is still there with the same value.
  const auto config_in = read_json_file(src / "config.json");
  const auto config_out = read_json_file(out / "config.json");
  for (const auto& [key, value] : config_in.items()) {
    ASSERT_TRUE(config_out.contains(key)) << key;
    EXPECT_EQ(config_out[key], value) << key;
  }

  // And it loads back to the same outputs.
  auto reloaded = models::load_pretrained(out);
  const auto inputs = models::read_inputs_json(src / "inputs.json");
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(reloaded.model->forward(inputs).logits, loaded.model->forward(inputs).logits));
}

INSTANTIATE_TEST_SUITE_P(HfGolden, SaveRoundTrip, ::testing::Values("bert", "bert-nl3", "roberta", "xlm-roberta"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(LoadPretrained, StrictBaseModelRejectsTheHeadWeights) {
  models::LoadOptions o;
  o.head = models::HeadPolicy::kWithout;
  try {
    models::load_pretrained(golden("bert"), o);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("classifier.weight"), std::string::npos) << e.what();
  }
}

TEST(LoadPretrained, EncoderOnlyAttachesANewHead) {
  torch::manual_seed(7);
  models::LoadOptions o;
  o.mode = models::LoadMode::kEncoderOnly;
  o.head = models::HeadPolicy::kWith;
  o.num_labels = 5;
  auto loaded = models::load_pretrained(golden("bert"), o);
  EXPECT_EQ(loaded.model->num_labels(), 5);
  const auto& init = loaded.report.initialized;
  EXPECT_NE(std::find(init.begin(), init.end(), "classifier.weight"), init.end());
  const auto& ignored = loaded.report.ignored;
  EXPECT_NE(std::find(ignored.begin(), ignored.end(), "classifier.weight"), ignored.end());
  // The encoder is the checkpoint's.
  const auto original = io::load_safetensors(golden("bert") / "model.safetensors");
  for (const auto& p : loaded.model->named_parameters()) {
    if (p.key().rfind("bert.", 0) == 0) {
      EXPECT_TRUE(torch::equal(p.value(), original.at(p.key()))) << p.key();
    }
  }
  const auto inputs = models::read_inputs_json(golden("bert") / "inputs.json");
  torch::NoGradGuard no_grad;
  EXPECT_EQ(loaded.model->forward(inputs).logits.sizes(), (std::vector<int64_t>{3, 5}));
}

TEST(LoadPretrained, BaseCheckpointWithoutPrefixAndOldNames) {
  // What BertModel.save_pretrained of an old TF-converted model looks like: no "bert." prefix,
  // LayerNorm gamma/beta, and the position_ids buffer.
  const auto dir = testing::make_temp_dir();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, t] : io::load_safetensors(golden("bert") / "model.safetensors")) {
    if (name.rfind("bert.", 0) != 0) continue;
    std::string n = name.substr(5);
    if (n.find("LayerNorm.weight") != std::string::npos) n.replace(n.size() - 6, 6, "gamma");
    if (n.find("LayerNorm.bias") != std::string::npos) n.replace(n.size() - 4, 4, "beta");
    tensors.emplace_back(n, t);
  }
  tensors.emplace_back("embeddings.position_ids", torch::arange(64).unsqueeze(0));
  io::save_safetensors(dir / "model.safetensors", tensors);
  fs::copy_file(golden("bert") / "config.json", dir / "config.json");

  auto base = models::load_pretrained(dir).model;
  EXPECT_FALSE(base->has_head());
  EXPECT_TRUE(base->has_pooler());
  auto full = models::load_pretrained(golden("bert")).model;
  const auto inputs = models::read_inputs_json(golden("bert") / "inputs.json");
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(base->forward(inputs).pooler_output, full->forward(inputs).pooler_output));

  // Saved as a base model: no prefix, as transformers writes BertModel.
  models::save_pretrained(*base, dir / "saved");
  const auto names = io::SafetensorsFile::open(dir / "saved" / "model.safetensors").names();
  EXPECT_NE(std::find(names.begin(), names.end(), "embeddings.word_embeddings.weight"), names.end());
  EXPECT_EQ(read_json_file(dir / "saved" / "config.json")["architectures"][0], "BertModel");
}

TEST(LoadPretrained, ShapeMismatchNamesTheTensor) {
  const auto dir = testing::make_temp_dir();
  fs::copy_file(golden("bert") / "model.safetensors", dir / "model.safetensors");
  auto config = read_json_file(golden("bert") / "config.json");
  config["intermediate_size"] = 64;
  write_file_atomic(dir / "config.json", config.dump());
  try {
    models::load_pretrained(dir);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("intermediate.dense.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}

TEST(LoadPretrained, NoWeightsFile) {
  const auto dir = testing::make_temp_dir();
  fs::copy_file(golden("bert") / "config.json", dir / "config.json");
  EXPECT_THROW(models::load_pretrained(dir), InputError);
}

TEST(LoadPretrained, HalfPrecisionCheckpointLoadsAsFloat) {
  const auto dir = testing::make_temp_dir();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, t] : io::load_safetensors(golden("roberta") / "model.safetensors")) {
    tensors.emplace_back(name, t.to(torch::kBFloat16));
  }
  io::save_safetensors(dir / "model.safetensors", tensors);
  fs::copy_file(golden("roberta") / "config.json", dir / "config.json");
  auto loaded = models::load_pretrained(dir);
  EXPECT_EQ(loaded.weights_dtype, "BFloat16");
  for (const auto& p : loaded.model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
}

TEST(CreateModel, UnknownModelTypeListsSupportedTypes) {
  try {
    models::create_model({{"model_type", "t5"}, {"vocab_size", 10}}, "cfg.json", {});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cfg.json"), std::string::npos);
    EXPECT_NE(msg.find("'t5'"), std::string::npos);
    EXPECT_NE(msg.find("bert, roberta, xlm-roberta"), std::string::npos) << msg;
  }
}

// ---- the family registry ----

TEST(FamilyRegistry, EveryModelTypeHasOneFamilyThatBuildsIt) {
  std::set<std::string> seen;
  for (const models::Family* family : models::families()) {
    SCOPED_TRACE(family->name);
    EXPECT_TRUE(family->build && family->count_parameters && family->forward_flops);
    EXPECT_FALSE(family->head_weight_prefixes.empty());
    for (const auto& type : family->model_types) {
      EXPECT_TRUE(seen.insert(type.name).second) << type.name << " is listed twice";
      EXPECT_EQ(models::find_family(type.name), family);
    }
  }
  EXPECT_EQ(models::supported_model_types(), std::vector<std::string>(seen.begin(), seen.end()));
  EXPECT_EQ(models::find_family("t5"), nullptr);
}

// text finds a model_type's tokenizer by transformers' class naming, knowing no family: it must find the
// kind each family declares.
TEST(FamilyRegistry, TextFindsEveryDeclaredTokenizerKind) {
  const auto root = testing::make_temp_dir();
  for (const models::Family* family : models::families()) {
    for (const auto& type : family->model_types) {
      SCOPED_TRACE(type.name);
      EXPECT_EQ(text::tokenizer_kind_of_model_type(type.name), type.tokenizer_kind);
      // Through a directory whose tokenizer files do not say (AutoTokenizer then asks config.json).
      const auto dir = root / type.name;
      std::filesystem::create_directories(dir);
      write_file_atomic(dir / "config.json", nlohmann::json{{"model_type", type.name}}.dump());
      EXPECT_EQ(text::detect_tokenizer_kind(dir), type.tokenizer_kind);
    }
  }
  EXPECT_EQ(text::tokenizer_kind_of_model_type("t5"), std::nullopt);
}

// A checkpoint holds a task head when a weight sits under any family's head prefixes.
TEST(FamilyRegistry, CheckpointHasHeadAsksTheFamilies) {
  EXPECT_FALSE(models::checkpoint_has_head({"bert.embeddings.word_embeddings.weight", "cls.predictions.bias"}));
  for (const models::Family* family : models::families()) {
    for (const auto& prefix : family->head_weight_prefixes) {
      EXPECT_TRUE(models::checkpoint_has_head({"embeddings.x", prefix + "weight"})) << prefix;
    }
  }
}

}  // namespace
}  // namespace stilts
