// safetensors reading, writing and validation; sharded checkpoints; pytorch_model.bin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/files.h"
#include "io/safetensors.h"
#include "support/fixtures.h"

namespace stilts::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out;
}

// A safetensors file from a header text and a data area, without any checks.
std::string raw_file(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

// The message of the InputError `fn` throws; fails the test if it throws none or another type.
std::string input_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_LE(std::count(message.begin(), message.end(), '\n'), 2) << "more than three lines: " << message;
    return message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected InputError, nothing thrown";
  return "";
}

// Writes `header` + `data` to a file in a fresh temp dir and returns the InputError of opening it.
std::string open_error(const std::string& header, const std::string& data, fs::path* path_out = nullptr) {
  const fs::path path = testing::make_temp_dir() / "bad.safetensors";
  write_bytes(path, raw_file(header, data));
  if (path_out) *path_out = path;
  const std::string message = input_error_of([&] { SafetensorsFile::open(path); });
  EXPECT_THAT(message, HasSubstr(path.string()));
  return message;
}

// One F32 tensor 'a' of shape [2] plus whatever extra entries; 8 data bytes.
std::string header_with(const std::string& entries) {
  return "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}" + entries + "}";
}

// The tensors of every dtype the writer supports, with distinctive values.
std::vector<std::pair<std::string, at::Tensor>> every_dtype() {
  const auto base = torch::arange(-6, 6, torch::kFloat64).reshape({3, 4}) * 1.5;  // [3, 4]
  return {
      {"f64", base},
      {"f32", base.to(torch::kFloat32)},
      {"f16", base.to(torch::kFloat16)},
      {"bf16", base.to(torch::kBFloat16)},
      {"i64", base.to(torch::kInt64) * int64_t{1000000007}},
      {"i32", base.to(torch::kInt32)},
      {"i16", base.to(torch::kInt16)},
      {"i8", base.to(torch::kInt8)},
      {"u8", (base + 9).to(torch::kUInt8)},
      {"bool", base > 0},
      {"c64", torch::complex(base.to(torch::kFloat32), -base.to(torch::kFloat32))},
      {"scalar", torch::tensor(3.25)},
      {"empty", torch::zeros({0, 3}, torch::kInt16)},
      {"strided", base.t()},  // non-contiguous: written as its contiguous copy
  };
}

TEST(Safetensors, RoundTripEveryDtype) {
  const fs::path path = testing::make_temp_dir() / "all.safetensors";
  const auto tensors = every_dtype();
  save_safetensors(path, tensors);

  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  std::vector<std::string> expected_names;
  for (const auto& t : tensors) expected_names.push_back(t.first);
  std::sort(expected_names.begin(), expected_names.end());
  EXPECT_EQ(file.names(), expected_names);
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    const at::Tensor got = file.tensor(name);
    EXPECT_EQ(got.scalar_type(), expected.scalar_type());
    EXPECT_EQ(got.sizes(), expected.sizes());
    EXPECT_TRUE(torch::equal(got, expected));
  }
  EXPECT_EQ(file.info("f32").dtype, "F32");
  EXPECT_EQ(file.info("bool").dtype, "BOOL");
  EXPECT_EQ(file.info("c64").dtype, "C64");
  EXPECT_EQ(file.info("scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(file.info("i16").nbytes(), 24u);

  const auto loaded = load_safetensors(path);
  EXPECT_EQ(loaded.size(), tensors.size());
  EXPECT_TRUE(torch::equal(loaded.at("i64"), tensors[4].second));
}

TEST(Safetensors, WriterLayoutMatchesReference) {
  const fs::path dir = testing::make_temp_dir();
  // The reference implementation's own serialization tests: no metadata, one F32 [1, 2, 3].
  const auto values = torch::arange(6, torch::kFloat32);
  save_safetensors(dir / "a.safetensors", {{"attn.0", values.reshape({1, 2, 3})}}, {});
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  ASSERT_EQ(header.size(), 64u);
  const std::string data(static_cast<const char*>(values.data_ptr()), 24);
  EXPECT_EQ(read_file(dir / "a.safetensors"), raw_file(header, data));
  // A shorter name forces 7 spaces of padding to keep the data 8-byte aligned.
  save_safetensors(dir / "b.safetensors", {{"attn0", values.reshape({1, 1, 2, 3})}}, {});
  EXPECT_EQ(
      read_file(dir / "b.safetensors"),
      raw_file(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' '), data));

  // Order: widest dtype first, then name; every tensor aligned for its element size.
  save_safetensors(dir / "c.safetensors", {{"z8", torch::ones({3}, torch::kUInt8)},
                                           {"b16", torch::ones({3}, torch::kFloat16)},
                                           {"a8", torch::ones({1}, torch::kBool)},
                                           {"y64", torch::ones({1}, torch::kInt64)},
                                           {"x32", torch::ones({1}, torch::kFloat32)},
                                           {"w64", torch::ones({1}, torch::kFloat64)}});
  const std::string bytes = read_file(dir / "c.safetensors");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  const std::string text = bytes.substr(8, n);
  EXPECT_EQ(text.substr(0, text.find(':')), "{\"__metadata__\"");
  std::vector<std::pair<uint64_t, std::string>> by_offset;
  const json parsed = json::parse(text);
  for (const auto& [name, entry] : parsed.items()) {
    if (name == "__metadata__") continue;
    by_offset.emplace_back(entry["data_offsets"][0].get<uint64_t>(), name);
  }
  std::sort(by_offset.begin(), by_offset.end());
  std::vector<std::string> order;
  for (const auto& p : by_offset) order.push_back(p.second);
  EXPECT_EQ(order, (std::vector<std::string>{"y64", "w64", "x32", "b16", "z8", "a8"}));
  const SafetensorsFile file = SafetensorsFile::open(dir / "c.safetensors");
  for (const std::string& name : file.names()) {
    const TensorInfo& info = file.info(name);
    const uint64_t element = info.nbytes() / std::max<int64_t>(1, file.tensor(name).numel());
    EXPECT_EQ((8 + n + info.data_begin) % element, 0u) << name;
  }
}

