// Benchmark downloads (see datasets.h); archives are read with libarchive.
#include "hub/datasets.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "hub/http.h"

namespace stilts::hub {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// "https://host/path" fetched from "<mirror>/host/path" when a mirror is set.
std::string location(const std::string& url, const std::string& mirror) {
  if (mirror.empty()) return url;
  const size_t scheme = url.find("://");
  std::string m = mirror;
  while (!m.empty() && m.back() == '/') m.pop_back();
  return m + "/" + (scheme == std::string::npos ? url : url.substr(scheme + 3));
}

// <out>/SHA256SUMS: "<sha256>  <url>" lines, the first download's checksum of every unpinned file.
class RecordedSums {
 public:
  explicit RecordedSums(fs::path file) : file_(std::move(file)) {
    std::error_code ec;
    if (!fs::is_regular_file(file_, ec)) return;
    std::istringstream in(read_file(file_));
    std::string line;
    while (std::getline(in, line)) {
      const size_t space = line.find("  ");
      if (space == 64) sums_[line.substr(66)] = line.substr(0, 64);
    }
  }
  const std::string* find(const std::string& url) const {
    const auto it = sums_.find(url);
    return it == sums_.end() ? nullptr : &it->second;
  }
  void record(const std::string& url, const std::string& sha) {
    sums_[url] = sha;
    std::string text;
    for (const auto& [u, s] : sums_) text += s + "  " + u + "\n";
    write_file_atomic(file_, text);
  }

 private:
  fs::path file_;
  std::map<std::string, std::string> sums_;
};

// Whether an archive entry's path stays inside the folder it is extracted into: relative, no "..".
bool inside(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  for (const auto& part : fs::path(path)) {
    if (part == "..") return false;
  }
  return true;
}

// Extracts `archive` (tar, tar.gz, tgz, tar.bz2, zip) into `into`: first into a temporary folder beside
// it, then each top-level entry moved in (replacing one left by an earlier, interrupted run).
void extract(const fs::path& archive, const fs::path& into) {
  const fs::path temp = into / (".extract." + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(temp, ec);
  fs::create_directories(temp);
  std::unique_ptr<struct archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_disk_new(), archive_write_free);
  archive_read_support_format_all(reader.get());
  archive_read_support_filter_all(reader.get());
  // Entries are written under `temp` (absolute paths made here, after the entry's own path is checked).
  archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  if (archive_read_open_filename(reader.get(), archive.c_str(), 1 << 16) != ARCHIVE_OK) {
    input_error(archive.string(), ": cannot read the archive (", archive_error_string(reader.get()), ")");
  }
  struct archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) input_error(archive.string(), ": a damaged archive (", archive_error_string(reader.get()), ")");
    const std::string name = archive_entry_pathname(entry);
    if (!inside(name)) input_error(archive.string(), ": entry '", name, "' would land outside the folder; refused");
    archive_entry_set_pathname(entry, (temp / name).c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      if (!inside(link)) input_error(archive.string(), ": entry '", name, "' links outside the folder; refused");
      archive_entry_set_hardlink(entry, (temp / link).c_str());
    }
    if (archive_write_header(writer.get(), entry) != ARCHIVE_OK) {
      input_error(archive.string(), ": cannot extract ", name, " (", archive_error_string(writer.get()), ")");
    }
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      const int b = archive_read_data_block(reader.get(), &block, &size, &offset);
      if (b == ARCHIVE_EOF) break;
      if (b != ARCHIVE_OK) input_error(archive.string(), ": a damaged archive at ", name, " (", archive_error_string(reader.get()), ")");
      if (archive_write_data_block(writer.get(), block, size, offset) != ARCHIVE_OK) {
        input_error(archive.string(), ": cannot write ", name, " (", archive_error_string(writer.get()), ")");
      }
    }
    if (archive_write_finish_entry(writer.get()) != ARCHIVE_OK) {
      input_error(archive.string(), ": cannot write ", name, " (", archive_error_string(writer.get()), ")");
    }
  }
  for (const auto& e : fs::directory_iterator(temp)) {
    const fs::path target = into / e.path().filename();
    fs::remove_all(target, ec);
    fs::rename(e.path(), target, ec);
    if (ec) input_error(target.string(), ": cannot move the extracted files into place (", ec.message(), ")");
  }
  fs::remove_all(temp, ec);
}

