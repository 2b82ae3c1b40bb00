// `stilts fetch-data`: benchmark data from the datasets' official locations (those google-research/xtreme's
// download script uses), into XTREME's download folder, one folder per task, each file as its maintainers
// distribute it (archives extracted), which is what stilts' readers read:
//
//   <out>/pawsx/x-final/<lang>/...            <out>/xnli/XNLI-1.0/..., XNLI-MT-1.0/...
//   <out>/udpos/ud-treebanks-v2.7/...         <out>/squad/{train,dev}-v1.1.json
//   <out>/xquad/xquad.<lang>.json             <out>/mlqa/MLQA_V1/{dev,test}/...
//   <out>/tydiqa/tydiqa-goldp-v1.1-train.json, tydiqa-goldp-v1.1-dev/...
//   <out>/xcopa/<lang>/{val,test}.<lang>.jsonl, COPA/...    <out>/siqa/socialIQa_v1.4_*.jsonl
//   <out>/tatoeba/tatoeba.<l3>-eng.{<l3>,eng}  <out>/lareqa/xquad-r/<lang>.json
//
// Every file is downloaded to "<file>.incomplete" (resumed with a Range request after an interruption)
// and checked before it is moved into place: against its pinned SHA-256 where the table has one (files
// in git repositories), else against the SHA-256 recorded in <out>/SHA256SUMS when it was first
// downloaded (a later download that differs is refused). An archive is extracted into a temporary folder
// first and its entries moved in afterwards; <out>/<task>/.fetched/ marks what is complete, so a rerun
// skips it and a killed run redoes only what was not finished. PAN-X (manual download from Amazon) and
// Mewsli-X (built by a script from WikiNews) have no file to download.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace stilts::hub {

struct DataSource {
  std::string task;
  std::string url;
  std::string sha256;  // "" = not pinned (see the header)
  std::string file;    // path under <out>/<task>/
  bool extract = false;
};

// The table, in order; and the tasks it has.
const std::vector<DataSource>& data_sources();
std::vector<std::string> data_tasks();

struct FetchDataOptions {
  std::filesystem::path out;
  // "" = the official hosts; else every URL "https://host/path" is fetched from "<mirror>/host/path"
  // (a local mirror, or a test's server).
  std::string mirror;
  std::ostream* log = nullptr;
};

// Downloads every file of `tasks` (InputError naming the unknown task and the known ones first). Errors
// name the URL or file: a status other than success, a transfer cut short (what arrived is kept for the
// next run), a SHA-256 that does not match (the bytes are deleted), an archive that cannot be read.
void fetch_data(const std::vector<std::string>& tasks, const FetchDataOptions& options);

namespace detail {
const char* data_sources_tsv();  // data_sources.cpp
}  // namespace detail

}  // namespace stilts::hub