TEST(Safetensors, AlignedTensorIsZeroCopy) {
  const fs::path path = testing::make_temp_dir() / "zc.safetensors";
  save_safetensors(path, {{"w", torch::arange(8, torch::kFloat32)}, {"b", torch::arange(3, torch::kFloat16)}});
  const std::string before = read_file(path);

  at::Tensor first;
  at::Tensor second;
  {
    const SafetensorsFile file = SafetensorsFile::open(path);
    first = file.tensor("w");
    second = file.tensor("w");
  }  // the file object is gone; the tensors keep the mapping alive
  EXPECT_EQ(first.data_ptr(), second.data_ptr());
  EXPECT_FLOAT_EQ(second[5].item<float>(), 5.0f);
  first.mul_(2);  // copy-on-write: visible through the shared mapping, never in the file
  EXPECT_FLOAT_EQ(second[5].item<float>(), 10.0f);
  EXPECT_EQ(read_file(path), before);
}

TEST(Safetensors, MisalignedTensorIsCopied) {
  // A 4-byte-aligned file position but a header length that is not a multiple of 8: the F64 data
  // starts 4 bytes off an 8-byte boundary (the mapping itself is page-aligned).
  std::string header = R"({"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  header.append((12 - header.size() % 8) % 8, ' ');
  ASSERT_EQ((8 + header.size()) % 8, 4u);
  const at::Tensor values = torch::tensor({1.5, -2.25}, torch::kFloat64);
  const fs::path path = testing::make_temp_dir() / "mis.safetensors";
  write_bytes(path, raw_file(header, std::string(static_cast<const char*>(values.data_ptr()), 16)));
  const SafetensorsFile file = SafetensorsFile::open(path);
  const at::Tensor a = file.tensor("x");
  const at::Tensor b = file.tensor("x");
  EXPECT_NE(a.data_ptr(), b.data_ptr());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data_ptr()) % 8, 0u);
  EXPECT_TRUE(torch::equal(a, values));
}

TEST(Safetensors, UnknownNameIsAnError) {
  const fs::path path = testing::make_temp_dir() / "one.safetensors";
  save_safetensors(path, {{"w", torch::ones({2})}});
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_FALSE(file.contains("v"));
  EXPECT_THAT(input_error_of([&] { file.tensor("v"); }), HasSubstr("no tensor 'v'"));
}

// ---- malformed files: every one an InputError naming the file (and the tensor) ----

TEST(SafetensorsBad, EmptyAndShortFiles) {
  const fs::path dir = testing::make_temp_dir();
  write_bytes(dir / "empty.safetensors", "");
  EXPECT_THAT(input_error_of([&] { SafetensorsFile::open(dir / "empty.safetensors"); }),
              HasSubstr((dir / "empty.safetensors").string() + ": empty file"));
  write_bytes(dir / "short.safetensors", std::string("\x02\0\0\0\0", 5));
  EXPECT_THAT(input_error_of([&] { SafetensorsFile::open(dir / "short.safetensors"); }), HasSubstr("only 5 bytes"));
  EXPECT_THAT(input_error_of([&] { SafetensorsFile::open(dir / "missing.safetensors"); }), HasSubstr("cannot open"));
  EXPECT_THAT(input_error_of([&] { SafetensorsFile::open(dir); }), HasSubstr("not a regular file"));
}

