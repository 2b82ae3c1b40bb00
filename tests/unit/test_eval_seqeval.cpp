// seqeval 1.x (default mode) entity extraction and scores. Every expected value is traced by hand
// through seqeval's rules (eval/seqeval.h): the comment beside a case gives the trace. Offsets index
// the sentences concatenated with an "O" after each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "common/error.h"
#include "eval/seqeval.h"

namespace stilts::eval {

// Found by argument-dependent lookup, so gtest prints entities readably.
void PrintTo(const Entity& e, std::ostream* os) { *os << "(" << e.type << ", " << e.start << ", " << e.end << ")"; }

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Entity E(const std::string& type, int64_t start, int64_t end) { return {type, start, end}; }

TEST(SeqevalEntities, Iob2Basics) {
  // B-PER starts 0; I-PER continues; O ends PER(0,1); B-LOC starts 3; the final O ends LOC(3,3).
  EXPECT_THAT(get_entities(TagSentence{"B-PER", "I-PER", "O", "B-LOC"}), ElementsAre(E("PER", 0, 1), E("LOC", 3, 3)));
  // B after B ends the first chunk.
  EXPECT_THAT(get_entities(TagSentence{"B-PER", "B-PER"}), ElementsAre(E("PER", 0, 0), E("PER", 1, 1)));
  // A type with dashes keeps everything after the first '-'.
  EXPECT_THAT(get_entities(TagSentence{"B-ORG-X", "I-ORG-X"}), ElementsAre(E("ORG-X", 0, 1)));
}

TEST(SeqevalEntities, InsideAfterOutsideOrAnotherTypeStartsAChunk) {
  // O then I-PER: start at 1 (O followed by I); the final O ends PER(1,2).
  EXPECT_THAT(get_entities(TagSentence{"O", "I-PER", "I-PER", "O"}), ElementsAre(E("PER", 1, 2)));
  // I-LOC after B-PER: the type changes, so PER(0,0) ends and LOC starts at 1.
  EXPECT_THAT(get_entities(TagSentence{"B-PER", "I-LOC", "I-LOC"}), ElementsAre(E("PER", 0, 0), E("LOC", 1, 2)));
}

TEST(SeqevalEntities, EndAndSinglePrefixes) {
  // S-PER starts and (at B-LOC) ends PER(0,0); B-LOC..E-LOC is LOC(1,2), ended when S-LOC follows E;
  // S-LOC is LOC(3,3), ended by the O after it.
  EXPECT_THAT(get_entities(TagSentence{"S-PER", "B-LOC", "E-LOC", "S-LOC", "O"}),
              ElementsAre(E("PER", 0, 0), E("LOC", 1, 2), E("LOC", 3, 3)));
  // E after O starts a chunk; E after E ends one and starts the next.
  EXPECT_THAT(get_entities(TagSentence{"E-PER", "E-PER"}), ElementsAre(E("PER", 0, 0), E("PER", 1, 1)));
  // I after E: the E chunk ends, I starts a new one.
  EXPECT_THAT(get_entities(TagSentence{"B-X", "E-X", "I-X"}), ElementsAre(E("X", 0, 1), E("X", 2, 2)));
  // Bare prefixes have type "_": B then I is one chunk.
  EXPECT_THAT(get_entities(TagSentence{"B", "I"}), ElementsAre(E("_", 0, 1)));
}

TEST(SeqevalEntities, PosTagsAreFirstLetterPrefixAndRestType) {
  // NOUN = (N, OUN), VERB = (V, ERB), DET = (D, ET): a chunk per run of one tag, cut where the type
  // changes; the final O ends OUN(4,4) because N is not O and OUN != "_".
  EXPECT_THAT(get_entities(TagSentence{"NOUN", "NOUN", "VERB", "DET", "NOUN"}),
              ElementsAre(E("OUN", 0, 1), E("ERB", 2, 2), E("ET", 3, 3), E("OUN", 4, 4)));
  // CCONJ = (C, CONJ), SCONJ = (S, CONJ): one type. C starts a chunk at 0; S starts another at 1 but
  // nothing ends the first (C is not B/I/E/S and the type does not change), so it is lost; the O after
  // S ends CONJ(1,1).
  EXPECT_THAT(get_entities(TagSentence{"CCONJ", "SCONJ"}), ElementsAre(E("CONJ", 1, 1)));
  // SCONJ then CCONJ: S ends CONJ(0,0) at C, but C (same type, not B/S) starts nothing, so the chunk
  // that the final O ends still begins at 0: CONJ(0,1).
  EXPECT_THAT(get_entities(TagSentence{"SCONJ", "CCONJ"}), ElementsAre(E("CONJ", 0, 0), E("CONJ", 0, 1)));
  // SYM = (S, YM): every SYM is a single-token chunk.
  EXPECT_THAT(get_entities(TagSentence{"SYM", "SYM"}), ElementsAre(E("YM", 0, 0), E("YM", 1, 1)));
  // ADP = (A, DP) and ADJ = (A, DJ): different types.
  EXPECT_THAT(get_entities(TagSentence{"ADP", "ADJ"}), ElementsAre(E("DP", 0, 0), E("DJ", 1, 1)));
  // INTJ = (I, NTJ) behaves as an inside tag: after O it starts a chunk.
  EXPECT_THAT(get_entities(TagSentence{"O", "INTJ", "INTJ"}), ElementsAre(E("NTJ", 1, 2)));
}

TEST(SeqevalEntities, TypeUnderscoreChunksAndTheOSentinels) {
  // UD's X is (X, "_"), O's type. Alone, X starts at 0 (the initial type is "", not "_") but the O
  // after it cannot end it (same type) and an O can never end anything: no entity.
  EXPECT_TRUE(get_entities(TagSentence{"X"}).empty());
  // Sentences [NOUN X] [X NOUN] -> 0 NOUN, 1 X, 2 O, 3 X, 4 NOUN, 5 O, 6 O. X at 1 ends OUN(0,0) and
  // starts at 1; O at 2 ends nothing; X at 3 starts nothing (type "_" after "_"); NOUN at 4 ends the
  // "_" chunk with the stale start: _(1,3); the O at 5 ends OUN(4,4).
  EXPECT_THAT(get_entities(TagSentences{{"NOUN", "X"}, {"X", "NOUN"}}),
              ElementsAre(E("OUN", 0, 0), E("_", 1, 3), E("OUN", 4, 4)));
  // A tag starting with '.' never ends a chunk by a type change: B-X then .-X (type X) keeps the
  // chunk open and the O after '.' cannot close it.
  EXPECT_TRUE(get_entities(TagSentence{"B-X", ".-X"}).empty());
}

TEST(SeqevalEntities, SentencesAreSeparatedByAnO) {
  // One sequence: B-PER I-PER is PER(0,1). As two sentences the O between ends PER(0,0) and I-PER
  // after O starts PER(2,2).
  EXPECT_THAT(get_entities(TagSentence{"B-PER", "I-PER"}), ElementsAre(E("PER", 0, 1)));
  EXPECT_THAT(get_entities(TagSentences{{"B-PER"}, {"I-PER"}}), ElementsAre(E("PER", 0, 0), E("PER", 2, 2)));
  // Empty sentences still contribute their O: [] [B-PER] [] -> 0 O, 1 B-PER, 2 O, 3 O, 4 O.
  EXPECT_THAT(get_entities(TagSentences{{}, {"B-PER"}, {}}), ElementsAre(E("PER", 1, 1)));
  EXPECT_TRUE(get_entities(TagSentences{}).empty());
}

TEST(SeqevalEntities, PrefixIsOneCodePoint) {
  // "ÉX": prefix É (two UTF-8 bytes), type X; the final O ends X(0,1).
  EXPECT_THAT(get_entities(TagSentence{"ÉX", "ÉX"}), ElementsAre(E("X", 0, 1)));
}

TEST(SeqevalScores, MicroPrecisionRecallF1) {
  // gold: PER(0,1) LOC(3,3) | ORG(5,5); predicted: PER(0,1) | ORG(5,5): 2 correct of 2 predicted
  // and 3 gold -> p 1, r 2/3, F1 = 2 * 1 * 2/3 / (5/3) = 0.8.
  const TagSentences gold = {{"B-PER", "I-PER", "O", "B-LOC"}, {"B-ORG", "O"}};
  const TagSentences pred = {{"B-PER", "I-PER", "O", "O"}, {"B-ORG", "O"}};
  const EntityScores s = entity_scores(pred, gold);
  EXPECT_EQ(s.correct, 2);
  EXPECT_EQ(s.predicted, 2);
  EXPECT_EQ(s.gold, 3);
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.f1, 0.8);
  EXPECT_DOUBLE_EQ(seqeval_f1(pred, gold), 0.8);
  EXPECT_DOUBLE_EQ(seqeval_precision(pred, gold), 1.0);
  EXPECT_DOUBLE_EQ(seqeval_recall(pred, gold), 2.0 / 3.0);
  // Reversed roles swap precision and recall.
  EXPECT_DOUBLE_EQ(seqeval_precision(gold, pred), 2.0 / 3.0);
}

