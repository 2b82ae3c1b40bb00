#include "models/model.h"

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

void validate_inputs(const EncoderModel& model, const Inputs& in, const std::string& source) {
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

}  // namespace stilts::models