TEST(SafetensorsBad, HeaderLengthBeyondFile) {
  const fs::path path = testing::make_temp_dir() / "huge.safetensors";
  write_bytes(path, le64(0xFFFFFFFFFFFFFF00ULL) + "{}");
  EXPECT_THAT(input_error_of([&] { SafetensorsFile::open(path); }),
              HasSubstr("header length 18446744073709551360 exceeds the 2 bytes"));
  write_bytes(path, le64(3) + "{}");
  EXPECT_THAT(input_error_of([&] { SafetensorsFile::open(path); }), HasSubstr("exceeds"));
}

TEST(SafetensorsBad, HeaderNotJsonOrNotObject) {
  EXPECT_THAT(open_error("{\"a\": ", ""), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(open_error("PK\x03\x04garbage", ""), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(open_error("{\"\xff\":1}", ""), HasSubstr("header is not valid JSON"));  // not UTF-8
  EXPECT_THAT(open_error("[1, 2]  ", ""), HasSubstr("not an object"));
  EXPECT_THAT(open_error(header_with(",\"__metadata__\":[]"), std::string(8, '\0')),
              HasSubstr("\"__metadata__\" must be an object of strings"));
  EXPECT_THAT(open_error(header_with(",\"__metadata__\":{\"n\":3}"), std::string(8, '\0')),
              HasSubstr("\"__metadata__\" value for 'n' is number, expected a string"));
}

TEST(SafetensorsBad, EntryMissingFieldsOrWrongTypes) {
  const std::string data(8, '\0');
  const auto entry_error = [&](const std::string& entry) {
    const std::string m = open_error("{\"t\":" + entry + "}", data);
    EXPECT_THAT(m, HasSubstr("tensor 't': "));
    return m;
  };
  EXPECT_THAT(entry_error("[1]"), HasSubstr("entry is array, expected an object"));
  EXPECT_THAT(entry_error(R"({"shape":[2],"data_offsets":[0,8]})"), HasSubstr("missing \"dtype\""));
  EXPECT_THAT(entry_error(R"({"dtype":"F32","data_offsets":[0,8]})"), HasSubstr("missing \"shape\""));
  EXPECT_THAT(entry_error(R"({"dtype":"F32","shape":[2]})"), HasSubstr("missing \"data_offsets\""));
  EXPECT_THAT(entry_error(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"),
              HasSubstr("\"dtype\" is number, expected a string"));
  EXPECT_THAT(entry_error(R"({"dtype":"F32","shape":"2","data_offsets":[0,8]})"),
              HasSubstr("\"shape\" is string, expected an array"));
  EXPECT_THAT(entry_error(R"({"dtype":"F32","shape":[2],"data_offsets":[8]})"),
              HasSubstr("\"data_offsets\" is [8], expected [begin, end]"));
  EXPECT_THAT(entry_error(R"({"dtype":"F32","shape":[2],"data_offsets":[0,"8"]})"), HasSubstr("expected [begin, end]"));
  EXPECT_THAT(entry_error(R"({"dtype":"F32","shape":[2],"data_offsets":[-8,0]})"), HasSubstr("expected [begin, end]"));
  EXPECT_THAT(entry_error(R"({"dtype":"Q7","shape":[2],"data_offsets":[0,8]})"),
              HasSubstr("unknown or unsupported dtype 'Q7' (supported: BOOL, U8"));
  EXPECT_THAT(entry_error(R"({"dtype":"F4","shape":[16],"data_offsets":[0,8]})"), HasSubstr("dtype 'F4'"));
}

TEST(SafetensorsBad, ShapeDims) {
  const std::string data(8, '\0');
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data),
              HasSubstr("tensor 't': negative dimension -2 in shape [-2]"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", data),
              HasSubstr("tensor 't': dimension 2.5 in shape [2.5] is not a non-negative integer"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", data),
              HasSubstr("is not a non-negative integer"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}})", data),
              HasSubstr("is not a non-negative integer"));
  EXPECT_THAT(
      open_error(R"({"t":{"dtype":"F32","shape":[")" + std::string(100000, 'x') + R"("],"data_offsets":[0,8]}})", data),
      HasSubstr("dimension a string of 100000 bytes in shape array of 1 elements is not a non-negative integer"));
}

TEST(SafetensorsBad, ShapeSizeOverflow) {
  const std::string data(8, '\0');
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data),
              HasSubstr("tensor 't': shape [4294967296,4294967296] of F32 overflows 64-bit sizes"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})", data),
              HasSubstr("overflows"));
  // A zero dim makes the byte count 0, but the other dims must still give int64 strides.
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[0,4611686018427387904],"data_offsets":[0,0]}})", data),
              HasSubstr("overflows"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,8]}})", data),
              HasSubstr("overflows"));
}

