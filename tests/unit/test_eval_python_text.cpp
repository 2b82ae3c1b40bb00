// Python str semantics the official scorers rely on. Expected values are what CPython 3.11 gives for
// the same expressions (shown beside each case), e.g. "ΑΣ. x".lower() == "ας. x".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "eval/python_text.h"
#include "support/fixtures.h"

namespace stilts::eval::py {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(PythonText, WhitespaceIsPythonsIsspace) {
  for (char32_t c : {U'\t', U'\n', U'\v', U'\f', U'\r', char32_t{0x1C}, char32_t{0x1F}, U' ', char32_t{0x85},
                     char32_t{0xA0}, char32_t{0x1680}, char32_t{0x2000}, char32_t{0x200A}, char32_t{0x2028},
                     char32_t{0x2029}, char32_t{0x202F}, char32_t{0x205F}, char32_t{0x3000}}) {
    EXPECT_TRUE(is_space(c)) << static_cast<uint32_t>(c);
  }
  // U+200B ZERO WIDTH SPACE and U+FEFF are not whitespace to Python 3.
  for (char32_t c : {U'a', char32_t{0x200B}, char32_t{0xFEFF}, char32_t{0x180E}}) {
    EXPECT_FALSE(is_space(c)) << static_cast<uint32_t>(c);
  }
}

TEST(PythonText, SplitAndStrip) {
  // " \x1c a\x85b\u2028c ".split() == ['a', 'b', 'c']
  EXPECT_THAT(split(U" \x1c a\x85" "b\u2028c "), ElementsAre(U"a", U"b", U"c"));
  EXPECT_TRUE(split(U" \u3000 ").empty());
  // " \u00a0x\u200b ".strip() == 'x\u200b'
  EXPECT_EQ(strip(U" \u00a0x\u200b "), U"x\u200b");
  EXPECT_EQ(strip(std::string_view("\t B-PER \r")), "B-PER");
}

TEST(PythonText, WordCharactersAsPythonRegexSeesThem) {
  EXPECT_TRUE(is_word(U'a'));
  EXPECT_TRUE(is_word(U'_'));
  EXPECT_TRUE(is_word(U'7'));
  EXPECT_TRUE(is_word(U'é'));
  EXPECT_TRUE(is_word(U'中'));
  EXPECT_TRUE(is_word(char32_t{0x0915}));   // DEVANAGARI KA (Lo)
  EXPECT_FALSE(is_word(char32_t{0x093F}));  // DEVANAGARI VOWEL SIGN I (Mc): not \w
  EXPECT_FALSE(is_word(char32_t{0x0301}));  // COMBINING ACUTE (Mn)
  EXPECT_FALSE(is_word(U'-'));
}

TEST(PythonText, LowerHandlesDottedIAndFinalSigma) {
  EXPECT_EQ(lower(U"İstanbul"), U"i\u0307stanbul");  // 'İstanbul'.lower(): two code points for İ
  EXPECT_EQ(lower(U"ΟΔΟΣ ΣΑΣ"), U"οδος σας");
  EXPECT_EQ(lower(U"ΑΣ. x"), U"ας. x");       // '.' is case-ignorable, then no cased letter follows
  EXPECT_EQ(lower(U"ΑΣ'Β"), U"ασ'β");         // a cased letter follows the apostrophe
  EXPECT_EQ(lower(U"Σ"), U"σ");               // nothing cased before it
  EXPECT_EQ(lower(U"ΑΣ1"), U"ας1");           // digits are not cased
  EXPECT_EQ(lower(U"ΑΣ\u0301"), U"ας\u0301");  // combining marks are skipped
  EXPECT_EQ(lower(U"ÀÉ Ω"), U"àé ω");
}

TEST(PythonText, ReadTextLinesUsesUniversalNewlines) {
  const auto dir = testing::make_temp_dir();
  const auto path = dir / "lines.txt";
  {
    std::ofstream out(path, std::ios::binary);
    out << "a\r\nb\rc\n\nd";
  }
  EXPECT_THAT(read_text_lines(path), ElementsAre("a", "b", "c", "", "d"));
  {
    std::ofstream out(path, std::ios::binary);
    out << "x\n";
  }
  EXPECT_THAT(read_text_lines(path), ElementsAre("x"));
  {
    std::ofstream out(path, std::ios::binary);
  }
  EXPECT_TRUE(read_text_lines(path).empty());
}

TEST(PythonText, ReadTextLinesNamesFileAndLineOfBadUtf8) {
  const auto dir = testing::make_temp_dir();
  const auto path = dir / "bad.txt";
  {
    std::ofstream out(path, std::ios::binary);
    out << "ok\nstill ok\nbad \xff byte\n";
  }
  try {
    read_text_lines(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.txt:3: invalid UTF-8"));
  }
  EXPECT_THROW(read_text_lines(dir / "absent.txt"), InputError);
}

}  // namespace
}  // namespace stilts::eval::py
