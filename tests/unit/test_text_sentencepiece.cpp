// XLM-R and XLNet SentencePiece tokenizers on tiny models trained here at test time: id layout,
// templates, padding, special tokens written in the text, XLNet preprocessing, and the errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "common/error.h"
#include "support/fixtures.h"
#include "text/sentencepiece.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

const char* const kCorpus[] = {
    "the quick brown fox jumps over the lazy dog",
    "hello world, hello there, hello again",
    "prices rose 1,000 and 20,5 and 3, in the world",
    "a small model for a small test of the tokenizer",
    "numbers 0 1 2 3 4 5 6 7 8 9 are written here",
    "quotes \" and ' and , and . and ; and : here",
    "this sentence mentions a cafe and a resume twice",
    "the other sentence is about the weather and the sea",
    "hello world again and again, the end",
    "jumping foxes and lazy dogs sleep in the sun",
    "count 5, 15, 25, 35, 45, 55, 65, 75, 85, 95,",
};

// Trains one model into `dir`/`file`; the extra flags choose its family's layout.
void train(const fs::path& dir, const std::string& file, const std::string& flags) {
  const fs::path corpus = dir / "corpus.txt";
  std::string text;
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (const char* line : kCorpus) text += std::string(line) + "\n";
  }
  write(corpus, text);
  const std::string args = "--input=" + corpus.string() + " --model_prefix=" + (dir / "m").string() +
                           " --character_coverage=1.0 --num_threads=1 --minloglevel=2 " + flags;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  ASSERT_TRUE(status.ok()) << status.ToString();
  fs::rename(dir / "m.model", dir / file);
  fs::remove(dir / "m.vocab");
  fs::remove(corpus);
}

class SentencePieceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("stilts-sentencepiece-unit-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "xlmr");
    fs::create_directories(root_ / "xlnet");
    // Extra whitespace is kept by the model so that the whitespace rules around special tokens show.
    train(root_ / "xlmr", kXlmrModelFile, "--model_type=bpe --vocab_size=90 --remove_extra_whitespaces=false");
    // The symbols of xlnet-base-cased. Pieces may span digits and punctuation so that "5," is learned,
    // for XLNet's digit-comma split.
    train(root_ / "xlnet", kXlnetModelFile,
          "--model_type=unigram --vocab_size=90 --split_by_number=false "
          "--control_symbols=<cls>,<sep>,<pad>,<mask>,<eod> --user_defined_symbols=<eop>");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  // The same model through libsentencepiece directly, for expected ids.
  static std::unique_ptr<sentencepiece::SentencePieceProcessor> raw(const std::string& family, const char* file) {
    auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
    EXPECT_TRUE(sp->Load((root_ / family / file).string()).ok());
    return sp;
  }

  // A copy of a trained directory to add config files to.
  static fs::path copy_of(const std::string& family) {
    const fs::path dir = stilts::testing::make_temp_dir();
    fs::copy(root_ / family, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return dir;
  }

  static fs::path root_;
};

fs::path SentencePieceTest::root_;

std::vector<int64_t> concat(std::initializer_list<std::vector<int64_t>> parts) {
  std::vector<int64_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// ---- XLM-R ----

TEST_F(SentencePieceTest, XlmrIdsAreSpmIdsPlusOneAroundFairseqSpecials) {
  const auto tok = load_xlmr_tokenizer(root_ / "xlmr");
  const auto sp_model = raw("xlmr", kXlmrModelFile);
  const auto& sp = *sp_model;
  EXPECT_EQ(tok->kind(), "sentencepiece-xlmr");
  const std::vector<int> spm_ids = sp.EncodeAsIds("hello world");
  ASSERT_FALSE(spm_ids.empty());
  std::vector<int64_t> expected;
  for (int id : spm_ids) {
    ASSERT_NE(id, sp.unk_id());
    expected.push_back(id + 1);
  }
  EXPECT_EQ(tok->tokenize("hello world"), expected);
  EXPECT_EQ(tok->id_to_token(expected[0]), sp.IdToPiece(spm_ids[0]));
  EXPECT_EQ(tok->token_to_id(sp.IdToPiece(spm_ids[0])), expected[0]);

  const int64_t n = sp.GetPieceSize();
  EXPECT_EQ(tok->vocab_size(), n + 2);
  EXPECT_EQ(tok->token_to_id("<mask>"), n + 1);
  EXPECT_EQ(tok->id_to_token(n + 1), "<mask>");
  EXPECT_EQ(tok->id_to_token(0), "<s>");
  EXPECT_EQ(tok->id_to_token(1), "<pad>");
  EXPECT_EQ(tok->id_to_token(2), "</s>");
  EXPECT_EQ(tok->id_to_token(3), "<unk>");
  EXPECT_EQ(tok->token_to_id("no-such-piece"), std::nullopt);
  EXPECT_THROW(tok->id_to_token(n + 2), InputError);
  EXPECT_THROW(tok->id_to_token(-1), InputError);
  // No model_max_length anywhere: unbounded, as transformers makes it for a local directory.
  EXPECT_EQ(tok->model_max_length(), std::numeric_limits<int64_t>::max());
}

TEST_F(SentencePieceTest, XlmrUnknownCharacterIsFairseqUnk) {
  const auto tok = load_xlmr_tokenizer(root_ / "xlmr");
  const std::vector<int64_t> ids = tok->tokenize("hello \xCE\xA9");  // Ω is not in the corpus
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), 3);
  EXPECT_EQ(tok->id_to_token(ids.back()), "<unk>");
}