TEST(SafetensorsBad, DeeplyNestedHeader) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[)" + deep + R"(],"data_offsets":[0,0]}})", ""),
              HasSubstr("tensor 't': dimension array of 1 elements in shape array of 1 elements is not"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":)" + deep + "}}", ""),
              HasSubstr("\"data_offsets\" is array of 1 elements, expected [begin, end]"));
}

TEST(SafetensorsBad, DataOffsets) {
  const std::string data(8, '\0');
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", data),
              HasSubstr("tensor 't': data_offsets [8, 4] end before they begin"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data),
              HasSubstr("tensor 't': data_offsets [0, 16] reach past the data area (8 bytes"));
  EXPECT_THAT(open_error(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
              HasSubstr("tensor 't': data_offsets [0, 8] hold 8 bytes but shape [3] of F32 needs 12"));
}

TEST(SafetensorsBad, OverlapsGapsAndTrailingBytes) {
  const std::string data(16, '\0');
  EXPECT_THAT(open_error(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                         data),
              HasSubstr("tensors 'a' [0, 12] and 'b' [8, 16] overlap"));
  EXPECT_THAT(open_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
                         data),
              HasSubstr("bytes [8, 12] of the data area belong to no tensor (gap before 'b')"));
  EXPECT_THAT(open_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')),
              HasSubstr("bytes [0, 4] of the data area belong to no tensor (gap before 'a')"));
  EXPECT_THAT(open_error(header_with(""), std::string(12, '\0')),
              HasSubstr("bytes [8, 12] at the end of the data area belong to no tensor"));
  EXPECT_THAT(open_error("{}", "x"), HasSubstr("bytes [0, 1] at the end"));
}

TEST(SafetensorsBad, DuplicateNames) {
  const std::string data(16, '\0');
  EXPECT_THAT(open_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                         data),
              HasSubstr("duplicate tensor name 'a'"));
  EXPECT_THAT(open_error(R"({"a":{"dtype":"F32","shape":[2],"shape":[4],"data_offsets":[0,16]}})", data),
              HasSubstr("tensor 'a': duplicate key 'shape'"));
}

TEST(SafetensorsBad, DtypesLibtorchLacks) {
  fs::path path;
  const std::string header = R"({"f8":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},)"
                             R"("u16":{"dtype":"U16","shape":[1],"data_offsets":[2,4]},)"
                             R"("ok":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})";
  path = testing::make_temp_dir() / "f8.safetensors";
  write_bytes(path, raw_file(header, "\1\2\3\4\5\6\7\x8"));
  const SafetensorsFile file = SafetensorsFile::open(path);  // the header is valid
  EXPECT_EQ(file.info("f8").dtype, "F8_E4M3");
  EXPECT_EQ(file.tensor("ok")[3].item<uint8_t>(), 8);
  EXPECT_THAT(input_error_of([&] { file.tensor("f8"); }),
              HasSubstr(path.string() + ": tensor 'f8': dtype F8_E4M3 is not supported by libtorch 1.13"));
  EXPECT_THAT(input_error_of([&] { file.tensor("u16"); }), HasSubstr("tensor 'u16': dtype U16"));
  EXPECT_THAT(input_error_of([&] { load_safetensors(path); }), HasSubstr("F8_E4M3"));
}

TEST(SafetensorsBad, BoolBytesOtherThanZeroOrOne) {
  const fs::path path = testing::make_temp_dir() / "bool.safetensors";
  write_bytes(
      path, raw_file(R"({"m":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}})", std::string("\1\0\1\1\2\0\0\0", 8)));
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_THAT(input_error_of([&] { file.tensor("m"); }), HasSubstr("tensor 'm': BOOL element 4 is byte 2"));
}

TEST(SafetensorsBad, RandomCorruptionsGiveInputErrorsOnly) {
  const fs::path dir = testing::make_temp_dir();
  save_safetensors(dir / "ok.safetensors", every_dtype());
  const std::string good = read_file(dir / "ok.safetensors");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(static_cast<uint8_t>(good[i])) << (8 * i);
  std::mt19937 rng(123);
  int rejected = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes = good;
    if (round % 4 == 0) {
      bytes.resize(rng() % bytes.size());  // truncated
    } else {
      for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
        const size_t at = rng() % (8 + header_len);  // the length field and the JSON
        bytes[at] = static_cast<char>(round % 2 ? rng() % 256 : "0123456789[]{},:\"-e"[rng() % 20]);
      }
    }
    write_bytes(dir / "bad.safetensors", bytes);
    try {
      const SafetensorsFile file = SafetensorsFile::open(dir / "bad.safetensors");
      for (const std::string& name : file.names()) file.tensor(name).sum();
    } catch (const InputError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 200);
}

// ---- the writer ----