TEST(SeqevalScores, SeqevalDocstringExample) {
  // gold MISC(3,5) PER(8,9); predicted MISC(2,5) PER(8,9): 1 of 2 and 2 -> 0.5 each.
  const TagSentences gold = {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
  const TagSentences pred = {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
  EXPECT_DOUBLE_EQ(seqeval_f1(pred, gold), 0.5);
  EXPECT_DOUBLE_EQ(seqeval_precision(pred, gold), 0.5);
  EXPECT_DOUBLE_EQ(seqeval_recall(pred, gold), 0.5);
  // Token accuracy: 8 of 10 tags agree.
  EXPECT_DOUBLE_EQ(seqeval_accuracy(pred, gold), 0.8);
}

TEST(SeqevalScores, PosTagsScoreRunsNotTokens) {
  // gold [NOUN NOUN VERB] -> OUN(0,1) ERB(2,2); predicted [NOUN PROPN VERB] = (N,OUN) (P,ROPN) (V,ERB)
  // -> OUN(0,0) ROPN(1,1) ERB(2,2): only ERB(2,2) matches: p 1/3, r 1/2, F1 = (1/3)/(5/6) = 0.4,
  // while token accuracy is 2/3.
  const TagSentences gold = {{"NOUN", "NOUN", "VERB"}};
  const TagSentences pred = {{"NOUN", "PROPN", "VERB"}};
  EXPECT_DOUBLE_EQ(seqeval_precision(pred, gold), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(seqeval_recall(pred, gold), 0.5);
  EXPECT_DOUBLE_EQ(seqeval_f1(pred, gold), 0.4);
  EXPECT_DOUBLE_EQ(seqeval_accuracy(pred, gold), 2.0 / 3.0);
}

TEST(SeqevalScores, NoEntitiesScoresZero) {
  // No entities anywhere: every ratio has a zero denominator and is 0 (seqeval's default).
  const TagSentences none = {{"O", "O"}, {}};
  EXPECT_EQ(seqeval_f1(none, none), 0.0);
  EXPECT_EQ(seqeval_precision(none, none), 0.0);
  EXPECT_EQ(seqeval_recall(none, none), 0.0);
  // Entities only in gold: recall 0, precision 0 (nothing predicted).
  EXPECT_EQ(seqeval_f1(none, TagSentences{{"B-PER", "O"}, {}}), 0.0);
  EXPECT_DOUBLE_EQ(seqeval_accuracy(none, none), 1.0);
}

TEST(SeqevalScores, MismatchedShapesAndEmptyTagsAreInputErrors) {
  try {
    entity_scores(TagSentences{{"O"}, {"O"}}, TagSentences{{"O"}});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 predicted sentences but 1 gold sentences"));
  }
  try {
    seqeval_accuracy(TagSentences{{"O"}, {"O", "O"}}, TagSentences{{"O"}, {"O", "O", "O"}});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sentence index 1: 2 predicted tags but 3 gold tags"));
  }
  EXPECT_THROW(get_entities(TagSentence{"B-PER", ""}), InputError);
  try {
    entity_scores(TagSentences{{"O"}, {"B-PER", ""}}, TagSentences{{"O"}, {"B-PER", "O"}});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sentence index 1, tag index 1: empty tag"));
  }
  EXPECT_THROW(seqeval_accuracy(TagSentences{{}}, TagSentences{{}}), InputError);  // no tags
}

// The bootstrap's shortcut: on random IOB2 and UD-POS-like tags (every tag type but O's), the scores
// of any resample of sentences (repeats included) equal entity_scores on those sentences, bit for bit.
TEST(SeqevalScores, SentenceCountsAddUpToAnyResample) {
  std::mt19937 rng(7);
  const std::vector<std::vector<std::string>> tag_sets = {{"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"},
                                                          {"NOUN", "VERB", "ADJ", "PROPN", "SCONJ", "CCONJ", "DET"}};
  for (const auto& tags : tag_sets) {
    TagSentences predicted, gold;
    for (int s = 0; s < 60; ++s) {
      TagSentence p, g;
      const int n = 1 + static_cast<int>(rng() % 9);
      for (int t = 0; t < n; ++t) {
        g.push_back(tags[rng() % tags.size()]);
        p.push_back(rng() % 3 == 0 ? tags[rng() % tags.size()] : g.back());
      }
      predicted.push_back(p);
      gold.push_back(g);
    }
    const auto counts = sentence_entity_counts(predicted, gold);
    ASSERT_TRUE(counts.has_value());
    for (int r = 0; r < 50; ++r) {
      TagSentences rp, rg;
      int64_t correct = 0, npred = 0, ngold = 0;
      for (size_t k = 0; k < predicted.size(); ++k) {
        const size_t i = rng() % predicted.size();
        rp.push_back(predicted[i]);
        rg.push_back(gold[i]);
        correct += (*counts)[i].correct;
        npred += (*counts)[i].predicted;
        ngold += (*counts)[i].gold;
      }
      const EntityScores direct = entity_scores(rp, rg), summed = entity_scores_of(correct, npred, ngold);
      EXPECT_EQ(summed.correct, direct.correct);
      EXPECT_EQ(summed.predicted, direct.predicted);
      EXPECT_EQ(summed.gold, direct.gold);
      EXPECT_EQ(summed.f1, direct.f1);
      EXPECT_EQ(summed.precision, direct.precision);
      EXPECT_EQ(summed.recall, direct.recall);
    }
  }
  // A tag of O's type ("X": prefix X, type "_") can chunk across sentences: no shortcut.
  EXPECT_FALSE(sentence_entity_counts({{"NOUN", "X"}}, {{"X", "X"}}).has_value());
  EXPECT_TRUE(sentence_entity_counts({{"NOUN", "O"}}, {{"B-PER", "O"}}).has_value());
}

}  // namespace
}  // namespace stilts::eval
