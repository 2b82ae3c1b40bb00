// infer_sentence_breaks against xtreme's sb_sed.py (third_party/processors/sb_sed.py, run with Python
// 3.11's re): every expected span below is the reference's output, computed once with the reference on
// these texts. The texts exercise each of its rules in turn, then Unicode: \b next to non-ASCII letters,
// Python's whitespace (U+001C and U+0085 are whitespace to Python, not to PCRE2's \s), code point offsets
// past the BMP, line breaks in the input, texts of only whitespace.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "support/fixtures.h"
#include "text/sentence_break.h"

namespace stilts::text {
namespace {

struct Case {
  std::string text;
  std::vector<SentenceSpan> expected;
};

std::string show(const std::vector<SentenceSpan>& spans) {
  std::string out;
  for (const auto& s : spans) out += "[" + std::to_string(s.start) + ", " + std::to_string(s.end) + "] ";
  return out;
}

TEST(SentenceBreak, EveryRuleAsTheReferenceBreaks) {
  const std::vector<Case> cases = {
    {"",
     {{0, 0}}},
    {"   ",
     {{3, 3}}},
    {"One sentence without an end",
     {{0, 27}}},
    {"He left. She came back. 1990 was a year.",
     {{0, 8}, {9, 23}, {24, 40}}},
    {" Leading space. Trailing space. ",
     {{1, 15}, {16, 31}}},
    {"He said \"no.\" Then he went (far away.) Next came more!  \"Stop!\" 'Go now?' Yes.",
     {{0, 13}, {14, 38}, {39, 54}, {56, 63}, {64, 73}, {74, 78}}},
    {"The end.\u201d \u201cA new start\u201d followed. [Bracketed] text. (Paren) text.",
     {{0, 9}, {10, 33}, {34, 51}, {52, 65}}},
    {"It was built.[citation needed] The next one.[note 1][c] Later on.\"[12] He left.",
     {{0, 30}, {31, 55}, {56, 70}, {71, 79}}},
    {"We need such things [...] But not now. Or later [...]  Maybe [then].",
     {{0, 19}, {20, 25}, {26, 38}, {39, 53}, {55, 68}}},
    {"Mr. Smith met Mrs. Jones and Ms. Lee. Dr. Who, Prof. X, Fr. Brown, Rev. Green, Msgr. Black, St. Paul, Sta. Ana.",
     {{0, 37}, {38, 111}}},
    {"Lt. Dan, Gen. Lee, Col. Mustard, Maj. Tom, Adm. Byrd, Capt. Kirk, Sgt. Pepper, Rep. Ryan, Gov. Brown, Sen. Kerry and Pres. Lincoln met.",
     {{0, 135}}},
    {"Cities, e.g. Paris, i.e. London, ie. Rome, v. Boston, vs. Madrid, p. 5, pp. 12, cf. Berlin, a.k.a. Bob, approx. 40, app. 3, esp. Tokyo, est. 1900, tr. Smith.",
     {{0, 157}}},
    {"On Jan. 5 and Aug. 6, Oct. 7, Nov. 8, Dec. 9 but Feb. 10 we met. Mt. Everest and Ft. Knox. At 9 p.m. Eastern time, or 10 a.m. EST today, or 8 p.m. Later.",
     {{0, 53}, {54, 64}, {65, 90}, {91, 146}, {147, 153}}},
    {"J. R. R. Tolkien wrote it. J. K. Rowling too. J.R. Smith and T. Eliot and \"A. \"Quoted.",
     {{0, 26}, {27, 45}, {46, 86}}},
    {"He wrote, e.g. This is it. I saw Dr. This one. He went. Meanwhile we stayed. However, not. Then. In 1990 we left. On Monday. By then. During it. After that. Under it. Although. Yet again. As we said. Several more. According to him.",
     {{0, 14}, {15, 26}, {27, 36}, {37, 46}, {47, 55}, {56, 76}, {77, 90}, {91, 96}, {97, 113}, {114, 124}, {125, 133}, {134, 144}, {145, 156}, {157, 166}, {167, 176}, {177, 187}, {188, 199}, {200, 213}, {214, 231}}},
    {"See Art. 5 and art. IV, No. 9, no. 10, Op. 3, Opp. 4, ch. 2, Sec. 8, cl. 1, Rec. 7, Ecl. 3, Cor. 13, Lk. 2, Jn. 3, Vol. XII. Done.",
     {{0, 124}, {125, 130}}},
    {"Smith (b. 1900, d. 1980, r. Rome, c. 1500, ca. 1600, fl. 1200) wrote. Jones et al. (2005) disagree, et al. 2006 too. H.R. 2000 passed.",
     {{0, 69}, {70, 116}, {117, 134}}},
    {"Her album I Am... Sasha Fierce and I Am... World Tour. Warner Bros. Records and Warner Bros. Entertainment. The U.S. 500 index and U.S. (1999) data. Rs. 5 only.",
     {{0, 54}, {55, 107}, {108, 148}, {149, 160}}},
    {"Jay Z. He sang. In Washington, D.C. The city. Rated for 4.) And more. The Wii U. Nintendo said. Apple. iPod and. iTunes store.",
     {{0, 6}, {7, 15}, {16, 35}, {36, 45}, {46, 59}, {60, 69}, {70, 80}, {81, 95}, {96, 102}, {103, 112}, {113, 126}}},
    {"A degree, B.Sc. Physics. M.Sc. Chemistry. \u2022 A bullet \u2022 B bullet.",
     {{0, 24}, {25, 41}, {42, 52}, {53, 64}}},
    {"Line one.\nLine two.\r\nLine three.\n\nLine four.",
     {{0, 9}, {10, 19}, {21, 32}, {34, 44}}},
    {"Caf\u00e9. \u00c9lan vital. \u00fcber. Zwei. \u6771\u4eac\u3002\u6b21. End \U0001f600 here. Next one.",
     {{0, 23}, {24, 35}, {36, 47}, {48, 57}}},
    {"No-break.\u00a0Next. Narrow.\u202fNext. Sep.\x1c""Next. Nel.\u0085Next. Ideo.\u3000Next.",
     {{0, 9}, {10, 15}, {16, 23}, {24, 29}, {30, 34}, {35, 40}, {41, 45}, {46, 51}, {52, 57}, {58, 63}}},
    {"Caf\u00e9Dr. Smith came. xMr. Jones too. _Dr. No.",
     {{0, 7}, {8, 24}, {25, 40}, {41, 44}}},
    {"Numbers \u0661\u0662. U.S. \u0663\u0664 and U.S. 12 more.",
     {{0, 11}, {12, 37}}},
    {"A. . B. ! C. ?  D.",
     {{0, 4}, {5, 9}, {10, 14}, {16, 18}}},
    {"Hi.   \u00a0 There. \t Tab.",
     {{0, 3}, {8, 14}, {17, 21}}},
    {"Wait... What? Really!? Yes!! \"Done.\") (Next.",
     {{0, 7}, {8, 13}, {14, 22}, {23, 28}, {29, 37}, {38, 44}}},
    {"x [...] [...] Y. z [...]\nW.",
     {{0, 7}, {8, 13}, {14, 18}, {19, 24}, {25, 27}}},
  };
  for (const auto& c : cases) {
    const auto got = infer_sentence_breaks(c.text);
    EXPECT_EQ(show(got), show(c.expected)) << c.text;
  }
}

TEST(SentenceBreak, InvalidUtf8IsAnInputErrorNamingTheText) {
  try {
    infer_sentence_breaks("ok \xff then", "data[0].paragraphs[2]");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data[0].paragraphs[2]"), std::string::npos) << e.what();
  }
}

// Each XQuAD-R file's contexts, broken by the reference: the number of sentences and the SHA-256 of
// "start,end;start,end;...\n" per paragraph, in file order (computed with sb_sed.py).
struct FileDigest {
  std::string language;
  size_t sentences;
  std::string sha256;
};

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(SentenceBreak, XquadRContextsBreakAsTheReferenceBreaksThem) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/lareqa/xquad-r/en.json");
  const std::vector<FileDigest> digests = {
      {"ar", 242, "ae4563dfb0096f2a5553401a76716edc0be6d42efbc7b9e2d490695c94c16efb"},
      {"de", 1319, "5f773063fdb8d54233c9405a9115ee561470417ef9cbe83e1b9a4269f234e39f"},
      {"el", 246, "e688edebbe0dbcf59e8394f76eede92346282663443b57251397b318aa22d28a"},
      {"en", 1174, "03e9b7db1e984e1b7f88f1673d7cb92d637a8fccdfca158ffeff3ac82ca45abd"},
      {"es", 1181, "553b1a8f7f76c082ec996be4fa60380d59fe37d831258c1e6c54256698d0be75"},
      {"hi", 240, "e7846931af10e3d6abd553f1b46db4f9fdde717d4563da2b74fc12959ff0a961"},
      {"ru", 253, "9f92840072576e12438437d143354561ac57a5466208ed856e384aca91aa2412"},
      {"th", 247, "aa51b5ebf0df29547c4c3dd93f5687f9782bdd4b3a750908ea0d8a34b63499e3"},
      {"tr", 1096, "44815cffd94a6439445e186cd36bdfb723322a8a3f033e2db1ccca6bcb855458"},
      {"vi", 1087, "ad230680409e03bce479749b2ece30b28ca80ca0d50c089bafb4f240f21aa3ee"},
      {"zh", 240, "44ee68c4b4aa36090ee037c5a10ce85e0aee3e99bd87cbab1b258b1bba393d3e"},
  };
  for (const auto& digest : digests) {
    const auto path = testing::xtreme_r_dir() / "lareqa" / "xquad-r" / (digest.language + ".json");
    const auto document = nlohmann::json::parse(read_all(path));
    std::string serialised;
    size_t sentences = 0;
    for (const auto& article : document.at("data")) {
      for (const auto& paragraph : article.at("paragraphs")) {
        const auto spans = infer_sentence_breaks(paragraph.at("context").get<std::string>());
        sentences += spans.size();
        for (size_t k = 0; k < spans.size(); ++k) {
          if (k > 0) serialised += ";";
          serialised += std::to_string(spans[k].start) + "," + std::to_string(spans[k].end);
        }
        serialised += "\n";
      }
    }
    EXPECT_EQ(sentences, digest.sentences) << digest.language;
    EXPECT_EQ(sha256_hex(serialised), digest.sha256) << digest.language;
  }
}

// In English, the language sb_sed was written for, its breaks are XQuAD-R's own sentence_breaks in all
// but five of the 240 paragraphs; in those five the reference gives these.
TEST(SentenceBreak, EnglishXquadRAgreesWithItsSentenceBreaksButWhereTheReferenceDiffers) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/lareqa/xquad-r/en.json");
  const std::map<size_t, std::vector<SentenceSpan>> differing = {
      {53, {{0, 154}, {155, 279}, {280, 416}, {417, 585}, {586, 688}}},
      {70, {{1, 247}, {248, 397}, {398, 533}, {534, 762}, {763, 946}}},
      {116, {{0, 122}, {123, 322}, {323, 495}, {496, 688}, {689, 810}, {811, 920}, {921, 1056}, {1057, 1097},
             {1098, 1160}, {1161, 1222}}},
      {200, {{0, 117}, {118, 206}, {207, 368}, {369, 561}, {562, 769}}},
      {223, {{0, 128}, {129, 300}, {301, 424}, {425, 626}, {627, 758}, {759, 924}}},
  };
  const auto document =
      nlohmann::json::parse(read_all(testing::xtreme_r_dir() / "lareqa" / "xquad-r" / "en.json"));
  size_t index = 0, agreeing = 0;
  for (const auto& article : document.at("data")) {
    for (const auto& paragraph : article.at("paragraphs")) {
      const auto got = infer_sentence_breaks(paragraph.at("context").get<std::string>());
      std::vector<SentenceSpan> expected;
      if (const auto it = differing.find(index); it != differing.end()) {
        expected = it->second;
      } else {
        for (const auto& pair : paragraph.at("sentence_breaks")) expected.push_back({pair[0], pair[1]});
        ++agreeing;
      }
      EXPECT_EQ(show(got), show(expected)) << "paragraph " << index;
      ++index;
    }
  }
  EXPECT_EQ(index, 240u);
  EXPECT_EQ(agreeing, 235u);
}

}  // namespace
}  // namespace stilts::text