TEST(SafetensorsWrite, RejectsBadInputAndLeavesNoTempFiles) {
  const fs::path dir = testing::make_temp_dir();
  const fs::path path = dir / "w.safetensors";
  const at::Tensor t = torch::ones({2});
  EXPECT_THAT(input_error_of([&] {
                save_safetensors(path, {{"a", t}, {"a", t}});
              }),
              HasSubstr("tensor 'a' is given twice"));
  EXPECT_THAT(input_error_of([&] { save_safetensors(path, {{"__metadata__", t}}); }), HasSubstr("reserved"));
  EXPECT_THAT(input_error_of([&] {
                save_safetensors(path, {{"u", at::Tensor()}});
              }),
              HasSubstr("tensor 'u' is undefined"));
  EXPECT_THAT(input_error_of([&] {
                save_safetensors(path, {{"c", torch::ones({2}, torch::kComplexDouble)}});
              }),
              HasSubstr("tensor 'c': dtype ComplexDouble has no safetensors equivalent"));
  EXPECT_THAT(input_error_of([&] {
                save_safetensors(path, {{"s", torch::ones({2, 2}).to_sparse()}});
              }),
              HasSubstr("tensor 's' is not dense"));
  EXPECT_THAT(input_error_of([&] { save_safetensors(path, {{"bad\xff", t}}); }), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(input_error_of([&] {
                save_safetensors(dir / "no" / "such" / "x.safetensors", {{"a", t}});
              }),
              HasSubstr("cannot create"));
  EXPECT_FALSE(fs::exists(path));

  save_safetensors(path, {{"a", t}}, {{"format", "pt"}, {"note", "ünïcode"}});
  save_safetensors(path, {{"b", t * 2}});  // replaces the file
  EXPECT_EQ(SafetensorsFile::open(path).names(), std::vector<std::string>{"b"});
  save_safetensors(dir / "empty.safetensors", {}, {});
  EXPECT_EQ(read_file(dir / "empty.safetensors"), le64(8) + "{}      ");
  EXPECT_TRUE(SafetensorsFile::open(dir / "empty.safetensors").names().empty());
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST(SafetensorsWrite, MetadataRoundTrip) {
  const fs::path path = testing::make_temp_dir() / "m.safetensors";
  save_safetensors(path, {{"a", torch::ones({1})}}, {{"format", "pt"}, {"note", "ünïcode \"quoted\""}});
  EXPECT_EQ(SafetensorsFile::open(path).metadata().at("note"), "ünïcode \"quoted\"");
  save_safetensors(path, {{"a", torch::ones({1})}}, {});
  EXPECT_TRUE(SafetensorsFile::open(path).metadata().empty());
  EXPECT_EQ(read_file(path).find("__metadata__"), std::string::npos);
}

// ---- sharded checkpoints ----

void write_index(const fs::path& dir, const json& weight_map) {
  write_file_atomic(dir / "model.safetensors.index.json",
                    json{{"metadata", {{"total_size", 40}}}, {"weight_map", weight_map}}.dump(2));
}

TEST(SafetensorsCheckpoint, ShardedIndex) {
  const fs::path dir = testing::make_temp_dir();
  save_safetensors(dir / "model-00001-of-00002.safetensors",
                   {{"enc.w", torch::arange(4, torch::kFloat32)}, {"enc.b", torch::ones({1})}});
  save_safetensors(dir / "model-00002-of-00002.safetensors", {{"head.w", torch::full({2, 2}, 7.0)}});
  write_index(dir, {{"enc.w", "model-00001-of-00002.safetensors"},
                    {"enc.b", "model-00001-of-00002.safetensors"},
                    {"head.w", "model-00002-of-00002.safetensors"}});
  const SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open(dir);
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"enc.b", "enc.w", "head.w"}));
  EXPECT_EQ(ckpt.shards().size(), 2u);
  EXPECT_TRUE(ckpt.contains("head.w"));
  EXPECT_EQ(ckpt.info("head.w").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_FLOAT_EQ(ckpt.tensor("enc.w")[3].item<float>(), 3.0f);
  const auto all = ckpt.load_all();
  EXPECT_EQ(all.size(), 3u);
  EXPECT_TRUE(torch::equal(all.at("head.w"), torch::full({2, 2}, 7.0)));
  EXPECT_THAT(input_error_of([&] { ckpt.tensor("nope"); }), HasSubstr("no tensor 'nope'"));
  // The index file may be named directly.
  EXPECT_EQ(SafetensorsCheckpoint::open(dir / "model.safetensors.index.json").names().size(), 3u);

  // A single model.safetensors takes precedence, as in transformers.
  save_safetensors(dir / "model.safetensors", {{"only", torch::zeros({1})}});
  EXPECT_EQ(SafetensorsCheckpoint::open(dir).names(), std::vector<std::string>{"only"});
}

