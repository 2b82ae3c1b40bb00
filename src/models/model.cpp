#include "models/model.h"

#include <torch/nn/functional/normalization.h>

#include "common/error.h"

namespace stilts::models {

const char* param_group_name(ParamGroup group) {
  switch (group) {
    case ParamGroup::kEmbeddings: return "embeddings";
    case ParamGroup::kEncoder: return "encoder";
    case ParamGroup::kPooler: return "pooler";
    case ParamGroup::kHead: return "head";
  }
  return "?";
}

namespace {
struct HeadName {
  HeadKind kind;
  const char* name;
  const char* suffix;
};
constexpr HeadName kHeads[] = {
    {HeadKind::kNone, "none", "Model"},
    {HeadKind::kSequenceClassification, "sequence-classification", "ForSequenceClassification"},
    {HeadKind::kTokenClassification, "token-classification", "ForTokenClassification"},
    {HeadKind::kQuestionAnswering, "question-answering", "ForQuestionAnswering"},
    {HeadKind::kMultipleChoice, "multiple-choice", "ForMultipleChoice"},
    {HeadKind::kMaskedLM, "masked-lm", "ForMaskedLM"},
    {HeadKind::kRetrieval, "retrieval", "ForRetrieval"},
};
}  // namespace

const char* head_kind_name(HeadKind head) {
  for (const auto& h : kHeads) {
    if (h.kind == head) return h.name;
  }
  return "?";
}

HeadKind parse_head_kind(const std::string& name) {
  std::string known;
  for (const auto& h : kHeads) {
    if (name == h.name) return h.kind;
    known += (known.empty() ? "" : ", ") + std::string(h.name);
  }
  input_error("unknown head '", name, "' (known: ", known, ")");
}

std::string head_class_suffix(HeadKind head) {
  for (const auto& h : kHeads) {
    if (h.kind == head) return h.suffix;
  }
  return "Model";
}

std::optional<HeadKind> head_kind_of_architecture(const std::string& architecture) {
  auto ends_with = [&](const std::string& suffix) {
    return architecture.size() > suffix.size() &&
           architecture.compare(architecture.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("ForQuestionAnsweringSimple")) return HeadKind::kQuestionAnswering;
  for (const auto& h : kHeads) {
    if (ends_with(h.suffix)) return h.kind;
  }
  return std::nullopt;
}

torch::Tensor EncoderModel::logits(const Inputs& inputs) {
  Outputs out = forward(inputs);
  if (head_kind() == HeadKind::kQuestionAnswering) return torch::stack({out.start_logits, out.end_logits}, -1);
  return out.logits;
}

void check_hidden_layer(int64_t layer, int64_t layers) {
  if (layer < 0 || layer > layers) {
    input_error("hidden state ", layer, " is not one of the model's 0..", layers, " (0 = the embeddings' output, ",
                layers, " = the last layer's)");
  }
}

void check_family_head(HeadKind head, const std::string& source) {
  if (head == HeadKind::kMaskedLM) {
    input_error(source, ": the masked-LM head is built by models::MaskedLMModel (load_masked_lm), not here");
  }
}

int64_t head_outputs(HeadKind head, int64_t num_labels) {
  switch (head) {
    case HeadKind::kQuestionAnswering: return 2;
    case HeadKind::kMultipleChoice: return 1;
    default: return num_labels;
  }
}

torch::Tensor retrieval_embedding(const torch::Tensor& pooled) {
  // torch.nn.functional.normalize(p=2, dim=1), as xtreme's BertForRetrieval: x / max(||x||, 1e-12).
  return torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

void build_logit_scale(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  if (auto* existing = model.named_parameters(/*recurse=*/false).find(kLogitScaleName)) {
    existing->fill_(kLogitScaleInit);
    return;
  }
  model.register_parameter(kLogitScaleName, torch::full({1}, kLogitScaleInit));
}

torch::Tensor logit_scale_of(const EncoderModel& model, const std::string& source) {
  if (model.head_kind() != HeadKind::kRetrieval) {
    input_error(source, ": the model's head is ", head_kind_name(model.head_kind()), ", not a retrieval head");
  }
  for (const auto& p : model.named_parameters(/*recurse=*/false)) {
    if (p.key() == kLogitScaleName) return p.value();
  }
  STILTS_CHECK(false, "a retrieval model without ", kLogitScaleName);
  return {};
}

int64_t num_choices(const Inputs& inputs) {
  if (inputs.input_ids.dim() != 3) {
    input_error("a multiple-choice model takes input_ids [batch, choices, tokens], got ", inputs.input_ids.dim(),
                "-D ", inputs.input_ids.sizes());
  }
  return inputs.input_ids.size(1);
}

Inputs flatten_choices(const Inputs& in) {
  auto flat = [](const torch::Tensor& t) { return t.defined() ? t.reshape({-1, t.size(-1)}) : t; };
  return Inputs{flat(in.input_ids), flat(in.attention_mask), flat(in.token_type_ids)};
}

void split_span_logits(const torch::Tensor& logits, Outputs& out) {
  out.start_logits = logits.select(/*dim=*/-1, /*index=*/0).contiguous();  // [B, T]
  out.end_logits = logits.select(/*dim=*/-1, /*index=*/1).contiguous();    // [B, T]
}

ParameterCounts count_parameters(const EncoderModel& model) {
  ParameterCounts c;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const int64_t n = p.value().numel();
    c.total += n;
    if (p.value().requires_grad()) c.trainable += n;
    switch (model.param_group(p.key())) {
      case ParamGroup::kEmbeddings: c.embeddings += n; break;
      case ParamGroup::kEncoder: c.encoder += n; break;
      case ParamGroup::kPooler: c.pooler += n; break;
      case ParamGroup::kHead: c.head += n; break;
    }
  }
  return c;
}

namespace {
// validate_inputs on [B, T] rows.
void validate_rows(const EncoderModel& model, const Inputs& in, const std::string& source);
}  // namespace

void validate_inputs(const EncoderModel& model, const Inputs& in, const std::string& source) {
  if (model.head_kind() == HeadKind::kMultipleChoice) {
    for (const auto* t : {&in.input_ids, &in.attention_mask, &in.token_type_ids}) {
      if (t->defined() && t->dim() != 3) {
        input_error(source, ": a multiple-choice model takes [batch, choices, tokens] arrays, got ", t->dim(), "-D ",
                    t->sizes());
      }
      if (t->defined() && t->sizes() != in.input_ids.sizes()) {
        input_error(source, ": shape ", t->sizes(), " differs from input_ids' ", in.input_ids.sizes());
      }
    }
    if (!in.input_ids.defined()) input_error(source, ": 'input_ids' is missing");
    validate_rows(model, flatten_choices(in), source);
    return;
  }
  validate_rows(model, in, source);
}

namespace {
void validate_rows(const EncoderModel& model, const Inputs& in, const std::string& source) {
  auto check_matrix = [&](const torch::Tensor& t, const char* name) {
    if (!t.defined()) input_error(source, ": '", name, "' is missing");
    if (t.dim() != 2) input_error(source, ": '", name, "' must be a 2-D [batch, tokens] array, got ", t.dim(), "-D");
    if (t.scalar_type() != torch::kLong) input_error(source, ": '", name, "' must hold integers");
  };
  check_matrix(in.input_ids, "input_ids");
  check_matrix(in.attention_mask, "attention_mask");
  const auto B = in.input_ids.size(0);
  const auto T = in.input_ids.size(1);
  if (B == 0 || T == 0) input_error(source, ": 'input_ids' is empty (", B, " rows of ", T, " tokens)");
  if (in.attention_mask.sizes() != in.input_ids.sizes()) {
    input_error(source, ": 'attention_mask' has shape ", in.attention_mask.sizes(), " but 'input_ids' has ",
                in.input_ids.sizes());
  }
  if (in.token_type_ids.defined()) {
    check_matrix(in.token_type_ids, "token_type_ids");
    if (in.token_type_ids.sizes() != in.input_ids.sizes()) {
      input_error(source, ": 'token_type_ids' has shape ", in.token_type_ids.sizes(), " but 'input_ids' has ",
                  in.input_ids.sizes());
    }
  }
  const auto ids = in.input_ids.cpu();
  const int64_t V = model.vocab_size();
  const auto bad_ids = ((ids < 0) | (ids >= V)).nonzero();
  if (bad_ids.size(0) > 0) {
    const int64_t r = bad_ids[0][0].item<int64_t>();
    const int64_t c = bad_ids[0][1].item<int64_t>();
    input_error(source, ": input_ids row ", r, " position ", c, ": id ", ids[r][c].item<int64_t>(),
                " is outside the vocabulary [0, ", V, ")");
  }
  const auto mask = in.attention_mask.cpu();
  const auto bad_mask = ((mask != 0) & (mask != 1)).nonzero();
  if (bad_mask.size(0) > 0) {
    input_error(source, ": attention_mask row ", bad_mask[0][0].item<int64_t>(), " holds ",
                mask[bad_mask[0][0]][bad_mask[0][1]].item<int64_t>(), "; expected 0 or 1");
  }
  if (in.token_type_ids.defined()) {
    const auto types = in.token_type_ids.cpu();
    const auto bad = ((types < 0) | (types >= model.type_vocab_size())).nonzero();
    if (bad.size(0) > 0) {
      input_error(source, ": token_type_ids row ", bad[0][0].item<int64_t>(), " holds ",
                  types[bad[0][0]][bad[0][1]].item<int64_t>(), "; the model has ", model.type_vocab_size(),
                  " token types (type_vocab_size)");
    }
  }
  if (T > model.max_positions()) {
    input_error(source, ": ", T, " tokens per row, but the model has ", model.max_positions(),
                " positions (max_position_embeddings)");
  }
}

}  // namespace

}  // namespace stilts::models