TEST_F(SentencePieceTest, XlmrTemplatePaddingAndNoTokenTypes) {
  const auto tok = load_xlmr_tokenizer(root_ / "xlmr");
  const auto a = tok->tokenize("hello");
  const auto b = tok->tokenize("world");
  Encoding e = tok->encode("hello", std::nullopt, {});
  EXPECT_EQ(e.input_ids, concat({{0}, a, {2}}));
  EXPECT_TRUE(e.token_type_ids.empty());
  e = tok->encode("hello", std::string("world"), {});
  EXPECT_EQ(e.input_ids, concat({{0}, a, {2, 2}, b, {2}}));
  EXPECT_TRUE(e.token_type_ids.empty());
  EXPECT_EQ(e.tokens.front(), "<s>");
  EXPECT_EQ(e.tokens.back(), "</s>");

  EncodeOptions o;
  o.padding = Padding::kMaxLength;
  o.max_length = static_cast<int64_t>(a.size()) + 5;
  e = tok->encode("hello", std::nullopt, o);
  EXPECT_EQ(e.input_ids, concat({{0}, a, {2, 1, 1, 1}}));
  EXPECT_EQ(e.attention_mask, concat({std::vector<int64_t>(a.size() + 2, 1), {0, 0, 0}}));
  EXPECT_EQ(e.tokens.back(), "<pad>");
  EXPECT_TRUE(e.token_type_ids.empty());
}

TEST_F(SentencePieceTest, XlmrLiteralSpecialTokensAndTheirWhitespace) {
  const auto tok = load_xlmr_tokenizer(root_ / "xlmr");
  const int64_t mask = *tok->token_to_id("<mask>");
  // The model keeps extra whitespace, so " b" and "b" differ: the checks below see what was stripped.
  ASSERT_NE(tok->tokenize(" b"), tok->tokenize("b"));
  // <mask> is AddedToken(lstrip=True): it takes the spaces on its left only.
  EXPECT_EQ(tok->tokenize("a  <mask> b"), concat({tok->tokenize("a"), {mask}, tok->tokenize(" b")}));
  // </s> and <s> are plain strings: the spaces on both sides go.
  EXPECT_EQ(tok->tokenize("a  </s>  b"), concat({tok->tokenize("a"), {2}, tok->tokenize("b")}));
  EXPECT_EQ(tok->tokenize("<s><pad>a<unk>"), concat({{0, 1}, tok->tokenize("a"), {3}}));
}

TEST_F(SentencePieceTest, XlmrConfigFilesNameTokensAndLength) {
  const fs::path dir = copy_of("xlmr");
  write(dir / "tokenizer_config.json", R"({"model_max_length": 6, "tokenizer_class": "XLMRobertaTokenizer"})");
  // A plain string in special_tokens_map.json replaces the AddedToken: <mask> now strips both sides.
  write(dir / "special_tokens_map.json", R"({"mask_token": "<mask>", "cls_token": {"content": "<s>"}})");
  const auto tok = load_xlmr_tokenizer(dir);
  EXPECT_EQ(tok->model_max_length(), 6);
  const int64_t mask = *tok->token_to_id("<mask>");
  EXPECT_EQ(tok->tokenize("a <mask> b"), concat({tok->tokenize("a"), {mask}, tok->tokenize("b")}));
  EncodeOptions o;
  o.truncation = Truncation::kLongestFirst;  // limit from model_max_length
  const Encoding e = tok->encode("hello world hello world", std::nullopt, o);
  EXPECT_EQ(e.input_ids.size(), 6u);
  EXPECT_EQ(e.input_ids.back(), 2);
}