TEST(SafetensorsCheckpoint, ShardErrors) {
  const fs::path dir = testing::make_temp_dir();
  const std::string index = (dir / "model.safetensors.index.json").string();
  save_safetensors(dir / "s1.safetensors", {{"a", torch::ones({1})}, {"b", torch::ones({1})}});
  save_safetensors(dir / "s2.safetensors", {{"c", torch::ones({1})}});

  write_index(dir, {{"a", "s1.safetensors"}, {"b", "s1.safetensors"}, {"c", "s3.safetensors"}});
  std::string m = input_error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_THAT(m, HasSubstr(index + ": shard 's3.safetensors' (holding 'c') is missing"));

  write_index(dir,
              {{"a", "s1.safetensors"}, {"b", "s1.safetensors"}, {"c", "s2.safetensors"}, {"d", "s2.safetensors"}});
  m = input_error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_THAT(m, HasSubstr(index + ": the index puts tensor 'd' in s2.safetensors, which has no such tensor"));

  write_index(dir, {{"a", "s1.safetensors"}, {"c", "s2.safetensors"}});
  m = input_error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_THAT(m, HasSubstr((dir / "s1.safetensors").string() + ": tensor 'b' is not in the index"));

  save_safetensors(dir / "s2.safetensors", {{"c", torch::ones({1})}, {"b", torch::ones({1})}});
  write_index(dir, {{"a", "s1.safetensors"}, {"b", "s1.safetensors"}, {"c", "s2.safetensors"}});
  m = input_error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_THAT(m, HasSubstr("tensor 'b' is also here, but the index"));

  write_index(dir, {{"a", "../s1.safetensors"}});
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(dir); }), HasSubstr("is not a file inside"));
  write_index(dir, {{"a", 1}});
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(dir); }),
              HasSubstr("weight_map['a'] is number, expected a shard file name"));
  write_file_atomic(dir / "model.safetensors.index.json", "{\"metadata\": {}}");
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(dir); }), HasSubstr("\"weight_map\""));
  write_file_atomic(dir / "model.safetensors.index.json", "{\"weight_map\": ");
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(dir); }), HasSubstr("not valid JSON"));

  const fs::path empty = dir / "empty";
  fs::create_directories(empty);
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(empty); }),
              HasSubstr("no model.safetensors or model.safetensors.index.json"));
  write_bytes(empty / "pytorch_model.bin", "x");
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(empty); }), HasSubstr("safe_serialization=True"));
  EXPECT_THAT(input_error_of([&] { SafetensorsCheckpoint::open(dir / "nope"); }), HasSubstr("no such file"));
}

// ---- real files ----

TEST(SafetensorsGolden, HfBertCheckpoint) {
  STILTS_REQUIRE_SHARED("hf-golden/bert");
  const fs::path dir = testing::fixtures_dir() / "hf-golden" / "bert";
  const SafetensorsFile file = SafetensorsFile::open(dir / "model.safetensors");
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const std::vector<std::string> names = file.names();
  ASSERT_EQ(names.size(), 41u);
  EXPECT_EQ(names.front(), "bert.embeddings.LayerNorm.bias");
  EXPECT_EQ(names.back(), "classifier.weight");
  const std::map<std::string, std::vector<int64_t>> shapes = {
      {"bert.embeddings.word_embeddings.weight", {120, 48}},
      {"bert.embeddings.position_embeddings.weight", {64, 48}},
      {"bert.embeddings.token_type_embeddings.weight", {2, 48}},
      {"bert.encoder.layer.1.intermediate.dense.weight", {96, 48}},
      {"bert.encoder.layer.1.output.dense.weight", {48, 96}},
      {"bert.pooler.dense.bias", {48}},
      {"classifier.weight", {2, 48}},
  };
  for (const auto& [name, shape] : shapes) {
    EXPECT_EQ(file.info(name).shape, shape) << name;
    EXPECT_EQ(file.tensor(name).sizes().vec(), shape) << name;
  }
  int64_t params = 0;
  for (const std::string& name : names) {
    EXPECT_EQ(file.info(name).dtype, "F32") << name;
    params += file.tensor(name).numel();
  }
  EXPECT_EQ(params, 197576 / 4);
  EXPECT_TRUE(torch::isfinite(file.tensor("classifier.weight")).all().item<bool>());
  EXPECT_EQ(SafetensorsCheckpoint::open(dir).names(), names);
}

// ---- cross-checks against Python (PyTorch) ----

// A python3 that can import torch, or "" (the PATH one may be a different interpreter).
std::string python_with_torch() {
  static const std::string found = [] {
    for (const char* candidate : {"python3", "/usr/bin/python3"}) {
      const std::string command = std::string(candidate) + " -c 'import torch' >/dev/null 2>&1";
      if (std::system(command.c_str()) == 0) return std::string(candidate);
    }
    return std::string();
  }();
  return found;
}