// The marker of a finished file: .fetched/<file with '/' as '%'>.
fs::path marker(const fs::path& task_dir, const std::string& file) {
  std::string name = file;
  std::replace(name.begin(), name.end(), '/', '%');
  return task_dir / ".fetched" / name;
}

}  // namespace

const std::vector<DataSource>& data_sources() {
  static const std::vector<DataSource> table = [] {
    std::vector<DataSource> out;
    std::istringstream in(detail::data_sources_tsv());
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const std::vector<std::string> f = split(line, '\t');
      STILTS_CHECK(f.size() == 5, "data source row: ", line);
      out.push_back({f[0], f[1], f[2], f[3], f[4] == "x"});
    }
    return out;
  }();
  return table;
}

std::vector<std::string> data_tasks() {
  std::vector<std::string> out;
  for (const auto& s : data_sources()) {
    if (std::find(out.begin(), out.end(), s.task) == out.end()) out.push_back(s.task);
  }
  return out;
}

void fetch_data(const std::vector<std::string>& tasks, const FetchDataOptions& options) {
  const std::vector<std::string> known = data_tasks();
  for (const auto& t : tasks) {
    if (std::find(known.begin(), known.end(), t) != known.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    const std::string why = t == "panx"      ? " (PAN-X is a manual download: AmazonPhotos.zip, see xtreme's README)"
                            : t == "mewslix" ? " (Mewsli-X is built by a script from WikiNews, not downloaded)"
                                             : "";
    input_error("fetch-data: no task '", t, "'", why, "; tasks: ", list);
  }
  fs::create_directories(options.out);
  RecordedSums recorded(options.out / "SHA256SUMS");
  for (const DataSource& s : data_sources()) {
    if (std::find(tasks.begin(), tasks.end(), s.task) == tasks.end()) continue;
    const fs::path task_dir = options.out / s.task;
    const fs::path done = marker(task_dir, s.file);
    std::error_code ec;
    if (fs::exists(done, ec)) continue;
    const fs::path dest = task_dir / s.file;
    fs::create_directories(dest.parent_path());
    const fs::path incomplete = dest.string() + ".incomplete";
    const std::string url = location(s.url, options.mirror);
    if (options.log) *options.log << "fetch-data: " << s.task << ": " << s.url << "\n";
    HttpRequest request;
    request.url = url;
    const HttpResponse got = http_download(request, incomplete);
    if (got.status != 200 && got.status != 206 && got.status != 416) {
      input_error(url, ": HTTP ", got.status, got.status == 404 ? " (not found)" : "");
    }
    const std::string sha = sha256_file(incomplete);
    const std::string* expected = !s.sha256.empty() ? &s.sha256 : recorded.find(s.url);
    if (expected && sha != *expected) {
      fs::remove(incomplete, ec);
      input_error(url, ": SHA-256 ", sha, ", expected ", *expected,
                  s.sha256.empty() ? " (recorded in SHA256SUMS when first downloaded: the file changed at its source)"
                                   : " (the file as its repository holds it)",
                  "; the download is deleted");
    }
    if (!expected) recorded.record(s.url, sha);
    fs::rename(incomplete, dest, ec);
    if (ec) input_error(dest.string(), ": cannot move the download into place (", ec.message(), ")");
    if (s.extract) {
      extract(dest, dest.parent_path());
      fs::remove(dest, ec);
    }
    fs::create_directories(done.parent_path());
    write_file_atomic(done, sha + "\n");
  }
}

}  // namespace stilts::hub