TEST_F(SentencePieceTest, XlmrSpecialTokenMissingFromVocabIsAppended) {
  const fs::path dir = copy_of("xlmr");
  write(dir / "special_tokens_map.json", R"({"additional_special_tokens": ["<new>"]})");
  const auto tok = load_xlmr_tokenizer(dir);
  const auto sp_model = raw("xlmr", kXlmrModelFile);
  const auto& sp = *sp_model;
  const int64_t n = sp.GetPieceSize();
  EXPECT_EQ(tok->vocab_size(), n + 3);
  EXPECT_EQ(tok->token_to_id("<new>"), n + 2);
  EXPECT_EQ(tok->id_to_token(n + 2), "<new>");
  EXPECT_EQ(tok->tokenize("a<new>"), concat({tok->tokenize("a"), {n + 2}}));
}

// ---- XLNet ----

TEST_F(SentencePieceTest, XlnetIdsTemplateTypesAndLeftPadding) {
  const auto tok = load_xlnet_tokenizer(root_ / "xlnet");
  const auto sp_model = raw("xlnet", kXlnetModelFile);
  const auto& sp = *sp_model;
  EXPECT_EQ(tok->kind(), "sentencepiece-xlnet");
  EXPECT_EQ(tok->vocab_size(), sp.GetPieceSize());
  const int64_t cls = sp.PieceToId("<cls>");
  const int64_t sep = sp.PieceToId("<sep>");
  const int64_t pad = sp.PieceToId("<pad>");
  EXPECT_EQ(tok->token_to_id("<cls>"), cls);

  std::vector<int64_t> a;
  for (int id : sp.EncodeAsIds("hello")) a.push_back(id);
  EXPECT_EQ(tok->tokenize("hello"), a);
  const auto b = tok->tokenize("world");

  Encoding e = tok->encode("hello", std::nullopt, {});
  EXPECT_EQ(e.input_ids, concat({a, {sep, cls}}));
  EXPECT_EQ(e.token_type_ids, concat({std::vector<int64_t>(a.size() + 1, 0), {2}}));
  e = tok->encode("hello", std::string("world"), {});
  EXPECT_EQ(e.input_ids, concat({a, {sep}, b, {sep, cls}}));
  EXPECT_EQ(e.token_type_ids,
            concat({std::vector<int64_t>(a.size() + 1, 0), std::vector<int64_t>(b.size() + 1, 1), {2}}));

  EncodeOptions o;
  o.padding = Padding::kMaxLength;
  o.max_length = static_cast<int64_t>(a.size()) + 4;
  e = tok->encode("hello", std::nullopt, o);
  EXPECT_EQ(e.input_ids, concat({{pad, pad}, a, {sep, cls}}));
  EXPECT_EQ(e.token_type_ids, concat({{3, 3}, std::vector<int64_t>(a.size() + 1, 0), {2}}));
  EXPECT_EQ(e.attention_mask, concat({{0, 0}, std::vector<int64_t>(a.size() + 2, 1)}));
  EXPECT_EQ(e.tokens.front(), "<pad>");
  EXPECT_EQ(e.tokens.back(), "<cls>");
}

// XLNet's all_special_ids include its additional <eop> and <eod>; <mask> is the mask token.
TEST_F(SentencePieceTest, XlnetSpecialIdsAndMaskId) {
  const auto tok = load_xlnet_tokenizer(root_ / "xlnet");
  std::vector<int64_t> expected;
  for (const char* t : {"<s>", "</s>", "<unk>", "<sep>", "<pad>", "<cls>", "<mask>", "<eop>", "<eod>"}) {
    expected.push_back(*tok->token_to_id(t));
  }
  EXPECT_EQ(tok->special_ids(), expected);
  EXPECT_EQ(tok->mask_id(), tok->token_to_id("<mask>"));
}

TEST_F(SentencePieceTest, XlnetPreprocessing) {
  const auto tok = load_xlnet_tokenizer(root_ / "xlnet");
  // remove_space, `` and '' -> ", NFKD with combining marks dropped.
  EXPECT_EQ(tok->tokenize("  hello \t\n world  "), tok->tokenize("hello world"));
  EXPECT_EQ(tok->tokenize("``hello''"), tok->tokenize("\"hello\""));
  EXPECT_EQ(tok->tokenize("caf\xC3\xA9 re\xCC\x81sume\xCC\x81"), tok->tokenize("cafe resume"));  // é, e + U+0301
  EXPECT_EQ(tok->tokenize("\xEF\xBC\xA8" "ello"), tok->tokenize("Hello"));                           // fullwidth H
  EXPECT_NE(tok->tokenize("HELLO"), tok->tokenize("hello"));

  const fs::path dir = copy_of("xlnet");
  write(dir / "tokenizer_config.json", R"({"do_lower_case": true, "keep_accents": true})");
  const auto lower = load_xlnet_tokenizer(dir);
  EXPECT_EQ(lower->tokenize("HELLO World"), lower->tokenize("hello world"));
  EXPECT_NE(lower->tokenize("caf\xC3\xA9"), lower->tokenize("cafe"));
  // Special tokens survive lowercasing.
  EXPECT_EQ(lower->tokenize("<cls>"), (std::vector<int64_t>{*lower->token_to_id("<cls>")}));
}