#define REQUIRE_PYTHON_TORCH()                                                   \
  do {                                                                           \
    if (python_with_torch().empty()) GTEST_SKIP() << "needs python3 with torch"; \
  } while (false)

int run_python(const fs::path& dir, const std::string& script, const std::string& args) {
  write_file_atomic(dir / "check.py", script);
  const std::string command = python_with_torch() + " " + (dir / "check.py").string() + " " + args;
  return std::system(command.c_str());
}

TEST(SafetensorsPython, HeaderAndBytesParseInPython) {
  REQUIRE_PYTHON_TORCH();
  const fs::path dir = testing::make_temp_dir();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  // Python rebuilds arange(numel).reshape(shape).to(dtype) for each and compares.
  for (const auto& [name, dtype] : std::vector<std::pair<std::string, torch::Dtype>>{{"f64", torch::kFloat64},
                                                                                     {"f32", torch::kFloat32},
                                                                                     {"f16", torch::kFloat16},
                                                                                     {"bf16", torch::kBFloat16},
                                                                                     {"i64", torch::kInt64},
                                                                                     {"i32", torch::kInt32},
                                                                                     {"i16", torch::kInt16},
                                                                                     {"i8", torch::kInt8},
                                                                                     {"u8", torch::kUInt8},
                                                                                     {"bool", torch::kBool}}) {
    tensors.emplace_back(name, torch::arange(12).reshape({3, 4}).to(dtype));
  }
  tensors.emplace_back("odd", torch::arange(5).to(torch::kInt8));  // leaves the next tensor unaligned unless ordered
  save_safetensors(dir / "x.safetensors", tensors);
  const std::string script = R"PY(
import json, struct, sys
import torch
DT = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
      "BOOL": torch.bool}
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, n
header = json.loads(raw[8:8 + n])
assert header.pop("__metadata__") == {"format": "pt"}
data = bytearray(raw[8 + n:])
end = 0
for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
    b, e = info["data_offsets"]
    assert b == end, (name, b, end)
    end = e
    dtype = DT[info["dtype"]]
    size = torch.empty(0, dtype=dtype).element_size()
    assert (8 + n + b) % size == 0, name
    count = (e - b) // size
    got = torch.frombuffer(data, dtype=dtype, count=count, offset=b).reshape(info["shape"])
    numel = 1
    for d in info["shape"]:
        numel *= d
    want = torch.arange(numel).reshape(info["shape"]).to(dtype)
    assert torch.equal(got, want), (name, got, want)
assert end == len(data)
print("python verified", len(header), "tensors")
)PY";
  EXPECT_EQ(run_python(dir, script, (dir / "x.safetensors").string()), 0);
}

const char* kSaveBinScript = R"PY(
import sys, torch
out = sys.argv[1]
lin = torch.nn.Linear(3, 2)
with torch.no_grad():
    lin.weight.copy_(torch.arange(6.0).reshape(2, 3))
    lin.bias.copy_(torch.tensor([-1.0, 1.0]))
model = torch.nn.Sequential(lin)
model.register_buffer("ids", torch.arange(5))
sd = model.state_dict()          # an OrderedDict carrying _metadata, as transformers saves it
sd["half"] = torch.arange(4.0).half()
sd["bf16"] = torch.arange(4.0).bfloat16()
sd["row"] = sd["0.weight"][1]    # shares storage with 0.weight at an offset
torch.save(sd, out + "/pytorch_model.bin")
torch.save(sd, out + "/protocol4.bin", pickle_protocol=4)  # FRAME, MEMOIZE, STACK_GLOBAL
torch.save(sd, out + "/legacy.bin", _use_new_zipfile_serialization=False)
torch.save([torch.ones(1)], out + "/list.bin")
import zipfile
with zipfile.ZipFile(out + "/notorch.bin", "w") as z:
    z.writestr("hello.txt", "not a checkpoint")
# Corrupted pickles in valid zips (correct CRCs), for the reader's robustness.
import random
rng = random.Random(7)
with zipfile.ZipFile(out + "/pytorch_model.bin") as z:
    records = {n: z.read(n) for n in z.namelist()}
pkl = [n for n in records if n.endswith("/data.pkl")][0]
deep = {pkl: b"\x80\x02)" + b"\x85" * 1000000 + b".",  # a tuple nested a million deep
        pkl.replace("data.pkl", "version"): records[pkl.replace("data.pkl", "version")]}
with zipfile.ZipFile(out + "/deep.bin", "w") as z:
    for n, b in deep.items():
        z.writestr(n, b)
