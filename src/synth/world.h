// The built-in synthetic multilingual testbed: generate_world writes, from a seed, a world of several
// synthetic languages (see synth/grammar.h), its tasks in the real distribution formats, an MLM corpus
// and a SentencePiece tokenizer with a tiny XLM-R config, so that the demo runs through the same
// readers, tokenizers and models users' data does.
//
// Layout of OUT (paths with {lang} exist for every language, train files for the training language):
//   world.json                          the world: seed, options, languages (word order, morphology...),
//                                       tasks with their formats and file patterns
//   corpus/{lang}.txt                   MLM text, one sentence per line
//   corpus/train.txt, corpus/dev.txt    every language shuffled together (train) / held out (dev)
//   sentiment/{lang}/{train,dev,test}/{pos,neg}/<id>_<rating>.txt    IMDB layout        (format imdb)
//   paws/{lang}/{train,dev_2k,test_2k}.tsv                           PAWS-X layout      (format pawsx)
//   nli/{train,dev,test}-{lang}.tsv                                  XTREME XNLI layout (format xnli)
//   pos/{train,dev,test}-{lang}.tsv     UPOS tags of every word                  (format xtreme-tagging)
//   ner/{train,dev,test}-{lang}.tsv     IOB2 PER/LOC tags (PAN-X's tag set)      (format xtreme-tagging)
//   qa/{train,dev,test}-{lang}.json     a question on a 1-3 sentence context     (format squad, v1.1)
//   choice/{train,val,test}-{lang}.jsonl  premise, two alternatives, cause/effect (format xcopa)
//   retrieval/{train,dev,test}-{lang}.json  train: query-positive paraphrase pairs; dev/test: queries in
//                                       {lang} against a pool in the training language (format retrieval-json)
//   parallel/tatoeba.{lang}-eng.{lang}, parallel/tatoeba.{lang}-eng.eng   for every language but the
//                                       training language: its sentences, line by line with their
//                                       translations in the training language (format tatoeba, LASER's
//                                       layout as XTREME names it; evaluation only: no train or dev file)
//   model/sentencepiece.bpe.model, tokenizer_config.json, special_tokens_map.json, config.json
//                                       an XLM-R tokenizer and a tiny xlm-roberta config (no weights)
//   .stilts-world                       written last: the options hash of a complete world
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stilts::synth {

struct WorldOptions {
  uint64_t seed = 1;
  std::vector<std::string> languages = {"en", "xa", "xb", "xc", "xd"};  // 2-3 lowercase letters each
  std::string train_language = "en";
  // Sizes: train sets in the training language; dev/test sets per language (the same meanings
  // realized in every language, as PAWS-X and XNLI translate theirs).
  int64_t corpus_sentences = 10000;     // per language
  int64_t corpus_dev_sentences = 400;   // per language
  // Share of corpus lines followed by the same meaning in another language (translation pairs, as
  // XLM's translation language modelling uses): the anchor that lets a tiny encoder, pretrained for
  // minutes, align languages that share little vocabulary. 0 = monolingual lines only.
  double parallel_fraction = 0.25;
  int64_t sentiment_train = 6000;
  int64_t sentiment_eval = 500;
  int64_t paws_train = 2000;
  int64_t paws_eval = 500;
  int64_t nli_train = 3000;
  int64_t nli_eval = 500;
  int64_t pos_train = 2000;  // sentences
  int64_t pos_eval = 500;
  int64_t ner_train = 2000;
  int64_t ner_eval = 500;
  int64_t qa_train = 3000;  // questions (one a context)
  int64_t qa_eval = 500;
  int64_t choice_train = 2000;
  int64_t choice_eval = 500;
  int64_t retrieval_train = 3000;       // query-positive pairs
  int64_t retrieval_eval = 500;         // queries (each with one relevant candidate)
  int64_t retrieval_distractors = 500;  // further candidates in the pool (half near misses of a query)
  int64_t parallel_eval = 500;          // sentence pairs per language (the pool: as many sentences)
  // Tokenizer (SentencePiece, trained on corpus/train.txt).
  std::string tokenizer_type = "unigram";  // unigram | bpe
  int64_t vocab_size = 2000;               // SentencePiece pieces (an upper bound on a small corpus)
  // The tiny xlm-roberta encoder of model/config.json.
  int64_t hidden_size = 128;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t intermediate_size = 512;
  int64_t max_position_embeddings = 130;  // 128 tokens + XLM-R's padding offset of 2

  // A few seconds' world for tests and quick looks.
  static WorldOptions small();
  // "small" | "default"; InputError for another name.
  static WorldOptions preset(const std::string& size);
  // The first `n` codes of en, xa, xb, ... (InputError outside 1..8).
  static std::vector<std::string> default_languages(int64_t n);

  // InputError naming the field: no languages, bad or duplicate codes, a train_language not among
  // them, non-positive sizes, vocab_size outside 100..32000, heads not dividing hidden_size...
  void validate() const;
  nlohmann::json to_json() const;
  // Identifies the files the options produce (and the generator version that produces them).
  std::string hash() const;
};

// One task's files: patterns hold {lang}; train exists for the training language, dev/test for all.
// The evaluation-only task (parallel) has train and dev empty and its test for every language but the
// training language (whose side of the pairs every file has beside it).
struct TaskFiles {
  std::string name;    // sentiment | paws | nli | pos | ner | qa | choice | retrieval | parallel
  // classification | pair-classification | tagging | extractive-qa | multiple-choice | retrieval |
  // sentence-retrieval (as experiment configs spell it)
  std::string kind;
  std::string format;  // a tasks::read_dataset format
  std::string train, dev, test;  // absolute path patterns; "" = no such split
  std::vector<std::string> label_names;  // the tag set of tagging tasks; empty for qa and retrieval
};

struct WorldFiles {
  std::filesystem::path root;
  std::filesystem::path world_json;
  std::filesystem::path model_dir;      // tokenizer files + config.json
  std::filesystem::path corpus_train;   // every language
  std::filesystem::path corpus_dev;
  std::string corpus_language;          // pattern with {lang}
  std::vector<std::string> languages;
  std::string train_language;
  std::vector<TaskFiles> tasks;         // sentiment, paws, nli, pos, ner, qa, choice, retrieval, parallel
  bool reused = false;                  // true when `root` already held this world

  const TaskFiles& task(const std::string& name) const;  // InputError for an unknown name
  nlohmann::json to_json() const;
};

// Writes the world for `options` into `out` (created if missing) and returns its files. Idempotent: a
// complete world with the same options is returned as it is (reused = true) without writing anything;
// one with other options is an InputError, as is a non-empty `out` that is not a world. An interrupted
// generation is redone. Same options => byte-identical files.
WorldFiles generate_world(const WorldOptions& options, const std::filesystem::path& out);

// The files of the world in `out` (reads world.json); InputError when `out` holds no complete world.
WorldFiles load_world(const std::filesystem::path& out);

}  // namespace stilts::synth