TEST_F(SentencePieceTest, XlnetDigitCommaPieceIsSplit) {
  const auto tok = load_xlnet_tokenizer(root_ / "xlnet");
  const auto sp_model = raw("xlnet", kXlnetModelFile);
  const auto& sp = *sp_model;
  // spm alone gives the piece "5,"; XLNet re-encodes "5" and puts "," on its own.
  const auto raw_pieces = sp.EncodeAsPieces("a 5, b");
  ASSERT_NE(std::find(raw_pieces.begin(), raw_pieces.end(), "5,"), raw_pieces.end());
  std::vector<std::string> tokens;
  for (int64_t id : tok->tokenize("a 5, b")) tokens.push_back(tok->id_to_token(id));
  EXPECT_EQ(std::find(tokens.begin(), tokens.end(), "5,"), tokens.end());
  const auto comma = std::find(tokens.begin(), tokens.end(), ",");
  ASSERT_NE(comma, tokens.end());
  ASSERT_NE(comma, tokens.begin());
  EXPECT_EQ(*(comma - 1), "5");  // the re-encoding's dummy "▁" is dropped: "5" did not start a word
}

TEST_F(SentencePieceTest, XlnetLiteralSpecialTokens) {
  const auto tok = load_xlnet_tokenizer(root_ / "xlnet");
  const auto sp_model = raw("xlnet", kXlnetModelFile);
  const auto& sp = *sp_model;
  const std::vector<int64_t> ids = tok->tokenize("hello <mask> <sep><cls> <eop> <eod>");
  EXPECT_EQ(ids, concat({tok->tokenize("hello"),
                         {sp.PieceToId("<mask>"), sp.PieceToId("<sep>"), sp.PieceToId("<cls>"),
                          sp.PieceToId("<eop>"), sp.PieceToId("<eod>")}}));
}

// ---- errors ----

TEST_F(SentencePieceTest, MissingDirectoryOrModelFile) {
  const fs::path dir = stilts::testing::make_temp_dir();
  try {
    load_xlmr_tokenizer(dir / "absent");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos) << e.what();
  }
  try {
    load_xlnet_tokenizer(dir);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("spiece.model"), std::string::npos) << e.what();
  }
}

TEST_F(SentencePieceTest, FileThatIsNotAModel) {
  const fs::path dir = stilts::testing::make_temp_dir();
  write(dir / kXlmrModelFile, "{\"this\": \"is json, not a SentencePiece model\"}\n");
  try {
    load_xlmr_tokenizer(dir);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(kXlmrModelFile), std::string::npos) << what;
    EXPECT_NE(what.find("not a SentencePiece model"), std::string::npos) << what;
  }
  write(dir / kXlmrModelFile, "");
  EXPECT_THROW(load_xlmr_tokenizer(dir), InputError);
}

TEST_F(SentencePieceTest, InvalidUtf8NamesTheInput) {
  const auto tok = load_xlnet_tokenizer(root_ / "xlnet");
  try {
    tok->encode("ok", std::string("bad \xC3("), {}, "row 7");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("row 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_xlmr_tokenizer(root_ / "xlmr")->tokenize("\xFF"), InputError);
}

TEST_F(SentencePieceTest, MalformedConfigFiles) {
  const fs::path dir = copy_of("xlmr");
  write(dir / "tokenizer_config.json", R"({"model_max_length": "long"})");
  try {
    load_xlmr_tokenizer(dir);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tokenizer_config.json"), std::string::npos) << what;
    EXPECT_NE(what.find("model_max_length"), std::string::npos) << what;
  }
  write(dir / "tokenizer_config.json", "{");
  EXPECT_THROW(load_xlmr_tokenizer(dir), InputError);
  write(dir / "tokenizer_config.json", "{}");
  write(dir / "special_tokens_map.json", R"({"mask_token": 5})");
  EXPECT_THROW(load_xlmr_tokenizer(dir), InputError);
  write(dir / "special_tokens_map.json", R"({"cls_token": null})");
  EXPECT_THROW(load_xlmr_tokenizer(dir), InputError);
  write(dir / "special_tokens_map.json", "{}");
  write(dir / "tokenizer_config.json", R"({"sp_model_kwargs": {"enable_sampling": true}})");
  EXPECT_THROW(load_xlmr_tokenizer(dir), InputError);
}

}  // namespace
}  // namespace stilts::text