for i in range(300):
    data = bytearray(records[pkl])
    if i % 3 == 0:
        data = data[:rng.randrange(len(data))]
    else:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    with zipfile.ZipFile(out + "/mutated%d.bin" % i, "w") as z:
        for n, b in records.items():
            z.writestr(n, bytes(data) if n == pkl else b)
)PY";

TEST(PytorchBin, ZipStateDictFromPython) {
  REQUIRE_PYTHON_TORCH();
  const fs::path dir = testing::make_temp_dir();
  ASSERT_EQ(run_python(dir, kSaveBinScript, dir.string()), 0);
  const auto sd = load_pytorch_bin(dir / "pytorch_model.bin");
  std::vector<std::string> names;
  for (const auto& kv : sd) names.push_back(kv.first);
  EXPECT_EQ(names, (std::vector<std::string>{"0.bias", "0.weight", "bf16", "half", "ids", "row"}));
  EXPECT_TRUE(torch::equal(sd.at("0.weight"), torch::arange(6, torch::kFloat32).reshape({2, 3})));
  EXPECT_TRUE(torch::equal(sd.at("0.bias"), torch::tensor({-1.0f, 1.0f})));
  EXPECT_TRUE(torch::equal(sd.at("ids"), torch::arange(5, torch::kInt64)));
  EXPECT_TRUE(torch::equal(sd.at("half"), torch::arange(4, torch::kFloat16)));
  EXPECT_TRUE(torch::equal(sd.at("bf16"), torch::arange(4, torch::kBFloat16)));
  EXPECT_TRUE(torch::equal(sd.at("row"), torch::tensor({3.0f, 4.0f, 5.0f})));

  const auto p4 = load_pytorch_bin(dir / "protocol4.bin");
  ASSERT_EQ(p4.size(), sd.size());
  for (const auto& [name, t] : sd) EXPECT_TRUE(torch::equal(p4.at(name), t)) << name;

  // Corrupted pickles: loaded (a harmless change) or an InputError, never a crash.
  int rejected = 0;
  for (int i = 0; i < 300; ++i) {
    try {
      for (const auto& kv : load_pytorch_bin(dir / ("mutated" + std::to_string(i) + ".bin"))) kv.second.sum();
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("cannot read pytorch_model.bin here"));
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);

  // And on to safetensors, the way a user converts.
  save_safetensors(dir / "model.safetensors", {sd.begin(), sd.end()});
  EXPECT_TRUE(torch::equal(SafetensorsCheckpoint::open(dir).tensor("row"), sd.at("row")));

  const std::string hint = "cannot read pytorch_model.bin here; convert it to model.safetensors";
  for (const char* bad : {"legacy.bin", "list.bin", "notorch.bin", "deep.bin"}) {
    const std::string m = input_error_of([&] { load_pytorch_bin(dir / bad); });
    EXPECT_THAT(m, HasSubstr((dir / bad).string() + ": " + hint)) << bad;
    EXPECT_THAT(m, HasSubstr("safe_serialization=True")) << bad;
  }
}

TEST(PytorchBin, GarbageAndTruncatedFiles) {
  const fs::path dir = testing::make_temp_dir();
  const std::string hint = "cannot read pytorch_model.bin here; convert it to model.safetensors";
  write_bytes(dir / "garbage.bin", "this is not a checkpoint at all");
  EXPECT_THAT(input_error_of([&] { load_pytorch_bin(dir / "garbage.bin"); }),
              HasSubstr((dir / "garbage.bin").string() + ": " + hint));
  write_bytes(dir / "zipstart.bin", std::string("PK\x03\x04", 4) + std::string(100, '\x01'));
  EXPECT_THAT(input_error_of([&] { load_pytorch_bin(dir / "zipstart.bin"); }), HasSubstr(hint));
  write_bytes(dir / "empty.bin", "");
  EXPECT_THAT(input_error_of([&] { load_pytorch_bin(dir / "empty.bin"); }), HasSubstr(hint));
  EXPECT_THAT(input_error_of([&] { load_pytorch_bin(dir / "missing.bin"); }), HasSubstr("no such file"));

  // libtorch's own writer makes a zip-format file too: a truncated one must fail cleanly.
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("w", torch::arange(4, torch::kFloat32));
  const std::vector<char> bytes = torch::pickle_save(dict);
  write_bytes(dir / "cpp.bin", std::string(bytes.begin(), bytes.end()));
  EXPECT_TRUE(torch::equal(load_pytorch_bin(dir / "cpp.bin").at("w"), torch::arange(4, torch::kFloat32)));
  write_bytes(dir / "cut.bin", std::string(bytes.begin(), bytes.begin() + bytes.size() / 2));
  EXPECT_THAT(input_error_of([&] { load_pytorch_bin(dir / "cut.bin"); }), HasSubstr(hint));
}

}  // namespace
}  // namespace stilts::io
